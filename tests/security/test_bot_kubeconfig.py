"""The Slack bot writes no kubeconfig from a spec (issue 11, item 5).

The bot applies on a server, so a catalogue spec's ``kubeconfig.path`` could otherwise make it
write a file anywhere the bot can. Its front end tells the engine so (``write_kubeconfig=False``,
in ``slackbot/engines.py``); the plan then says the kubeconfig step is not applicable there, and
the apply writes nothing. The engine the CLI makes still writes it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.clients.aws import AwsContext
from assistant.engine import Engine
from assistant.planning.plan import Op, render_text
from assistant.run.runner import RunOptions
from assistant.sandbox import Sandbox
from assistant.sandbox.link import SandboxLink
from assistant.spec import LoadedSpec, load_spec
from assistant.store import open_store
from slackbot.engines import Engines

from ..conftest import EXAMPLES
from ..integration.conftest import sandbox  # noqa: F401 - re-exported fixture

pytestmark = pytest.mark.slow


def _spec(tmp_path: Path, kubeconfig: Path) -> LoadedSpec:
    text = (EXAMPLES / "demo.yaml").read_text(encoding="utf-8") + f"\nkubeconfig:\n  path: {kubeconfig}\n  alias: demo\n"
    path = tmp_path / "spec.yaml"
    path.write_text(text, encoding="utf-8")
    return load_spec(path)


def test_the_bots_engine_plans_no_kubeconfig_and_writes_none(sandbox: Sandbox, tmp_path: Path) -> None:  # noqa: F811
    target = Path.home() / ".kube" / "from-spec"
    loaded = _spec(tmp_path, target)
    store = open_store()
    try:
        bot = Engines(store, default_region="us-east-1", options=RunOptions(poll_min=0.02, poll_max=0.1)).engine()
        planning = bot.plan(loaded)
        [change] = [c for c in planning.plan.changes if c.action == "kubeconfig.write"]
        assert (change.op, change.resource) == (Op.NOOP, "not applicable here")
        assert change.notes == [
            "this front end applies on a server and writes no kubeconfig there; on your machine run: "
            "eks-assist kubeconfig --cluster demo --region us-east-1"
        ]
        assert "not applicable here: this front end applies on a server" in render_text(planning.plan)

        run_id, outputs = bot.apply(loaded, planning.plan.hash, "U0APPROVER", "slack")
        assert outputs["endpoint"]
        assert not target.exists() and not target.parent.exists()
        [step] = [s for s in store.steps(run_id) if s.step == "kubeconfig"]
        assert (step.status, step.op) == ("done", "no-op")

        # The CLI's engine (the user's own machine) plans the write as before.
        cli = Engine(AwsContext(region="us-east-1", sandbox=SandboxLink()), store)
        [change] = [c for c in cli.plan(loaded).plan.changes if c.action == "kubeconfig.write"]
        assert change.op is Op.CREATE and change.resource == f"kubeconfig context demo in {target}"
    finally:
        store.close()


def test_the_bots_destroy_edits_no_kubeconfig_and_says_what_to_remove(sandbox: Sandbox, tmp_path: Path) -> None:  # noqa: F811
    # The spec's kubeconfig.path names the user's machine, not the bot's: the bot's teardown plan
    # leaves the step as a no-op and tells the user the exact entries to remove at home.
    target = Path.home() / ".kube" / "from-spec"
    loaded = _spec(tmp_path, target)
    store = open_store()
    try:
        bot = Engines(store, default_region="us-east-1", options=RunOptions(poll_min=0.02, poll_max=0.1)).engine()
        planning = bot.plan(loaded, "teardown", preflight=False)
        [change] = [c for c in planning.plan.changes if c.action == "kubeconfig.write"]
        assert (change.op, change.resource) == (Op.NOOP, "not applicable here")
        arn = "arn:aws:eks:us-east-1:123456789012:cluster/demo"
        assert change.notes == [
            "this front end applies on a server and edits no kubeconfig there; on your machine run: "
            f"kubectl config delete-context demo; kubectl config delete-cluster {arn}; kubectl config delete-user {arn}"
        ]
        assert not target.exists()
    finally:
        store.close()
