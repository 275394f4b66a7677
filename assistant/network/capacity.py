"""VPC CNI capacity planning: max pods per node, the IPs a node holds, and subnet IP budgets.

All instance data comes from EC2 ``DescribeInstanceTypes`` and all subnet data from
``DescribeSubnets`` (or, for subnets a plan will create, from the CIDR split), never from a
table of our own, so new instance types work the day AWS lists them.

The max-pods rules follow the EKS AMI's ``max-pods-calculator.sh``:

- only the default network card's ENIs carry pods (multi-card types such as p5.48xlarge);
- secondary IPs: ``ENIs x (IPv4 per ENI - 1) + 2`` (the +2 are host-network pods,
  aws-node and kube-proxy, which use the node's own IP);
- prefix delegation (Nitro only): ``ENIs x ((IPv4 per ENI - 1) x 16) + 2``;
- custom networking removes the primary ENI from pod use;
- the recommended value is capped at 110 (<= 30 vCPUs) or 250 (more vCPUs), in both modes.
"""

from __future__ import annotations

import difflib
import ipaddress
import math
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from assistant.errors import InputError, Problem

IPS_PER_PREFIX = 16
LOW_CPU_CAP = 110
HIGH_CPU_CAP = 250
CPU_THRESHOLD = 30
# The network address, the VPC router, DNS, one reserved for future use, and broadcast.
AWS_RESERVED_PER_SUBNET = 5
# aws-node and kube-proxy run on the host network: the +2 of the formula.
HOST_NETWORK_PODS = 2


@dataclass(frozen=True)
class InstanceNetwork:
    """The networking limits of one instance type that decide pod capacity."""

    instance_type: str
    vcpus: int
    enis: int  # on the default network card: the only card the VPC CNI uses for pods
    ipv4_per_eni: int
    nitro: bool
    network_cards: int

    @classmethod
    def from_describe(cls, it: dict[str, Any]) -> InstanceNetwork:
        """Build from one ``DescribeInstanceTypes`` entry."""
        net = it.get("NetworkInfo") or {}
        default_card = int(net.get("DefaultNetworkCardIndex") or 0)
        enis = int(net.get("MaximumNetworkInterfaces") or 0)
        for card in net.get("NetworkCards") or []:
            # MaximumNetworkInterfaces at the top level sums every card (p5.48xlarge: 64);
            # the calculator reads the default card's own limit (p5.48xlarge: 2).
            if int(card.get("NetworkCardIndex", -1)) == default_card:
                enis = int(card.get("MaximumNetworkInterfaces") or enis)
                break
        return cls(
            instance_type=it["InstanceType"],
            vcpus=int((it.get("VCpuInfo") or {}).get("DefaultVCpus") or 0),
            enis=enis,
            ipv4_per_eni=int(net.get("Ipv4AddressesPerInterface") or 0),
            nitro=it.get("Hypervisor") == "nitro",
            network_cards=int(net.get("MaximumNetworkCards") or 1),
        )


@dataclass(frozen=True)
class MaxPods:
    """Max pods for one instance type under one CNI configuration."""

    instance_type: str
    vcpus: int
    enis: int
    enis_for_pods: int
    ipv4_per_eni: int
    prefix_delegation: bool  # in effect: requested and the type is Nitro
    custom_networking: bool
    max_pods: int  # what the ENIs allow (the calculator's --show-max-allowed; eni-max-pods.txt)
    cap: int  # 110 or 250 by vCPUs
    recommended: int  # min(max_pods, cap): what the calculator prints by default
    notes: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """A JSON-able dict with camelCase keys, as the CLI prints it."""
        d = asdict(self)
        return {
            "instanceType": d["instance_type"],
            "vcpus": d["vcpus"],
            "enis": d["enis"],
            "enisForPods": d["enis_for_pods"],
            "ipv4PerEni": d["ipv4_per_eni"],
            "prefixDelegation": d["prefix_delegation"],
            "customNetworking": d["custom_networking"],
            "maxPods": d["max_pods"],
            "cap": d["cap"],
            "recommendedMaxPods": d["recommended"],
            "notes": list(d["notes"]),
        }


def recommended_cap(vcpus: int) -> int:
    """EKS's pod ceiling: 110 for up to 30 vCPUs, 250 above."""
    return HIGH_CPU_CAP if vcpus > CPU_THRESHOLD else LOW_CPU_CAP


