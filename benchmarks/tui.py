"""Terminal-wizard benchmark: launch to first paint, launch to an interactive Masters screen, and
keypress-to-redraw latency in the instance-type picker over the whole catalogue.

Each launch runs in a fresh process, the way ``eks-assist --sandbox`` starts: imports, the app
(headless, 80x24), and a background sandbox process started by the app's connect worker. "First
paint" is when Textual hands control to the pilot after the first screen is mounted and
rendered; "interactive Masters" is when the connection (STS identity) is open, ``n`` has opened
the Masters screen, its workers (Kubernetes versions, VPCs) have finished and the name field has
focus.

The picker run opens it over the sandbox's whole catalogue (about 1,400 types, cached on disk
as the wizard caches it) and types and deletes a query key by key; each latency is from the key
press until the app is idle again with the list redrawn.

    python benchmarks/tui.py [--launches 5] [--keys 40]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

CHILD = r"""
import json, os, sys, time
t_start = float(sys.argv[1])
from assistant.cli import common as cli
from tui.app import make_app
ctx = {}
app = make_app(sandbox=True)
# As tui/cli_hook.py does: the sandbox starts on the connect worker, after the first paint, as a
# background process (eks-assist sandbox start) that other terminals reach too.
app.before_connect = lambda progress: cli.sandbox_env(ctx, quiet=True, background=progress)
marks = {}

async def auto_pilot(pilot):
    marks["first_paint"] = time.time() - t_start
    while app.conn is None:
        await pilot.pause(0.01)
    await pilot.press("n")
    while type(app.screen).__name__ != "MastersScreen":
        await pilot.pause(0.01)
    await app.workers.wait_for_complete()
    await pilot.pause()
    assert app.focused is not None and app.focused.id == "name"
    marks["masters"] = time.time() - t_start
    app.exit()

try:
    app.run(headless=True, size=(80, 24), auto_pilot=auto_pilot)
finally:
    from assistant.sandbox import command
    command.stop_running()
print(json.dumps(marks))
"""


def launch(env: dict[str, str]) -> dict[str, float]:
    t0 = time.time()
    out = subprocess.run(
        [sys.executable, "-c", CHILD, repr(t0)], env=env, capture_output=True, text=True, timeout=300, cwd=HERE.parent
    )
    if out.returncode != 0:
        raise SystemExit(f"launch failed:\n{out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def picker_latency(keys: int) -> list[float]:
    """Seconds per key press in the picker, over the whole catalogue."""
    import asyncio

    from assistant.sandbox import Sandbox
    from tui.app import make_app

    latencies: list[float] = []
    query = "m5.large "
    sequence = [(query * 10)[i] for i in range(keys // 2)]

    async def run() -> None:
        app = make_app(sandbox=True, cursor_blink=False)
        async with app.run_test(size=(120, 40)) as pilot:
            while app.conn is None:
                await pilot.pause(0.01)
            await app.goto("workers")
            await pilot.pause()
            await pilot.press("a")
            await pilot.pause()
            await pilot.press("f4")
            while app.catalogue is None:
                await pilot.pause(0.05)
            await app.workers.wait_for_complete()
            await pilot.pause()
            print(f"catalogue: {len(app.catalogue)} instance types", file=sys.stderr)
            for key in [*sequence, *["backspace"] * len(sequence)]:
                t = time.perf_counter()
                await pilot.press(key)
                latencies.append(time.perf_counter() - t)

    with Sandbox(latency="fast", port=0, k8s_port=0) as sb:
        os.environ.update(sb.env())
        asyncio.run(run())
    return latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--launches", type=int, default=5)
    parser.add_argument("--keys", type=int, default=40)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.update(
            EKS_ASSIST_STATE_DIR=f"{tmp}/state",
            KUBECONFIG=f"{tmp}/kubeconfig",
            XDG_CACHE_HOME=f"{tmp}/cache",
            HOME=f"{tmp}/home",
            AWS_CONFIG_FILE=f"{tmp}/none",
            AWS_SHARED_CREDENTIALS_FILE=f"{tmp}/none",
        )
        os.environ.update(env)
        for k in [k for k in os.environ if k.startswith("AWS_") and k not in env]:
            del os.environ[k]
        runs = [launch(env) for _ in range(args.launches)]
        first = [r["first_paint"] for r in runs]
        masters = [r["masters"] for r in runs]
        print(f"launch → first paint:         median {statistics.median(first):.3f} s, max {max(first):.3f} s (goal < 1 s)")
        print(f"launch → interactive Masters: median {statistics.median(masters):.3f} s, max {max(masters):.3f} s")
        # The picker's first open fetches the catalogue once (then it is cached on disk); measure warm.
        lat = picker_latency(args.keys)
        lat_ms = sorted(x * 1000 for x in lat)
        p95 = lat_ms[int(0.95 * (len(lat_ms) - 1))]
        print(
            f"picker keypress → redraw ({len(lat_ms)} keys): median {statistics.median(lat_ms):.1f} ms, "
            f"p95 {p95:.1f} ms, max {lat_ms[-1]:.1f} ms"
        )


if __name__ == "__main__":
    main()
