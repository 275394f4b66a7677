"""Fuzz drill: the Slack bot's parsers answer a parsed command or a clear error, never an exception.

Pure parsers, directly:

- ``/eks`` text (:func:`slackbot.commands.parse`): arbitrary text, and text built from the
  grammar with Slack's escaping, links and odd spacing; a command has a known verb, the right
  number of arguments, each a plain non-empty word; an error is a short :class:`InputError`.
  Commands built from the grammar parse back to themselves.
- ``/eks new`` form payloads (:mod:`slackbot.new_cluster`): arbitrary ``private_metadata`` and
  ``state.values`` of every shape that passes the bot's payload shape check
  (:func:`slackbot.payloads.shape_problem`) turn into a spec and form errors; a spec without
  form errors loads or fails as located problems, which map back onto the form's fields.

Then a few fuzzed slash commands and button clicks through the real Bolt app over HTTP, signed
with the fake signing secret: no 5xx, no traceback in any reply, an answer for every click, and
no secret in anything the mock Slack recorded.
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import assume, example, given
from hypothesis import strategies as st

from assistant.errors import InputError
from slackbot import blocks as bk
from slackbot import new_cluster
from slackbot.commands import _ARITY, USAGE, Command, parse
from slackbot.payloads import shape_problem
from tests.doubles.mock_slack import MockSlack, block_action, interactive_body

from .. import secrets_scan as fake
from ..slack.conftest import BotHarness, serving
from .fuzz_settings import TIMEOUT, Tally, fuzz, run_properties

TALLY = Tally(
    "fuzz: slack payloads", faults="arbitrary /eks text, escaped and linked words, form payloads, HTTP commands and clicks"
)

CHANNEL = "C0PLATFORM"
VERBS = sorted(USAGE)
CLUSTER_FIRST = ("status", "access", "map-role", "destroy", "unlock")

# -- /eks text -------------------------------------------------------------------------------------

TEXT_FRAGMENTS = [
    *VERBS,
    "check",
    "CHECK",
    " ",
    "  ",
    "\t",
    "\n",
    "\u00a0",
    "\u3000",
    "&amp;",
    "&lt;",
    "&gt;",
    "&#10;",
    "&#32;",
    "&#0;",
    "&nbsp;",
    "&copy",
    "<mailto:a@b.c|a@b.c>",
    "<http://x.io|x.io>",
    "<@U0ALICE|alice>",
    "<#C0PLATFORM|platform>",
    "<!here>",
    "<|x>",
    "<>",
    "<a|b|c>",
    "arn:aws:iam::111122223333:role/x",
    "system:masters",
    "demo",
    "../etc/passwd",
    "\u200b",
    "\u202e",
    "é",
    "😀",
    "x" * 100,
]
COMMAND_TEXT = st.one_of(
    st.text(max_size=80),
    st.lists(st.sampled_from(TEXT_FRAGMENTS) | st.text(max_size=5), max_size=12).map("".join),
    st.lists(st.sampled_from(TEXT_FRAGMENTS), max_size=8).map(" ".join),
)

# A typed word: printable, no whitespace, not something Slack turns into a link.
WORD = st.text(
    st.characters(categories=["L", "N", "P", "S"], exclude_characters="<>"),
    min_size=1,
    max_size=20,
).filter(lambda w: not any(ch.isspace() for ch in w))
EMAIL = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")
CLUSTER_NAME = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9_-]{0,30}", fullmatch=True)


def slack_escape(word: str) -> str:
    """What Slack sends for a typed word: &, < and > as entities."""
    return word.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


@st.composite
def typed_commands(draw: st.DrawFn) -> tuple[str, Command]:
    """A valid command and the text Slack would send for it, with odd case and spacing."""
    verb = draw(st.sampled_from(VERBS))
    lo, hi = _ARITY[verb]
    args = draw(st.lists(WORD, min_size=lo, max_size=hi if hi is not None else lo + 3))
    if verb in CLUSTER_FIRST and args:
        args[0] = draw(CLUSTER_NAME)
    words = [draw(st.sampled_from([verb, verb.upper(), verb.title()]))]
    if verb == "access":
        words.append(draw(st.sampled_from(["check", "Check"])))
    if args and (verb not in CLUSTER_FIRST or len(args) > 1) and draw(st.integers(0, 3)) == 0:
        args[-1] = draw(st.sampled_from(["a@b.c", "first.last+eks@example.co.uk"]))
    for arg in args:
        escaped = slack_escape(arg)
        if EMAIL.fullmatch(arg) and draw(st.booleans()):
            escaped = f"<mailto:{escaped}|{escaped}>"  # Slack links what looks like an e-mail address
        words.append(escaped)
    space = st.sampled_from([" ", "  ", "\t", " \n "])
    text = draw(space) if draw(st.booleans()) else ""
    text += "".join(w + draw(space) for w in words)
    return text, Command(verb, tuple(args))


def check_parsed(text: str) -> Command | None:
    try:
        cmd = parse(text)
    except InputError as exc:
        message = str(exc)
        assert message and len(message) <= 400, message
        assert "Traceback" not in message
        return None
    assert cmd.verb in USAGE
    lo, hi = _ARITY[cmd.verb]
    assert lo <= len(cmd.args) and (hi is None or len(cmd.args) <= hi), cmd
    for arg in cmd.args:
        assert arg and all(ch.isprintable() and not ch.isspace() for ch in arg), f"not a plain word: {arg!r}"
    return cmd


@fuzz(300, offset=730)
@given(COMMAND_TEXT)
@example("plan <|x>")  # an empty link was an empty spec name
@example("plan a&#10;b")  # an escaped line break was smuggled into one argument
@example("map-role demo arn:aws:iam::1:role/x system:masters&#32;evil")  # and an escaped space
def command_text(text: str) -> None:
    with TALLY.example():
        TALLY.count("command parsed" if check_parsed(text) else "command refused")


@fuzz(150, offset=731)
@given(typed_commands())
def commands_round_trip(case: tuple[str, Command]) -> None:
    with TALLY.example():
        text, expected = case
        assert parse(text) == expected, text
        TALLY.count("typed command")


# -- /eks new form payloads --------------------------------------------------------------------------

FORM_BLOCKS = [
    "name",
    "region",
    "version",
    "vpc",
    "vpc_cidr",
    "subnets",
    "instance_type",
    "nodes_min",
    "nodes_desired",
    "nodes_max",
    "mappings",
]
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=8,
)
FORM_TEXT = st.one_of(
    st.text(max_size=30),
    st.sampled_from(
        ["demo", "us-east-1", "1.33", "1.30", "create", "existing", "10.0.0.0/16", "m5.large", "1", "2", "3", "1_000", "٣"]
    ),
    st.lists(st.sampled_from(["subnet-0123456789abcdef0", "subnet-0123456789abcdef1", ",", " ", "\n"]), max_size=5).map("".join),
    st.lists(
        st.sampled_from(["arn:aws:iam::111122223333:role/x", "arn:aws:iam::111122223333:user/u", "g", " ", "\n"]), max_size=8
    ).map("".join),
)
ELEMENT = st.one_of(
    st.fixed_dictionaries({"type": st.just("plain_text_input"), "value": FORM_TEXT | st.none()}),
    st.fixed_dictionaries(
        {"type": st.just("static_select"), "selected_option": st.none() | st.fixed_dictionaries({"value": FORM_TEXT})}
    ),
    st.dictionaries(st.sampled_from(["value", "selected_option", "type"]), JSON, max_size=2),
    JSON,
)
NUMBER_TEXT = st.one_of(st.integers(-5, 1200).map(str), st.sampled_from(["", " 2 ", "1_0", "٣", "1e3", "9" * 5000, "0x10"]))


@st.composite
def complete_forms(draw: st.DrawFn) -> dict[str, Any]:
    """Every field of the form filled, as Slack sends it; the values mostly sensible, sometimes not."""

    def text(value: st.SearchStrategy[str]) -> dict[str, Any]:
        return {"value": {"type": "plain_text_input", "value": draw(value)}}

    def select(value: st.SearchStrategy[str]) -> dict[str, Any]:
        return {"value": {"type": "static_select", "selected_option": {"value": draw(value)}}}

    return {
        "name": text(st.from_regex(r"[a-z][a-z0-9-]{0,20}", fullmatch=True) | FORM_TEXT),
        "region": select(st.sampled_from(new_cluster.REGIONS) | FORM_TEXT),
        "version": select(st.sampled_from(new_cluster.VERSIONS) | FORM_TEXT),
        "vpc": select(st.sampled_from(["create", "existing"])),
        "vpc_cidr": text(st.sampled_from(["", "10.0.0.0/16", "10.1.0.0/20", "10.0.0.1/16", "172.16.0.0/12"]) | FORM_TEXT),
        "subnets": text(FORM_TEXT),
        "instance_type": text(st.sampled_from(["m5.large", "t3.medium", "M5.LARGE", "m5"]) | FORM_TEXT),
        "nodes_min": text(NUMBER_TEXT),
        "nodes_desired": text(NUMBER_TEXT),
        "nodes_max": text(NUMBER_TEXT),
        "mappings": text(FORM_TEXT),
    }


FORM_VALUES = complete_forms() | st.dictionaries(
    st.sampled_from(FORM_BLOCKS) | st.text(max_size=6),
    st.one_of(st.dictionaries(st.sampled_from(["value", "other"]), ELEMENT, max_size=2), JSON),
    max_size=12,
)
METADATA = st.one_of(
    st.none(),
    st.text(max_size=20),
    JSON.map(json.dumps),
    st.dictionaries(st.sampled_from(["channel", "x"]), JSON, max_size=2).map(json.dumps),
    st.just(json.dumps({"channel": CHANNEL})),
    JSON,
)


@fuzz(200, offset=732)
@given(METADATA, FORM_VALUES)
@example('["C0PLATFORM"]', {})  # JSON metadata that is not an object
@example(None, {"name": {"value": "x"}})  # an element that is not an object
def new_cluster_form(metadata: Any, values: dict[str, Any]) -> None:
    with TALLY.example():
        view = {"callback_id": new_cluster.CALLBACK, "private_metadata": metadata, "state": {"values": values}}
        body = {"type": "view_submission", "user": {"id": "U0CAROL"}, "view": view}
        if shape_problem(body) is not None:
            TALLY.count("form refused by shape check")
            return  # the middleware answers 400; no listener reads it
        assert isinstance(new_cluster.channel_of(view), str)
        spec, errors = new_cluster.spec_from_values(values)
        assert set(errors) <= set(FORM_BLOCKS) and all(isinstance(m, str) and m for m in errors.values())
        if errors:
            TALLY.count("form errors")
            return
        from assistant.spec import loads_spec

        try:
            loads_spec(new_cluster.to_yaml(spec), "new-cluster.yaml")
        except InputError as exc:
            mapped = new_cluster.errors_for(exc.problems)
            assert mapped and set(mapped) <= set(FORM_BLOCKS), mapped
            assert all(0 < len(m) <= 300 for m in mapped.values())
            TALLY.count("form spec refused")
        else:
            TALLY.count("form spec valid")


# -- through the real Bolt app over HTTP -------------------------------------------------------------

POLICY = """\
channels: [C0PLATFORM]
admins: [U0ADMIN]
specs: ./specs
environments:
  all:
    clusters: ["*"]
    approvers: {users: [U0ALICE, U0BOB]}
