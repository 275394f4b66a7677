"""Who is calling: the authentication seam of the emulated API servers.

An ``Authenticator`` gets the cluster being called and the bearer token (None when there is
none) and returns the caller, or None to answer 401. The default trusts everyone as the
cluster admin; a stricter one (EKS tokens verified against the sandbox's STS) plugs in here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class ClusterRef:
    """The EKS cluster an API request is for."""

    name: str
    arn: str
    account_id: str
    region: str
    api_id: str  # the URL path segment: <name>-<short unique id>


@dataclass(frozen=True)
class UserInfo:
    """An authenticated Kubernetes user, as a SelfSubjectReview reports it."""

    username: str
    groups: tuple[str, ...] = ()
    uid: str = ""
    extra: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def to_k8s(self) -> dict[str, Any]:
        """The ``userInfo`` object of the authentication.k8s.io API."""
        info: dict[str, Any] = {"username": self.username, "groups": list(self.groups)}
        if self.uid:
            info["uid"] = self.uid
        if self.extra:
            info["extra"] = {k: list(v) for k, v in self.extra.items()}
        return info


Authenticator = Callable[[ClusterRef, str | None], UserInfo | None]

CLUSTER_ADMIN = UserInfo("kubernetes-admin", ("system:masters", "system:authenticated"))


def allow_all_as_admin(cluster: ClusterRef, token: str | None) -> UserInfo:
    """The default authenticator: every caller is ``kubernetes-admin`` in ``system:masters``."""
    return CLUSTER_ADMIN
