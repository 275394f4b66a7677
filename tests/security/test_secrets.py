"""Drill 8, secrets: a whole flow with recognisable fake credentials, then a search for them everywhere.

The flow, on a sandbox that only accepts the fake AWS key pair of :mod:`tests.secrets_scan`:

- the CLI as real subprocesses, all with ``--debug``: plan, apply (``--approve``), a bad
  spec, a wrong approval hash, an AWS error (the sandbox answering 500), AWS unreachable,
  ``status``, ``runs`` (list and one run), ``audit``, ``locks``, ``token`` and ``kubeconfig``;
- the Slack bot with the fake bot token and signing secret: ``/eks apply`` → approval
  message → Approve → the bot applies → the summary.

Then everything a user or an attacker could read later is scanned for the secrets (plain,
base64 at every alignment, URL-encoded) and for EKS bearer tokens: every subprocess's stdout
and stderr, every log record of the in-process bot, engine and SDKs (at DEBUG), every request
the mock Slack received (parameters, uploaded files and headers), the store's SQLite bytes, and
every file under the drill's directories (state directory, HOME, kubeconfig, specs).

Two exclusions, both exact: the ``Authorization: Bearer <bot token>`` header of requests to
Slack (the bot must send its token to Slack; any other header or parameter carrying it
still counts), and the stdout of ``eks-assist token`` (an exec plugin's whole job is to
print a bearer token for kubectl; its stderr is still scanned).

The scanner's self-test plants each secret in each encoding and requires it to be found, so
the drill can fail.
"""

from __future__ import annotations

import base64
import io
import json
import logging
import os
import subprocess
import sys
import time
import urllib.parse
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from assistant.sandbox.faults import FaultConfig
from tests.doubles.mock_slack import MockSlack

from .. import drill_report
from .. import secrets_scan as fake
from .harness import ALICE, CHANNEL, REQUESTER, World, make_world, serve_bot, spec_text

LOGGERS = ("assistant", "slackbot", "slack_bolt", "slack_sdk", "botocore", "boto3", "urllib3", "uvicorn", "kubernetes")


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    with make_world(tmp_path / "world") as w:
        yield w


@pytest.fixture
def logs() -> Iterator[io.StringIO]:
    """Every log record of the in-process code, at DEBUG, as text."""
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.setLevel(logging.DEBUG)
    handler.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
    root = logging.getLogger()
    old = {name: logging.getLogger(name).level for name in LOGGERS}
    root.addHandler(handler)
    for name in LOGGERS:
        logging.getLogger(name).setLevel(logging.DEBUG)
    try:
        yield buffer
    finally:
        root.removeHandler(handler)
        for name, level in old.items():
            logging.getLogger(name).setLevel(level)


class Outputs:
    """Captured texts by name, for the scan."""

    def __init__(self) -> None:
        self.texts: dict[str, str] = {}
        self.excluded: list[str] = []

    def run(
        self, name: str, argv: list[str], env: dict[str, str], cwd: Path, *, exclude_stdout: bool = False
    ) -> tuple[int, str, str]:
        proc = subprocess.run(
            [sys.executable, "-m", "assistant.cli", "--debug", *argv],
            env=env,
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=180,
        )
        self.texts[f"{name}: stderr"] = proc.stderr
        if exclude_stdout:
            self.excluded.append(f"{name}: stdout")
        else:
            self.texts[f"{name}: stdout"] = proc.stdout
        return proc.returncode, proc.stdout, proc.stderr


def _slack_texts(mock: MockSlack) -> tuple[dict[str, str], int]:
    """Every recorded Slack call as text (params and headers), minus exactly the bot's own Authorization header."""
    texts: dict[str, str] = {}
    excluded = 0
    expected = f"Bearer {fake.SLACK_BOT_TOKEN}"
    for n, call in enumerate(mock.calls):
        headers = dict(call.headers)
        if headers.get("authorization") == expected:
            del headers["authorization"]
            excluded += 1
        texts[f"slack call {n} {call.method} params"] = json.dumps(call.params, default=str)
        texts[f"slack call {n} {call.method} headers"] = json.dumps(headers)
    for file_id, data in mock.files.items():
        texts[f"slack upload {file_id}"] = data.decode("utf-8", "replace")
    return texts, excluded