"""
# Verbs that read AWS: without a sandbox they would wait on credentials, so they stay out of HTTP.
AWS_VERBS = ("status", "access")
_harness: BotHarness | None = None
_serial = itertools.count(1)
_replies: list[str] = []


def _bot() -> BotHarness:
    assert _harness is not None, "the HTTP properties run inside test_fuzz_slack_payloads"
    return _harness


def _no_trace(text: str) -> None:
    assert "Traceback" not in text and "internal error" not in text, text


@fuzz(20, offset=733)
@given(typed_commands().map(lambda c: c[0]) | COMMAND_TEXT)
def http_commands(text: str) -> None:
    try:
        cmd = parse(text)
    except InputError:
        cmd = None
    assume(cmd is None or cmd.verb not in AWS_VERBS)
    with TALLY.example():
        bot, name = _bot(), f"fuzz{next(_serial)}"
        reply = bot.command(text, name=name)
        _replies.append(reply.body)
        assert reply.status < 500, reply
        _no_trace(reply.body)
        if cmd is not None and cmd.verb not in ("new", "help"):
            answer = bot.wait_response(name, timeout=30)  # the answer from the work behind the ack
            _no_trace(json.dumps(answer))
            TALLY.count("http command answered")
        else:
            TALLY.count("http command acked")


@fuzz(12, offset=734)
@given(
    st.sampled_from([bk.APPROVE, bk.REJECT, bk.RESUME]),
    st.text(max_size=60) | st.sampled_from(["", "req-1", "run-1", "../x", "0" * 2000]),
)
def http_clicks(action_id: str, value: str) -> None:
    with TALLY.example():
        bot, user = _bot(), f"U0FUZZ{next(_serial)}"
        reply = bot.post(
            interactive_body(block_action(action_id, value, user=user, channel=CHANNEL, message_ts="1700000000.000100"))
        )
        _replies.append(reply.body)
        assert reply.status < 500, reply
        _no_trace(reply.body)
        if reply.status == 200:
            told = bot.mock.wait_for(
                lambda m: [c for c in m.of("chat.postEphemeral") if c.params.get("user") == user],
                timeout=30,
                what=f"an answer to {user}",
            )
            _no_trace(told[0].text_all())
        TALLY.count("http click")


@pytest.fixture
def harness(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[BotHarness]:
    """The real bot (no sandbox) on a free port, with the drills' fake Slack credentials."""
    from slackbot.app import create_bot
    from slackbot.config import load_config

    (tmp_path / "bot" / "specs").mkdir(parents=True)
    policy = tmp_path / "bot" / "policy.yaml"
    policy.write_text(POLICY)
    with MockSlack() as mock:
        monkeypatch.setenv("SLACK_BOT_TOKEN", fake.SLACK_BOT_TOKEN)
        monkeypatch.setenv("SLACK_SIGNING_SECRET", fake.SLACK_SIGNING_SECRET)
        monkeypatch.setenv("SLACK_API_URL", mock.api_url)
        monkeypatch.setenv("AWS_REGION", "us-east-1")
        bot = create_bot(load_config(policy_path=str(policy), socket_mode=False), pace_interval=0.01, expiry_interval=0)
        with serving(bot) as url:
            yield BotHarness(url, mock, bot, secret=fake.SLACK_SIGNING_SECRET)


