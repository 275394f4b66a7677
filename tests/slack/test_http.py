"""The bot over real HTTP: Bolt's signature check, the 3-second ack, channels, usage, health."""

from __future__ import annotations

import json
import time
import urllib.parse

import pytest

from tests.doubles.mock_slack import command_body, signature, signed_headers

from .conftest import CHANNEL, OTHER_CHANNEL, SECRET, BotHarness


def _body(bot: BotHarness, text: str = "help", channel: str = CHANNEL) -> str:
    return command_body(text, user="U0CAROL", channel=channel, response_url=bot.mock.response_url())


def _no_side_effects(bot: BotHarness) -> None:
    assert bot.mock.of("chat.postMessage") == []
    assert bot.mock.of("views.open") == []
    assert bot.responses() == []
    assert bot.bot.flow.requests.list() == []


def test_valid_signature_is_answered_within_three_seconds(bot: BotHarness) -> None:
    r = bot.command("help")
    assert r.status == 200
    assert r.seconds < 3.0  # Slack's ack deadline, measured generously
    assert "/eks apply <spec-name>" in r.text


def test_forged_signature_is_refused_with_401(bot: BotHarness) -> None:
    body = _body(bot, "apply demo")
    headers = signed_headers("not-the-secret", body)
    r = bot.post(body, headers)
    assert r.status == 401
    # Same body, signature of a different body.
    headers = signed_headers(SECRET, body.replace("demo", "prod"))
    assert bot.post(body, headers).status == 401
    # No signature at all.
    assert bot.post(body, {"content-type": "application/x-www-form-urlencoded"}).status == 401
    time.sleep(0.3)  # work behind the ack, had any started, would have posted by now
    _no_side_effects(bot)


def test_stale_timestamp_is_refused_with_401(bot: BotHarness) -> None:
    body = _body(bot, "apply demo")
    stale = time.time() - 6 * 60  # outside the 5-minute window, correctly signed
    assert bot.post(body, signed_headers(SECRET, body, timestamp=stale)).status == 401
    future = time.time() + 6 * 60
    assert bot.post(body, signed_headers(SECRET, body, timestamp=future)).status == 401
    # Just inside the window it is accepted.
    ok = bot.post(_body(bot, "help"), signed_headers(SECRET, _body(bot, "help"), timestamp=time.time() - 4 * 60))
    assert ok.status == 200
    time.sleep(0.3)
    assert bot.mock.of("chat.postMessage") == []


def test_replayed_body_with_a_new_timestamp_but_old_signature_is_refused(bot: BotHarness) -> None:
    body = _body(bot, "apply demo")
    old_ts = str(int(time.time()) - 100)
    headers = {
        "content-type": "application/x-www-form-urlencoded",
        "x-slack-request-timestamp": str(int(time.time())),
        "x-slack-signature": signature(SECRET, old_ts, body),
    }
    assert bot.post(body, headers).status == 401


def test_command_from_an_unconfigured_channel_is_refused(bot: BotHarness) -> None:
    r = bot.command("apply demo", channel=OTHER_CHANNEL)
    assert r.status == 200
    assert "not accepted in this channel" in r.text
    time.sleep(0.5)
    _no_side_effects(bot)


def test_button_click_from_an_unconfigured_channel_is_refused(bot: BotHarness) -> None:
    r = bot.click("eks_approve", "20260101-000000-abcdef", user="U0ALICE", message_ts="1.000001", channel=OTHER_CHANNEL)
    assert r.status == 200
    eph = bot.mock.wait_for(lambda m: m.of("chat.postEphemeral"), 10)
    assert "not accepted in this channel" in eph[0].params["text"]
    assert bot.mock.of("chat.update") == []


def test_usage_errors_are_answered_in_the_ack(bot: BotHarness) -> None:
    r = bot.command("apply")
    assert "usage: /eks apply <spec-name>" in r.text
    r = bot.command("frobnicate now")
    assert "unknown command 'frobnicate'" in r.text
    r = bot.command("access list demo")
    assert "usage: /eks access check <cluster> <arn>" in r.text
    time.sleep(0.3)
    _no_side_effects(bot)


def test_spec_names_with_paths_are_refused(bot: BotHarness) -> None:
    for name in ("../policy", "../../etc/passwd", "/etc/passwd", "specs/demo", "demo.yaml", "..", ".hidden"):
        before = len(bot.responses())
        r = bot.command(f"apply {name}")
        assert r.status == 200
        answer = bot.wait_response(count=before + 1)
        assert "is not a spec name" in answer["text"], (name, answer)
    assert bot.mock.of("chat.postMessage") == []
    assert bot.bot.flow.requests.list() == []


def test_new_opens_the_modal_from_the_ack(bot: BotHarness) -> None:
    r = bot.command("new")
    assert r.status == 200
    call = bot.mock.wait_for(lambda m: m.of("views.open"), 5)[0]
    view = call.view()
    assert view["callback_id"] == "eks_new_cluster"
    assert json.loads(view["private_metadata"]) == {"channel": CHANNEL}
    assert call.params["trigger_id"]
    blocks = {b["block_id"] for b in view["blocks"]}
    assert {"name", "region", "version", "instance_type", "nodes_min", "nodes_desired", "nodes_max", "vpc", "mappings"} <= blocks


def test_healthz_and_unknown_paths(bot: BotHarness) -> None:
    r = bot.get("/healthz")
    assert r.status == 200 and r.json() == {"ok": True}
    assert bot.get("/nope").status == 404
    assert bot.post("x=1", {"content-type": "application/x-www-form-urlencoded"}, path="/other").status == 404


def test_url_encoded_text_and_slack_escapes_are_decoded(bot: BotHarness) -> None:
    # Slack sends '&lt;' for '<'; the parser must see the original text (and refuse it as a name).
    body = urllib.parse.urlencode(
        {"command": "/eks", "text": "plan &lt;x&gt;", "channel_id": CHANNEL, "user_id": "U0CAROL", "team_id": "T1",
         "response_url": bot.mock.response_url(), "trigger_id": "t"}
    )  # fmt: skip
    assert bot.post(body).status == 200
    assert "'<x>' is not a spec name" in bot.wait_response()["text"]


def test_store_unavailable_fails_closed(bot: BotHarness, caplog: pytest.LogCaptureFixture) -> None:
    bot.bot.engines.store.close()  # the state database goes away under the running bot
    assert bot.get("/healthz").status == 503
    # The operator's log names the file and what is wrong with it.
    assert f"unhealthy: the state store {bot.bot.engines.store.path} cannot be used" in caplog.text  # type: ignore[attr-defined]
    bot.command("runs")
    assert "state store is unavailable, so nothing was done (fail closed)" in bot.wait_response()["text"]
    bot.click("eks_approve", "20260101-000000-abcdef", user="U0ALICE", message_ts="1.000001")
    eph = bot.mock.wait_for(lambda m: m.of("chat.postEphemeral"), 10)[0]
    assert "Approve: the bot's state store is unavailable" in eph.params["text"]
    assert bot.mock.of("chat.update") == [] and bot.mock.of("chat.postMessage") == []
