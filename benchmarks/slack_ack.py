"""Slack bot: slash-command ack latency under concurrency, and the bot's idle memory.

Starts a real ``eks-assist slack serve`` process (HTTP mode, uvicorn) against a local mock of
Slack's Web API, then sends signed ``/eks`` commands the way Slack does, N at a time, and
measures how long each takes to be acknowledged. Slack gives an app 3 seconds; the goal here
is p99 < 300 ms. It also reads the process's resident memory (VmRSS) once it has started and
settled, before any load, and again after the load.

    python benchmarks/slack_ack.py                       # 200 requests, concurrency 20, /eks runs
    python benchmarks/slack_ack.py -n 500 -c 50 --text help

``/eks runs`` acks at once and then reads the store and answers through ``response_url`` in a
lazy listener, so the measurement includes a command doing real work behind its ack. ``help``
is answered entirely in the ack.
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from slackbot.testing import MockSlack, command_body, signed_headers  # noqa: E402 - after the path tweak

SECRET = "benchmark-signing-secret"
CHANNEL = "C0PLATFORM"
POLICY = """\
channels: [C0PLATFORM]
admins: [U0ADMIN]
specs: ./specs
environments:
  dev:
    clusters: ["*"]
    approvers: {users: [U0ALICE, U0BOB]}
"""


def rss_mib(pid: int) -> float:
    """Resident set size of ``pid`` in MiB (Linux /proc)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def start_bot(workdir: Path, mock: MockSlack) -> tuple[subprocess.Popen[str], str]:
    (workdir / "specs").mkdir()
    (workdir / "specs" / "demo.yaml").write_text((REPO / "examples" / "demo.yaml").read_text())
    (workdir / "policy.yaml").write_text(POLICY)
    env = dict(os.environ)
    env.update(
        SLACK_BOT_TOKEN="xoxb-benchmark",
        SLACK_SIGNING_SECRET=SECRET,
        SLACK_API_URL=mock.api_url,
        EKS_ASSIST_SLACK_POLICY=str(workdir / "policy.yaml"),
        EKS_ASSIST_STATE_DIR=str(workdir / "state"),
        AWS_REGION="us-east-1",
        PYTHONUNBUFFERED="1",
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "assistant.cli", "slack", "serve", "--port", "0"],
        env=env,
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
        cwd=REPO,
    )
    assert proc.stderr is not None
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        if "serving http://" in line:
            url = line.split("serving ", 1)[1].split(" ", 1)[0]
            # Keep draining stderr so the bot never blocks on a full pipe.
            threading.Thread(target=lambda: [None for _ in proc.stderr or ()], daemon=True).start()
            return proc, url
        if not line and proc.poll() is not None:
            break
    proc.kill()
    raise SystemExit(f"the bot did not start:\n{proc.stderr.read()}")


def one(url: str, text: str, mock: MockSlack, i: int) -> float:
    body = command_body(text, user="U0CAROL", channel=CHANNEL, response_url=mock.response_url(f"r{i}"))
    req = urllib.request.Request(url, data=body.encode(), headers=signed_headers(SECRET, body), method="POST")
    t0 = time.perf_counter()
    with urllib.request.urlopen(req, timeout=30) as resp:
        resp.read()
        if resp.status != 200:
            raise RuntimeError(f"status {resp.status}")
    return time.perf_counter() - t0


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(p / 100 * len(ordered) + 0.5) - 1))
    return ordered[k]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-n", "--requests", type=int, default=200)
    ap.add_argument("-c", "--concurrency", type=int, default=20)
    ap.add_argument("--text", default="runs", help="the /eks command text to send (default: runs)")
    ap.add_argument("--settle", type=float, default=3.0, help="seconds to wait before reading idle memory")
    args = ap.parse_args()

    with MockSlack() as mock, tempfile.TemporaryDirectory() as tmp:
        proc, url = start_bot(Path(tmp), mock)
        try:
            time.sleep(args.settle)
            idle = rss_mib(proc.pid)
            with ThreadPoolExecutor(args.concurrency) as pool:  # warm-up: imports, thread pools, sqlite
                list(pool.map(lambda i: one(url, args.text, mock, 10_000 + i), range(args.concurrency)))
                t0 = time.perf_counter()
                times = list(pool.map(lambda i: one(url, args.text, mock, i), range(args.requests)))
                wall = time.perf_counter() - t0
            if args.text != "help":  # every lazy listener answered through response_url
                mock.wait_for(lambda m: len(m.of("response_url")) >= args.requests + args.concurrency, 120)
            loaded = rss_mib(proc.pid)
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
    ms = [t * 1000 for t in times]
    p99 = percentile(ms, 99)
    print(f"eks-assist slack serve: {args.requests} signed '/eks {args.text}' requests, concurrency {args.concurrency}")
    print(f"  ack latency  p50 {percentile(ms, 50):6.1f} ms   p90 {percentile(ms, 90):6.1f} ms   p99 {p99:6.1f} ms")
    print(f"               mean {statistics.mean(ms):5.1f} ms   max {max(ms):6.1f} ms   ({args.requests / wall:.0f} req/s)")
    print(f"  p99 goal < 300 ms: {'met' if p99 < 300 else 'NOT met'}")
    print(f"  RSS idle {idle:.1f} MiB, after the load {loaded:.1f} MiB")
    return 0 if p99 < 300 else 1


if __name__ == "__main__":
    sys.exit(main())