@pytest.mark.slow
@TIMEOUT
def test_fuzz_slack_payloads(harness: BotHarness, tmp_path: Path) -> None:
    """Parsers answer a command or a clear error; fuzzed commands and clicks over HTTP get no 5xx and no traceback."""
    global _harness
    _harness = harness
    scanned: dict[str, str] = {}

    def scan() -> dict[str, Any]:
        scanned.update(
            {f"slack call {i} {c.method}": json.dumps(c.params, default=str) for i, c in enumerate(harness.mock.calls)}
        )
        scanned.update({f"reply {i}": body for i, body in enumerate(_replies)})
        findings = fake.scan_texts(scanned) + fake.scan_tree(tmp_path)
        return {"secrets_found": len(findings), "texts_scanned": len(scanned), "files_scanned": fake.files_scanned(tmp_path)}

    try:
        entry = run_properties(
            TALLY, [command_text, commands_round_trip, new_cluster_form, http_commands, http_clicks], extra=scan
        )
    finally:
        _harness = None
    assert entry["figures"]["secrets_found"] == 0, fake.scan_texts(scanned)
    assert entry["figures"]["http_command_answered"] > 0 and entry["figures"]["http_click"] > 0


# -- regressions found by this drill ------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "plan <|x>",
        "plan <>",
        "plan a&#10;b",
        "plan a&#32;b",
        "plan a&nbsp;b",
        "destroy demo\u200b",
        "plan a\ue000",
        "map-role demo arn:aws:iam::1:role/x a&#9;b",
    ],
)
def test_arguments_are_plain_words(text: str) -> None:
    with pytest.raises(InputError, match="is not a plain word"):
        parse(text)
