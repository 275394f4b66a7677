"""The wizard's AWS queries (assistant.inventory) against the sandbox: right answers, read-only calls."""

from __future__ import annotations

from assistant.clients.aws import AwsContext
from assistant.engine import Engine, load
from assistant.inventory import (
    cluster_details,
    instance_types,
    instance_types_named,
    kubernetes_versions,
    list_clusters,
    subnets,
    vpcs,
)
from assistant.sandbox import Sandbox
from assistant.store import open_store

from .conftest import DEMO, CallLog


def test_inventory_reads_clusters_network_versions_and_types(sandbox: Sandbox, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    loaded = load(DEMO)
    engine = Engine(AwsContext(region="us-east-1"), open_store())
    engine.apply(loaded, engine.plan(loaded).plan.hash, "tester", "test")

    aws = AwsContext(region="us-east-1")
    log = CallLog(aws)

    [demo] = list_clusters(aws)
    assert (demo.name, demo.status, demo.version, demo.nodegroups) == ("demo", "ACTIVE", "1.33", 2)

    details = cluster_details(aws, "demo")
    assert [g.name for g in details.nodegroups] == ["general", "spot"]
    spot = details.nodegroups[1]
    assert (spot.capacity_type, spot.instance_types, spot.min, spot.desired, spot.max) == (
        "SPOT",
        ("t3.medium", "t3a.medium"),
        0,
        1,
        2,
    )
    assert [a.name for a in details.addons] == ["vpc-cni"]
    assert details.authentication_mode == "API_AND_CONFIG_MAP"
    node_role = "arn:aws:iam::123456789012:role/demo-us-east-1-node-role"
    assert any(m.source == "aws-auth" and m.arn == node_role for m in details.mappings)

    versions, source = kubernetes_versions(aws)
    assert source == "eks" and "1.33" in [v.version for v in versions]
    assert [v.version for v in versions if v.default] == ["1.33"]

    found = vpcs(aws)
    assert found[0].is_default and any(v.cidr == "10.0.0.0/16" for v in found)
    ours = next(v for v in found if v.cidr == "10.0.0.0/16")
    nets = subnets(aws, ours.id)
    assert [(s.availability_zone, s.cidr) for s in nets] == [("us-east-1a", "10.0.0.0/18"), ("us-east-1b", "10.0.64.0/18")]
    assert all(0 < s.free_ips <= 16384 - 5 for s in nets)

    named = instance_types_named(aws, ["m5.large", "t3.medium", "nope.large"])
    assert set(named) == {"m5.large", "t3.medium"}
    assert (named["m5.large"].vcpus, named["m5.large"].memory_mib, named["m5.large"].max_pods) == (2, 8192, 29)
    assert named["t3.medium"].max_pods == 17 and named["m5.large"].max_pods_prefix == 110

    catalogue = instance_types(aws)
    assert len(catalogue) > 700 and catalogue == sorted(catalogue, key=lambda t: t.name)
    p5 = next(t for t in catalogue if t.name == "p5.48xlarge")
    assert p5.max_pods == 100  # default network card only, as the EKS calculator counts
    # The second read comes from the on-disk cache: no DescribeInstanceTypes call.
    before = len(log.calls)
    assert instance_types(aws) == catalogue
    assert ("ec2", "DescribeInstanceTypes") not in log.calls[before:]
    assert (tmp_path / "cache" / "eks-assist").is_dir()

    assert log.calls and log.mutating == []
