"""The wizard's Kubeconfig screen follows the spec's kubeconfig.path rule (issue 11, item 5).

The screen validates through the spec model, so a path outside the home directory and
$KUBECONFIG gets the CLI's own message beside the field, and Next is refused.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from assistant.sandbox import Sandbox

from .conftest import run, test_app, wait_for, wait_screen
from .test_wizard import error_text, fill

SPEC = """\
apiVersion: eks-assist/v1
kind: Cluster
metadata: {name: kc, region: us-east-1}
workers:
  - {name: apps, instanceTypes: [t3.medium]}
"""


def test_the_kubeconfig_screen_refuses_a_path_a_spec_may_not_write(sandbox: Sandbox, tmp_path: Path, cli: Any) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(SPEC + "kubeconfig:\n  path: /etc/cron.d/evil\n")
    cli_message = cli("validate", "-f", str(bad)).err.split("kubeconfig.path: ", 1)[1].strip()
    spec = tmp_path / "kc.yaml"
    spec.write_text(SPEC)
    app = test_app(spec_file=str(spec))

    async def scenario() -> None:
        async with app.run_test(size=(120, 40)) as pilot:
            await wait_for(pilot, lambda: app.conn is not None)
            await pilot.press("n")
            for screen in ("MastersScreen", "WorkersScreen", "CniScreen", "IamScreen"):
                await wait_screen(pilot, screen)
                await pilot.press("ctrl+n")
            await wait_screen(pilot, "KubeconfigScreen")
            await fill(pilot, "#kc-path", "/etc/cron.d/evil")
            assert error_text(app, "kc-path-error") == f"✗ {cli_message}"
            await pilot.press("ctrl+n")
            await pilot.pause()
            assert type(app.screen).__name__ == "KubeconfigScreen"
            await fill(pilot, "#kc-path", "../../../../etc/cron.d/evil")
            assert "is relative" in error_text(app, "kc-path-error")
            await fill(pilot, "#kc-path", "~/.kube/kc")
            assert not app.screen.query_one("#kc-path-error").display
            await pilot.press("ctrl+n")
            await wait_screen(pilot, "ReviewScreen")

    run(scenario())
