"""Acks never wait on work, and the work is bounded (field report 16).

Under load, ``/eks plan`` acks took 1.2-1.6 s: Bolt ran each ack function on the same executor
as the lazy listeners that plan, so acks queued behind seconds of planning. These tests hold
every AWS answer of the sandbox at a gate, so no work behind an ack can finish, and check the
structure, never the clock: every ack arrives while the gate is shut; the work pool holds at
most its workers plus its queue; beyond that the ack says "busy" and nothing else happens.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from assistant.sandbox import FaultConfig
from tests.doubles.mock_slack import MockSlack

from .conftest import BotHarness, start_bot


@pytest.fixture
def gate(sandbox: Any) -> Iterator[threading.Event]:
    """While shut, every AWS request the sandbox has carried out waits before its answer leaves."""
    shut = threading.Event()
    opened = threading.Event()

    def hold(_: Any) -> None:
        if shut.is_set():
            opened.wait(timeout=120)

    shut.set()
    sandbox.set_faults(FaultConfig(after_call=hold))
    try:
        yield opened
    finally:
        opened.set()
        sandbox.set_faults(FaultConfig())


@pytest.fixture
def small_bot(sandbox: Any, mock_slack: MockSlack, policy_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[BotHarness]:
    """One worker and two places in the queue: the third job waiting is one too many."""
    yield from start_bot(mock_slack, policy_path, monkeypatch, work_workers=1, work_queue=2)


def test_acks_arrive_while_no_work_can_finish(sbot: BotHarness, gate: threading.Event, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="urllib3")
    # More commands at once than the old listener pool had threads (16), each planning for as
    # long as the gate stays shut: with acks behind that pool, the 17th ack never came.
    with ThreadPoolExecutor(24) as pool:
        acks = list(pool.map(lambda i: sbot.command("plan demo", name=f"p{i}"), range(24)))
    assert not gate.is_set(), "the gate opened early"
    assert [a.status for a in acks] == [200] * 24
    assert all(a.text.startswith(":hourglass_flowing_sand: `/eks plan demo`") for a in acks), acks[0].text
    assert sbot.mock.of("response_url") == [], "work finished while the sandbox held every answer"
    # The work is bounded: as many planning threads as the pool has workers, never one per command.
    workers = [t for t in threading.enumerate() if t.name.startswith("eks-work")]
    assert 0 < len(workers) <= sbot.bot.work.workers

    gate.set()
    for i in range(24):
        assert "demo" in sbot.wait_response(f"p{i}", timeout=120)["text"]
    # Each AWS client has a connection for every thread that can use it at once.
    assert "Connection pool is full" not in caplog.text


def test_a_full_pool_answers_busy_and_does_nothing(small_bot: BotHarness, gate: threading.Event) -> None:
    bot = small_bot
    accepted = [bot.command("plan demo", name=f"p{i}") for i in range(3)]  # one runs, two wait
    assert all(a.text.startswith(":hourglass_flowing_sand:") for a in accepted)

    refused = bot.command("plan demo", name="p3")
    assert refused.status == 200
    assert "The bot is busy: 3 requests are already running or waiting" in refused.text
    assert "`/eks plan demo` was not done; try again in a minute" in refused.text

    # A click finds the pool full too: it is acknowledged, and the clicker is told, in private.
    assert bot.click("eks_approve", "20260101-000000-abcdef", user="U0ALICE", message_ts="1.000001").status == 200
    note = bot.mock.wait_for(lambda m: m.of("chat.postEphemeral"), 30)[0]
    assert "The bot is busy" in note.params["text"] and "Your approval was not done" in note.params["text"]

    gate.set()
    for i in range(3):
        assert "demo" in bot.wait_response(f"p{i}", timeout=120)["text"]
    # Places are given back as jobs end: the pool takes work again.
    ticket = bot.mock.wait_for(lambda m: bot.bot.work.reserve(), 30, "a free place in the pool")
    ticket.release()
    assert bot.responses("p3") == []  # refused means refused: no late answer


def test_the_aws_connection_pool_matches_the_threads_that_share_it(bot: BotHarness) -> None:
    config = bot.bot.engines.aws("us-east-1").client("ec2").meta.config
    parallelism = bot.bot.engines.options.parallelism
    assert config.max_pool_connections >= bot.bot.work.workers + 4 * parallelism
