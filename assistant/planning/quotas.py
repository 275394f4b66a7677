"""EKS service quotas: the documented catalogue, the account's values, and the checks a plan makes.

The catalogue is EKS's documented quotas ("View and manage Amazon EKS and Fargate service
quotas", EKS User Guide; the codes are those Service Quotas lists for service code ``eks``):

============================================== ========== ======= ==========
quota                                          code       default adjustable
============================================== ========== ======= ==========
Clusters (per account and Region)              L-1194D53C 100     yes
Managed node groups per cluster                L-6D54EA21 30      yes
Nodes per managed node group                   L-BD136A63 450     yes
Control plane security groups per cluster      L-11427A54 4       no
Public endpoint access CIDR ranges per cluster L-93A74D60 40      no
Fargate profiles per cluster                   L-33415657 10      yes
Selectors per Fargate profile                  L-D78D8AF8 5       yes
Label pairs per Fargate profile selector       L-23414FF3 5       yes
Registered clusters                            L-FDFA5F81 10      yes
============================================== ========== ======= ==========

EKS documents no quota on access entries. A spec has no Fargate profiles or registered
clusters, so those are in the catalogue (the sandbox serves them) but not checked.

:func:`check` counts what the spec would make *plus what exists already* (clusters in the
region, node groups already in the cluster) against each quota. An adjustable quota's value
comes from Service Quotas (``ListServiceQuotas``, read-only; then ``ListAWSDefaultServiceQuotas``
for quotas with no applied value). When Service Quotas cannot be read (access denied, or an
endpoint that does not serve it), the documented default is used; every value says which
source it came from, and the plan shows it. A fixed quota is the documented value.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from assistant.errors import Problem
from assistant.spec import LoadedSpec

__all__ = ["EKS_QUOTAS", "Limit", "Quota", "QuotaReport", "check", "read_limits"]

log = logging.getLogger(__name__)

SERVICE_CODE = "eks"
SERVICE_NAME = "Amazon Elastic Kubernetes Service (Amazon EKS)"


@dataclass(frozen=True)
class Quota:
    """One documented EKS quota."""

    code: str
    name: str
    default: int
    adjustable: bool
    description: str


CLUSTERS = Quota("L-1194D53C", "Clusters", 100, True, "The maximum number of EKS clusters in this account in the current Region.")
NODEGROUPS = Quota(
    "L-6D54EA21", "Managed node groups per cluster", 30, True, "The maximum number of managed node groups per cluster."
)
NODES = Quota("L-BD136A63", "Nodes per managed node group", 450, True, "The maximum number of nodes per managed node group.")
SECURITY_GROUPS = Quota(
    "L-11427A54",
    "Control plane security groups per cluster",
    4,
    False,
    "The maximum number of control plane security groups per cluster (these are specified when you create the cluster).",
)
PUBLIC_CIDRS = Quota(
    "L-93A74D60",
    "Public endpoint access CIDR ranges per cluster",
    40,
    False,
    "The maximum number of public endpoint access CIDR ranges per cluster "
    "(these are specified when you create or update the cluster).",
)
FARGATE_PROFILES = Quota(
    "L-33415657", "Fargate profiles per cluster", 10, True, "The maximum number of Fargate profiles per cluster."
)
FARGATE_SELECTORS = Quota(
    "L-D78D8AF8", "Selectors per Fargate profile", 5, True, "The maximum number of selectors per Fargate profile."
)
FARGATE_LABELS = Quota(
    "L-23414FF3",
    "Label pairs per Fargate profile selector",
    5,
    True,
    "The maximum number of label pairs per Fargate profile selector.",
)
REGISTERED_CLUSTERS = Quota(
    "L-FDFA5F81",
    "Registered clusters",
    10,
    True,
    "The maximum number of registered clusters in this account in the current Region.",
)

EKS_QUOTAS: tuple[Quota, ...] = (
    CLUSTERS,
    SECURITY_GROUPS,
    FARGATE_PROFILES,
    FARGATE_LABELS,
    NODEGROUPS,
    NODES,
    PUBLIC_CIDRS,
    REGISTERED_CLUSTERS,
    FARGATE_SELECTORS,
)
# The quotas a spec can run into.
CHECKED: tuple[Quota, ...] = (CLUSTERS, NODEGROUPS, NODES, SECURITY_GROUPS, PUBLIC_CIDRS)

_UNSERVED = frozenset({"404", "UnknownOperationException", "UnknownOperation", "InvalidAction", "NotImplemented"})


@dataclass(frozen=True)
class Limit:
    """A quota's value for this account and region, and where the value came from."""

    quota: Quota
    value: int
    source: str


