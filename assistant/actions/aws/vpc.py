"""``ec2.vpc``: the cluster VPC, with DNS support and hostnames on (EKS needs both)."""

from __future__ import annotations

from functools import partial
from typing import Any

from pydantic import Field

from assistant.planning.plan import Op

from ... import tags as owntags
from ..base import Action, ActionArgs, ActionContext, Planned
from ..common import State
from ..registry import register
from .ec2_common import keep_ours, name_tags, owned_filters, retry_dependency, tag_spec

RESOURCE = "vpc"


class VpcArgs(ActionArgs):
    """Arguments of ``ec2.vpc``."""

    cluster: str
    cidr: str | None = None
    tags: dict[str, str] = Field(default_factory=dict)
    state: State = "present"


@register
class Vpc(Action):
    """A VPC found by our tags; never touches VPCs we did not create."""

    name = "ec2.vpc"
    summary = "VPC for the cluster (created and tagged by eks-assist)"
    Args = VpcArgs
    permissions = ("ec2:DescribeVpcs", "ec2:CreateVpc", "ec2:ModifyVpcAttribute", "ec2:DescribeVpcAttribute", "ec2:DeleteVpc")
    typical_seconds = 5.0

    def read(self, args: VpcArgs, ctx: ActionContext) -> dict[str, Any] | None:
        ec2 = ctx.client("ec2")
        vpcs = keep_ours(ec2.describe_vpcs(Filters=owned_filters(args.cluster, RESOURCE))["Vpcs"], args.cluster, ctx)
        if not vpcs:
            return None
        vpcs.sort(key=lambda v: v["VpcId"])
        vpc = vpcs[0]
        dns = {
            attr: ec2.describe_vpc_attribute(VpcId=vpc["VpcId"], Attribute=attr)[attr[0].upper() + attr[1:]]["Value"]
            for attr in ("enableDnsSupport", "enableDnsHostnames")
        }
        return {
            "id": vpc["VpcId"],
            "cidr": vpc["CidrBlock"],
            "tags": owntags.from_aws_list(vpc.get("Tags")),
            "duplicates": [v["VpcId"] for v in vpcs[1:]],
            **dns,
        }

    def plan(self, args: VpcArgs, current: dict[str, Any] | None, ctx: ActionContext) -> Planned:
        resource = f"VPC {args.cluster}-vpc"
        if args.state == "absent":
            if current is None:
                return Planned(Op.NOOP, resource, reason="already absent")
            return Planned(
                Op.DELETE, f"VPC {current['id']}", before={"id": current["id"], "cidr": current["cidr"]}, reason="teardown"
            )
        desired: dict[str, Any] = {
            "cidr": args.cidr,
            "enableDnsSupport": True,
            "enableDnsHostnames": True,
            "tags": name_tags(args.cluster, RESOURCE, args.tags, ctx),
        }
        if current is None:
            return Planned(
                Op.CREATE, resource, after=desired, reason="not found", outputs={"id": ctx.unknown("id"), "cidr": args.cidr}
            )
        outputs = {"id": current["id"], "cidr": current["cidr"]}
        notes = [f"duplicate VPCs tagged for this cluster: {', '.join(current['duplicates'])}"] if current["duplicates"] else []
        before = {k: current[k] for k in ("cidr", "enableDnsSupport", "enableDnsHostnames")} | {"tags": current["tags"]}
        after = dict(desired)
        after["tags"] = {**current["tags"], **desired["tags"]}
        if current["cidr"] != args.cidr:
            return Planned(
                Op.REPLACE,
                f"VPC {current['id']}",
                before=before,
                after=after,
                reason="cidr cannot change",
                outputs=outputs,
                notes=notes,
            )
        if before == after:
            return Planned(Op.NOOP, f"VPC {current['id']}", outputs=outputs, notes=notes)
        return Planned(
            Op.UPDATE,
            f"VPC {current['id']}",
            before=before,
            after=after,
            reason="attributes differ",
            outputs=outputs,
            notes=notes,
        )

    def apply(self, args: VpcArgs, planned: Planned, current: dict[str, Any] | None, ctx: ActionContext) -> dict[str, Any]:
        ec2 = ctx.client("ec2")
        if planned.op is Op.DELETE:
            assert current is not None
            retry_dependency(partial(ec2.delete_vpc, VpcId=current["id"]), "vpc")
            return {}
        tags = name_tags(args.cluster, RESOURCE, args.tags, ctx)
        if planned.op is Op.CREATE:
            vpc_id = ec2.create_vpc(CidrBlock=args.cidr, TagSpecifications=tag_spec("vpc", tags))["Vpc"]["VpcId"]
            ec2.get_waiter("vpc_exists").wait(VpcIds=[vpc_id], WaiterConfig={"Delay": 1, "MaxAttempts": 60})
            current = {"id": vpc_id, "cidr": args.cidr, "tags": tags, "enableDnsSupport": False, "enableDnsHostnames": False}
        assert current is not None
        for attr in ("enableDnsSupport", "enableDnsHostnames"):
            if not current.get(attr):
                key = attr[0].upper() + attr[1:]
                ec2.modify_vpc_attribute(VpcId=current["id"], **{key: {"Value": True}})
        missing = {k: v for k, v in tags.items() if current["tags"].get(k) != v}
        if missing:
            ec2.create_tags(Resources=[current["id"]], Tags=owntags.to_aws_list(missing))
        return {"id": current["id"], "cidr": current["cidr"]}
