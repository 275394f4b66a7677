"""``eks-assist --request-approval slack``: the wizard's Apply goes to Slack for another person's approval."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from assistant.governance.policy import load_policy
from assistant.governance.requests import Requests
from assistant.sandbox import Sandbox
from assistant.store import open_store
from tests.doubles.mock_slack import MockSlack
from tui.connection import SlackRoute

from .conftest import run, test_app, wait_for
from .test_wizard import finished_run, to_review_and_apply

MINIMAL = Path(__file__).parent.parent.parent / "examples" / "minimal.yaml"
POLICY = """\
channels: [C0PLATFORM]
environments:
  dev:
    approvers: {users: [U0ALICE, U0BOB]}
"""


@pytest.fixture
def slack(monkeypatch: pytest.MonkeyPatch) -> Iterator[MockSlack]:
    with MockSlack() as mock:
        monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-test-not-a-real-token")
        monkeypatch.setenv("SLACK_API_URL", mock.api_url)
        yield mock


def _route(tmp_path: Path) -> SlackRoute:
    path = tmp_path / "policy.yaml"
    path.write_text(POLICY, encoding="utf-8")
    return SlackRoute(load_policy(path), "U0CAROL")


def _pending(route: SlackRoute) -> str:
    store = open_store()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        found = Requests(store, route.policy).list(status="pending")
        if found and found[0].origin.get("ts"):
            return found[0].id
        time.sleep(0.1)
    raise AssertionError("the wizard posted no request")


@pytest.mark.slow
def test_apply_waits_for_another_persons_approval_in_slack(sandbox: Sandbox, slack: MockSlack, tmp_path: Path) -> None:
    route = _route(tmp_path)
    app = test_app(spec_file=str(MINIMAL), approval_route=route)

    async def scenario() -> None:
        async with app.run_test(size=(120, 40)) as pilot:
            await wait_for(pilot, lambda: app.conn is not None)
            await app.goto("review")
            await to_review_and_apply(pilot, "minimal")
            request_id = _pending(route)
            screen: Any = app.screen
            await wait_for(pilot, lambda: "request " + request_id in str(screen.query_one("#apply-heading").render()))
            assert boto3.client("eks", region_name="us-east-1").list_clusters()["clusters"] == []
            # The requester cannot approve; Bob can.
            requests = Requests(open_store(), route.policy)
            with pytest.raises(Exception, match="four-eyes"):
                requests.approve(request_id, "U0CAROL", groups=set(), context={})
            requests.approve(request_id, "U0BOB", groups=set(), context={"channel": "C0PLATFORM"})
            result = await finished_run(pilot)
            assert result.ok, result.error
            assert requests.get(request_id).status == "succeeded"

    run(scenario())
    assert boto3.client("eks", region_name="us-east-1").describe_cluster(name="minimal")["cluster"]["status"] == "ACTIVE"
    posted = [c for c in slack.calls if c.method == "chat.postMessage"]
    assert posted[0].params["channel"] == "C0PLATFORM"
    assert any("from the wizard" in c.text_all() for c in posted[1:])


@pytest.mark.slow
def test_a_rejection_in_slack_ends_the_wizard_run_with_nothing_changed(
    sandbox: Sandbox, slack: MockSlack, tmp_path: Path
) -> None:
    route = _route(tmp_path)
    app = test_app(spec_file=str(MINIMAL), approval_route=route)

    async def scenario() -> None:
        async with app.run_test(size=(120, 40)) as pilot:
            await wait_for(pilot, lambda: app.conn is not None)
            await app.goto("review")
            await to_review_and_apply(pilot, "minimal")
            request_id = _pending(route)
            Requests(open_store(), route.policy).reject(request_id, "U0ALICE", reason="no", groups=set(), context={})
            result = await finished_run(pilot)
            assert not result.ok and f"request {request_id} was rejected by U0ALICE: no" in result.error

    run(scenario())
    assert boto3.client("eks", region_name="us-east-1").list_clusters()["clusters"] == []
