"""``k8s.eniconfig``: one ENIConfig per Availability Zone for VPC CNI custom networking.

Each ENIConfig is named after its zone: with ``ENI_CONFIG_LABEL_DEF=topology.kubernetes.io/zone``
every node picks the one for its zone, and its pods get IPs from that ENIConfig's subnet.
The ENIConfig must exist before nodes in that zone launch, or their pods get no IPs.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from assistant.planning.plan import Op

from ..aws.eks_addon import ORDER_NOTE
from ..base import Action, ActionArgs, ActionContext, Planned
from ..common import State
from ..registry import register
from ._client import api_client, status_of
from .aws_node_env import active_cluster

GROUP = "crd.k8s.amazonaws.com"
VERSION = "v1alpha1"
PLURAL = "eniconfigs"
MANAGED_BY = "app.kubernetes.io/managed-by"


class EniConfigArgs(ActionArgs):
    """Arguments of ``k8s.eniconfig``."""

    cluster: str
    availability_zone: str = Field(alias="availabilityZone")
    subnet_id: str = Field(alias="subnetId")
    security_group_ids: list[str] = Field(default_factory=list, alias="securityGroupIds")
    state: State = "present"


def _body(args: EniConfigArgs, resource_version: str | None = None) -> dict[str, Any]:
    spec: dict[str, Any] = {"subnet": args.subnet_id}
    if args.security_group_ids:
        spec["securityGroups"] = list(args.security_group_ids)
    meta: dict[str, Any] = {"name": args.availability_zone, "labels": {MANAGED_BY: "eks-assist"}}
    if resource_version:
        meta["resourceVersion"] = resource_version
    return {"apiVersion": f"{GROUP}/{VERSION}", "kind": "ENIConfig", "metadata": meta, "spec": spec}


@register
class EniConfig(Action):
    """A cluster-scoped ENIConfig (crd.k8s.amazonaws.com/v1alpha1) named after its zone."""

    name = "k8s.eniconfig"
    summary = "ENIConfig per Availability Zone for VPC CNI custom networking (pod subnet and security groups)"
    Args = EniConfigArgs
    permissions = ("eks:DescribeCluster",)
    typical_seconds = 1.0

    def _api(self, ctx: ActionContext, cluster: dict[str, Any]) -> Any:
        import kubernetes.client

        return kubernetes.client.CustomObjectsApi(api_client(ctx, cluster))

    def read(self, args: EniConfigArgs, ctx: ActionContext) -> dict[str, Any] | None:
        cluster = active_cluster(ctx, args.cluster)
        if cluster is None:
            return None
        try:
            obj = self._api(ctx, cluster).get_cluster_custom_object(GROUP, VERSION, PLURAL, args.availability_zone)
        except Exception as exc:
            if status_of(exc) == 404:
                return None
            raise
        spec = obj.get("spec") or {}
        return {
            "subnet": spec.get("subnet"),
            "securityGroups": sorted(spec.get("securityGroups") or []),
            "ours": (obj.get("metadata", {}).get("labels") or {}).get(MANAGED_BY) == "eks-assist",
            "resourceVersion": obj.get("metadata", {}).get("resourceVersion"),
        }

    def plan(self, args: EniConfigArgs, current: dict[str, Any] | None, ctx: ActionContext) -> Planned:
        resource = f"eniconfig {args.availability_zone} in {args.cluster}"
        outputs = {"name": args.availability_zone}
        if args.state == "absent":
            if current is None or not current["ours"]:
                return Planned(Op.NOOP, resource, reason="already absent or not ours")
            return Planned(Op.DELETE, resource, before={"subnet": current["subnet"]}, reason="teardown")
        want = {"subnet": args.subnet_id, "securityGroups": sorted(args.security_group_ids)}
        if current is None:
            return Planned(Op.CREATE, resource, after=want, reason="not found", notes=[ORDER_NOTE], outputs=outputs)
        before = {"subnet": current["subnet"], "securityGroups": current["securityGroups"]}
        if before == want:
            return Planned(Op.NOOP, resource, outputs=outputs)
        diff = [k for k in want if want[k] != before[k]]
        return Planned(Op.UPDATE, resource, before=before, after=want, reason=f"{', '.join(diff)} differ", outputs=outputs)

    def apply(self, args: EniConfigArgs, planned: Planned, current: dict[str, Any] | None, ctx: ActionContext) -> dict[str, Any]:
        if planned.op is Op.NOOP:
            return dict(planned.outputs)
        cluster = active_cluster(ctx, args.cluster)
        if cluster is None:
            raise RuntimeError(f"cluster {args.cluster} is not ACTIVE; ENIConfigs cannot be created yet")
        api = self._api(ctx, cluster)
        if planned.op is Op.DELETE:
            try:
                api.delete_cluster_custom_object(GROUP, VERSION, PLURAL, args.availability_zone)
            except Exception as exc:
                if status_of(exc) != 404:
                    raise
            return {}
        if planned.op is Op.CREATE:
            try:
                api.create_cluster_custom_object(GROUP, VERSION, PLURAL, _body(args))
                return {"name": args.availability_zone}
            except Exception as exc:
                if status_of(exc) != 409:  # made by an earlier, interrupted run: update it below
                    raise
        latest = self.read(args, ctx)
        rv = latest["resourceVersion"] if latest else None
        api.replace_cluster_custom_object(GROUP, VERSION, PLURAL, args.availability_zone, _body(args, rv))
        return {"name": args.availability_zone}
