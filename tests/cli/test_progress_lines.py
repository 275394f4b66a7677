"""Progress lines stay whole when parallel steps report at the same moment (field report 11).

The runner calls the CLI's event sink from its step threads. The sink used to ``print`` each
line, which writes the text and the newline separately; Python's stderr writes through to the
file at once, so another thread's line could land in between, and two events shared one line.
"""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap

# Many threads, released together by a barrier, each reporting events through the real sink to
# the real stderr of a fresh process (a pipe, as under CI or `2>log`). A tiny GIL switch interval
# makes the threads trade places as often as they would on a loaded machine.
PROGRAM = textwrap.dedent(
    """
    import sys, threading
    from assistant.cli.main import _Progress
    from assistant.run.events import Event

    sys.setswitchinterval(1e-6)
    sink = _Progress(quiet=False)
    threads, events = 16, 300
    barrier = threading.Barrier(threads)

    def report(n):
        barrier.wait()
        for i in range(events):
            kind = ("step_started", "step_done", "step_progress")[i % 3]
            sink(Event(kind=kind, run_id="r", step=f"step{n}", message=f"create thing {i}", elapsed=0.01 * i))

    pool = [threading.Thread(target=report, args=(n,)) for n in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    """
)

ONE_EVENT = re.compile(r"  \[ *\d+\.\ds\] (?:[…✓] |  )step\d+: create thing \d+")


def test_every_stderr_line_is_one_whole_event() -> None:
    r = subprocess.run([sys.executable, "-c", PROGRAM], capture_output=True, text=True, timeout=120, check=True)
    lines = r.stderr.splitlines()
    broken = [line for line in lines if not ONE_EVENT.fullmatch(line)]
    assert broken == [], f"{len(broken)} of {len(lines)} lines are not one event, e.g. {broken[:3]}"
    # Every started and done event arrived (progress lines are throttled per step).
    assert sum(1 for line in lines if "… step" in line or "✓ step" in line) == 16 * 200
