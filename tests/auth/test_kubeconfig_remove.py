"""Removing a cluster's kubeconfig entries (destroy, a stopped sandbox): only ours, atomically, others byte-for-byte."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
import yaml

from assistant.identity import kubeconfig
from assistant.identity.kubeconfig import ClusterInfo, ExecOptions

from .test_kubeconfig import ARN, BUILTIN, CLUSTER, EXISTING, _blocks

OTHER_ARN = "arn:aws:eks:us-east-1:123456789012:cluster/other-demo"


@pytest.fixture
def existing(tmp_path: Path) -> Path:
    path = tmp_path / "config"
    path.write_text(EXISTING)
    return path


def _names(path: Path, section: str) -> list[str]:
    return [i["name"] for i in yaml.safe_load(path.read_text()).get(section) or []]


def test_remove_takes_out_exactly_what_write_put_in(existing: Path) -> None:
    kubeconfig.write(CLUSTER, BUILTIN, existing)
    result = kubeconfig.remove(existing, ARN, "demo")
    assert result.removed == {"users": [ARN], "contexts": [ARN], "clusters": [ARN]}
    assert result.cleared_current  # ours was current: unset, as eksctl and kubectl leave it
    assert existing.read_text() == EXISTING.replace("current-context: other", 'current-context: ""')
    assert not list(existing.parent.glob(".config.*.tmp")) and not (existing.parent / "config.lock").exists()


def test_an_alias_context_goes_and_a_current_context_of_someone_else_stays(existing: Path) -> None:
    kubeconfig.write(CLUSTER, BUILTIN, existing, alias="demo")
    text = existing.read_text().replace("current-context: demo", "current-context: staging")
    existing.write_text(text)
    result = kubeconfig.remove(existing, ARN, "demo")
    assert result.contexts == ["demo"] and not result.cleared_current
    assert existing.read_text() == EXISTING.replace("current-context: other", "current-context: staging")


def test_both_exec_plugins_we_write_are_ours(existing: Path) -> None:
    kubeconfig.write(CLUSTER, ExecOptions(kind="aws", profile="platform"), existing)
    assert kubeconfig.remove(existing, ARN, "demo").contexts == [ARN]
    assert all(block in existing.read_text() for block in _blocks(EXISTING))


@pytest.mark.parametrize(
    "user",
    [
        {"token": "static-token"},
        {"exec": {"command": "/opt/bin/eks-assist", "args": ["token", "--cluster-name", "other", "--region", "us-east-1"]}},
        {"exec": {"command": "kubelogin", "args": ["get-token", "--cluster-name", "demo"]}},
    ],
    ids=["static-token", "plugin-for-another-cluster", "someone-elses-plugin"],
)
def test_entries_that_are_not_ours_are_never_removed(tmp_path: Path, user: dict) -> None:
    """Same ARN names, but the user entry does not run our plugin for this cluster: nothing is touched."""
    path = tmp_path / "config"
    data = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": ARN, "cluster": {"server": CLUSTER.endpoint}}],
        "users": [{"name": ARN, "user": user}],
        "contexts": [{"name": ARN, "context": {"cluster": ARN, "user": ARN}}],
        "current-context": ARN,
    }
    text = yaml.safe_dump(data, sort_keys=False)
    path.write_text(text)
    assert kubeconfig.planned_removal(path, ARN, "demo") is None
    assert kubeconfig.remove(path, ARN, "demo").removed == {}
    assert path.read_text() == text


def test_a_context_of_someone_else_keeps_our_cluster_entry(existing: Path) -> None:
    kubeconfig.write(CLUSTER, BUILTIN, existing)
    # Someone reuses our cluster entry with a user of their own.
    text = existing.read_text().replace(
        "contexts:\n", f"contexts:\n- context:\n    cluster: {ARN}\n    user: staging\n  name: mine\n", 1
    )
    existing.write_text(text)
    result = kubeconfig.remove(existing, ARN, "demo")
    assert result.removed == {"users": [ARN], "contexts": [ARN]}
    assert _names(existing, "clusters") == ["other", "staging", ARN]
    assert _names(existing, "contexts") == ["mine", "other", "staging"]


def test_a_section_left_empty_stays_a_list(tmp_path: Path) -> None:
    path = tmp_path / "config"
    kubeconfig.write(CLUSTER, BUILTIN, path)
    kubeconfig.remove(path, ARN, "demo")
    assert yaml.safe_load(path.read_text()) == {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [],
        "contexts": [],
        "users": [],
        "current-context": "",
    }


def test_server_must_still_be_the_one_written(existing: Path) -> None:
    """A sandbox removes only entries that still point at its cluster: a re-pointed context is someone's now."""
    kubeconfig.write(CLUSTER, BUILTIN, existing)
    assert kubeconfig.planned_removal(existing, ARN, "demo", server="https://127.0.0.1:9/k8s/demo-0") is None
    assert kubeconfig.remove(existing, ARN, "demo", server="https://127.0.0.1:9/k8s/demo-0").removed == {}
    assert kubeconfig.remove(existing, ARN, "demo", server=CLUSTER.endpoint).contexts == [ARN]


