"""Progress: one threaded message edited in place, never faster than about once a second per channel."""

from __future__ import annotations

import itertools
import threading
import time

from assistant.run.events import Event
from slackbot.messenger import Messenger
from slackbot.notify import make_client
from slackbot.pacing import ChannelPacer
from slackbot.progress import ThreadProgress
from tests.doubles.mock_slack import MockSlack


def test_bursts_of_events_become_paced_edits_of_one_message(mock_slack: MockSlack) -> None:
    messenger = Messenger(make_client("xoxb-t", mock_slack.api_url), ChannelPacer(1.0))
    progress = ThreadProgress(messenger, "C0PLATFORM", "1700000000.000001", "Apply cluster demo")
    progress.start()
    t0 = time.monotonic()

    def runner_thread(n: int) -> None:  # the engine reports from several worker threads at once
        for i in range(20):
            step = f"step{n}-{i}"
            progress(Event("step_started", "run1", step, f"create {step}", elapsed=time.monotonic() - t0))
            progress(Event("step_progress", "run1", step, "CREATING", elapsed=time.monotonic() - t0, fraction=0.5))
            time.sleep(0.05)
            progress(Event("step_done", "run1", step, f"create {step}: done", elapsed=time.monotonic() - t0))

    threads = [threading.Thread(target=runner_thread, args=(n,)) for n in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    progress(Event("run_done", "run1", elapsed=time.monotonic() - t0))
    progress.finish("done")

    posts = mock_slack.of("chat.postMessage")
    assert len(posts) == 1 and posts[0].params["thread_ts"] == "1700000000.000001"
    edits = mock_slack.updates(mock_slack.ts_of(posts[0]))
    # 240 events over about a second became a handful of edits, each at least a second apart.
    assert 1 <= len(edits) <= 4, len(edits)
    stamps = [posts[0].at] + [e.at for e in edits]
    gaps = [b - a for a, b in itertools.pairwise(stamps)]
    assert min(gaps) >= 0.9, gaps  # one slot per second per channel, measured where Slack would see it
    final = edits[-1].text_all()
    assert final.count(":white_check_mark: `step") == 60 or "more steps" in final
    assert ":white_check_mark: *Apply cluster demo*" in final
    assert len(edits[-1].blocks()[1]["text"]["text"]) <= 3000


def test_a_failing_slack_never_stops_the_run(mock_slack: MockSlack) -> None:
    messenger = Messenger(make_client("xoxb-t", mock_slack.api_url), ChannelPacer(0.01))
    progress = ThreadProgress(messenger, "C0PLATFORM", "1.1", "Apply cluster demo")
    progress.start()
    mock_slack.fail("chat.update", "message_not_found")
    progress(Event("step_started", "run1", "vpc", "create VPC"))  # must not raise
    progress(Event("step_failed", "run1", "vpc", "boom"))
    progress.finish("failed")
    assert progress.updates == 0 and mock_slack.all("chat.update")
