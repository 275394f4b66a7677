"""``eks.nodegroup``: a managed node group ("workers"): create, scale/relabel in place, wait, delete."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from assistant.planning.plan import Op
from assistant.run.waiting import WaitFailed, poll_until

from ... import tags as owntags
from ..base import Action, ActionArgs, ActionContext, Planned
from ..common import (
    State,
    Str,
    StrList,
    compare,
    error_code,
    left_alone,
    or_none,
    owner,
    refuse_other_owner,
    sorted_list,
    user_tags,
)
from ..registry import register

REPLACE_FIELDS = ("nodeRoleArn", "subnetIds", "instanceTypes", "amiType", "capacityType", "diskSize", "launchTemplate")


class Scaling(BaseModel):
    """Scaling bounds of a node group."""

    model_config = ConfigDict(extra="forbid")
    min: int = Field(ge=0)
    desired: int = Field(ge=0)
    max: int = Field(ge=1)


class Taint(BaseModel):
    """A Kubernetes taint in EKS's API form."""

    model_config = ConfigDict(extra="forbid")
    key: str
    value: str | None = None
    effect: str


class LaunchTemplateRef(BaseModel):
    """A launch template by id and version."""

    model_config = ConfigDict(extra="forbid", arbitrary_types_allowed=True)
    id: Str
    version: Str


class EksNodegroupArgs(ActionArgs):
    """Arguments of ``eks.nodegroup``."""

    cluster: str
    name: str
    node_role_arn: Str | None = Field(default=None, alias="nodeRoleArn")
    subnet_ids: StrList | None = Field(default=None, alias="subnetIds")
    instance_types: list[str] = Field(default_factory=list, alias="instanceTypes")
    ami_type: str | None = Field(default=None, alias="amiType")
    capacity_type: str = Field(default="ON_DEMAND", alias="capacityType")
    scaling: Scaling | None = None
    disk_size: int | None = Field(default=None, alias="diskSize")
    labels: dict[str, str] = Field(default_factory=dict)
    taints: list[Taint] = Field(default_factory=list)
    launch_template: LaunchTemplateRef | None = Field(default=None, alias="launchTemplate")
    tags: dict[str, str] = Field(default_factory=dict)
    state: State = "present"


def _taint_key(t: dict[str, Any]) -> str:
    return f"{t['key']}={t.get('value') or ''}:{t['effect']}"