@dataclass
class QuotaReport:
    """What :func:`check` found: problems (located in the spec) and one line per quota for the plan."""

    problems: list[Problem] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", "")) or str(
        exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", "")
    )


def _values(paginator: Any) -> dict[str, float]:
    """Quota code → value over every page of a Service Quotas listing for EKS."""
    out: dict[str, float] = {}
    for page in paginator.paginate(ServiceCode=SERVICE_CODE):
        out.update({q["QuotaCode"]: float(q["Value"]) for q in page.get("Quotas", []) if "Value" in q})
    return out


def read_limits(client: Callable[[str], Any], quotas: tuple[Quota, ...] = CHECKED) -> dict[str, Limit]:
    """Each quota's value: applied (Service Quotas), else AWS default (Service Quotas), else documented."""
    limits: dict[str, Limit] = {}
    fixed = [q for q in quotas if not q.adjustable]
    for q in fixed:
        limits[q.code] = Limit(q, q.default, "fixed by EKS, not adjustable")
    wanted = [q for q in quotas if q.adjustable]
    if not wanted:
        return limits
    reason = ""
    try:
        sq = client("service-quotas")
        applied = _values(sq.get_paginator("list_service_quotas"))
        for q in wanted:
            if q.code in applied:
                limits[q.code] = Limit(q, int(applied[q.code]), "Service Quotas, applied value")
        if any(q.code not in limits for q in wanted):
            defaults = _values(sq.get_paginator("list_aws_default_service_quotas"))
            for q in wanted:
                if q.code not in limits and q.code in defaults:
                    limits[q.code] = Limit(q, int(defaults[q.code]), "Service Quotas, AWS default (no applied value)")
    except ClientError as exc:
        code = _code(exc)
        reason = "this endpoint does not serve Service Quotas" if code in _UNSERVED else f"Service Quotas answered {code}"
        log.info("cannot read EKS quotas from Service Quotas (%s); using the documented defaults", reason)
    for q in wanted:
        if q.code not in limits:
            why = reason or "Service Quotas does not list it"
            limits[q.code] = Limit(q, q.default, f"documented default ({why})")
    return limits


def _raise_hint(limit: Limit, region: str, needed: int) -> str:
    q = limit.quota
    if not q.adjustable:
        return "EKS does not allow raising it"
    return (
        f"request an increase in the Service Quotas console or with `aws service-quotas request-service-quota-increase "
        f"--service-code {SERVICE_CODE} --quota-code {q.code} --desired-value {needed} --region {region}`"
    )


def _over(limit: Limit, what: str, region: str, needed: int, fix: str = "") -> str:
    """``what`` (which says the count), over the quota: its name, code, value and source, and how to get more."""
    q = limit.quota
    quota = f"the EKS quota '{q.name}' ({q.code}) of {limit.value} ({limit.source})"
    message = f"{what}, over {quota}; {_raise_hint(limit, region, needed)}"
    return message + (f", or {fix}" if fix else "")


def _line(limit: Limit, used: int, what: str) -> str:
    q = limit.quota
    return f"quota {q.name} ({q.code}): {used} of {limit.value} ({what}; {limit.source})"


