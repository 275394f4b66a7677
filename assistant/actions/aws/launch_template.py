"""``ec2.launch_template``: a launch template for a node group on a custom AMI.

EKS managed node groups take a custom AMI only through a launch template, and such nodes
must be told how to join the cluster. We write an AL2023 ``nodeadm`` NodeConfig as user
data, so the custom AMI must be AL2023-based (built from the EKS-optimized AL2023 image).
"""

from __future__ import annotations

import base64
from typing import Any

from pydantic import Field

from assistant.planning.plan import Op

from ... import tags as owntags
from ..base import Action, ActionArgs, ActionContext, Planned
from ..common import State, error_code, left_alone, owner, refuse_other_owner
from ..registry import register
from .ec2_common import tag_spec


class LaunchTemplateArgs(ActionArgs):
    """Arguments of ``ec2.launch_template``."""

    cluster: str
    name: str
    image_id: str | None = Field(default=None, alias="imageId")
    disk_size: int = Field(default=20, ge=1, le=16384, alias="diskSize")
    tags: dict[str, str] = Field(default_factory=dict)
    state: State = "present"


def nodeadm_user_data(cluster: str, endpoint: str, ca: str, service_cidr: str) -> str:
    """MIME multi-part user data with an AL2023 nodeadm NodeConfig."""
    return (
        'MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="BOUNDARY"\n\n--BOUNDARY\n'
        "Content-Type: application/node.eks.aws\n\n---\napiVersion: node.eks.aws/v1alpha1\nkind: NodeConfig\n"
        f"spec:\n  cluster:\n    name: {cluster}\n    apiServerEndpoint: {endpoint}\n"
        f"    certificateAuthority: {ca}\n    cidr: {service_cidr}\n\n--BOUNDARY--\n"
    )


@register
class LaunchTemplate(Action):
    """A launch template found by name and our tags."""

    name = "ec2.launch_template"
    summary = "EC2 launch template for a custom-AMI node group (AL2023 nodeadm user data)"
    Args = LaunchTemplateArgs
    permissions = (
        "ec2:DescribeLaunchTemplates",
        "ec2:DescribeLaunchTemplateVersions",
        "ec2:CreateLaunchTemplate",
        "ec2:CreateLaunchTemplateVersion",
        "ec2:DeleteLaunchTemplate",
    )

    def read(self, args: LaunchTemplateArgs, ctx: ActionContext) -> dict[str, Any] | None:
        ec2 = ctx.client("ec2")
        try:
            lts = ec2.describe_launch_templates(LaunchTemplateNames=[args.name])["LaunchTemplates"]
        except Exception as exc:
            if error_code(exc) in ("InvalidLaunchTemplateName.NotFoundException", "InvalidLaunchTemplateId.NotFound"):
                return None
            raise
        if not lts:
            return None
        lt = lts[0]
        ver = ec2.describe_launch_template_versions(LaunchTemplateId=lt["LaunchTemplateId"], Versions=["$Latest"])[
            "LaunchTemplateVersions"
        ][0]
        data = ver.get("LaunchTemplateData", {})
        disks = data.get("BlockDeviceMappings") or [{}]
        return {
            "id": lt["LaunchTemplateId"],
            "version": str(ver["VersionNumber"]),
            "imageId": data.get("ImageId"),
            "diskSize": (disks[0].get("Ebs") or {}).get("VolumeSize"),
            "tags": owntags.from_aws_list(lt.get("Tags")),
        }

    def _data(self, args: LaunchTemplateArgs, ctx: ActionContext) -> dict[str, Any]:
        data: dict[str, Any] = {
            "ImageId": args.image_id,
            "BlockDeviceMappings": [{"DeviceName": "/dev/xvda", "Ebs": {"VolumeSize": args.disk_size, "VolumeType": "gp3"}}],
            "MetadataOptions": {"HttpTokens": "required", "HttpPutResponseHopLimit": 2},
        }
        # The node must know the cluster it joins; the step runs after the cluster is ACTIVE.
        c = ctx.client("eks").describe_cluster(name=args.cluster)["cluster"]
        ud = nodeadm_user_data(
            args.cluster,
            c.get("endpoint", ""),
            (c.get("certificateAuthority") or {}).get("data", ""),
            (c.get("kubernetesNetworkConfig") or {}).get("serviceIpv4Cidr", "10.100.0.0/16"),
        )
        data["UserData"] = base64.b64encode(ud.encode()).decode()
        return data

    def plan(self, args: LaunchTemplateArgs, current: dict[str, Any] | None, ctx: ActionContext) -> Planned:
        resource = f"launch template {args.name}"
        if args.state == "absent":
            if current is None:
                return Planned(Op.NOOP, resource, reason="already absent")
            mine = owner(args.cluster, ctx)
            if not owntags.is_ours(current["tags"], mine):
                return Planned(Op.NOOP, resource, notes=[left_alone(current["tags"], mine)])
            return Planned(Op.DELETE, resource, before={"id": current["id"], "imageId": current["imageId"]}, reason="teardown")
        after = {"imageId": args.image_id, "diskSize": args.disk_size}
        if current is None:
            return Planned(
                Op.CREATE,
                resource,
                after=after,
                reason="not found",
                outputs={"id": ctx.unknown("id"), "version": ctx.unknown("version")},
                notes=["custom AMI must be AL2023-based: nodes join with nodeadm user data"],
            )
        outputs = {"id": current["id"], "version": current["version"]}
        before = {"imageId": current["imageId"], "diskSize": current["diskSize"]}
        mine = owner(args.cluster, ctx)
        if owntags.owner_of(current["tags"], mine) is owntags.Ownership.OTHER:
            refuse_other_owner(resource, current["tags"], mine)
        if not owntags.is_ours(current["tags"], mine):
            return Planned(
                Op.NOOP, resource, notes=["exists and was not created by eks-assist: used as is, not modified"], outputs=outputs
            )
        if before == after:
            return Planned(Op.NOOP, resource, outputs=outputs)
        return Planned(
            Op.REPLACE,
            resource,
            before=before,
            after=after,
            reason="a new template version would need a node group rollout, which is not automated",
            outputs=outputs,
        )

    def apply(
        self, args: LaunchTemplateArgs, planned: Planned, current: dict[str, Any] | None, ctx: ActionContext
    ) -> dict[str, Any]:
        ec2 = ctx.client("ec2")
        if planned.op is Op.DELETE:
            assert current is not None
            ec2.delete_launch_template(LaunchTemplateId=current["id"])
            return {}
        tags = {**args.tags, "Name": args.name, **owntags.ownership(owner(args.cluster, ctx), f"launch-template/{args.name}")}
        try:
            lt = ec2.create_launch_template(
                LaunchTemplateName=args.name,
                LaunchTemplateData=self._data(args, ctx),
                TagSpecifications=tag_spec("launch-template", tags),
                ClientToken=ctx.client_token(),
            )["LaunchTemplate"]
        except Exception as exc:
            if error_code(exc) != "InvalidLaunchTemplateName.AlreadyExistsException":
                raise
            found = self.read(args, ctx)
            assert found is not None
            return {"id": found["id"], "version": found["version"]}
        return {"id": lt["LaunchTemplateId"], "version": str(lt["LatestVersionNumber"])}
