"""``ec2.route_table``: a route table with a default route to the internet gateway,
associated with the cluster subnets."""

from __future__ import annotations

from functools import partial
from typing import Any

from pydantic import Field

from assistant.planning.plan import Op

from ..base import Action, ActionArgs, ActionContext, Planned
from ..common import State, Str, StrList
from ..registry import register
from .ec2_common import keep_ours, name_tags, owned_filters, retry_dependency, tag_spec

RESOURCE = "public-rt"


class RouteTableArgs(ActionArgs):
    """Arguments of ``ec2.route_table``."""

    cluster: str
    vpc_id: Str | None = Field(default=None, alias="vpcId")
    gateway_id: Str | None = Field(default=None, alias="gatewayId")
    subnet_ids: StrList = Field(default_factory=list, alias="subnetIds")
    tags: dict[str, str] = Field(default_factory=dict)
    state: State = "present"


@register
class RouteTable(Action):
    """A public route table found by our tags."""

    name = "ec2.route_table"
    summary = "route table: 0.0.0.0/0 to the internet gateway, associated with the subnets"
    Args = RouteTableArgs
    permissions = (
        "ec2:DescribeRouteTables",
        "ec2:CreateRouteTable",
        "ec2:CreateRoute",
        "ec2:AssociateRouteTable",
        "ec2:DisassociateRouteTable",
        "ec2:DeleteRouteTable",
    )

    def read(self, args: RouteTableArgs, ctx: ActionContext) -> dict[str, Any] | None:
        rts = keep_ours(
            ctx.client("ec2").describe_route_tables(Filters=owned_filters(args.cluster, RESOURCE))["RouteTables"],
            args.cluster,
            ctx,
        )
        if not rts:
            return None
        rt = sorted(rts, key=lambda r: r["RouteTableId"])[0]
        default = next((r.get("GatewayId") for r in rt.get("Routes", []) if r.get("DestinationCidrBlock") == "0.0.0.0/0"), None)
        assoc = {a["SubnetId"]: a["RouteTableAssociationId"] for a in rt.get("Associations", []) if a.get("SubnetId")}
        return {"id": rt["RouteTableId"], "defaultRoute": default, "associations": assoc}

    def plan(self, args: RouteTableArgs, current: dict[str, Any] | None, ctx: ActionContext) -> Planned:
        resource = f"route table {args.cluster}-{RESOURCE}"
        if args.state == "absent":
            if current is None:
                return Planned(Op.NOOP, resource, reason="already absent")
            return Planned(
                Op.DELETE,
                f"route table {current['id']}",
                before={"id": current["id"], "subnets": sorted(current["associations"])},
                reason="teardown",
            )
        subnets = sorted(args.subnet_ids) if isinstance(args.subnet_ids, list) else args.subnet_ids
        after = {"defaultRoute": args.gateway_id, "subnets": subnets}
        if current is None:
            return Planned(Op.CREATE, resource, after=after, reason="not found", outputs={"id": ctx.unknown("id")})
        before = {"defaultRoute": current["defaultRoute"], "subnets": sorted(current["associations"])}
        outputs = {"id": current["id"]}
        if before == after:
            return Planned(Op.NOOP, f"route table {current['id']}", outputs=outputs)
        return Planned(
            Op.UPDATE,
            f"route table {current['id']}",
            before=before,
            after=after,
            reason="routes or associations differ",
            outputs=outputs,
        )

    def apply(self, args: RouteTableArgs, planned: Planned, current: dict[str, Any] | None, ctx: ActionContext) -> dict[str, Any]:
        ec2 = ctx.client("ec2")
        if planned.op is Op.DELETE:
            assert current is not None
            for assoc in current["associations"].values():
                retry_dependency(partial(ec2.disassociate_route_table, AssociationId=assoc), "route table association")
            retry_dependency(partial(ec2.delete_route_table, RouteTableId=current["id"]), "route table")
            return {}
        if current is None:
            rt = ec2.create_route_table(
                VpcId=args.vpc_id, TagSpecifications=tag_spec("route-table", name_tags(args.cluster, RESOURCE, args.tags, ctx))
            )
            current = {"id": rt["RouteTable"]["RouteTableId"], "defaultRoute": None, "associations": {}}
        if current["defaultRoute"] != args.gateway_id:
            if current["defaultRoute"] is None:
                ec2.create_route(RouteTableId=current["id"], DestinationCidrBlock="0.0.0.0/0", GatewayId=args.gateway_id)
            else:
                ec2.replace_route(RouteTableId=current["id"], DestinationCidrBlock="0.0.0.0/0", GatewayId=args.gateway_id)
        assert isinstance(args.subnet_ids, list)
        for sid in args.subnet_ids:
            if sid not in current["associations"]:
                ec2.associate_route_table(RouteTableId=current["id"], SubnetId=sid)
        return {"id": current["id"]}
