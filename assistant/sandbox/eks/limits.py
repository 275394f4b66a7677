"""EKS's service quotas, enforced by the sandbox's EKS front the way EKS enforces them.

The values are the account's, from the sandbox's Service Quotas (:mod:`assistant.sandbox.servicequotas`),
so a quota raised there (``RequestServiceQuotaIncrease``) is raised here too:

- ``CreateCluster`` beyond ``Clusters`` (L-1194D53C) in the region: ``ResourceLimitExceededException``,
  "Cluster limit exceeded for account." (EKS's words);
- ``CreateNodegroup`` beyond ``Managed node groups per cluster`` (L-6D54EA21):
  ``ResourceLimitExceededException``;
- a ``scalingConfig.maxSize`` above ``Nodes per managed node group`` (L-BD136A63), and more
  security groups (L-11427A54) or public endpoint CIDRs (L-93A74D60) than EKS takes:
  ``InvalidParameterException``.

A retried create of something that exists already is not counted again: the handler answers it.
"""

from __future__ import annotations

from typing import Any

from assistant.planning.quotas import CLUSTERS, NODEGROUPS, NODES, PUBLIC_CIDRS, SECURITY_GROUPS, SERVICE_CODE, Quota
from assistant.sandbox.eks.call import EksCall
from assistant.sandbox.eks.errors import InvalidParameter, ResourceLimitExceeded


def _value(call: EksCall, quota: Quota) -> int:
    from assistant.sandbox import servicequotas

    return servicequotas.applied_value(call.account_id, call.region, SERVICE_CODE, quota.code)


def _vpc_lists(call: EksCall, vpc: dict[str, Any] | None) -> None:
    vpc = vpc or {}
    groups, cidrs = list(vpc.get("securityGroupIds") or []), list(vpc.get("publicAccessCidrs") or [])
    limit = _value(call, SECURITY_GROUPS)
    if len(groups) > limit:
        raise InvalidParameter(f"The maximum number of security groups per cluster is {limit}; {len(groups)} were given.")
    limit = _value(call, PUBLIC_CIDRS)
    if len(cidrs) > limit:
        raise InvalidParameter(f"The maximum number of public access CIDRs per cluster is {limit}; {len(cidrs)} were given.")


def _max_size(call: EksCall, scaling: dict[str, Any] | None) -> None:
    high = (scaling or {}).get("maxSize")
    limit = _value(call, NODES)
    if isinstance(high, int) and high > limit:
        raise InvalidParameter(f"Maximum capacity {high} exceeds the limit of {limit} nodes per managed node group.")


def enforce(call: EksCall) -> None:
    """Refuse ``call`` with EKS's error if it would take the account past an EKS quota."""
    if call.operation == "CreateCluster":
        if call.get("name") in call.backend.clusters:
            return
        limit = _value(call, CLUSTERS)
        if len(call.backend.clusters) >= limit:
            raise ResourceLimitExceeded("Cluster limit exceeded for account.")
        _vpc_lists(call, call.get("resourcesVpcConfig"))
    elif call.operation == "CreateNodegroup":
        cluster = call.backend.clusters.get(call.get("clusterName"))
        if cluster is None or call.get("nodegroupName") in cluster.nodegroups:
            return  # the handler answers: no such cluster, or a retry / a name in use
        limit = _value(call, NODEGROUPS)
        if len(cluster.nodegroups) >= limit:
            raise ResourceLimitExceeded(
                f"Nodegroup limit exceeded for cluster {cluster.name}: it has {len(cluster.nodegroups)} managed node "
                f"groups, the quota allows {limit}.",
                clusterName=cluster.name,
                nodegroupName=call.get("nodegroupName"),
            )
        _max_size(call, call.get("scalingConfig"))
    elif call.operation == "UpdateNodegroupConfig":
        _max_size(call, call.get("scalingConfig"))
    elif call.operation == "UpdateClusterConfig":
        _vpc_lists(call, call.get("resourcesVpcConfig"))
