"""Drill 5: approval races. Fifty Approve clicks on one plan, and a Reject racing the final Approve.

Everything goes through the real bot over HTTP: signed Slack interactive payloads to the Bolt
app served by uvicorn, on an in-process sandbox, with a local mock of Slack's Web API. The
policy needs two approvals from three named approvers.

1. **Fifty clicks.** ``/eks apply click`` posts one change request. Fifty Approve clicks (the
   confirmed ``block_actions`` a click sends after its confirm dialog), spread over the three
   approvers and the requester, are released together by a barrier. Exactly one outcome: the
   request is approved once, with the quorum of distinct approvers, and applied exactly once
   (one run in the store, one ``mutating-calls`` audit event, no duplicate resources in the
   sandbox). Every other click is answered, to the clicker only, with why nothing more
   happened; the requester is always refused; nothing is a traceback. The message ends showing
   the one final state.
2. **Reject against Approve.** Seeded trials of ``/eks map-role`` on an existing cluster: one
   approval is in, then a third approver's Reject (the modal's view submission, with a reason)
   and the second approver's Approve arrive together. Each trial has exactly one outcome:
   approved and applied once, or rejected and nothing applied. Never both, never neither; the
   store, the audit log, the sandbox and the final Slack message agree.

The work behind each of the bot's acks runs on a thread pool, and applies on another: the
drill waits for them by polling the store and, at the end, by draining both pools, never with
fixed sleeps. Then it scans the mock's recorded messages, the store and its files for secrets.
"""

from __future__ import annotations

import json
import logging
import random
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest

from assistant.sandbox import Sandbox
from tests.doubles.mock_slack import MockSlack, block_action, command_body, interactive_body, signed_headers, view_submission

from .. import secrets_scan
from ..drill_report import record, scaled, seed
from .world import duplicates

pytestmark = pytest.mark.slow

REGION = "us-east-1"
CHANNEL = "C0PLATFORM"
REQUESTER = "U0CAROL"
ALICE, BOB, DAVE = "U0ALICE", "U0BOB", "U0DAVE"
APPROVERS = (ALICE, BOB, DAVE)
CLICKS = 50
POLICY = """\
channels: [C0PLATFORM]
admins: [U0ADMIN]
specs: ./specs
approvalTtl: 1h
environments:
  prod:
    clusters: ["*"]
    approvers: {users: [U0ALICE, U0BOB, U0DAVE]}
    requiredApprovals: 2
"""
# Access entries only (authenticationMode API): a mapping applied shows in ListAccessEntries.
SPEC = """\
apiVersion: eks-assist/v1
kind: Cluster
metadata:
  name: {name}
  region: us-east-1
masters:
  version: "1.33"
  vpc:
    create: {{cidr: 10.0.0.0/16, azCount: 2}}
  authenticationMode: API
workers:
  - name: general
    instanceTypes: [t3.medium]
    scaling: {{min: 1, desired: 1, max: 2}}
kubeconfig:
  write: false
"""
DONE = ("succeeded", "failed", "rejected", "superseded", "expired", "cancelled")