def check(loaded: LoadedSpec, client: Callable[[str], Any]) -> QuotaReport:
    """Check the spec, plus what exists in the account, against EKS's quotas (read-only calls only)."""
    spec = loaded.spec
    region, name = spec.metadata.region, spec.metadata.name
    limits = read_limits(client)
    report = QuotaReport()
    eks = client("eks")

    try:
        exists = _cluster_exists(eks, name)
        existing_groups: list[str] | None = _nodegroups(eks, name) if exists else []
        clusters = None if exists else _cluster_count(eks)
    except ClientError as exc:
        report.lines.append(f"quotas on clusters and node groups not checked: EKS answered {_code(exc)}")
        existing_groups, clusters = None, None

    # Clusters in the region, with this one if it is new.
    limit = limits[CLUSTERS.code]
    if clusters is not None:
        count = clusters + 1
        report.lines.append(_line(limit, count, f"clusters in {region}, this one included"))
        if count > limit.value:
            what = f"creating cluster {name} makes {count} EKS clusters in {region}"
            report.problems.append(
                loaded.problem(("metadata", "name"), _over(limit, what, region, count, "delete unused clusters"))
            )

    # Managed node groups in the cluster: those there already, and the spec's new ones.
    limit = limits[NODEGROUPS.code]
    if existing_groups is not None:
        seen = set(existing_groups)
        total = len(seen)
        first_over: int | None = None
        for i, ng in enumerate(spec.workers):
            if ng.name in seen:
                continue
            seen.add(ng.name)
            total += 1
            if total > limit.value and first_over is None:
                first_over = i
        there = f"{len(existing_groups)} in the cluster already" if existing_groups else "none in the cluster yet"
        report.lines.append(_line(limit, total, f"node groups of {name}: {there}, and the spec's"))
        if first_over is not None:
            what = f"cluster {name} would have {total} managed node groups ({there}, and the spec's)"
            fix = "use fewer, larger node groups"
            report.problems.append(loaded.problem(("workers", first_over), _over(limit, what, region, total, fix)))

    # Nodes per managed node group: the most a group may scale to.
    limit = limits[NODES.code]
    if spec.workers:
        report.lines.append(_line(limit, max(ng.scaling.max_size for ng in spec.workers), "the largest max size"))
    for i, ng in enumerate(spec.workers):
        if ng.scaling.max_size > limit.value:
            what = f"node group {ng.name} scales to {ng.scaling.max_size} nodes"
            problem = _over(limit, what, region, ng.scaling.max_size, "split it into more node groups")
            report.problems.append(loaded.problem(("workers", i, "scaling", "max"), problem))

    # Fixed quotas: the spec's own lists. The spec's validators refuse lists over them at validate
    # time, so here they are only reported, for the plan's quota lines.
    existing = spec.masters.vpc.existing
    if existing is not None and existing.security_group_ids:
        limit = limits[SECURITY_GROUPS.code]
        report.lines.append(_line(limit, len(existing.security_group_ids), "the spec's securityGroupIds"))
    if spec.masters.endpoint.public_access:
        limit = limits[PUBLIC_CIDRS.code]
        report.lines.append(_line(limit, len(spec.masters.endpoint.public_cidrs), "the spec's publicCidrs"))
    return report


def _cluster_exists(eks: Any, name: str) -> bool:
    try:
        eks.describe_cluster(name=name)
    except ClientError as exc:
        if _code(exc) == "ResourceNotFoundException":
            return False
        raise
    return True


def _cluster_count(eks: Any) -> int:
    return sum(len(page.get("clusters", [])) for page in eks.get_paginator("list_clusters").paginate())


def _nodegroups(eks: Any, cluster: str) -> list[str]:
    return [n for page in eks.get_paginator("list_nodegroups").paginate(clusterName=cluster) for n in page.get("nodegroups", [])]
