"""``eks.cluster``: the EKS control plane ("masters"): create, update in place, wait, delete."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from assistant.planning.plan import Op
from assistant.run.waiting import WaitFailed, poll_until

from ... import tags as owntags
from ...errors import InputError
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

AUTH_MODES = ("CONFIG_MAP", "API_AND_CONFIG_MAP", "API")
REPLACE_FIELDS = ("roleArn", "subnetIds", "securityGroupIds", "serviceCidr", "kmsKeyArn")
CONFIG_FIELDS = ("endpointPublicAccess", "endpointPrivateAccess", "publicAccessCidrs")


class EksClusterArgs(ActionArgs):
    """Arguments of ``eks.cluster``."""

    name: str
    version: str | None = None
    role_arn: Str | None = Field(default=None, alias="roleArn")
    subnet_ids: StrList = Field(default_factory=list, alias="subnetIds")
    security_group_ids: StrList = Field(default_factory=list, alias="securityGroupIds")
    endpoint_public_access: bool = Field(default=True, alias="endpointPublicAccess")
    endpoint_private_access: bool = Field(default=False, alias="endpointPrivateAccess")
    public_access_cidrs: list[str] = Field(default_factory=lambda: ["0.0.0.0/0"], alias="publicAccessCidrs")
    logging: list[str] = Field(default_factory=list)
    kms_key_arn: str | None = Field(default=None, alias="kmsKeyArn")
    authentication_mode: str = Field(default="API_AND_CONFIG_MAP", alias="authenticationMode")
    service_cidr: str | None = Field(default=None, alias="serviceCidr")
    tags: dict[str, str] = Field(default_factory=dict)
    state: State = "present"


def _minor(version: str) -> tuple[int, int]:
    major, minor = version.split(".")[:2]
    return int(major), int(minor)


@register
class EksCluster(Action):
    """An EKS cluster we own: created with a client request token, updated in place where EKS allows."""

    name = "eks.cluster"
    summary = "EKS control plane: create, update version/logging/endpoint access, wait until ACTIVE, delete"
    Args = EksClusterArgs
    permissions = (
        "eks:DescribeCluster",
        "eks:CreateCluster",
        "eks:UpdateClusterConfig",
        "eks:UpdateClusterVersion",
        "eks:TagResource",
        "eks:DeleteCluster",
        "eks:ListNodegroups",
        "eks:DeleteNodegroup",
        "iam:PassRole",
    )
    typical_seconds = 600.0

    # -- read ------------------------------------------------------------------------
    def read(self, args: EksClusterArgs, ctx: ActionContext) -> dict[str, Any] | None:
        c = or_none(lambda: ctx.client("eks").describe_cluster(name=args.name)["cluster"])
        if c is None:
            return None
        vpc = c.get("resourcesVpcConfig", {})
        public = vpc.get("endpointPublicAccess", True)
        logging = sorted(
            t
            for entry in (c.get("logging") or {}).get("clusterLogging", [])
            if entry.get("enabled")
            for t in entry.get("types", [])
        )
        enc = c.get("encryptionConfig") or []
        kms = enc[0].get("provider", {}).get("keyArn") if enc else None
        return {
            "name": c["name"],
            "arn": c["arn"],
            "status": c.get("status"),
            "version": c.get("version"),
            "roleArn": c.get("roleArn"),
            "subnetIds": sorted(vpc.get("subnetIds", [])),
            "securityGroupIds": sorted(vpc.get("securityGroupIds", [])),
            "clusterSecurityGroupId": vpc.get("clusterSecurityGroupId"),
            "vpcId": vpc.get("vpcId"),
            "endpointPublicAccess": vpc.get("endpointPublicAccess", True),
            "endpointPrivateAccess": vpc.get("endpointPrivateAccess", False),
            # EKS reports 0.0.0.0/0 even with the public endpoint off; the CIDRs only mean something when it is on.
            "publicAccessCidrs": sorted(vpc.get("publicAccessCidrs", ["0.0.0.0/0"])) if public else None,
            "logging": logging,
            "kmsKeyArn": kms,
            "authenticationMode": (c.get("accessConfig") or {}).get("authenticationMode", "CONFIG_MAP"),
            "serviceCidr": (c.get("kubernetesNetworkConfig") or {}).get("serviceIpv4Cidr"),
            "tags": user_tags(c.get("tags")),
            "endpoint": c.get("endpoint"),
            "certificateAuthority": (c.get("certificateAuthority") or {}).get("data"),
        }

    # -- plan ------------------------------------------------------------------------
    def _desired_tags(self, args: EksClusterArgs, ctx: ActionContext) -> dict[str, str]:
        return {**args.tags, **owntags.ownership(owner(args.name, ctx), "eks-cluster")}

    def _desired(self, args: EksClusterArgs, ctx: ActionContext) -> dict[str, Any]:
        return {
            "version": args.version,
            "roleArn": args.role_arn,
            "subnetIds": sorted_list(args.subnet_ids),
            "securityGroupIds": sorted_list(args.security_group_ids),
            "endpointPublicAccess": args.endpoint_public_access,
            "endpointPrivateAccess": args.endpoint_private_access,
            "publicAccessCidrs": sorted(args.public_access_cidrs or ["0.0.0.0/0"]) if args.endpoint_public_access else None,
            "logging": sorted(args.logging),
            "kmsKeyArn": args.kms_key_arn,
            "authenticationMode": args.authentication_mode,
            "serviceCidr": args.service_cidr,
            "tags": self._desired_tags(args, ctx),
        }

    @staticmethod
    def outputs_of(c: dict[str, Any]) -> dict[str, Any]:
        return {
            "name": c["name"],
            "arn": c["arn"],
            "endpoint": c.get("endpoint"),
            "certificateAuthority": c.get("certificateAuthority"),
            "version": c.get("version"),
            "clusterSecurityGroupId": c.get("clusterSecurityGroupId"),
            "vpcId": c.get("vpcId"),
            "subnetIds": c.get("subnetIds"),
            "serviceCidr": c.get("serviceCidr"),
        }

    def plan(self, args: EksClusterArgs, current: dict[str, Any] | None, ctx: ActionContext) -> Planned:
        resource = f"EKS cluster {args.name}"
        if args.state == "absent":
            if current is None:
                return Planned(Op.NOOP, resource, reason="already absent")
            mine = owner(args.name, ctx)
            if not owntags.is_ours(current["tags"], mine):
                return Planned(Op.NOOP, resource, notes=[left_alone(current["tags"], mine)])
            notes = self._nodegroup_notes(args, ctx)
            before = {"version": current["version"], "arn": current["arn"]}
            return Planned(Op.DELETE, resource, before=before, reason="teardown", notes=notes)
        desired = self._desired(args, ctx)
        if current is None:
            arn = f"arn:aws:eks:{ctx.region}:{ctx.account}:cluster/{args.name}"
            outputs = {
                "name": args.name,
                "arn": arn,
                "version": args.version,
                **{
                    k: ctx.unknown(k)
                    for k in ("endpoint", "certificateAuthority", "clusterSecurityGroupId", "vpcId", "serviceCidr")
                },
                "subnetIds": desired["subnetIds"],
            }
            return Planned(Op.CREATE, resource, after=desired, reason="not found", outputs=outputs)
        outputs = self.outputs_of(current)
        mine = owner(args.name, ctx)
        if owntags.owner_of(current["tags"], mine) is owntags.Ownership.OTHER:
            refuse_other_owner(resource, current["tags"], mine)
        if not owntags.is_ours(current["tags"], mine):
            return Planned(
                Op.NOOP, resource, notes=["exists and was not created by eks-assist: used as is, not modified"], outputs=outputs
            )
        before = {k: current[k] for k in desired}
        after = dict(desired)
        # Fields the user left to EKS's defaults are compared against what EKS chose.
        if args.service_cidr is None:
            after["serviceCidr"] = current["serviceCidr"]
        if not args.security_group_ids:
            after["securityGroupIds"] = current["securityGroupIds"]
        after["tags"] = {**current["tags"], **desired["tags"]}
        if args.version is None:
            after["version"] = current["version"]
        if after != before:
            self._check_allowed(args, current)
        planned = compare(resource, before, after, REPLACE_FIELDS, "cluster", outputs)
        return planned

    def _check_allowed(self, args: EksClusterArgs, current: dict[str, Any]) -> None:
        if args.version and current["version"] and args.version != current["version"]:
            have, want = _minor(current["version"]), _minor(args.version)
            if want < have:
                raise InputError(
                    f"masters.version: EKS cannot downgrade cluster {args.name} from {current['version']} to {args.version}"
                )
            if want[0] != have[0] or want[1] - have[1] > 1:
                raise InputError(
                    f"masters.version: EKS upgrades one minor version at a time: {current['version']} -> "
                    f"{have[0]}.{have[1] + 1} first, not straight to {args.version}"
                )
        cur_mode = current["authenticationMode"]
        if args.authentication_mode != cur_mode and AUTH_MODES.index(args.authentication_mode) < AUTH_MODES.index(cur_mode):
            raise InputError(
                f"masters.authenticationMode: cannot go back from {cur_mode} to {args.authentication_mode}; "
                "EKS only moves CONFIG_MAP -> API_AND_CONFIG_MAP -> API"
            )

    def _nodegroup_notes(self, args: EksClusterArgs, ctx: ActionContext) -> list[str]:
        eks = ctx.client("eks")
        names = [n for page in eks.get_paginator("list_nodegroups").paginate(clusterName=args.name) for n in page["nodegroups"]]
        foreign = []
        for n in names:
            ng = eks.describe_nodegroup(clusterName=args.name, nodegroupName=n)["nodegroup"]
            if not owntags.is_ours(ng.get("tags"), owner(args.name, ctx)):
                foreign.append(n)
        notes = []
        if names:
            notes.append(f"node groups still in the cluster (deleted first): {', '.join(sorted(names))}")
        if foreign:
            notes.append(
                f"node groups not created by eks-assist block deletion: {', '.join(sorted(foreign))}; delete them yourself first"
            )
        return notes

    # -- apply -----------------------------------------------------------------------
    def apply(self, args: EksClusterArgs, planned: Planned, current: dict[str, Any] | None, ctx: ActionContext) -> dict[str, Any]:
        eks = ctx.client("eks")
        if planned.op is Op.DELETE:
            self._delete(args, ctx)
            return {}
        if planned.op is Op.CREATE:
            self._create(args, ctx)
            return {"name": args.name}
        assert current is not None
        after = planned.after or {}
        if after.get("version") != current["version"]:
            eks.update_cluster_version(name=args.name, version=args.version, clientRequestToken=ctx.client_token("version"))
            self._wait_active(args, ctx, "upgrading")
        if any(after[k] != current[k] for k in CONFIG_FIELDS):
            eks.update_cluster_config(
                name=args.name,
                resourcesVpcConfig={
                    "endpointPublicAccess": args.endpoint_public_access,
                    "endpointPrivateAccess": args.endpoint_private_access,
                    **({"publicAccessCidrs": args.public_access_cidrs or ["0.0.0.0/0"]} if args.endpoint_public_access else {}),
                },
                clientRequestToken=ctx.client_token("endpoint"),
            )
            self._wait_active(args, ctx, "updating endpoint access")
        if after["logging"] != current["logging"]:
            eks.update_cluster_config(
                name=args.name, logging=self._logging(args, current["logging"]), clientRequestToken=ctx.client_token("logging")
            )
            self._wait_active(args, ctx, "updating logging")
        if after["authenticationMode"] != current["authenticationMode"]:
            eks.update_cluster_config(
                name=args.name,
                accessConfig={"authenticationMode": args.authentication_mode},
                clientRequestToken=ctx.client_token("auth"),
            )
            self._wait_active(args, ctx, "updating authentication mode")
        missing_tags = {k: v for k, v in self._desired_tags(args, ctx).items() if current["tags"].get(k) != v}
        if missing_tags:
            eks.tag_resource(resourceArn=current["arn"], tags=missing_tags)
        return {"name": args.name}

    @staticmethod
    def _logging(args: EksClusterArgs, currently: list[str] | None = None) -> dict[str, Any]:
        entries = []
        if args.logging:
            entries.append({"types": sorted(args.logging), "enabled": True})
        off = sorted(set(currently or []) - set(args.logging))
        if off:
            entries.append({"types": off, "enabled": False})
        return {"clusterLogging": entries}

    def _create(self, args: EksClusterArgs, ctx: ActionContext) -> None:
        vpc: dict[str, Any] = {
            "subnetIds": args.subnet_ids,
            "endpointPublicAccess": args.endpoint_public_access,
            "endpointPrivateAccess": args.endpoint_private_access,
        }
        if args.security_group_ids:
            vpc["securityGroupIds"] = args.security_group_ids
        if args.endpoint_public_access:
            vpc["publicAccessCidrs"] = args.public_access_cidrs or ["0.0.0.0/0"]
        req: dict[str, Any] = {
            "name": args.name,
            "roleArn": args.role_arn,
            "resourcesVpcConfig": vpc,
            "accessConfig": {"authenticationMode": args.authentication_mode, "bootstrapClusterCreatorAdminPermissions": True},
            "tags": self._desired_tags(args, ctx),
            "clientRequestToken": ctx.client_token(),
        }
        if args.version:
            req["version"] = args.version
        if args.logging:
            req["logging"] = self._logging(args)
        if args.service_cidr:
            req["kubernetesNetworkConfig"] = {"serviceIpv4Cidr": args.service_cidr}
        if args.kms_key_arn:
            req["encryptionConfig"] = [{"resources": ["secrets"], "provider": {"keyArn": args.kms_key_arn}}]
        try:
            ctx.client("eks").create_cluster(**req)
        except Exception as exc:
            # An interrupted attempt of this run already created it; the wait picks it up.
            if error_code(exc) != "ResourceInUseException" or self.read(args, ctx) is None:
                raise

    def _delete(self, args: EksClusterArgs, ctx: ActionContext) -> None:
        eks = ctx.client("eks")
        names = [n for page in eks.get_paginator("list_nodegroups").paginate(clusterName=args.name) for n in page["nodegroups"]]
        for n in names:
            ng = eks.describe_nodegroup(clusterName=args.name, nodegroupName=n)["nodegroup"]
            if not owntags.is_ours(ng.get("tags"), owner(args.name, ctx)):
                raise InputError(
                    f"cluster {args.name} still has node group {n}, which eks-assist did not create; delete it first"
                )
            if ng.get("status") != "DELETING":
                eks.delete_nodegroup(clusterName=args.name, nodegroupName=n)
        for n in names:
            self._wait_gone(
                lambda n=n: eks.describe_nodegroup(clusterName=args.name, nodegroupName=n)["nodegroup"]["status"],
                ctx,
                f"node group {n}",
                180.0,
            )
        current = self.read(args, ctx)
        if current is None or current["status"] == "DELETING":
            return
        try:
            eks.delete_cluster(name=args.name)
        except Exception as exc:
            if error_code(exc) != "ResourceNotFoundException":
                raise

    @staticmethod
    def _wait_gone(describe: Any, ctx: ActionContext, what: str, typical: float) -> None:
        def check() -> tuple[bool, str]:
            try:
                status = describe()
            except Exception as exc:
                if error_code(exc) == "ResourceNotFoundException":
                    return True, "deleted"
                raise
            if status in ("DELETE_FAILED",):
                raise WaitFailed(f"{what}: {status}")
            return False, str(status)

        poll_until(check, ctx, what, typical)

    def _wait_active(self, args: EksClusterArgs, ctx: ActionContext, doing: str = "creating") -> dict[str, Any]:
        seen: dict[str, Any] = {}

        def check() -> tuple[bool, str]:
            c = self.read(args, ctx)
            if c is None:
                raise WaitFailed(f"cluster {args.name} disappeared while {doing}")
            seen.update(c)
            status = c["status"]
            if status == "FAILED":
                raise WaitFailed(f"cluster {args.name} is FAILED")
            return status == "ACTIVE", status

        poll_until(check, ctx, f"cluster {args.name} {doing}", self.typical_seconds)
        return seen

    def wait(self, args: EksClusterArgs, outputs: dict[str, Any], ctx: ActionContext) -> dict[str, Any]:
        if args.state == "absent":
            current = self.read(args, ctx)
            if current is None or not owntags.is_ours(current["tags"], owner(args.name, ctx)):
                return {}
            self._wait_gone(
                lambda: ctx.client("eks").describe_cluster(name=args.name)["cluster"]["status"],
                ctx,
                f"cluster {args.name} deleting",
                300.0,
            )
            return {}
        return self.outputs_of(self._wait_active(args, ctx))