def max_pods(
    net: InstanceNetwork, *, prefix_delegation: bool = False, custom_networking: bool = False, max_eni: int | None = None
) -> MaxPods:
    """Max pods for ``net``, as the EKS max-pods calculator computes them."""
    notes: list[str] = []
    enis = net.enis if max_eni is None else min(max_eni, net.enis)
    if custom_networking:
        enis -= 1
    enis = max(enis, 0)
    pd = prefix_delegation and net.nitro
    if prefix_delegation and not net.nitro:
        notes.append(f"{net.instance_type} is not a Nitro instance: prefix delegation does not apply, secondary IPs are used")
    per_eni = (net.ipv4_per_eni - 1) * (IPS_PER_PREFIX if pd else 1)
    allowed = enis * per_eni + HOST_NETWORK_PODS
    cap = recommended_cap(net.vcpus)
    return MaxPods(
        instance_type=net.instance_type,
        vcpus=net.vcpus,
        enis=net.enis,
        enis_for_pods=enis,
        ipv4_per_eni=net.ipv4_per_eni,
        prefix_delegation=pd,
        custom_networking=custom_networking,
        max_pods=allowed,
        cap=cap,
        recommended=min(allowed, cap),
        notes=tuple(notes),
    )


@dataclass(frozen=True)
class CniSettings:
    """The VPC CNI warm-pool and mode settings that decide how many IPs a node holds."""

    prefix_delegation: bool = False
    warm_eni_target: int | None = None
    warm_ip_target: int | None = None
    minimum_ip_target: int | None = None
    warm_prefix_target: int | None = None
    custom_networking: bool = False
    external_snat: bool = False

    @classmethod
    def from_spec(cls, cni: dict[str, Any]) -> CniSettings:
        """From the spec's canonical ``cni`` section (camelCase keys)."""
        return cls(
            prefix_delegation=bool(cni.get("prefixDelegation")),
            warm_eni_target=cni.get("warmEniTarget"),
            warm_ip_target=cni.get("warmIpTarget"),
            minimum_ip_target=cni.get("minimumIpTarget"),
            warm_prefix_target=cni.get("warmPrefixTarget"),
            custom_networking=bool((cni.get("customNetworking") or {}).get("enabled")),
            external_snat=bool(cni.get("externalSnat")),
        )


def check_settings(settings: CniSettings) -> list[tuple[str, str]]:
    """Combinations the VPC CNI rejects or ignores: ``(spec field, message)`` pairs.

    From amazon-vpc-cni-k8s ``docs/prefix-and-ip-target.md``: WARM_PREFIX_TARGET only means
    something with prefix delegation; with prefix delegation, WARM_PREFIX_TARGET = 0, or both
    WARM_IP_TARGET and MINIMUM_IP_TARGET = 0, are not supported.
    """
    problems: list[tuple[str, str]] = []
    s = settings
    if s.warm_prefix_target is not None and not s.prefix_delegation:
        problems.append(("warmPrefixTarget", "warmPrefixTarget needs prefixDelegation: true (the VPC CNI ignores it otherwise)"))
    if s.prefix_delegation:
        if s.warm_prefix_target == 0 and s.warm_ip_target is None and s.minimum_ip_target is None:
            problems.append(("warmPrefixTarget", "warmPrefixTarget 0 is not supported with prefix delegation; use 1 or more"))
        if s.warm_ip_target == 0 and s.minimum_ip_target == 0:
            problems.append(
                (
                    "warmIpTarget",
                    "warmIpTarget and minimumIpTarget both 0 are not supported with prefix delegation; "
                    "leave them unset or set warmIpTarget to 1 or more",
                )
            )
    return problems


def validate_settings(settings: CniSettings, where: str = "cni") -> None:
    """Raise :class:`InputError` (exit 2) for a CNI combination the VPC CNI rejects."""
    problems = check_settings(settings)
    if problems:
        raise InputError([Problem(f"{where}.{field}: {msg}") for field, msg in problems])


@dataclass(frozen=True)
class NodeIps:
    """Addresses one node takes: from its own subnet, and (custom networking) from the pod subnet."""

    node_subnet: int
    pod_subnet: int
    enis: int
    prefixes: int

    @property
    def total(self) -> int:
        return self.node_subnet + self.pod_subnet


