"""Plans warn when the cluster's Kubernetes version is in, or within 90 days of, EKS extended support.

Extended support bills the control plane at six times the standard price. The warning is part
of the plan (and of its hash), says the dates and the version to move to. The day comes from
``EKS_ASSIST_TODAY``, which both the sandbox and the engine read (assistant/clock.py).
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from assistant.clients.aws import AwsContext
from assistant.engine import Engine
from assistant.planning.preflight import EXTENDED_SUPPORT_NOTICE_DAYS
from assistant.sandbox import Sandbox
from assistant.spec import load_spec, loads_spec
from assistant.store import open_store

from ..cli.conftest import CliRunner
from .conftest import DEMO

EXTENDED_133 = (
    "Kubernetes 1.33 is in EKS extended support since 2026-07-29: the control plane costs $0.60 instead of $0.10 "
    "per cluster-hour, six times the standard price. Extended support ends on 2027-07-29; after that EKS upgrades "
    "the control plane itself. Upgrade to 1.35 (standard support until 2027-03-27): a new cluster can start there; "
    "a running one moves one minor version per apply, 1.33 -> 1.34 -> 1.35."
)


def _version_warnings(cli: CliRunner, spec: str = DEMO) -> list[str]:
    r = cli("plan", "-f", spec, "-o", "json")
    assert r.code == 0, r.err
    return [w for w in json.loads(r.out)["warnings"] if w.startswith("Kubernetes ")]


def test_a_plan_on_a_version_in_extended_support_warns(sandbox: Sandbox, cli: CliRunner, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EKS_ASSIST_TODAY", "2026-12-05")  # the day of the field report
    assert _version_warnings(cli) == [EXTENDED_133]
    r = cli("plan", "-f", DEMO)
    assert r.code == 0, r.err
    assert f"  ! {EXTENDED_133}" in r.out


def test_the_warning_comes_within_the_notice_period(sandbox: Sandbox, cli: CliRunner, monkeypatch: pytest.MonkeyPatch) -> None:
    end = dt.date(2026, 7, 29)  # 1.33's end of standard support
    monkeypatch.setenv("EKS_ASSIST_TODAY", str(end - dt.timedelta(days=EXTENDED_SUPPORT_NOTICE_DAYS)))
    assert _version_warnings(cli) == [
        "Kubernetes 1.33 leaves EKS standard support on 2026-07-29: from then on the control plane costs $0.60 instead "
        "of $0.10 per cluster-hour, six times the standard price, until 2027-07-29. Upgrade to 1.35 (standard support "
        "until 2027-03-27): a new cluster can start there; a running one moves one minor version per apply, "
        "1.33 -> 1.34 -> 1.35."
    ]
    monkeypatch.setenv("EKS_ASSIST_TODAY", str(end - dt.timedelta(days=EXTENDED_SUPPORT_NOTICE_DAYS + 1)))
    assert _version_warnings(cli) == []


def test_one_step_to_standard_support_names_the_version_to_set(
    sandbox: Sandbox, cli: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EKS_ASSIST_TODAY", "2026-03-01")  # 1.32 ends standard support on 2026-03-23
    spec = tmp_path / "demo.yaml"
    spec.write_text(Path(DEMO).read_text(encoding="utf-8").replace('version: "1.33"', 'version: "1.32"'), encoding="utf-8")
    (warning,) = _version_warnings(cli, str(spec))
    assert warning.startswith("Kubernetes 1.32 leaves EKS standard support on 2026-03-23:")
    assert warning.endswith(
        "Upgrade to 1.35 (standard support until 2027-03-27): a new cluster can start there; "
        "a running one moves one minor version per apply, 1.32 -> 1.33 -> 1.34 -> 1.35."
    )
    monkeypatch.setenv("EKS_ASSIST_TODAY", "2026-09-10")  # 1.34 leaves standard support on 2026-12-02
    spec.write_text(Path(DEMO).read_text(encoding="utf-8").replace('version: "1.33"', 'version: "1.34"'), encoding="utf-8")
    (warning,) = _version_warnings(cli, str(spec))
    assert warning.endswith("Upgrade to 1.35 (standard support until 2027-03-27): set masters.version to 1.35.")


def test_standard_support_far_from_its_end_and_teardown_do_not_warn(sandbox: Sandbox) -> None:
    loaded = load_spec(DEMO)
    engine = Engine(AwsContext(region="us-east-1"), open_store(), today=lambda: dt.date(2025, 12, 1))
    assert engine.plan(loaded).plan.warnings == []
    late = Engine(AwsContext(region="us-east-1"), open_store(), today=lambda: dt.date(2026, 7, 1))
    assert [w for w in late.plan(loaded).plan.warnings if w.startswith("Kubernetes 1.33 leaves")]
    assert late.plan(loaded, "teardown", preflight=False).plan.warnings == []


def test_the_warning_is_part_of_what_is_approved(sandbox: Sandbox) -> None:
    loaded = loads_spec(Path(DEMO).read_text(encoding="utf-8"), "demo.yaml")
    before = Engine(AwsContext(region="us-east-1"), open_store(), today=lambda: dt.date(2026, 4, 29))
    inside = Engine(AwsContext(region="us-east-1"), open_store(), today=lambda: dt.date(2026, 4, 30))
    assert before.plan(loaded).plan.warnings == []
    # Entering the notice period changes the plan: an approval of the quiet plan no longer applies.
    assert before.plan(loaded).plan.hash != inside.plan(loaded).plan.hash


def test_a_version_past_extended_support_is_refused_with_its_date(
    sandbox: Sandbox, cli: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EKS_ASSIST_TODAY", "2026-12-05")
    spec = tmp_path / "demo.yaml"
    spec.write_text(Path(DEMO).read_text(encoding="utf-8").replace('version: "1.33"', 'version: "1.31"'), encoding="utf-8")
    r = cli("plan", "-f", str(spec))
    assert r.code == 2
    assert r.err.strip() == (
        f"error: {spec}:23:12: masters.version: Kubernetes version '1.31' reached the end of EKS extended support on "
        "2026-11-26 and EKS no longer creates clusters on it; offered: 1.32, 1.33, 1.34, 1.35"
    )


def test_the_sandbox_takes_its_day_from_the_caller_or_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    import boto3

    from assistant.errors import SandboxError

    with Sandbox(latency="none", today=lambda: dt.date(2026, 12, 5)) as sb:
        env = sb.env()
        eks = boto3.client(
            "eks",
            region_name="us-east-1",
            endpoint_url=sb.aws_url,
            aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
        )
        (v133,) = eks.describe_cluster_versions(clusterVersions=["1.33"])["clusterVersions"]
        assert v133["versionStatus"] == "EXTENDED_SUPPORT"  # the suite's EKS_ASSIST_TODAY says 2025-12-01
        assert sb.health()["today"] == "2026-12-05"
    monkeypatch.setenv("EKS_ASSIST_TODAY", "5 Dec 2026")
    with pytest.raises(SandboxError, match="EKS_ASSIST_TODAY: expected a date like 2026-07-29, got '5 Dec 2026'"):
        Sandbox(latency="none")
