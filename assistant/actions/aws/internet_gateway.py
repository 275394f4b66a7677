"""``ec2.internet_gateway``: an internet gateway attached to the cluster VPC."""

from __future__ import annotations

from functools import partial
from typing import Any

from pydantic import Field

from assistant.planning.plan import Op

from ... import tags as owntags
from ..base import Action, ActionArgs, ActionContext, Planned
from ..common import State, Str
from ..registry import register
from .ec2_common import keep_ours, name_tags, owned_filters, retry_dependency, tag_spec

RESOURCE = "igw"


class InternetGatewayArgs(ActionArgs):
    """Arguments of ``ec2.internet_gateway``."""

    cluster: str
    vpc_id: Str | None = Field(default=None, alias="vpcId")
    tags: dict[str, str] = Field(default_factory=dict)
    state: State = "present"


@register
class InternetGateway(Action):
    """An internet gateway found by our tags, attached to the VPC."""

    name = "ec2.internet_gateway"
    summary = "internet gateway attached to the cluster VPC"
    Args = InternetGatewayArgs
    permissions = (
        "ec2:DescribeInternetGateways",
        "ec2:CreateInternetGateway",
        "ec2:AttachInternetGateway",
        "ec2:DetachInternetGateway",
        "ec2:DeleteInternetGateway",
    )

    def read(self, args: InternetGatewayArgs, ctx: ActionContext) -> dict[str, Any] | None:
        igws = keep_ours(
            ctx.client("ec2").describe_internet_gateways(Filters=owned_filters(args.cluster, RESOURCE))["InternetGateways"],
            args.cluster,
            ctx,
        )
        if not igws:
            return None
        igw = sorted(igws, key=lambda g: g["InternetGatewayId"])[0]
        return {
            "id": igw["InternetGatewayId"],
            "attachedTo": sorted(a["VpcId"] for a in igw.get("Attachments", [])),
            "tags": owntags.from_aws_list(igw.get("Tags")),
        }

    def plan(self, args: InternetGatewayArgs, current: dict[str, Any] | None, ctx: ActionContext) -> Planned:
        resource = f"internet gateway {args.cluster}-{RESOURCE}"
        if args.state == "absent":
            if current is None:
                return Planned(Op.NOOP, resource, reason="already absent")
            return Planned(
                Op.DELETE,
                f"internet gateway {current['id']}",
                before={"id": current["id"], "attachedTo": current["attachedTo"]},
                reason="teardown",
            )
        after = {"attachedTo": [args.vpc_id]}
        if current is None:
            return Planned(Op.CREATE, resource, after=after, reason="not found", outputs={"id": ctx.unknown("id")})
        before = {"attachedTo": current["attachedTo"]}
        outputs = {"id": current["id"]}
        if before == after:
            return Planned(Op.NOOP, f"internet gateway {current['id']}", outputs=outputs)
        return Planned(
            Op.UPDATE, f"internet gateway {current['id']}", before=before, after=after, reason="not attached", outputs=outputs
        )

    def apply(
        self, args: InternetGatewayArgs, planned: Planned, current: dict[str, Any] | None, ctx: ActionContext
    ) -> dict[str, Any]:
        ec2 = ctx.client("ec2")
        if planned.op is Op.DELETE:
            assert current is not None
            for vpc in current["attachedTo"]:
                retry_dependency(partial(ec2.detach_internet_gateway, InternetGatewayId=current["id"], VpcId=vpc), "igw")
            retry_dependency(partial(ec2.delete_internet_gateway, InternetGatewayId=current["id"]), "igw")
            return {}
        if current is None:
            igw = ec2.create_internet_gateway(
                TagSpecifications=tag_spec("internet-gateway", name_tags(args.cluster, RESOURCE, args.tags, ctx))
            )
            current = {"id": igw["InternetGateway"]["InternetGatewayId"], "attachedTo": []}
        if args.vpc_id not in current["attachedTo"]:
            ec2.attach_internet_gateway(InternetGatewayId=current["id"], VpcId=args.vpc_id)
        return {"id": current["id"]}
