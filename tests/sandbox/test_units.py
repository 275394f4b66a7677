"""Pieces of the sandbox that need no server: profiles, the lifecycle queue, selectors, patches, protobuf."""

from __future__ import annotations

from typing import Any

import pytest

from assistant.sandbox import LatencyProfile
from assistant.sandbox.eks.lifecycle import Lifecycle
from assistant.sandbox.k8s import protobuf
from assistant.sandbox.k8s.aws_auth import without_path
from assistant.sandbox.k8s.errors import ApiError
from assistant.sandbox.k8s.patch import json_patch, merge_patch
from assistant.sandbox.k8s.selectors import field_selector, label_selector
from assistant.sandbox.k8s.tables import human_duration
from assistant.sandbox.k8s_bridge import max_pods


def test_profiles_scale_with_time_scale() -> None:
    fast = LatencyProfile("fast")
    assert fast.duration("cluster", "create") == 1.0
    assert fast.duration("nodegroup", "create") == 0.5
    assert fast.duration("addon", "create") == 0.3
    assert fast.duration("cluster", "delete") == 0.5
    realistic = LatencyProfile("realistic", time_scale=0.01)
    assert realistic.duration("cluster", "create") == pytest.approx(6.0)
    assert realistic.duration("update", "update") == pytest.approx(15.0)
    assert LatencyProfile("none").duration("cluster", "create") == 0.0
    for bad in (lambda: LatencyProfile("slow"), lambda: LatencyProfile("fast", 0), lambda: fast.duration("pod", "create")):
        with pytest.raises(ValueError):
            bad()


class _Observer:
    """A ClusterObserver that ignores every event."""

    def cluster_active(self, cluster: Any) -> None: ...
    def cluster_version_changed(self, cluster: Any) -> None: ...
    def cluster_deleted(self, cluster: Any) -> None: ...
    def nodegroup_active(self, cluster: Any, nodegroup: Any) -> None: ...
    def nodegroup_deleted(self, cluster: Any, nodegroup: Any) -> None: ...
    def addon_active(self, cluster: Any, addon: Any) -> None: ...


def test_lifecycle_runs_changes_when_due_in_order() -> None:
    now = [100.0]
    lifecycle = Lifecycle(LatencyProfile("fast"), _Observer(), clock=lambda: now[0])
    ran: list[str] = []
    lifecycle.after("cluster", "create", lambda: ran.append("cluster"))  # due at 101.0
    lifecycle.after("addon", "create", lambda: ran.append("addon"))  # due at 100.3
    assert lifecycle.advance() == 0 and lifecycle.pending() == 2
    now[0] = 100.5
    assert lifecycle.advance() == 1 and ran == ["addon"]
    now[0] = 101.0
    lifecycle.advance()
    assert ran == ["addon", "cluster"] and lifecycle.pending() == 0


def test_label_and_field_selectors() -> None:
    obj = {"metadata": {"name": "n1", "namespace": "kube-system", "labels": {"app": "web", "tier": "front"}}}
    assert label_selector("app=web,tier in (front, back)")(obj)
    assert label_selector("app==web,!missing")(obj)
    assert not label_selector("app notin (web)")(obj)
    assert not label_selector("tier!=front")(obj)
    assert label_selector("tier")(obj)
    assert field_selector("metadata.name=n1,metadata.namespace!=default")(obj)
    with pytest.raises(ApiError):
        label_selector("app in web")


def test_patches() -> None:
    target = {"data": {"a": "1", "b": "2"}, "list": [1, 2]}
    assert merge_patch(target, {"data": {"a": None, "c": "3"}, "list": [3]}) == {"data": {"b": "2", "c": "3"}, "list": [3]}
    ops = [
        {"op": "add", "path": "/data/c", "value": "3"},
        {"op": "remove", "path": "/data/a"},
        {"op": "replace", "path": "/list/0", "value": 9},
        {"op": "add", "path": "/list/-", "value": 7},
        {"op": "test", "path": "/data/b", "value": "2"},
        {"op": "move", "from": "/data/b", "path": "/data/d"},
    ]
    assert json_patch(target, ops) == {"data": {"c": "3", "d": "2"}, "list": [9, 2, 7]}
    assert target["data"] == {"a": "1", "b": "2"}  # the input is never modified
    with pytest.raises(ApiError):
        json_patch(target, [{"op": "test", "path": "/data/a", "value": "x"}])


def test_protobuf_configmap() -> None:
    # What kubectl 1.37 sent for `kubectl create configmap x --from-literal=a=b`.
    body = (
        b'k8s\x00\n\x0f\n\x02v1\x12\tConfigMap\x12\x1b\n\x11\n\x01x\x12\x00\x1a\x00"\x00*\x002\x008\x00B\x00'
        b'\x12\x06\n\x01a\x12\x01b\x1a\x00"\x00'
    )
    assert protobuf.decode(body) == {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}, "data": {"a": "b"}}
    unknown = b"k8s\x00\n\x13\n\x07apps/v1\x12\x08Whatever\x12\x00"
    with pytest.raises(ApiError) as exc:
        protobuf.decode(unknown)
    assert exc.value.code == 415


def test_small_helpers() -> None:
    assert without_path("arn:aws:iam::123456789012:role/eks/nodes/node-role") == "arn:aws:iam::123456789012:role/node-role"
    assert max_pods("m5.large", prefix_delegation=False)[0] == 29
    assert max_pods("t3.medium", prefix_delegation=False)[0] == 17
    assert max_pods("m5.large", prefix_delegation=True)[0] == 110
    assert [human_duration(s) for s in (5, 150, 4000, 90000, 400000)] == ["5s", "2m30s", "66m", "25h", "4d15h"]