@dataclass
class Bot:
    """The real bot served over HTTP, the mock Slack it talks to, and how to reach both."""

    url: str
    mock: MockSlack
    bot: Any
    stop: Callable[[], None]

    def post(self, body: str) -> tuple[int, str]:
        req = urllib.request.Request(
            self.url + "/slack/events",
            data=body.encode(),
            headers=signed_headers(secrets_scan.SLACK_SIGNING_SECRET, body),
            method="POST",
        )
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                return resp.status, resp.read().decode()
        except urllib.error.HTTPError as exc:
            with exc:
                return exc.code, exc.read().decode()

    def command(self, text: str, user: str = REQUESTER, name: str = "cmd") -> int:
        body = command_body(text, user=user, channel=CHANNEL, response_url=self.mock.response_url(name))
        return self.post(body)[0]

    def click(self, action_id: str, request_id: str, user: str, ts: str, action_ts: str | None = None) -> tuple[int, str]:
        payload = block_action(action_id, request_id, user=user, channel=CHANNEL, message_ts=ts, action_ts=action_ts)
        return self.post(interactive_body(payload))

    def approval_messages(self) -> list[Any]:
        return [c for c in self.mock.messages(CHANNEL) if "thread_ts" not in c.params and _buttons(c.blocks())]

    def posted_request(self, count: int) -> tuple[str, str]:
        """The ``count``-th approval message: (request id, message ts), once the bot recorded where it is."""
        msg = self.mock.wait_for(lambda m: len(self.approval_messages()) >= count and self.approval_messages()[count - 1], 60)
        request_id = next(el["value"] for el in _buttons(msg.blocks()) if el["action_id"] == "eks_approve")
        wait_until(lambda: self.bot.flow.requests.get(request_id).origin.get("ts"), 10, "the bot to note its message")
        return request_id, self.mock.ts_of(msg)

    def ephemerals(self, user: str | None = None) -> list[str]:
        return [str(c.params["text"]) for c in self.mock.of("chat.postEphemeral") if user is None or c.params.get("user") == user]

    def final_update(self, ts: str) -> Any:
        ups = self.mock.updates(ts)
        return ups[-1] if ups else None