def test_missing_file_and_json_file(tmp_path: Path) -> None:
    missing = tmp_path / "nope" / "config"
    assert kubeconfig.remove(missing, ARN, "demo").removed == {}
    assert not missing.parent.exists()  # nothing created for nothing

    path = tmp_path / "config.json"
    path.write_text('{"apiVersion": "v1", "kind": "Config", "clusters": [{"name": "x", "cluster": {"server": "https://x"}}]}')
    kubeconfig.write(CLUSTER, BUILTIN, path)
    assert kubeconfig.remove(path, ARN, "demo").contexts == [ARN]
    data = yaml.safe_load(path.read_text())
    assert data["clusters"] == [{"name": "x", "cluster": {"server": "https://x"}}]
    assert data["users"] == [] and data["contexts"] == []


def test_removal_through_a_symlink_edits_its_target(tmp_path: Path) -> None:
    target = tmp_path / "real-config"
    link = tmp_path / "config"
    kubeconfig.write(CLUSTER, BUILTIN, target)
    link.symlink_to(target)
    assert kubeconfig.remove(link, ARN, "demo").contexts == [ARN]
    assert link.is_symlink() and _names(target, "contexts") == []


def test_removal_and_writers_at_once_lose_no_update(existing: Path) -> None:
    """Remove and write under the same lock: the other writers' entries all survive, ours is gone."""
    kubeconfig.write(CLUSTER, BUILTIN, existing)
    others = [
        ClusterInfo(
            f"c{i}", f"arn:aws:eks:us-east-1:123456789012:cluster/c{i}", f"https://127.0.0.1:1/k8s/c{i}", "Q0E=", "us-east-1"
        )
        for i in range(6)
    ]
    errors: list[BaseException] = []

    def run(fn: object, *args: object) -> None:
        try:
            fn(*args)  # type: ignore[operator]
        except BaseException as exc:  # surfaced below; a thread must not swallow it
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(kubeconfig.write, c, BUILTIN, existing)) for c in others]
    threads.insert(3, threading.Thread(target=run, args=(kubeconfig.remove, existing, ARN, "demo")))
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert set(_names(existing, "contexts")) == {"other", "staging", *(c.arn for c in others)}
    assert all(block in existing.read_text() for block in _blocks(EXISTING))


def test_an_entry_in_the_middle_of_an_indented_list_is_edited_in_place(existing: Path) -> None:
    """Updating or removing an entry that has a neighbour below it, in a list indented under its key."""
    kubeconfig.write(CLUSTER, BUILTIN, existing)
    other = ClusterInfo("c0", OTHER_ARN, "https://127.0.0.1:1/k8s/c0", "Q0E=", "us-east-1")
    kubeconfig.write(other, BUILTIN, existing)
    neighbour = existing.read_text()[existing.read_text().index(f"  - name: {OTHER_ARN}") :]
    moved = ClusterInfo("demo", ARN, "https://127.0.0.1:4601/k8s/demo-9", CLUSTER.ca_data, "us-east-1")
    assert kubeconfig.write(moved, ExecOptions(kind="aws"), existing).op == "update"
    assert existing.read_text().endswith(neighbour)
    assert all(block in existing.read_text() for block in _blocks(EXISTING))
    kubeconfig.remove(existing, ARN, "demo")
    assert existing.read_text().endswith(neighbour)
    assert all(block in existing.read_text() for block in _blocks(EXISTING))
    assert _names(existing, "users") == ["other-admin", "staging", OTHER_ARN]


def test_an_unreadable_kubeconfig_is_an_error_with_the_file(tmp_path: Path) -> None:
    path = tmp_path / "config"
    path.write_text("users: [unclosed\n")
    with pytest.raises(kubeconfig.KubeconfigError, match="not valid YAML"):
        kubeconfig.remove(path, ARN, "demo")
    assert path.read_text() == "users: [unclosed\n"