@register
class EksNodegroup(Action):
    """A managed node group we own; immutable fields changing means replacement (not automated)."""

    name = "eks.nodegroup"
    summary = "EKS managed node group: create, update scaling/labels/taints, wait until ACTIVE, delete"
    Args = EksNodegroupArgs
    permissions = (
        "eks:DescribeNodegroup",
        "eks:CreateNodegroup",
        "eks:UpdateNodegroupConfig",
        "eks:DeleteNodegroup",
        "eks:TagResource",
        "eks:DescribeCluster",
        "iam:PassRole",
    )
    typical_seconds = 180.0

    def read(self, args: EksNodegroupArgs, ctx: ActionContext) -> dict[str, Any] | None:
        ng = or_none(lambda: ctx.client("eks").describe_nodegroup(clusterName=args.cluster, nodegroupName=args.name)["nodegroup"])
        if ng is None:
            return None
        sc = ng.get("scalingConfig", {})
        lt = ng.get("launchTemplate")
        return {
            "name": ng["nodegroupName"],
            "arn": ng["nodegroupArn"],
            "status": ng.get("status"),
            "nodeRoleArn": ng.get("nodeRole"),
            "subnetIds": sorted(ng.get("subnets", [])),
            "instanceTypes": list(ng.get("instanceTypes") or []),
            "amiType": ng.get("amiType"),
            "capacityType": ng.get("capacityType", "ON_DEMAND"),
            "scaling": {"min": sc.get("minSize"), "desired": sc.get("desiredSize"), "max": sc.get("maxSize")},
            "diskSize": ng.get("diskSize"),
            "labels": dict(ng.get("labels") or {}),
            "taints": sorted((_taint_key(t) for t in ng.get("taints") or []), key=str),
            "launchTemplate": {"id": lt.get("id"), "version": str(lt.get("version"))} if lt else None,
            "tags": user_tags(ng.get("tags")),
            "health": [i.get("message", "") for i in (ng.get("health") or {}).get("issues", [])],
        }

    def _cluster_subnets(self, args: EksNodegroupArgs, ctx: ActionContext) -> Any:
        try:
            c = ctx.client("eks").describe_cluster(name=args.cluster)["cluster"]
        except Exception as exc:
            if error_code(exc) == "ResourceNotFoundException":
                return ctx.unknown("subnetIds")
            raise
        return sorted(c.get("resourcesVpcConfig", {}).get("subnetIds", []))

    def _desired_tags(self, args: EksNodegroupArgs, ctx: ActionContext) -> dict[str, str]:
        return {**args.tags, **owntags.ownership(owner(args.cluster, ctx), f"nodegroup/{args.name}")}

    def _desired(self, args: EksNodegroupArgs, ctx: ActionContext) -> dict[str, Any]:
        subnets = args.subnet_ids if args.subnet_ids else self._cluster_subnets(args, ctx)
        custom = args.launch_template is not None
        return {
            "nodeRoleArn": args.node_role_arn,
            "subnetIds": sorted_list(subnets),
            "instanceTypes": list(args.instance_types),
            "amiType": "CUSTOM" if custom else args.ami_type,
            "capacityType": args.capacity_type,
            "scaling": args.scaling.model_dump() if args.scaling else None,
            "diskSize": None if custom else (args.disk_size or 20),
            "labels": dict(args.labels),
            "taints": sorted(_taint_key(t.model_dump()) for t in args.taints),
            "launchTemplate": args.launch_template.model_dump() if args.launch_template else None,
            "tags": self._desired_tags(args, ctx),
        }

    def plan(self, args: EksNodegroupArgs, current: dict[str, Any] | None, ctx: ActionContext) -> Planned:
        resource = f"node group {args.cluster}/{args.name}"
        if args.state == "absent":
            if current is None:
                return Planned(Op.NOOP, resource, reason="already absent")
            mine = owner(args.cluster, ctx)
            if not owntags.is_ours(current["tags"], mine):
                return Planned(Op.NOOP, resource, notes=[left_alone(current["tags"], mine)])
            return Planned(
                Op.DELETE,
                resource,
                before={"instanceTypes": current["instanceTypes"], "scaling": current["scaling"]},
                reason="teardown",
            )
        desired = self._desired(args, ctx)
        arn_unknown = ctx.unknown("arn")
        if current is None:
            return Planned(
                Op.CREATE, resource, after=desired, reason="not found", outputs={"name": args.name, "arn": arn_unknown}
            )
        outputs = {"name": args.name, "arn": current["arn"]}
        mine = owner(args.cluster, ctx)
        if owntags.owner_of(current["tags"], mine) is owntags.Ownership.OTHER:
            refuse_other_owner(resource, current["tags"], mine)
        if not owntags.is_ours(current["tags"], mine):
            return Planned(
                Op.NOOP, resource, notes=["exists and was not created by eks-assist: used as is, not modified"], outputs=outputs
            )
        before = {k: current[k] for k in desired}
        after = dict(desired)
        after["tags"] = {**current["tags"], **desired["tags"]}
        if current["amiType"] and desired["amiType"] is None:
            after["amiType"] = current["amiType"]
        if current["status"] == "CREATE_FAILED":
            # EKS never retries a failed node group and accepts no update to it: only a new one
            # will do. Planning it as unchanged would call a broken group converged.
            detail = "; ".join(current["health"]) or "no detail from EKS"
            return Planned(
                Op.REPLACE,
                resource,
                before={**before, "status": "CREATE_FAILED"},
                after={**after, "status": "ACTIVE"},
                reason=f"it is CREATE_FAILED ({detail}); delete it, then apply again",
                outputs=outputs,
            )
        planned = compare(resource, before, after, REPLACE_FIELDS, "node group", outputs)
        return planned

    def apply(
        self, args: EksNodegroupArgs, planned: Planned, current: dict[str, Any] | None, ctx: ActionContext
    ) -> dict[str, Any]:
        eks = ctx.client("eks")
        if planned.op is Op.DELETE:
            try:
                if current and current["status"] != "DELETING":
                    eks.delete_nodegroup(clusterName=args.cluster, nodegroupName=args.name)
            except Exception as exc:
                if error_code(exc) != "ResourceNotFoundException":
                    raise
            return {}
        after = planned.after or {}
        if planned.op is Op.CREATE:
            req: dict[str, Any] = {
                "clusterName": args.cluster,
                "nodegroupName": args.name,
                "nodeRole": args.node_role_arn,
                "subnets": after["subnetIds"],
                "instanceTypes": args.instance_types,
                "capacityType": args.capacity_type,
                "labels": args.labels,
                "tags": self._desired_tags(args, ctx),
                "clientRequestToken": ctx.client_token(),
            }
            if args.scaling:
                req["scalingConfig"] = {
                    "minSize": args.scaling.min,
                    "desiredSize": args.scaling.desired,
                    "maxSize": args.scaling.max,
                }
            if args.taints:
                req["taints"] = [t.model_dump(exclude_none=True) for t in args.taints]
            if args.launch_template:
                req["launchTemplate"] = {"id": args.launch_template.id, "version": args.launch_template.version}
            else:
                req["diskSize"] = args.disk_size or 20
                if args.ami_type:
                    req["amiType"] = args.ami_type
            try:
                eks.create_nodegroup(**req)
            except Exception as exc:
                if error_code(exc) != "ResourceInUseException" or self.read(args, ctx) is None:
                    raise
            return {"name": args.name}
        assert current is not None
        update: dict[str, Any] = {}
        if after["scaling"] != current["scaling"] and args.scaling:
            update["scalingConfig"] = {
                "minSize": args.scaling.min,
                "desiredSize": args.scaling.desired,
                "maxSize": args.scaling.max,
            }
        if after["labels"] != current["labels"]:
            update["labels"] = {
                "addOrUpdateLabels": {k: v for k, v in args.labels.items() if current["labels"].get(k) != v},
                "removeLabels": sorted(set(current["labels"]) - set(args.labels)),
            }
        if after["taints"] != current["taints"]:
            want = {_taint_key(t.model_dump()): t.model_dump(exclude_none=True) for t in args.taints}
            ng = eks.describe_nodegroup(clusterName=args.cluster, nodegroupName=args.name)["nodegroup"]
            have = {_taint_key(t): t for t in ng.get("taints") or []}
            update["taints"] = {
                "addOrUpdateTaints": [want[k] for k in sorted(set(want) - set(have))],
                "removeTaints": [have[k] for k in sorted(set(have) - set(want))],
            }
        if update:
            eks.update_nodegroup_config(
                clusterName=args.cluster, nodegroupName=args.name, clientRequestToken=ctx.client_token("config"), **update
            )
        missing_tags = {k: v for k, v in self._desired_tags(args, ctx).items() if current["tags"].get(k) != v}
        if missing_tags:
            eks.tag_resource(resourceArn=current["arn"], tags=missing_tags)
        return {"name": args.name}

    def wait(self, args: EksNodegroupArgs, outputs: dict[str, Any], ctx: ActionContext) -> dict[str, Any]:
        what = f"node group {args.name}"
        if args.state == "absent":
            current = self.read(args, ctx)
            if current is None or not owntags.is_ours(current["tags"], owner(args.cluster, ctx)):
                return {}

            def gone() -> tuple[bool, str]:
                ng = self.read(args, ctx)
                if ng is None:
                    return True, "deleted"
                if ng["status"] == "DELETE_FAILED":
                    raise WaitFailed(f"{what}: DELETE_FAILED: {'; '.join(ng['health'])}")
                return False, ng["status"]

            poll_until(gone, ctx, f"{what} deleting", 180.0)
            return {}
        seen: dict[str, Any] = {}

        def active() -> tuple[bool, str]:
            ng = self.read(args, ctx)
            if ng is None:
                raise WaitFailed(f"{what} disappeared")
            seen.update(ng)
            if ng["status"] in ("CREATE_FAILED", "DEGRADED"):
                raise WaitFailed(f"{what}: {ng['status']}: {'; '.join(ng['health']) or 'no detail from EKS'}")
            return ng["status"] == "ACTIVE", ng["status"]

        poll_until(active, ctx, what, self.typical_seconds)
        return {"name": args.name, "arn": seen["arn"]}
