"""``ec2.subnets``: one public subnet per Availability Zone, tagged for EKS load balancers."""

from __future__ import annotations

import ipaddress
import math
from functools import partial
from typing import Any

from pydantic import Field

from assistant.planning.plan import Op, Unknown

from ... import tags as owntags
from ...errors import InputError
from ..base import Action, ActionArgs, ActionContext, Planned
from ..common import State, Str
from ..registry import register
from .ec2_common import keep_ours, name_tags, owned_filters, retry_dependency, tag_spec


class SubnetsArgs(ActionArgs):
    """Arguments of ``ec2.subnets``."""

    cluster: str
    vpc_id: Str | None = Field(default=None, alias="vpcId")
    vpc_cidr: str | None = Field(default=None, alias="vpcCidr")
    az_count: int = Field(default=2, ge=2, le=6, alias="azCount")
    cidrs: list[str] | None = None
    tags: dict[str, str] = Field(default_factory=dict)
    state: State = "present"


def split_cidr(vpc_cidr: str, count: int) -> list[str]:
    """``count`` equal subnets, leaving half the VPC free for later (secondary ranges, pods)."""
    net = ipaddress.ip_network(vpc_cidr)
    extra = max(1, math.ceil(math.log2(count * 2)))
    return [str(s) for s in list(net.subnets(prefixlen_diff=extra))[:count]]


@register
class Subnets(Action):
    """Subnets found by our tags, one per AZ, public IPs on launch."""

    name = "ec2.subnets"
    summary = "one subnet per Availability Zone in the cluster VPC"
    Args = SubnetsArgs
    permissions = (
        "ec2:DescribeSubnets",
        "ec2:DescribeAvailabilityZones",
        "ec2:CreateSubnet",
        "ec2:ModifySubnetAttribute",
        "ec2:DeleteSubnet",
    )

    def _zones(self, ctx: ActionContext, count: int) -> list[str]:
        zones = ctx.client("ec2").describe_availability_zones(
            Filters=[{"Name": "state", "Values": ["available"]}, {"Name": "zone-type", "Values": ["availability-zone"]}]
        )["AvailabilityZones"]
        names = sorted(z["ZoneName"] for z in zones)
        if len(names) < count:
            raise InputError(
                f"masters.vpc.create.azCount: {count} AZs requested but {ctx.region} has only {len(names)} available"
            )
        return names[:count]

    def read(self, args: SubnetsArgs, ctx: ActionContext) -> dict[str, Any] | None:
        subnets = keep_ours(ctx.client("ec2").describe_subnets(Filters=owned_filters(args.cluster))["Subnets"], args.cluster, ctx)
        found: dict[str, dict[str, Any]] = {}
        for sn in subnets:
            tags = owntags.from_aws_list(sn.get("Tags"))
            res = tags.get(owntags.RESOURCE, "")
            if res.startswith("subnet-") and res not in found:
                found[res] = {
                    "id": sn["SubnetId"],
                    "az": sn["AvailabilityZone"],
                    "cidr": sn["CidrBlock"],
                    "public": bool(sn.get("MapPublicIpOnLaunch")),
                    "vpcId": sn["VpcId"],
                    "tags": tags,
                }
        return {"subnets": found} if found else None

    def _desired(self, args: SubnetsArgs, ctx: ActionContext) -> list[dict[str, Any]]:
        cidrs = args.cidrs or split_cidr(str(args.vpc_cidr), args.az_count)
        zones = self._zones(ctx, len(cidrs))
        return [{"key": f"subnet-{i}", "az": zones[i], "cidr": c, "public": True} for i, c in enumerate(cidrs)]

    def plan(self, args: SubnetsArgs, current: dict[str, Any] | None, ctx: ActionContext) -> Planned:
        resource = f"subnets of {args.cluster}"
        found = (current or {}).get("subnets", {})
        if args.state == "absent":
            if not found:
                return Planned(Op.NOOP, resource, reason="already absent")
            # By AZ then CIDR, not by the random subnet id: the same world reads the same way.
            ordered = sorted(found.values(), key=lambda s: (s["az"], s["cidr"]))
            before = {"subnets": [f"{s['id']} {s['cidr']} {s['az']}" for s in ordered]}
            return Planned(Op.DELETE, resource, before=before, reason="teardown")
        if args.vpc_cidr is None:
            raise InputError(f"step {ctx.step}: ec2.subnets needs vpcCidr when state is present")
        desired = self._desired(args, ctx)
        after = {"subnets": [f"{d['cidr']} in {d['az']} (public)" for d in desired], "vpcId": args.vpc_id}
        if not found:
            outputs = {"ids": Unknown(f"steps.{ctx.step}.ids"), "azs": [d["az"] for d in desired]}
            return Planned(Op.CREATE, resource, after=after, reason="not found", outputs=outputs)
        before = {
            "subnets": [
                f"{found[d['key']]['cidr']} in {found[d['key']]['az']}{' (public)' if found[d['key']]['public'] else ''}"
                if d["key"] in found
                else "(missing)"
                for d in desired
            ],
            "vpcId": next(iter(found.values()))["vpcId"],
        }
        complete = all(d["key"] in found for d in desired)
        outputs = {
            "ids": [found[d["key"]]["id"] for d in desired] if complete else ctx.unknown("ids"),
            "azs": [d["az"] for d in desired],
        }
        if before == after:
            return Planned(Op.NOOP, resource, outputs=outputs)
        for d in desired:
            s = found.get(d["key"])
            if s and (s["cidr"] != d["cidr"] or s["az"] != d["az"]):
                return Planned(
                    Op.REPLACE, resource, before=before, after=after, reason=f"{d['key']} cidr/AZ cannot change", outputs=outputs
                )
        return Planned(Op.UPDATE, resource, before=before, after=after, reason="missing subnets or attributes", outputs=outputs)

    def apply(self, args: SubnetsArgs, planned: Planned, current: dict[str, Any] | None, ctx: ActionContext) -> dict[str, Any]:
        ec2 = ctx.client("ec2")
        found = (current or {}).get("subnets", {})
        if planned.op is Op.DELETE:
            for s in found.values():
                retry_dependency(partial(ec2.delete_subnet, SubnetId=s["id"]), "subnet")
            return {}
        ids = []
        desired = self._desired(args, ctx)
        for d in desired:
            s = found.get(d["key"])
            if s is None:
                tags = {
                    **name_tags(args.cluster, d["key"], args.tags, ctx),
                    "kubernetes.io/role/elb": "1",
                    f"kubernetes.io/cluster/{args.cluster}": "shared",
                }
                sid = ec2.create_subnet(
                    VpcId=args.vpc_id, CidrBlock=d["cidr"], AvailabilityZone=d["az"], TagSpecifications=tag_spec("subnet", tags)
                )["Subnet"]["SubnetId"]
                s = {"id": sid, "public": False}
            if not s["public"]:
                ec2.modify_subnet_attribute(SubnetId=s["id"], MapPublicIpOnLaunch={"Value": True})
            ids.append(s["id"])
        return {"ids": ids, "azs": [d["az"] for d in desired]}
