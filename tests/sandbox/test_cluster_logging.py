"""Control plane logging as EKS reports and updates it.

EKS lists all five log types, split across an enabled and a disabled entry, and an
UpdateClusterConfig with ``logging`` changes only the types it names, through an update that
goes InProgress → Successful. The sandbox used to store whatever list it was given: an update
naming ``scheduler`` dropped ``api`` and ``audit``, and disabled types were never listed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from .helpers import Network, PausableClock, create_cluster, unique, wait_cluster, wait_status

ALL_OFF = {"clusterLogging": [{"types": ["api", "audit", "authenticator", "controllerManager", "scheduler"], "enabled": False}]}


def _logging(eks: Any, name: str) -> dict[str, Any]:
    return dict(eks.describe_cluster(name=name)["cluster"]["logging"])


def test_create_lists_all_five_types(aws: Callable[..., Any], network: Network) -> None:
    eks = aws("eks")
    plain = unique("log")
    create_cluster(eks, network, plain)
    assert _logging(eks, plain) == ALL_OFF

    name = unique("log")
    created = create_cluster(eks, network, name, logging={"clusterLogging": [{"types": ["audit", "api"], "enabled": True}]})
    expected = {
        "clusterLogging": [
            {"types": ["api", "audit"], "enabled": True},
            {"types": ["authenticator", "controllerManager", "scheduler"], "enabled": False},
        ]
    }
    assert created["logging"] == expected
    assert _logging(eks, name) == expected


def test_update_changes_only_the_named_types(aws: Callable[..., Any], network: Network, clock: PausableClock) -> None:
    eks = aws("eks")
    name = unique("log")
    create_cluster(eks, network, name, logging={"clusterLogging": [{"types": ["api", "audit"], "enabled": True}]})
    wait_cluster(eks, name)

    # The example from the field report: `aws eks update-cluster-config --logging` with scheduler only.
    with clock.paused():
        update = eks.update_cluster_config(name=name, logging={"clusterLogging": [{"types": ["scheduler"], "enabled": True}]})[
            "update"
        ]
        assert update["type"] == "LoggingUpdate" and update["status"] == "InProgress"
        assert eks.describe_update(name=name, updateId=update["id"])["update"]["status"] == "InProgress"
        assert eks.describe_cluster(name=name)["cluster"]["status"] == "UPDATING"
    wait_status(lambda: eks.describe_update(name=name, updateId=update["id"])["update"], "Successful")
    wait_cluster(eks, name)
    assert _logging(eks, name) == {
        "clusterLogging": [
            {"types": ["api", "audit", "scheduler"], "enabled": True},
            {"types": ["authenticator", "controllerManager"], "enabled": False},
        ]
    }

    # One entry on, one off, in the same request.
    eks.update_cluster_config(
        name=name,
        logging={"clusterLogging": [{"types": ["authenticator"], "enabled": True}, {"types": ["api"], "enabled": False}]},
    )
    wait_cluster(eks, name)
    assert _logging(eks, name) == {
        "clusterLogging": [
            {"types": ["audit", "authenticator", "scheduler"], "enabled": True},
            {"types": ["api", "controllerManager"], "enabled": False},
        ]
    }

    # All off again: one disabled entry with all five, as a new cluster has.
    eks.update_cluster_config(
        name=name,
        logging={"clusterLogging": [{"types": ["audit", "authenticator", "scheduler"], "enabled": False}]},
    )
    wait_cluster(eks, name)
    assert _logging(eks, name) == ALL_OFF


@pytest.mark.parametrize(
    "logging",
    [
        {"clusterLogging": [{"types": ["api"], "enabled": False}]},  # already off: nothing changes
        {"clusterLogging": [{"types": ["kubelet"], "enabled": True}]},  # not a control plane log type
        {"clusterLogging": [{"types": ["api"], "enabled": True}, {"types": ["api"], "enabled": False}]},
    ],
    ids=["no-change", "unknown-type", "type-twice"],
)
def test_update_refuses_what_eks_refuses(aws: Callable[..., Any], network: Network, logging: dict[str, Any]) -> None:
    eks = aws("eks")
    name = unique("log")
    create_cluster(eks, network, name)
    wait_cluster(eks, name)
    with pytest.raises(ClientError) as exc:
        eks.update_cluster_config(name=name, logging=logging)
    assert exc.value.response["Error"]["Code"] == "InvalidParameterException"
    assert eks.list_updates(name=name)["updateIds"] == []
    assert _logging(eks, name) == ALL_OFF
