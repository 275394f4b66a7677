"""Playbook loading: the built-in playbooks are valid; bad ones fail with located errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.errors import InputError
from assistant.planning.planner import base_context, expand, waves
from assistant.playbook import available, load_playbook
from assistant.spec import load_spec

from ..conftest import EXAMPLES


def test_builtin_playbooks_load() -> None:
    assert set(available()) >= {"masters", "workers", "cluster", "teardown"}
    for name in available():
        pb = load_playbook(name)
        assert pb.steps and len(pb.digest) == 64


def test_cluster_composes_every_playbook_in_order() -> None:
    ids = [s.id for s in load_playbook("cluster").steps]
    parts = ["masters", "cni", "workers", "iam-mappings", "kubeconfig"]
    assert ids == [s.id for p in parts for s in load_playbook(p).steps]


def test_expansion_runs_independent_steps_together() -> None:
    spec = load_spec(EXAMPLES / "demo.yaml").spec.canonical()
    insts = expand(load_playbook("cluster"), base_context(spec))
    ids = [i.id for i in insts]
    assert "nodegroup[general]" in ids and "nodegroup[spot]" in ids
    assert not any(i.startswith(("launch_template", "eniconfig")) for i in ids)  # no custom AMI or networking in the demo
    w = waves(insts)
    assert {"cluster_role", "vpc", "node_role"} <= set(w[0])
    # both node groups start together, after the cluster, its routes and the CNI settings
    ng_wave = next(wave for wave in w if "nodegroup[general]" in wave)
    assert set(ng_wave) == {"nodegroup[general]", "nodegroup[spot]"}
    ng = next(i for i in insts if i.id == "nodegroup[general]")
    assert {"cluster", "node_role", "route_table", "vpc_cni", "aws_node_env"} <= set(ng.deps)
    # the node role's aws-auth mapping is in place alongside the CNI settings, not after the nodes
    aws_auth = next(i for i in insts if i.id == "aws_auth")
    assert {"cluster", "node_role"} <= set(aws_auth.deps) and not any(d.startswith("nodegroup") for d in aws_auth.deps)


def test_existing_vpc_skips_network_steps() -> None:
    spec = load_spec(EXAMPLES / "existing-vpc.yaml").spec.canonical()
    ids = [i.id for i in expand(load_playbook("masters"), base_context(spec))]
    assert ids == ["cluster_role", "cluster"]


def _write(tmp_path: Path, text: str, name: str = "bad.yaml") -> str:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return str(p)


STEP = "name: bad\nsteps:\n"


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            STEP + "  - id: c\n    action: eks.clustr\n",
            "bad.yaml:4:13: steps[0].action: unknown action 'eks.clustr'; did you mean 'eks.cluster'? Valid actions: "
            "ec2.internet_gateway, ec2.launch_template, ec2.route_table, ec2.security_group, ec2.subnets, ec2.vpc, "
            "eks.access_entry, eks.addon, eks.cluster, eks.nodegroup, iam.role, k8s.aws_auth, k8s.aws_node_env, k8s.eniconfig, kubeconfig.write",
        ),
        (
            STEP + "  - id: a\n    action: ec2.vpc\n    needs: [b]\n    with: {cluster: x}\n"
            "  - id: b\n    action: ec2.vpc\n    needs: [a]\n    with: {cluster: x}\n",
            "bad.yaml:5:12: steps[0].needs: cycle in needs: a -> b -> a",
        ),
        (
            STEP + "  - id: a\n    action: ec2.vpc\n    with: {cluster: '{{ spek.metadata.name }}'}\n",
            "bad.yaml:5:21: steps[0].with.cluster: undefined template variable 'spek.metadata.name'; did you mean 'spec'?",
        ),
        (
            STEP + "  - id: a\n    action: ec2.vpc\n    with: {cluster: '{{ steps.vcp.id }}'}\n",
            "bad.yaml:5:21: steps[0].with.cluster: template refers to unknown step 'vcp'",
        ),
        (
            # A fallback does not excuse a near miss of a step that is there.
            STEP + "  - id: vpc\n    action: ec2.vpc\n    with: {cluster: x}\n"
            "  - id: a\n    action: ec2.vpc\n    with: {cluster: '{{ steps.vcp.id || spec.metadata.name }}'}\n",
            "bad.yaml:8:21: steps[1].with.cluster: template refers to unknown step 'vcp'; did you mean 'vpc'?",
        ),
        (
            STEP + "  - id: a\n    action: ec2.vpc\n    neds: [b]\n",
            "bad.yaml:5:5: steps[0].neds: unknown field 'neds'; did you mean 'needs'?",
        ),
        (
            STEP + "  - id: a\n    action: ec2.vpc\n    with: {clustr: x}\n",
            "bad.yaml:5:12: steps[0].with.clustr: action ec2.vpc: unknown field 'clustr'; did you mean 'cluster'?",
        ),
        (
            STEP + "  - id: a\n    action: ec2.vpc\n    needs: [vpcc]\n    with: {cluster: x}\n",
            "bad.yaml:5:13: steps[0].needs[0]: needs unknown step 'vpcc'",
        ),
        (
            STEP + "  - id: a\n    action: ec2.vpc\n  - id: a\n    action: ec2.vpc\n",
            "bad.yaml:5:9: steps[1].id: duplicate step id 'a'",
        ),
        (
            STEP + "  - id: Bad-Id\n    action: ec2.vpc\n",
            "bad.yaml:3:9: steps[0].id: step id 'Bad-Id' must be lowercase letters, digits and '_', starting with a letter (max 63)",
        ),
        (
            "name: bad\ninclude: [nothere.yaml]\n",
            "bad.yaml:2:11: include[0]: included playbook nothere.yaml not found next to bad.yaml",
        ),
        (
            STEP + "  - id: a\n    action: ec2.vpc\n    with: {cluster: \"{{ ''.__class__ }}\"}\n",
            "bad.yaml:5:21: steps[0].with.cluster: unsupported template expression {{ ''.__class__ }}: only lookups like "
            "'spec.metadata.name', 'steps.<id>.<output>' or 'item.name' (optionally joined by ||) are allowed",
        ),
        ("- id: a\n  action: ec2.vpc\n", "bad.yaml:1:1: playbook must be a mapping (name, steps, ...), got list"),
        ("steps: []\n", "bad.yaml:1:1: name: required field is missing"),
        (
            STEP + "  - id: a\n    action: ec2.vpc\n    foreach: spec.workers\n",
            "bad.yaml:5:14: steps[0].foreach: foreach must be a template that yields a list, e.g. '{{ spec.workers }}'",
        ),
    ],
)
def test_bad_playbooks(tmp_path: Path, body: str, expected: str) -> None:
    path = _write(tmp_path, body)
    with pytest.raises(InputError) as exc:
        load_playbook(path)
    assert exc.value.exit_code == 2
    assert str(exc.value).replace(str(tmp_path) + "/", "") == expected


def test_unknown_playbook_name_lists_builtins() -> None:
    with pytest.raises(InputError) as exc:
        load_playbook("clustr")
    assert (
        str(exc.value)
        == "unknown playbook 'clustr'; did you mean 'cluster'? Built-in playbooks: cluster, cni, iam-mappings, kubeconfig, masters, teardown, workers"
    )


def test_a_step_of_another_playbook_may_lead_a_fallback(tmp_path: Path) -> None:
    # How iam-mappings maps the workers' node role when included, and the role's name alone.
    body = STEP + "  - id: a\n    action: ec2.vpc\n    with: {cluster: '{{ steps.node_role.name || names.nodeRole }}'}\n"
    pb = load_playbook(_write(tmp_path, body, "ok.yaml"))
    assert [s.id for s in pb.steps] == ["a"]
    with pytest.raises(InputError, match="template refers to unknown step 'node_role'"):
        load_playbook(
            _write(tmp_path, STEP + "  - id: a\n    action: ec2.vpc\n    with: {cluster: '{{ steps.node_role.name }}'}\n")
        )


def test_names_of_global_resources_are_template_variables() -> None:
    names = base_context({"metadata": {"name": "lk", "region": "eu-west-1"}})["names"]
    assert names == {"clusterRole": "lk-eu-west-1-cluster-role", "nodeRole": "lk-eu-west-1-node-role"}
