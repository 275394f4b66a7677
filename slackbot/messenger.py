"""Everything the bot says in Slack goes through one :class:`Messenger`.

It adds three things to slack_sdk's ``WebClient`` calls: pacing (one post or edit per second
per channel, see :mod:`slackbot.pacing`), redaction of anything secret-looking (see
:mod:`slackbot.redact`), and long text that does not fit a message (a full plan) posted in a
thread as a file, or, if files cannot be uploaded, as a series of threaded messages.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from .blocks import MAX_SECTION, code, mrkdwn
from .pacing import ChannelPacer
from .redact import redact, redact_payload

log = logging.getLogger(__name__)

# A threaded fallback posts at most this many messages for one long text (then points at the CLI).
MAX_CHUNK_MESSAGES = 8
# Sections per threaded message: well under 50 blocks, and about 36k characters, under the size
# at which Slack starts refusing or truncating a message (msg_too_long, 40k characters of text).
SECTIONS_PER_MESSAGE = 12


class Messenger:
    """Paced, redacted posting for one bot token."""

    def __init__(self, client: WebClient, pacer: ChannelPacer | None = None) -> None:
        self.client = client
        self.pacer = pacer or ChannelPacer()

    def post(self, channel: str, text: str, blocks: list[dict[str, Any]] | None = None, thread_ts: str | None = None) -> str:
        """chat.postMessage; returns the message ts."""
        self.pacer.wait(channel)
        kwargs: dict[str, Any] = {"channel": channel, "text": redact(text)}
        if blocks is not None:
            kwargs["blocks"] = redact_payload(blocks)
        if thread_ts:
            kwargs["thread_ts"] = thread_ts
        resp = self.client.chat_postMessage(**kwargs)
        return str(resp["ts"])

    def update(self, channel: str, ts: str, text: str, blocks: list[dict[str, Any]] | None = None) -> None:
        """chat.update: edit a message in place."""
        self.pacer.wait(channel)
        kwargs: dict[str, Any] = {"channel": channel, "ts": ts, "text": redact(text)}
        if blocks is not None:
            kwargs["blocks"] = redact_payload(blocks)
        self.client.chat_update(**kwargs)

    def ephemeral(self, channel: str, user: str, text: str, blocks: list[dict[str, Any]] | None = None) -> None:
        """chat.postEphemeral: only ``user`` sees it (refusals, errors, read-only answers)."""
        kwargs: dict[str, Any] = {"channel": channel, "user": user, "text": redact(text)}
        if blocks is not None:
            kwargs["blocks"] = redact_payload(blocks)
        try:
            self.client.chat_postEphemeral(**kwargs)
        except SlackClientError as exc:  # nobody else would see it either; log and carry on
            log.warning("could not post an ephemeral message to %s in %s: %s", user, channel, exc)

    def post_long(self, channel: str, thread_ts: str, text: str, *, filename: str, title: str) -> str:
        """Post ``text`` in the thread as a file; fall back to threaded messages. Returns "file" or "messages"."""
        text = redact(text)
        try:
            self.pacer.wait(channel)
            self.client.files_upload_v2(
                channel=channel,
                thread_ts=thread_ts,
                content=text,
                filename=filename,
                title=title,
                snippet_type="text",
                initial_comment=f"{title} (the full text)",
            )
            return "file"
        except (SlackApiError, SlackClientError) as exc:
            # Uploads need files:write; a workspace may also forbid them. The thread still gets the text.
            log.warning("file upload failed (%s); posting %s as threaded messages", exc, filename)
        for blocks in chunk_blocks(text):
            self.post(channel, title, blocks, thread_ts=thread_ts)
        return "messages"


def chunk_blocks(text: str, max_messages: int = MAX_CHUNK_MESSAGES) -> list[list[dict[str, Any]]]:
    """Split ``text`` on line boundaries into code sections that fit, grouped into messages."""
    room = MAX_SECTION - 8
    sections: list[str] = []
    current = ""
    for line in text.splitlines():
        while len(line) > room:  # a single huge line: hard-wrap it
            if current:
                sections.append(current)
                current = ""
            sections.append(line[:room])
            line = line[room:]
        if len(current) + len(line) + 1 > room:
            sections.append(current)
            current = ""
        current += line + "\n"
    if current:
        sections.append(current)
    messages = [sections[i : i + SECTIONS_PER_MESSAGE] for i in range(0, len(sections), SECTIONS_PER_MESSAGE)]
    out = [[mrkdwn(code(s)) for s in msg] for msg in messages[:max_messages]]
    if len(messages) > max_messages:
        out[-1][-1] = mrkdwn("…the rest is too long for Slack: see `eks-assist plan` for the full text.")
    return out