def node_ips(net: InstanceNetwork, settings: CniSettings, pods: int, *, max_eni: int | None = None) -> NodeIps:
    """The IPs one node holds while running ``pods`` pods, warm pool included."""
    mp = max_pods(
        net, prefix_delegation=settings.prefix_delegation, custom_networking=settings.custom_networking, max_eni=max_eni
    )
    need = max(0, min(pods, mp.max_pods) - HOST_NETWORK_PODS)
    pod_enis_max = max(mp.enis_for_pods, 0)
    slots_per_eni = max(net.ipv4_per_eni - 1, 1)
    by_ip = settings.warm_ip_target is not None or settings.minimum_ip_target is not None
    prefixes = 0
    if mp.prefix_delegation:
        if by_ip:
            # WARM_IP_TARGET / MINIMUM_IP_TARGET override WARM_PREFIX_TARGET.
            want = max(need + (settings.warm_ip_target or 0), settings.minimum_ip_target or 0)
            prefixes = math.ceil(want / IPS_PER_PREFIX)
        else:
            # One full warm prefix per WARM_PREFIX_TARGET, even if one IP of a prefix is used.
            warm = settings.warm_prefix_target if settings.warm_prefix_target is not None else 1
            prefixes = math.ceil(need / IPS_PER_PREFIX) + warm
        prefixes = min(prefixes, pod_enis_max * slots_per_eni)
        enis = max(1, math.ceil(prefixes / slots_per_eni))
        pod_addresses = prefixes * IPS_PER_PREFIX
    elif by_ip:
        want = max(need + (settings.warm_ip_target or 0), settings.minimum_ip_target or 0)
        want = min(want, pod_enis_max * slots_per_eni)
        enis = max(1, math.ceil(want / slots_per_eni))
        pod_addresses = want
    else:
        # WARM_ENI_TARGET (default 1) keeps that many whole ENIs of free IPs; every attached
        # ENI gets all its secondary IPs.
        warm = settings.warm_eni_target if settings.warm_eni_target is not None else 1
        enis = max(1, math.ceil((need + warm * slots_per_eni) / slots_per_eni))
        enis = min(enis, max(pod_enis_max, 1))
        pod_addresses = enis * slots_per_eni
    if settings.custom_networking:
        # Pod ENIs (and their primary IPs) live in the ENIConfig subnet; the node keeps only
        # its primary ENI's address in its own subnet.
        return NodeIps(node_subnet=1, pod_subnet=pod_addresses + enis, enis=enis + 1, prefixes=prefixes)
    return NodeIps(node_subnet=pod_addresses + enis, pod_subnet=0, enis=enis, prefixes=prefixes)


# -- AWS lookups -----------------------------------------------------------------------------


def _all_instance_type_names(ec2: Any) -> list[str]:
    names: list[str] = []
    for page in ec2.get_paginator("describe_instance_types").paginate():
        names.extend(t["InstanceType"] for t in page["InstanceTypes"])
    return names


def describe_known_types(ec2: Any, wanted: list[str]) -> list[dict[str, Any]]:
    """DescribeInstanceTypes for ``wanted``; names EC2 does not know are left out (one call when all are known)."""
    import botocore.exceptions

    try:
        return list(ec2.describe_instance_types(InstanceTypes=wanted)["InstanceTypes"])
    except botocore.exceptions.ClientError as exc:
        if "InvalidInstanceType" not in exc.response["Error"]["Code"]:
            raise
    # One unknown name fails the whole call: ask one by one to keep the known ones.
    found: list[dict[str, Any]] = []
    for t in wanted:
        try:
            found.extend(ec2.describe_instance_types(InstanceTypes=[t])["InstanceTypes"])
        except botocore.exceptions.ClientError as inner:
            if "InvalidInstanceType" not in inner.response["Error"]["Code"]:
                raise
    return found


