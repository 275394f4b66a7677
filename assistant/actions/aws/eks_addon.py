"""``eks.addon``: an EKS add-on (e.g. ``vpc-cni``): create or update version and configuration, wait ACTIVE.

For ``vpc-cni`` the configuration can be built from the spec's ``cni`` section: the VPC CNI
reads its settings from the aws-node container's environment, and the add-on's
``configurationValues`` carries them as ``{"env": {...}}``. Settings that change max pods
(prefix delegation, custom networking) must be in place before node groups launch, because
kubelet's max pods is fixed when a node boots.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import Field

from assistant.network.capacity import CniSettings, check_settings
from assistant.planning.plan import Op
from assistant.run.waiting import WaitFailed, poll_until

from ...errors import InputError, Problem
from ..base import Action, ActionArgs, ActionContext, Planned
from ..common import State, error_code, or_none
from ..registry import register

ZONE_LABEL = "topology.kubernetes.io/zone"
# Env names of the VPC CNI that eks-assist manages; others in configurationValues are left alone.
MANAGED_FLAGS = ("ENABLE_PREFIX_DELEGATION", "AWS_VPC_K8S_CNI_EXTERNALSNAT", "AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG")
ORDER_NOTE = (
    "VPC CNI settings that change max pods must be in place before node groups launch "
    "(kubelet's max pods is fixed at boot); run this before the node groups"
)


def cni_env(cni: dict[str, Any]) -> dict[str, str]:
    """The aws-node env for the spec's ``cni`` section; raises InputError for rejected combinations."""
    settings = CniSettings.from_spec(cni)
    problems = check_settings(settings)
    if problems:
        raise InputError([Problem(f"cni.{field}: {msg}") for field, msg in problems])
    env = {
        "ENABLE_PREFIX_DELEGATION": _flag(settings.prefix_delegation),
        "AWS_VPC_K8S_CNI_EXTERNALSNAT": _flag(settings.external_snat),
        "AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG": _flag(settings.custom_networking),
    }
    targets = {
        "WARM_ENI_TARGET": settings.warm_eni_target,
        "WARM_IP_TARGET": settings.warm_ip_target,
        "MINIMUM_IP_TARGET": settings.minimum_ip_target,
        "WARM_PREFIX_TARGET": settings.warm_prefix_target,
    }
    by_ip = settings.warm_ip_target is not None or settings.minimum_ip_target is not None
    if settings.prefix_delegation and settings.warm_prefix_target is None and not by_ip:
        # One warm /28 per node: what AWS recommends with prefix delegation.
        targets["WARM_PREFIX_TARGET"] = 1
    env.update({k: str(v) for k, v in targets.items() if v is not None})
    if settings.custom_networking:
        # ENIConfigs are named after zones, so nodes pick theirs by their zone label.
        env["ENI_CONFIG_LABEL_DEF"] = ZONE_LABEL
    return env


def _flag(value: bool) -> str:
    return "true" if value else "false"


class EksAddonArgs(ActionArgs):
    """Arguments of ``eks.addon``."""

    cluster: str
    name: str = "vpc-cni"
    version: str | None = Field(default=None, description="add-on version; default: EKS's default for the cluster")
    configuration_values: dict[str, Any] | None = Field(default=None, alias="configurationValues")
    cni: dict[str, Any] | None = Field(default=None, description="the spec's cni section (vpc-cni only)")
    resolve_conflicts: str = Field(default="OVERWRITE", alias="resolveConflicts")
    service_account_role_arn: str | None = Field(default=None, alias="serviceAccountRoleArn")
    create_if_missing: bool = Field(default=True, alias="createIfMissing")
    state: State = "present"


def _parse_config(raw: str | None) -> dict[str, Any] | None:
    if not raw:
        return None
    try:
        value = json.loads(raw)
    except ValueError:
        import yaml

        value = yaml.safe_load(raw)
    return value if isinstance(value, dict) else {"value": value}