def _buttons(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [el for b in blocks if b.get("type") == "actions" for el in b.get("elements", [])]


def wait_until(predicate: Callable[[], Any], timeout: float, what: str) -> Any:
    """Poll ``predicate`` until it is truthy (deterministic waiting, with a bound)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.02)


@pytest.fixture
def served(drill_sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Bot]:
    """The bot with the drill's fake Slack secrets, on the sandbox, served by uvicorn on a free port."""
    from assistant.run.runner import RunOptions
    from slackbot.app import create_bot
    from slackbot.config import load_config
    from slackbot.serve import bind, http_server

    root = tmp_path / "bot"
    (root / "specs").mkdir(parents=True)
    for name in ("click", "duel"):
        (root / "specs" / f"{name}.yaml").write_text(SPEC.format(name=name))
    (root / "policy.yaml").write_text(POLICY)
    with MockSlack() as mock:
        monkeypatch.setenv("SLACK_BOT_TOKEN", secrets_scan.SLACK_BOT_TOKEN)
        monkeypatch.setenv("SLACK_SIGNING_SECRET", secrets_scan.SLACK_SIGNING_SECRET)
        monkeypatch.setenv("SLACK_API_URL", mock.api_url)
        monkeypatch.setenv("AWS_REGION", REGION)
        config = load_config(policy_path=str(root / "policy.yaml"), socket_mode=False)
        bot = create_bot(config, options=RunOptions(poll_min=0.05, poll_max=0.1), pace_interval=0.02, expiry_interval=0)
        sock = bind("127.0.0.1", 0)
        server = http_server(bot, sock)
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
        thread.start()
        wait_until(lambda: server.started, 10, "uvicorn to start")
        stopped: list[bool] = []

        def stop() -> None:
            """Stop taking requests, then let every listener and apply finish: the bot is quiet after."""
            if stopped:
                return
            stopped.append(True)
            server.should_exit = True
            thread.join(timeout=10)
            bot.work.close()  # the work behind every ack, which may start applies
            for fut in list(bot.flow.applies):
                fut.result(timeout=120)
            bot.close()
            sock.close()

        harness = Bot(f"http://127.0.0.1:{sock.getsockname()[1]}", mock, bot, stop)
        try:
            yield harness
        finally:
            stop()


def _scan(served: Bot, state: Path, tmp_path: Path, logs: str) -> tuple[list[secrets_scan.Finding], int]:
    """Secrets in what Slack was sent (the calls' parameters, not their auth headers), the store, files and logs."""
    texts = {f"slack {i} {c.method}": json.dumps(c.params, default=str) for i, c in enumerate(served.mock.calls)}
    texts["logs"] = logs
    found = secrets_scan.scan_texts(texts) + secrets_scan.scan_tree(state, tmp_path)
    return found, len(texts) + secrets_scan.files_scanned(state, tmp_path)


def _events(store: Any, request_id: str | None = None) -> Counter[str]:
    return Counter(a["event"] for a in store.audit_log(limit=100_000) if request_id is None or a["run_id"] == request_id)


def _tracebacks(served: Bot, caplog: pytest.LogCaptureFixture) -> list[str]:
    said = [c.text_all() for c in served.mock.calls if c.method.startswith("chat.")]
    bad = [t for t in said if "Traceback" in t or "internal error" in t]
    return bad + [r.getMessage() for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]


# -- 1. fifty clicks on one plan -------------------------------------------------------------


def test_fifty_concurrent_approve_clicks_apply_once(
    served: Bot, drill_sandbox: Sandbox, tmp_path: Path, isolated_env: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    t0 = time.monotonic()
    rng = random.Random(seed(500))
    assert served.command("apply click") == 200
    request_id, ts = served.posted_request(1)

    # Every approver and the requester click; the rest of the fifty are seeded repeats.
    users = [*APPROVERS, REQUESTER] + [rng.choice([*APPROVERS, REQUESTER]) for _ in range(CLICKS - 4)]
    rng.shuffle(users)
    bodies = [
        interactive_body(
            block_action("eks_approve", request_id, user=u, channel=CHANNEL, message_ts=ts, action_ts=f"{t0:.0f}.{i:06d}")
        )
        for i, u in enumerate(users)
    ]
    barrier = threading.Barrier(CLICKS)

    def click(body: str) -> tuple[int, str]:
        barrier.wait()
        return served.post(body)

    with ThreadPoolExecutor(max_workers=CLICKS) as pool:
        answers = list(pool.map(click, bodies))
    assert answers == [(200, "")] * CLICKS  # every click acked at once, empty (Slack shows nothing)

    requests, store = served.bot.flow.requests, served.bot.engines.store
    final = wait_until(lambda: (r := requests.get(request_id)).status in DONE and r, 120, "the apply to finish")
    # Each click ends in exactly one of: counted (audited), or a reply to the clicker only.
    wait_until(lambda: sum(_events(store, request_id)[e] for e in ("request-approved", "request-approval-recorded"))
               + len(served.ephemerals()) >= CLICKS, 60, "every click to be answered")  # fmt: skip
    served.stop()  # drains Bolt's listener pool and the apply pool: nothing more will be said

    events = _events(store, request_id)
    runs = store.list_runs(limit=100)
    mutating = [a for a in store.audit_log(limit=100_000) if a["event"] == "mutating-calls"]
    approvers = [a["approver"] for a in final.approvals]
    replies = {u: served.ephemerals(u) for u in (*APPROVERS, REQUESTER)}
    counted = events["request-approved"] + events["request-approval-recorded"]
    message = served.final_update(ts)
    dupes = duplicates(drill_sandbox.inventory())
    clusters = boto3.client("eks", region_name=REGION).list_clusters()["clusters"]
    leaks, scanned = _scan(served, isolated_env, tmp_path, caplog.text)
    tracebacks = _tracebacks(served, caplog)
    record(
        "5a approval races: 50 clicks",
        runs=1,
        faults=f"{CLICKS} concurrent Approve clicks by 3 approvers and the requester",
        outcome=f"{final.status}, {len(runs)} apply",
        clicks=CLICKS,
        clicks_by_user=dict(Counter(users)),
        approvals_recorded=len(approvers),
        applies=len(runs),
        mutating_call_events=len(mutating),
        claims=events["request-apply-claimed"],
        refused_or_duplicate_replies=sum(len(v) for v in replies.values()),
        duplicates=len(dupes),
        double_outcomes=max(0, events["request-approved"] - 1),
        tracebacks=len(tracebacks),
        secrets_found=len(leaks),
        files_and_texts_scanned=scanned,
        seconds=round(time.monotonic() - t0, 1),
    )
    assert final.status == "succeeded", final.reason
    assert events["request-approved"] == 1 and events["request-apply-claimed"] == 1 and events["request-succeeded"] == 1
    assert len(approvers) == len(set(approvers)) == 2 and REQUESTER not in approvers
    assert [r.id for r in runs] == [request_id] and runs[0].status == "succeeded"
    assert [m["run_id"] for m in mutating] == [request_id]
    assert clusters.count("click") == 1 and dupes == {}
    # Exactly one answer per click: counted, or told why not (and only the clicker saw it).
    assert counted == 2 and sum(len(v) for v in replies.values()) == CLICKS - 2
    assert all(t.startswith(":no_entry: Not approved:") for t in replies[REQUESTER])
    assert len(replies[REQUESTER]) == users.count(REQUESTER)
    for u in APPROVERS:
        for t in replies[u]:
            assert t.startswith(("You already approved", ":no_entry: Not approved: request")), t
            assert "nothing" in t
    # One final state on the message: applied, by the two approvers, and no buttons left.
    assert message is not None and ":white_check_mark: Applied by" in message.text_all(), message.text_all()
    assert _buttons(message.blocks()) == []
    assert all(f"<@{a}>" in message.text_all() for a in approvers)
    thread = [c for c in served.mock.messages(CHANNEL, thread_ts=ts)]
    assert len(thread) == 2, [c.text_all()[:80] for c in thread]  # one progress message, one summary
    assert tracebacks == []
    assert leaks == []


# -- 2. a Reject racing the final Approve ------------------------------------------------------


@dataclass
class Trial:
    """One race: who was sent first, and what came of it."""

    request_id: str
    ts: str
    arn: str
    first: str
    mode: str
    outcome: str = ""


def test_reject_racing_the_final_approve_has_one_outcome(
    served: Bot, drill_sandbox: Sandbox, tmp_path: Path, isolated_env: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    t0 = time.monotonic()
    rng = random.Random(seed(510))
    requests, store = served.bot.flow.requests, served.bot.engines.store
    account = boto3.client("sts", region_name=REGION).get_caller_identity()["Account"]
    eks = boto3.client("eks", region_name=REGION)

    # The cluster the trials map roles on, applied through the bot like any change.
    assert served.command("apply duel") == 200
    setup_id, setup_ts = served.posted_request(1)
    served.click("eks_approve", setup_id, ALICE, setup_ts)
    served.click("eks_approve", setup_id, BOB, setup_ts)
    assert wait_until(lambda: (s := requests.get(setup_id).status) in DONE and s, 120, "the cluster apply") == "succeeded"

    trials: list[Trial] = []
    for k in range(scaled(20)):
        arn = f"arn:aws:iam::{account}:role/duel-{k}"
        assert served.command(f"map-role duel {arn} viewers", name=f"map{k}") == 200
        request_id, ts = served.posted_request(2 + k)
        # Dave opens the Reject form (the modal comes back through views.open) and fills it in.
        opened = len(served.mock.of("views.open"))
        served.click("eks_reject", request_id, DAVE, ts)
        modal = served.mock.wait_for(lambda m, n=opened: len(m.of("views.open")) > n and m.of("views.open")[n], 10).view()
        reason = f"trial {k}: not this one"
        values = {"reason": {"value": {"type": "plain_text_input", "value": reason}}}
        sends = {
            "reject": interactive_body(view_submission(modal, values, user=DAVE)),
            "approve": interactive_body(block_action("eks_approve", request_id, user=BOB, channel=CHANNEL, message_ts=ts)),
        }
        first_approval = interactive_body(block_action("eks_approve", request_id, user=ALICE, channel=CHANNEL, message_ts=ts))
        # Two-way: Alice's approval is in, then Dave's Reject and Bob's final Approve race. Three-way:
        # Alice's is still in flight too (her message update races theirs).
        mode = rng.choice(["two-way", "three-way"])
        if mode == "two-way":
            assert served.post(first_approval)[0] == 200
            wait_until(lambda rid=request_id: requests.get(rid).approvals, 30, "the first approval")
        else:
            sends["first-approve"] = first_approval
        names = list(sends)
        rng.shuffle(names)
        # Released together by a barrier; each but the first trails by a seeded lag of 0 to 5 ms.
        lags = [0.0] + [rng.choice([0.0, rng.uniform(0.0, 0.005)]) for _ in names[1:]]
        barrier = threading.Barrier(len(names))

        def send(body: str, delay: float, barrier: threading.Barrier = barrier) -> tuple[int, str]:
            barrier.wait()
            if delay:
                time.sleep(delay)
            return served.post(body)

        with ThreadPoolExecutor(max_workers=len(names)) as pool:
            answers = list(pool.map(send, [sends[n] for n in names], lags))
        assert answers == [(200, "")] * len(names)
        trial = Trial(request_id, ts, arn, first=names[0], mode=mode)
        trial.outcome = wait_until(lambda rid=request_id: (s := requests.get(rid).status) in DONE and s, 60, f"trial {k}")
        # Whoever lost is told (ephemerally) before the trial counts as settled.
        losers = [DAVE] if trial.outcome == "succeeded" else [ALICE, BOB]
        wait_until(
            lambda us=losers, rid=request_id: any(rid in t for u in us for t in served.ephemerals(u)), 30, f"trial {k}'s loser"
        )
        trials.append(trial)
    served.stop()

    # -- every trial: exactly one outcome, and the store, audit, sandbox and Slack agree ---------
    mapped = {e for e in eks.list_access_entries(clusterName="duel")["accessEntries"]}
    runs = {r.id: r for r in store.list_runs(limit=1000)}
    mutating = Counter(a["run_id"] for a in store.audit_log(limit=100_000) if a["event"] == "mutating-calls")
    problems: list[str] = []
    double = neither = 0
    for t in trials:
        ev = _events(store, t.request_id)
        req = requests.get(t.request_id)
        approved, rejected = ev["request-approved"], ev["request-rejected"]
        double += approved and rejected
        neither += not (approved or rejected)
        message = served.final_update(t.ts)
        text = message.text_all() if message is not None else ""
        if t.outcome == "succeeded":
            ok = (
                approved == 1 and rejected == 0 and t.request_id in runs and runs[t.request_id].status == "succeeded"
                and mutating[t.request_id] == 1 and t.arn in mapped and ":white_check_mark: Applied by" in text
                and {a["approver"] for a in req.approvals} == {ALICE, BOB}
                and any(f"Not rejected: request {t.request_id} is already" in e for e in served.ephemerals(DAVE))
            )  # fmt: skip
        else:
            ok = (
                t.outcome == "rejected" and rejected == 1 and approved == 0 and t.request_id not in runs
                and mutating[t.request_id] == 0 and t.arn not in mapped and f":no_entry: Rejected by <@{DAVE}>" in text
                and req.decided_by == DAVE and req.reason.startswith("trial ")
                and any(f"request {t.request_id} is already rejected" in e for u in (ALICE, BOB) for e in served.ephemerals(u))
            )  # fmt: skip
        if not ok or message is None or _buttons(message.blocks()):
            problems.append(
                f"{t.request_id} {t.mode} first={t.first} outcome={t.outcome} events={dict(ev)} message={text[-200:]!r}"
            )
    outcomes = Counter(t.outcome for t in trials)
    leaks, scanned = _scan(served, isolated_env, tmp_path, caplog.text)
    tracebacks = _tracebacks(served, caplog)
    record(
        "5b approval races: reject vs approve",
        runs=len(trials),
        faults="a Reject (view submission) and the final Approve released together, seeded order and lag",
        outcome=f"{outcomes['succeeded']} applied, {outcomes['rejected']} rejected, {double} double, {neither} neither",
        trials=len(trials),
        applied=outcomes["succeeded"],
        rejected=outcomes["rejected"],
        other_outcomes=len(trials) - outcomes["succeeded"] - outcomes["rejected"],
        sent_first=dict(Counter(t.first for t in trials)),
        modes=dict(Counter(t.mode for t in trials)),
        double_outcomes=double,
        no_outcome=neither,
        disagreements=len(problems),
        tracebacks=len(tracebacks),
        secrets_found=len(leaks),
        files_and_texts_scanned=scanned,
        seconds=round(time.monotonic() - t0, 1),
    )
    assert double == 0 and neither == 0
    assert problems == [], "\n".join(problems)
    assert tracebacks == []
    assert leaks == []
