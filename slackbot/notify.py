"""Post change requests made outside Slack (``eks-assist apply --request-approval slack``).

The CLI opens the request in the engine, calls :func:`post_request` to put the approval
message in the policy's notify channel, ``attach()``es the returned channel and ts to the
request, and waits. The running bot handles the buttons; the CLI applies once approved.

This module uses slack_sdk only (no Bolt), so the CLI does not pay for importing Bolt. The
client honours ``SLACK_API_URL`` (tests point it at a local mock of the Web API) and retries
HTTP 429 after ``Retry-After``.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import ConnectionErrorRetryHandler, RateLimitErrorRetryHandler

from .blocks import approval_blocks, diff_fits_inline, request_text, title
from .redact import redact, redact_payload

if TYPE_CHECKING:
    from assistant.governance.policy import Policy
    from assistant.governance.requests import ChangeRequest


def make_client(token: str | None = None, base_url: str | None = None) -> WebClient:
    """A WebClient that retries connection errors and honours 429 ``Retry-After``."""
    token = token or os.environ.get("SLACK_BOT_TOKEN")
    if not token:
        from assistant.errors import InputError

        raise InputError("SLACK_BOT_TOKEN is not set: export the Slack app's bot token (xoxb-…)")
    base_url = base_url or os.environ.get("SLACK_API_URL")
    kwargs: dict[str, Any] = {
        "token": token,
        "retry_handlers": [ConnectionErrorRetryHandler(), RateLimitErrorRetryHandler(max_retry_count=3)],
    }
    if base_url:
        kwargs["base_url"] = base_url if base_url.endswith("/") else base_url + "/"
    return WebClient(**kwargs)


def post_request(request: ChangeRequest, policy: Policy, *, client: WebClient | None = None) -> dict[str, str]:
    """Post the approval message for ``request``; returns ``{"channel": ..., "ts": ...}`` to attach()."""
    client = client or make_client()
    channel = policy.notifyChannel or policy.channels[0]
    resp = client.chat_postMessage(
        channel=channel,
        text=redact(request_text(request)),
        blocks=redact_payload(approval_blocks(request)),
    )
    ts = str(resp["ts"])
    channel = str(resp.get("channel") or channel)
    if not diff_fits_inline(request):
        from .messenger import Messenger

        Messenger(client).post_long(
            channel, ts, request.plan_text, filename=f"plan-{request.id}.txt", title=f"Plan for {title(request)}"
        )
    return {"channel": channel, "ts": ts}


def post_text(request: ChangeRequest, text: str, *, client: WebClient | None = None) -> dict[str, str] | None:
    """A threaded reply under the request's approval message (e.g. "applied by the CLI"); None if it was never posted."""
    channel, ts = request.origin.get("channel"), request.origin.get("ts")
    if not channel or not ts:
        return None
    client = client or make_client()
    resp = client.chat_postMessage(channel=str(channel), thread_ts=str(ts), text=redact(text))
    return {"channel": str(channel), "ts": str(resp["ts"])}


def update_request(request: ChangeRequest, *, client: WebClient | None = None, note: str | None = None) -> None:
    """Edit the request's approval message in place to show its current state (after a CLI apply)."""
    channel, ts = request.origin.get("channel"), request.origin.get("ts")
    if not channel or not ts:
        return
    client = client or make_client()
    client.chat_update(
        channel=str(channel),
        ts=str(ts),
        text=redact(request_text(request)),
        blocks=redact_payload(approval_blocks(request, extra_status=note)),
    )