@register
class EksAddon(Action):
    """A managed EKS add-on; for vpc-cni, its env comes from the spec's cni settings."""

    name = "eks.addon"
    summary = "EKS add-on (vpc-cni, ...): create, update version/configuration, wait until ACTIVE"
    Args = EksAddonArgs
    permissions = (
        "eks:DescribeAddon",
        "eks:CreateAddon",
        "eks:UpdateAddon",
        "eks:DeleteAddon",
        "eks:DescribeAddonVersions",
        "iam:PassRole",
    )
    typical_seconds = 60.0

    def read(self, args: EksAddonArgs, ctx: ActionContext) -> dict[str, Any] | None:
        a = or_none(lambda: ctx.client("eks").describe_addon(clusterName=args.cluster, addonName=args.name)["addon"])
        if a is None:
            return None
        return {
            "arn": a.get("addonArn"),
            "status": a.get("status"),
            "version": a.get("addonVersion"),
            "configurationValues": _parse_config(a.get("configurationValues")),
            "serviceAccountRoleArn": a.get("serviceAccountRoleArn"),
            "health": [i.get("message", "") for i in (a.get("health") or {}).get("issues", [])],
        }

    def _config(self, args: EksAddonArgs) -> dict[str, Any] | None:
        config = dict(args.configuration_values or {})
        if args.cni is not None:
            config["env"] = {**(config.get("env") or {}), **cni_env(args.cni)}
        return config or None

    def plan(self, args: EksAddonArgs, current: dict[str, Any] | None, ctx: ActionContext) -> Planned:
        resource = f"add-on {args.cluster}/{args.name}"
        notes = [ORDER_NOTE] if args.name == "vpc-cni" and args.state == "present" else []
        if args.state == "absent":
            if current is None:
                return Planned(Op.NOOP, resource, reason="already absent")
            return Planned(Op.DELETE, resource, before={"version": current["version"]}, reason="teardown")
        config = self._config(args)
        if current is None:
            if not args.create_if_missing:
                return Planned(
                    Op.NOOP,
                    resource,
                    notes=["not installed and createIfMissing is false: the self-managed aws-node is configured instead"],
                    outputs={"managed": False, "name": args.name},
                )
            after = {
                "version": args.version or ctx.unknown("version"),
                "configurationValues": config,
                "resolveConflicts": args.resolve_conflicts,
            }
            if args.service_account_role_arn:
                after["serviceAccountRoleArn"] = args.service_account_role_arn
            return Planned(
                Op.CREATE,
                resource,
                after=after,
                reason="not installed",
                notes=notes,
                outputs={"managed": True, "name": args.name},
            )
        outputs = {"managed": True, "name": args.name}
        have_config = current["configurationValues"] or {}
        # Keys we do not manage stay as they are: merge ours over what is there.
        want_config = {**have_config, **(config or {})}
        if config and "env" in config:
            want_config["env"] = {**(have_config.get("env") or {}), **config["env"]}
        before = {"version": current["version"], "configurationValues": current["configurationValues"]}
        after = {"version": args.version or current["version"], "configurationValues": want_config or None}
        if args.service_account_role_arn:
            before["serviceAccountRoleArn"] = current["serviceAccountRoleArn"]
            after["serviceAccountRoleArn"] = args.service_account_role_arn
        diff = [k for k in after if after[k] != before.get(k)]
        if not diff:
            return Planned(Op.NOOP, resource, outputs=outputs)
        return Planned(
            Op.UPDATE, resource, before=before, after=after, reason=f"{', '.join(diff)} differ", notes=notes, outputs=outputs
        )

    def apply(self, args: EksAddonArgs, planned: Planned, current: dict[str, Any] | None, ctx: ActionContext) -> dict[str, Any]:
        eks = ctx.client("eks")
        if planned.op is Op.DELETE:
            try:
                eks.delete_addon(clusterName=args.cluster, addonName=args.name)
            except Exception as exc:
                if error_code(exc) != "ResourceNotFoundException":
                    raise
            return {}
        if planned.op is Op.NOOP:
            return dict(planned.outputs)
        after = planned.after or {}
        req: dict[str, Any] = {
            "clusterName": args.cluster,
            "addonName": args.name,
            "resolveConflicts": args.resolve_conflicts,
            "clientRequestToken": ctx.client_token(),
        }
        if args.version:
            req["addonVersion"] = args.version
        if after.get("configurationValues"):
            req["configurationValues"] = json.dumps(after["configurationValues"], sort_keys=True)
        if args.service_account_role_arn:
            req["serviceAccountRoleArn"] = args.service_account_role_arn
        if planned.op is Op.CREATE:
            try:
                eks.create_addon(**req)
            except Exception as exc:
                if error_code(exc) != "ResourceInUseException" or self.read(args, ctx) is None:
                    raise
        else:
            eks.update_addon(**req)
        return {"managed": True, "name": args.name}

    def wait(self, args: EksAddonArgs, outputs: dict[str, Any], ctx: ActionContext) -> dict[str, Any]:
        what = f"add-on {args.name}"
        if args.state == "absent":

            def gone() -> tuple[bool, str]:
                a = self.read(args, ctx)
                return (a is None, "deleted" if a is None else str(a["status"]))

            poll_until(gone, ctx, f"{what} deleting", self.typical_seconds)
            return {}
        if not outputs.get("managed", True):
            return outputs
        seen: dict[str, Any] = {}

        def active() -> tuple[bool, str]:
            a = self.read(args, ctx)
            if a is None:
                raise WaitFailed(f"{what} disappeared")
            seen.update(a)
            if a["status"] in ("CREATE_FAILED", "UPDATE_FAILED", "DEGRADED"):
                raise WaitFailed(f"{what}: {a['status']}: {'; '.join(a['health']) or 'no detail from EKS'}")
            return a["status"] == "ACTIVE", str(a["status"])

        poll_until(active, ctx, what, self.typical_seconds)
        return {"managed": True, "name": args.name, "version": seen.get("version")}