def describe_instance_types(client: Callable[[str], Any], types: list[str]) -> dict[str, InstanceNetwork]:
    """``InstanceNetwork`` per type; an unknown type raises InputError with a did-you-mean."""
    ec2 = client("ec2")
    wanted = sorted(set(types))
    nets = {it["InstanceType"]: InstanceNetwork.from_describe(it) for it in describe_known_types(ec2, wanted)}
    missing = [t for t in wanted if t not in nets]
    if missing:
        known = _all_instance_type_names(ec2)
        problems = []
        for t in missing:
            close = difflib.get_close_matches(t, known, n=1)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            problems.append(Problem(f"unknown instance type '{t}' in {ec2.meta.region_name}{hint}"))
        raise InputError(problems)
    return nets


@dataclass(frozen=True)
class SubnetCapacity:
    """A subnet's free addresses: from DescribeSubnets, or from its CIDR if it is not made yet."""

    ref: str  # subnet ID, or the CIDR of a subnet the plan creates
    cidr: str | None
    free: int
    planned: bool


def cidr_free(cidr: str) -> int:
    """Usable addresses of a new subnet: its size minus AWS's 5 reserved ones."""
    return ipaddress.ip_network(cidr).num_addresses - AWS_RESERVED_PER_SUBNET


def describe_subnets(client: Callable[[str], Any], subnet_ids: list[str]) -> dict[str, SubnetCapacity]:
    """Free IPs of existing subnets (those that do not exist are left out: preflight says so)."""
    out: dict[str, SubnetCapacity] = {}
    for sid in sorted(set(subnet_ids)):
        try:
            subs = client("ec2").describe_subnets(SubnetIds=[sid])["Subnets"]
        except Exception:  # a missing subnet is preflight's error to report, not ours
            continue
        for s in subs:
            out[sid] = SubnetCapacity(sid, s.get("CidrBlock"), int(s.get("AvailableIpAddressCount", 0)), False)
    return out


def _spec_subnets(spec: dict[str, Any]) -> list[SubnetCapacity] | list[str]:
    vpc = (spec.get("masters") or {}).get("vpc") or {}
    create = vpc.get("create")
    if create:
        from assistant.actions.aws.subnets import split_cidr

        cidrs = create.get("subnetCidrs") or split_cidr(create["cidr"], int(create.get("azCount") or 2))
        return [SubnetCapacity(c, c, cidr_free(c), True) for c in cidrs]
    return list((vpc.get("existing") or {}).get("subnetIds") or [])


@dataclass(frozen=True)
class SubnetLoad:
    """One subnet's budget at max scale: what it has, what it would need, and who uses it."""

    ref: str
    cidr: str | None
    free: int
    needed: int
    users: tuple[str, ...]
    role: str  # "nodes" or "pods (custom networking)"

    @property
    def fits(self) -> bool:
        return self.needed <= self.free


def subnet_budget(
    spec: dict[str, Any], client: Callable[[str], Any], *, settings: CniSettings | None = None, max_eni: int | None = None
) -> list[SubnetLoad]:
    """IPs every node group needs at max scale vs every subnet's free IPs (even spread)."""
    cni = spec.get("cni") or {}
    settings = settings or CniSettings.from_spec(cni)
    workers = spec.get("workers") or []
    if not workers:
        return []
    types = sorted({t for ng in workers for t in ng.get("instanceTypes") or []})
    nets = describe_instance_types(client, types)
    cluster_subnets = _spec_subnets(spec)
    existing_ids = [s for s in cluster_subnets if isinstance(s, str)]
    existing_ids += [sid for ng in workers for sid in ng.get("subnetIds") or []]
    pod_ids = [c.get("subnetId") for c in (cni.get("customNetworking") or {}).get("eniConfigs") or []]
    if settings.custom_networking:
        existing_ids += [p for p in pod_ids if p]
    known = describe_subnets(client, existing_ids)

    def resolve(refs: list[Any]) -> list[SubnetCapacity]:
        return [r if isinstance(r, SubnetCapacity) else known[r] for r in refs if not isinstance(r, str) or r in known]

    needed: dict[str, int] = {}
    users: dict[str, list[str]] = {}
    caps: dict[str, SubnetCapacity] = {}
    roles: dict[str, str] = {}

    def add(sub: SubnetCapacity, ips: int, who: str, role: str) -> None:
        caps[sub.ref] = sub
        needed[sub.ref] = needed.get(sub.ref, 0) + ips
        users.setdefault(sub.ref, []).append(who)
        roles[sub.ref] = role

    pod_subnets = resolve([p for p in pod_ids if p]) if settings.custom_networking else []
    for ng in workers:
        subs = resolve(list(ng.get("subnetIds") or []) or list(cluster_subnets))
        if not subs:
            continue
        size = int((ng.get("scaling") or {}).get("max") or 0)
        # The worst case among the group's types: a group may launch any of them.
        per_node = max(
            (node_ips(nets[t], settings, _pods_for(nets[t], settings, max_eni), max_eni=max_eni) for t in ng["instanceTypes"]),
            key=lambda n: n.total,
        )
        nodes_per_subnet = math.ceil(size / len(subs))
        for sub in subs:
            add(sub, nodes_per_subnet * per_node.node_subnet, ng["name"], "nodes")
        if pod_subnets:
            per_pod_subnet = math.ceil(size / len(pod_subnets))
            for sub in pod_subnets:
                add(sub, per_pod_subnet * per_node.pod_subnet, ng["name"], "pods (custom networking)")
    return [SubnetLoad(ref, caps[ref].cidr, caps[ref].free, needed[ref], tuple(users[ref]), roles[ref]) for ref in sorted(caps)]


