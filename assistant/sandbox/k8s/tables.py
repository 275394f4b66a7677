"""``meta.k8s.io/v1 Table`` responses, the server-side printing that ``kubectl get`` asks for."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from assistant.sandbox.k8s.resources import ResourceKind

Obj = dict[str, Any]


@dataclass(frozen=True)
class Column:
    """One printed column; ``priority`` 1 columns show only with ``-o wide``."""

    name: str
    cell: Callable[[Obj], Any]
    type: str = "string"
    priority: int = 0
    format: str = ""


def human_duration(seconds: float) -> str:
    """Age as kubectl prints it (apimachinery's ``duration.HumanDuration``)."""
    if seconds < -1:
        return "<invalid>"
    s = max(int(seconds), 0)
    minutes, hours, days = s // 60, s // 3600, s // 86400
    if s < 120:
        return f"{s}s"
    if minutes < 10:
        return f"{minutes}m{s % 60}s" if s % 60 else f"{minutes}m"
    if minutes < 180:
        return f"{minutes}m"
    if hours < 8:
        return f"{hours}h{minutes % 60}m" if minutes % 60 else f"{hours}h"
    if hours < 48:
        return f"{hours}h"
    if hours < 24 * 8:
        return f"{days}d{hours % 24}h" if hours % 24 else f"{days}d"
    if hours < 24 * 365 * 2:
        return f"{days}d"
    years = days // 365
    if hours < 24 * 365 * 8:
        return f"{years}y{days % 365}d"
    return f"{years}y"


def _age_of(timestamp: str | None) -> str:
    if not timestamp:
        return "<unknown>"
    created = dt.datetime.strptime(timestamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.UTC)
    return human_duration((dt.datetime.now(dt.UTC) - created).total_seconds())


def _get(obj: Obj, *path: str, default: Any = None) -> Any:
    node: Any = obj
    for part in path:
        if not isinstance(node, dict):
            return default
        node = node.get(part)
    return default if node is None else node


def _name(obj: Obj) -> str:
    return str(_get(obj, "metadata", "name", default=""))


def _age(obj: Obj) -> str:
    return _age_of(_get(obj, "metadata", "creationTimestamp"))


def _node_status(obj: Obj) -> str:
    ready = next((c for c in _get(obj, "status", "conditions", default=[]) if c.get("type") == "Ready"), None)
    status = "Ready" if ready and ready.get("status") == "True" else "NotReady" if ready else "Unknown"
    if _get(obj, "spec", "unschedulable"):
        status += ",SchedulingDisabled"
    return status


def _node_roles(obj: Obj) -> str:
    prefix = "node-role.kubernetes.io/"
    labels = _get(obj, "metadata", "labels", default={})
    roles = sorted(k[len(prefix) :] for k in labels if k.startswith(prefix))
    return ",".join(roles) or "<none>"


def _address(kind: str) -> Callable[[Obj], str]:
    def cell(obj: Obj) -> str:
        for addr in _get(obj, "status", "addresses", default=[]):
            if addr.get("type") == kind:
                return str(addr.get("address"))
        return "<none>"

    return cell


def _pod_ready(obj: Obj) -> str:
    statuses = _get(obj, "status", "containerStatuses", default=[])
    total = len(_get(obj, "spec", "containers", default=[]))
    return f"{sum(1 for s in statuses if s.get('ready'))}/{total}"


def _service_ports(obj: Obj) -> str:
    ports = _get(obj, "spec", "ports", default=[])
    return ",".join(f"{p.get('port')}/{p.get('protocol', 'TCP')}" for p in ports) or "<none>"


def _node_selector(obj: Obj) -> str:
    selector = _get(obj, "spec", "template", "spec", "nodeSelector", default={})
    return ",".join(f"{k}={v}" for k, v in sorted(selector.items())) or "<none>"


def _count(*path: str) -> Callable[[Obj], int]:
    return lambda obj: int(_get(obj, *path, default=0))


NAME = Column("Name", _name, format="name")
AGE = Column("Age", _age)

COLUMNS: dict[str, list[Column]] = {
    "nodes": [
        NAME,
        Column("Status", _node_status),
        Column("Roles", _node_roles),
        AGE,
        Column("Version", lambda o: _get(o, "status", "nodeInfo", "kubeletVersion", default="")),
        Column("Internal-IP", _address("InternalIP"), priority=1),
        Column("External-IP", _address("ExternalIP"), priority=1),
        Column("OS-Image", lambda o: _get(o, "status", "nodeInfo", "osImage", default=""), priority=1),
        Column("Kernel-Version", lambda o: _get(o, "status", "nodeInfo", "kernelVersion", default=""), priority=1),
        Column(
            "Container-Runtime",
            lambda o: _get(o, "status", "nodeInfo", "containerRuntimeVersion", default=""),
            priority=1,
        ),
    ],
    "configmaps": [
        NAME,
        Column("Data", lambda o: len(o.get("data") or {}) + len(o.get("binaryData") or {}), "integer"),
        AGE,
    ],
    "secrets": [
        NAME,
        Column("Type", lambda o: o.get("type", "Opaque")),
        Column("Data", lambda o: len(o.get("data") or {}), "integer"),
        AGE,
    ],
    "namespaces": [NAME, Column("Status", lambda o: _get(o, "status", "phase", default="Active")), AGE],
    "pods": [
        NAME,
        Column("Ready", _pod_ready),
        Column("Status", lambda o: _get(o, "status", "reason") or _get(o, "status", "phase", default="Pending")),
        Column(
            "Restarts",
            lambda o: sum(s.get("restartCount", 0) for s in _get(o, "status", "containerStatuses", default=[])),
            "integer",
        ),
        AGE,
        Column("IP", lambda o: _get(o, "status", "podIP", default="<none>"), priority=1),
        Column("Node", lambda o: _get(o, "spec", "nodeName", default="<none>"), priority=1),
    ],
    "services": [
        NAME,
        Column("Type", lambda o: _get(o, "spec", "type", default="ClusterIP")),
        Column("Cluster-IP", lambda o: _get(o, "spec", "clusterIP", default="<none>")),
        Column("External-IP", lambda o: "<none>"),
        Column("Port(s)", _service_ports),
        AGE,
    ],
    "daemonsets": [
        NAME,
        Column("Desired", _count("status", "desiredNumberScheduled"), "integer"),
        Column("Current", _count("status", "currentNumberScheduled"), "integer"),
        Column("Ready", _count("status", "numberReady"), "integer"),
        Column("Up-to-date", _count("status", "updatedNumberScheduled"), "integer"),
        Column("Available", _count("status", "numberAvailable"), "integer"),
        Column("Node Selector", _node_selector),
        AGE,
    ],
    "deployments": [
        NAME,
        Column(
            "Ready",
            lambda o: f"{_get(o, 'status', 'readyReplicas', default=0)}/{_get(o, 'spec', 'replicas', default=1)}",
        ),
        Column("Up-to-date", _count("status", "updatedReplicas"), "integer"),
        Column("Available", _count("status", "availableReplicas"), "integer"),
        AGE,
    ],
    "events": [
        Column("Last Seen", lambda o: _age_of(o.get("lastTimestamp") or _get(o, "metadata", "creationTimestamp"))),
        Column("Type", lambda o: o.get("type", "")),
        Column("Reason", lambda o: o.get("reason", "")),
        Column(
            "Object",
            lambda o: f"{_get(o, 'involvedObject', 'kind', default='').lower()}/{_get(o, 'involvedObject', 'name', default='')}",
        ),
        Column("Message", lambda o: o.get("message", "")),
        NAME,
    ],
}


def _partial_metadata(obj: Obj) -> Obj:
    return {
        "kind": "PartialObjectMetadata",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": obj.get("metadata", {}),
    }


def table(res: ResourceKind, objects: list[Obj], resource_version: str) -> Obj:
    """A Table of ``objects`` with the columns kube-apiserver prints for ``res``."""
    columns = COLUMNS.get(res.plural, [NAME, AGE])
    return {
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": {"resourceVersion": resource_version},
        "columnDefinitions": [
            {"name": c.name, "type": c.type, "format": c.format, "description": "", "priority": c.priority} for c in columns
        ],
        "rows": [{"cells": [c.cell(obj) for c in columns], "object": _partial_metadata(obj)} for obj in objects],
    }