@pytest.mark.slow
def test_no_secret_is_left_anywhere_after_a_full_flow(world: World, logs: io.StringIO, tmp_path: Path) -> None:
    home = tmp_path / "home"
    work = tmp_path / "work"
    work.mkdir()
    kubeconfig = home / ".kube" / "config"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "SLACK_"))},
        **world.env,
        "HOME": str(home),
        "KUBECONFIG": str(kubeconfig),
        "AWS_CONFIG_FILE": str(tmp_path / "no-aws-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "no-aws-credentials"),
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    spec = work / "secrets.yaml"
    spec.write_text(
        spec_text("secrets").replace("kubeconfig:\n  write: false\n", "kubeconfig:\n  write: true\n"), encoding="utf-8"
    )
    bad = work / "bad.yaml"
    bad.write_text(spec_text("secrets").replace("name: secrets", "name: -bad"), encoding="utf-8")
    out = Outputs()

    # -- the CLI, as a user runs it --------------------------------------------------------------
    code, plan_json, err = out.run("plan", ["plan", "-f", str(spec), "-o", "json"], env, work)
    assert code == 0, err
    plan_hash = json.loads(plan_json)["hash"]
    assert out.run("plan (bad spec)", ["plan", "-f", str(bad)], env, work)[0] == 2
    assert out.run("apply (wrong hash)", ["apply", "-f", str(spec), "--approve", "0" * 64], env, work)[0] == 3
    code, applied, err = out.run(
        "apply", ["apply", "-f", str(spec), "--approve", plan_hash, "--poll-max", "0.1", "-o", "json"], env, work
    )
    assert code == 0, err
    run_id = json.loads(applied)["runId"]
    reads = {
        "status": ["status", "secrets"],
        "runs": ["runs"],
        "runs one": ["runs", run_id],
        "runs json": ["runs", "-o", "json"],
        "audit": ["audit", "-o", "json"],
        "locks": ["locks"],
        "kubeconfig": ["kubeconfig", "--cluster", "secrets", "--path", str(home / "other-kubeconfig")],
        "access list": ["access", "list", "--cluster", "secrets"],
    }
    with ThreadPoolExecutor(max_workers=4) as pool:
        futures = {name: pool.submit(out.run, name, argv, env, work) for name, argv in reads.items()}
        token = pool.submit(out.run, "token", ["token", "--cluster-name", "secrets"], env, work, exclude_stdout=True)
        results = {name: f.result() for name, f in futures.items()}
    assert all(r[0] == 0 for r in results.values()), {k: r[2][-500:] for k, r in results.items() if r[0]}
    code, token_out, _ = token.result()
    assert code == 0 and fake.TOKEN_PREFIX in token_out  # the plugin works: the exclusion hides a real token

    # -- an AWS error, and AWS out of reach ------------------------------------------------------------
    world.sandbox.set_faults(FaultConfig(error5xx=1.0, seed=drill_report.seed(8)))
    try:
        code, _, err = out.run("status (AWS 500)", ["status", "secrets"], {**env, "AWS_MAX_ATTEMPTS": "1"}, work)
    finally:
        world.sandbox.set_faults(FaultConfig())
    assert code == 1 and "AWS error" in err, err
    code, _, err = out.run(
        "plan (AWS unreachable)", ["plan", "-f", str(spec)], {**env, "AWS_ENDPOINT_URL": "http://127.0.0.1:9"}, work
    )
    assert code == 1 and "cannot reach AWS" in err, err

    # -- the Slack bot: request, approve, apply --------------------------------------------------------
    with MockSlack() as mock, serve_bot(mock, world.policy) as bot:
        assert bot.command("apply fresh").status == 200
        msg = bot.wait_approval(timeout=120)
        ts = mock.ts_of(msg)
        assert bot.click("eks_approve", bot.request_id(msg), user=ALICE, message_ts=ts).status == 200
        bot.wait_update(ts, ":white_check_mark: Applied", timeout=180)
        bot.command("runs", name="runs")
        bot.wait_response("runs")
        bot.command("status fresh", name="status")
        bot.wait_response("status")
        slack_texts, bearer_excluded = _slack_texts(mock)
    assert bearer_excluded > 0  # the bot did talk to Slack with its token, which is the one exclusion
    assert msg.params["channel"] == CHANNEL and REQUESTER in msg.text_all()

    # -- the scan --------------------------------------------------------------------------------------
    texts = {**out.texts, **slack_texts, "in-process logs": logs.getvalue()}
    roots = (world.root, tmp_path)
    findings = fake.scan_texts(texts) + fake.scan_tree(*roots)
    files = fake.files_scanned(*roots)
    drill_report.record(
        "secrets",
        runs=1,
        faults="fake AWS keys, Slack bot token and signing secret; AWS 500 and AWS unreachable",
        outcome="ok" if not findings else "FAILED",
        secrets_found=len(findings),
        texts_scanned=len(texts),
        files_scanned=files,
        slack_calls=len(slack_texts),
        log_bytes=len(logs.getvalue()),
        bearer_headers_excluded=bearer_excluded,
        excluded=", ".join(out.excluded),
    )
    assert findings == [], [str(f) for f in findings]
    assert kubeconfig.is_file() and (home / "other-kubeconfig").is_file()


# -- the scanner can find what it looks for ----------------------------------------------------------


def _encodings(secret: str, pad: str) -> dict[str, str]:
    raw = (pad + secret + " trailing").encode()
    return {
        "plain": f"error: {secret} was rejected",
        "base64": base64.b64encode(raw).decode(),
        "url-encoded": "https://x.example/?q=" + urllib.parse.quote(secret, safe=""),
    }


@pytest.mark.parametrize("pad", ["", "x", "xy"], ids=["aligned", "offset-1", "offset-2"])
def test_scanner_finds_planted_secrets(tmp_path: Path, pad: str) -> None:
    planted = 0
    for what, secret in fake.SECRETS.items():
        for form, text in _encodings(secret, pad).items():
            planted += 1
            assert [f.what for f in fake.scan_texts({form: text})] == [what], (what, form)
            path = tmp_path / f"{what.replace(' ', '-')}-{form}.txt"
            path.write_text(text, encoding="utf-8")
            assert [f.what for f in fake.scan_tree(path.parent) if f.where == str(path)] == [what]
    assert fake.scan_texts({"token": "Bearer k8s-aws-v1.aHR0cHM6Ly9zdHM"})[0].what == "kubernetes bearer token"
    # A SQLite database is scanned as bytes, like any file.
    import sqlite3

    db = sqlite3.connect(tmp_path / "state.db")
    db.execute("CREATE TABLE t (x TEXT)")
    db.execute("INSERT INTO t VALUES (?)", (fake.SLACK_SIGNING_SECRET,))
    db.commit()
    db.close()
    assert any(f.where.endswith("state.db") for f in fake.scan_tree(tmp_path))
    assert planted == 3 * len(fake.SECRETS)


def test_the_bearer_exclusion_is_exact() -> None:
    """Only the Authorization header that is exactly the bot's bearer token is left out of the scan."""
    from tests.doubles.mock_slack import Call

    mock = MockSlack()
    try:
        token = fake.SLACK_BOT_TOKEN
        mock.calls = [
            Call("chat.postMessage", {"text": "hi"}, {"authorization": f"Bearer {token}"}, time.monotonic()),
            Call("chat.postMessage", {"text": f"oops {token}"}, {"authorization": f"Bearer {token}"}, time.monotonic()),
            Call("chat.update", {"text": "x"}, {"x-forwarded": token}, time.monotonic()),
        ]
        texts, excluded = _slack_texts(mock)
    finally:
        mock._server.server_close()
    assert excluded == 2
    assert sorted(f.where for f in fake.scan_texts(texts)) == [
        "slack call 1 chat.postMessage params",
        "slack call 2 chat.update headers",
    ]
    assert isinstance(texts, dict) and all(isinstance(v, str) for v in texts.values())