def _pods_for(net: InstanceNetwork, settings: CniSettings, max_eni: int | None) -> int:
    """Pods on a full node: the recommended max pods, as the EKS AMIs configure kubelet."""
    return max_pods(
        net, prefix_delegation=settings.prefix_delegation, custom_networking=settings.custom_networking, max_eni=max_eni
    ).recommended


def _advice(settings: CniSettings, load: SubnetLoad) -> str:
    steps = []
    if load.role == "nodes":
        if not settings.prefix_delegation:
            steps.append("enable cni.prefixDelegation (IPs come in /28 prefixes, far fewer ENIs per node)")
        steps.append("use bigger subnets")
        if not settings.custom_networking:
            steps.append("add a secondary VPC CIDR (e.g. 100.64.0.0/16) and pod subnets with cni.customNetworking")
    else:
        steps.append("use bigger pod subnets in cni.customNetworking.eniConfigs")
    steps.append("or lower scaling.max")
    return "; ".join(steps)


def budget_warnings(loads: list[SubnetLoad], settings: CniSettings) -> list[str]:
    """One warning per subnet that cannot hold its node groups at max scale, with what to change."""
    warnings = []
    for load in loads:
        if load.fits:
            continue
        where = f"subnet {load.ref}" + (f" ({load.cidr})" if load.cidr and load.cidr != load.ref else "")
        planned = " once created" if load.ref == load.cidr else ""
        warnings.append(
            f"{where} has {load.free} free IPs{planned} but node groups {', '.join(load.users)} need "
            f"{load.needed} for {load.role} at max scale (spread evenly); {_advice(settings, load)}"
        )
    return warnings


def capacity_warnings(spec_canonical: dict[str, Any], client: Callable[[str], Any]) -> list[str]:
    """Plan warnings: every subnet that cannot hold its node groups at max scale.

    Read-only: DescribeInstanceTypes and DescribeSubnets only. An unknown instance type is
    left to preflight (it reports it with a location); here it just yields no warning.
    """
    settings = CniSettings.from_spec(spec_canonical.get("cni") or {})
    try:
        loads = subnet_budget(spec_canonical, client, settings=settings)
    except InputError:
        return []
    return budget_warnings(loads, settings) + settings_notes(spec_canonical)


def settings_notes(spec_canonical: dict[str, Any]) -> list[str]:
    """Non-fatal CNI remarks, e.g. WARM_IP_TARGET overriding WARM_PREFIX_TARGET."""
    s = CniSettings.from_spec(spec_canonical.get("cni") or {})
    notes = []
    if s.prefix_delegation and s.warm_prefix_target is not None and (s.warm_ip_target or s.minimum_ip_target):
        notes.append("cni.warmPrefixTarget is ignored: warmIpTarget/minimumIpTarget override it with prefix delegation")
    return notes


def spec_problems(loaded: Any) -> list[Any]:
    """CNI combinations the VPC CNI rejects, located in the spec file (``file:line:col``).

    ``loaded`` is a :class:`assistant.spec.LoadedSpec`; returns :class:`Problem` objects.
    """
    s = CniSettings.from_spec(loaded.spec.canonical().get("cni") or {})
    return [loaded.problem(("cni", field), msg) for field, msg in check_settings(s)]
