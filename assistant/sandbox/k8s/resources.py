"""The table of resource kinds the emulator serves. Add a row here to serve a new kind."""

from __future__ import annotations

from dataclasses import dataclass

CRUD_VERBS: tuple[str, ...] = ("create", "delete", "get", "list", "patch", "update")


@dataclass(frozen=True)
class ResourceKind:
    """One REST resource: where it lives, what it is called, and what can be done to it."""

    group: str  # "" is the core group
    version: str
    plural: str
    kind: str
    namespaced: bool
    short_names: tuple[str, ...] = ()
    verbs: tuple[str, ...] = CRUD_VERBS
    categories: tuple[str, ...] = ()
    # Virtual kinds (reviews) answer a POST and keep nothing.
    stored: bool = True

    @property
    def api_version(self) -> str:
        """``v1`` for core, ``group/version`` otherwise."""
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def qualified(self) -> str:
        """The name kube-apiserver uses in messages: ``configmaps`` or ``deployments.apps``."""
        return f"{self.plural}.{self.group}" if self.group else self.plural

    @property
    def singular(self) -> str:
        """The lower-case singular name, e.g. ``configmap``."""
        return self.kind.lower()

    @property
    def key(self) -> str:
        """A version-free identity for storage, e.g. ``apps/deployments``."""
        return f"{self.group}/{self.plural}"


RESOURCES: tuple[ResourceKind, ...] = (
    ResourceKind("", "v1", "namespaces", "Namespace", False, ("ns",)),
    ResourceKind("", "v1", "configmaps", "ConfigMap", True, ("cm",)),
    ResourceKind("", "v1", "nodes", "Node", False, ("no",)),
    ResourceKind("", "v1", "pods", "Pod", True, ("po",), categories=("all",)),
    ResourceKind("", "v1", "services", "Service", True, ("svc",), categories=("all",)),
    ResourceKind("", "v1", "serviceaccounts", "ServiceAccount", True, ("sa",)),
    ResourceKind("", "v1", "secrets", "Secret", True),
    ResourceKind("", "v1", "events", "Event", True, ("ev",)),
    ResourceKind("apps", "v1", "daemonsets", "DaemonSet", True, ("ds",), categories=("all",)),
    ResourceKind("apps", "v1", "deployments", "Deployment", True, ("deploy",), categories=("all",)),
    # The VPC CNI's custom-networking CRD, which EKS clusters ship installed.
    ResourceKind("crd.k8s.amazonaws.com", "v1alpha1", "eniconfigs", "ENIConfig", False),
    ResourceKind(
        "authentication.k8s.io",
        "v1",
        "selfsubjectreviews",
        "SelfSubjectReview",
        False,
        verbs=("create",),
        stored=False,
    ),
    ResourceKind(
        "authorization.k8s.io",
        "v1",
        "selfsubjectaccessreviews",
        "SelfSubjectAccessReview",
        False,
        verbs=("create",),
        stored=False,
    ),
)

_BY_PATH = {(r.group, r.version, r.plural): r for r in RESOURCES}


def find(group: str, version: str, plural: str) -> ResourceKind | None:
    """The kind served at ``/api[s]/<group>/<version>/<plural>``, if any."""
    return _BY_PATH.get((group, version, plural))


def by_kind(kind: str) -> ResourceKind:
    """The resource for a Kind name such as ``ConfigMap``."""
    for res in RESOURCES:
        if res.kind == kind:
            return res
    raise KeyError(kind)


def group_versions() -> dict[str, list[str]]:
    """Named API groups (core excluded) and their versions, in table order."""
    groups: dict[str, list[str]] = {}
    for res in RESOURCES:
        if res.group and res.version not in groups.setdefault(res.group, []):
            groups[res.group].append(res.version)
    return groups


def in_group_version(group: str, version: str) -> list[ResourceKind]:
    """Every kind served under one group/version."""
    return [r for r in RESOURCES if r.group == group and r.version == version]
