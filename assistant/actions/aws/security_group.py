"""``ec2.security_group``: an extra control-plane security group that allows traffic
between its own members (EKS also creates its own cluster security group)."""

from __future__ import annotations

from functools import partial
from typing import Any

from pydantic import Field

from assistant.planning.plan import Op

from ..base import Action, ActionArgs, ActionContext, Planned
from ..common import State, Str
from ..registry import register
from .ec2_common import keep_ours, name_tags, owned_filters, retry_dependency, tag_spec

RESOURCE = "control-plane-sg"


class SecurityGroupArgs(ActionArgs):
    """Arguments of ``ec2.security_group``."""

    cluster: str
    vpc_id: Str | None = Field(default=None, alias="vpcId")
    description: str = "eks-assist: EKS control plane communication"
    tags: dict[str, str] = Field(default_factory=dict)
    state: State = "present"


@register
class SecurityGroup(Action):
    """A security group found by our tags, with a self-referencing ingress rule."""

    name = "ec2.security_group"
    summary = "control-plane security group (members may talk to each other)"
    Args = SecurityGroupArgs
    permissions = (
        "ec2:DescribeSecurityGroups",
        "ec2:CreateSecurityGroup",
        "ec2:AuthorizeSecurityGroupIngress",
        "ec2:DeleteSecurityGroup",
    )

    def read(self, args: SecurityGroupArgs, ctx: ActionContext) -> dict[str, Any] | None:
        sgs = keep_ours(
            ctx.client("ec2").describe_security_groups(Filters=owned_filters(args.cluster, RESOURCE))["SecurityGroups"],
            args.cluster,
            ctx,
        )
        if not sgs:
            return None
        sg = sorted(sgs, key=lambda g: g["GroupId"])[0]
        self_ref = any(
            pair.get("GroupId") == sg["GroupId"]
            for perm in sg.get("IpPermissions", [])
            for pair in perm.get("UserIdGroupPairs", [])
        )
        return {"id": sg["GroupId"], "vpcId": sg.get("VpcId"), "selfIngress": self_ref}

    def plan(self, args: SecurityGroupArgs, current: dict[str, Any] | None, ctx: ActionContext) -> Planned:
        resource = f"security group {args.cluster}-{RESOURCE}"
        if args.state == "absent":
            if current is None:
                return Planned(Op.NOOP, resource, reason="already absent")
            return Planned(Op.DELETE, f"security group {current['id']}", before={"id": current["id"]}, reason="teardown")
        after = {"vpcId": args.vpc_id, "selfIngress": True}
        if current is None:
            return Planned(
                Op.CREATE, resource, after=after, reason="not found", outputs={"id": ctx.unknown("id"), "ids": ctx.unknown("ids")}
            )
        before = {"vpcId": current["vpcId"], "selfIngress": current["selfIngress"]}
        outputs = {"id": current["id"], "ids": [current["id"]]}
        if before == after:
            return Planned(Op.NOOP, f"security group {current['id']}", outputs=outputs)
        if before["vpcId"] != after["vpcId"]:
            return Planned(
                Op.REPLACE,
                f"security group {current['id']}",
                before=before,
                after=after,
                reason="vpc cannot change",
                outputs=outputs,
            )
        return Planned(
            Op.UPDATE,
            f"security group {current['id']}",
            before=before,
            after=after,
            reason="ingress rule missing",
            outputs=outputs,
        )

    def apply(
        self, args: SecurityGroupArgs, planned: Planned, current: dict[str, Any] | None, ctx: ActionContext
    ) -> dict[str, Any]:
        ec2 = ctx.client("ec2")
        if planned.op is Op.DELETE:
            assert current is not None
            retry_dependency(partial(ec2.delete_security_group, GroupId=current["id"]), "security group")
            return {}
        if current is None:
            sg = ec2.create_security_group(
                GroupName=f"{args.cluster}-{RESOURCE}",
                Description=args.description,
                VpcId=args.vpc_id,
                TagSpecifications=tag_spec("security-group", name_tags(args.cluster, RESOURCE, args.tags, ctx)),
            )
            current = {"id": sg["GroupId"], "selfIngress": False}
        if not current["selfIngress"]:
            try:
                ec2.authorize_security_group_ingress(
                    GroupId=current["id"], IpPermissions=[{"IpProtocol": "-1", "UserIdGroupPairs": [{"GroupId": current["id"]}]}]
                )
            except Exception as exc:
                from ..common import error_code

                if error_code(exc) != "InvalidPermission.Duplicate":
                    raise
        return {"id": current["id"], "ids": [current["id"]]}
