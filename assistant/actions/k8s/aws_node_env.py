"""``k8s.aws_node_env``: VPC CNI settings on the self-managed ``kube-system/aws-node`` DaemonSet.

The fallback for clusters without the managed ``vpc-cni`` add-on: the CNI reads its settings
from the aws-node container's env, so we set exactly the variables the spec decides and leave
every other one alone. When the add-on is installed this step does nothing: the add-on would
overwrite a direct edit, so its ``configurationValues`` are the place (``eks.addon``).
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from assistant.planning.plan import Op

from ..aws.eks_addon import ORDER_NOTE, cni_env
from ..base import Action, ActionArgs, ActionContext, Planned
from ..common import error_code
from ..registry import register
from ._client import api_client, status_of

NAMESPACE = "kube-system"
NAME = "aws-node"
CONTAINER = "aws-node"
MAX_ATTEMPTS = 10


def active_cluster(ctx: ActionContext, name: str) -> dict[str, Any] | None:
    """DescribeCluster's cluster if it is ACTIVE with an endpoint, else None (not there yet)."""
    try:
        c = ctx.client("eks").describe_cluster(name=name)["cluster"]
    except Exception as exc:
        if error_code(exc) == "ResourceNotFoundException":
            return None
        raise
    return c if c.get("status") == "ACTIVE" and c.get("endpoint") else None


class AwsNodeEnvArgs(ActionArgs):
    """Arguments of ``k8s.aws_node_env``."""

    cluster: str
    cni: dict[str, Any] = Field(default_factory=dict, description="the spec's cni section")
    env: dict[str, str] = Field(default_factory=dict, description="extra variables to set")
    skip: bool = Field(default=False, description="do nothing (e.g. the vpc-cni add-on manages aws-node)")
    addon: str = Field(default="vpc-cni", description="if this add-on is installed, leave aws-node to it")


def _container_env(ds: Any) -> dict[str, str]:
    for c in ds.spec.template.spec.containers or []:
        if c.name == CONTAINER:
            return {e.name: e.value for e in c.env or [] if e.value is not None}
    return {}


@register
class AwsNodeEnv(Action):
    """Patch the aws-node DaemonSet's env (self-managed VPC CNI only)."""

    name = "k8s.aws_node_env"
    summary = "VPC CNI env on the self-managed aws-node DaemonSet (when the vpc-cni add-on is not installed)"
    Args = AwsNodeEnvArgs
    permissions = ("eks:DescribeCluster", "eks:DescribeAddon")
    typical_seconds = 2.0

    def _desired(self, args: AwsNodeEnvArgs) -> dict[str, str]:
        return {**(cni_env(args.cni) if args.cni else {}), **args.env}

    def read(self, args: AwsNodeEnvArgs, ctx: ActionContext) -> dict[str, Any] | None:
        # Validate first so a bad combination fails the plan even before the cluster exists.
        self._desired(args)
        if args.skip:
            return {"skipped": "skip is set"}
        try:
            ctx.client("eks").describe_addon(clusterName=args.cluster, addonName=args.addon)
            return {"skipped": f"the {args.addon} add-on is installed; its configurationValues carry the settings"}
        except Exception as exc:
            if error_code(exc) != "ResourceNotFoundException":
                raise
        cluster = active_cluster(ctx, args.cluster)
        if cluster is None:
            return None
        import kubernetes.client

        apps = kubernetes.client.AppsV1Api(api_client(ctx, cluster))
        try:
            ds = apps.read_namespaced_daemon_set(NAME, NAMESPACE)
        except Exception as exc:
            if status_of(exc) == 404:
                return {"missing": True}
            raise
        return {"env": _container_env(ds)}

    def plan(self, args: AwsNodeEnvArgs, current: dict[str, Any] | None, ctx: ActionContext) -> Planned:
        resource = f"daemonset {NAMESPACE}/{NAME} env in {args.cluster}"
        want = self._desired(args)
        if current is not None and "skipped" in current:
            return Planned(Op.NOOP, resource, notes=[current["skipped"]])
        if current is not None and current.get("missing"):
            return Planned(Op.NOOP, resource, notes=["no aws-node DaemonSet in kube-system: nothing to configure"])
        notes = [ORDER_NOTE]
        if current is None:
            # The cluster is not there yet: its aws-node will be EKS's default one.
            return Planned(Op.UPDATE, resource, before=None, after={"env": want}, reason="cluster not created yet", notes=notes)
        have = current["env"]
        before = {k: have.get(k) for k in sorted(want)}
        after = {k: want[k] for k in sorted(want)}
        if before == after:
            return Planned(Op.NOOP, resource)
        diff = [k for k in after if before.get(k) != after[k]]
        return Planned(
            Op.UPDATE, resource, before={"env": before}, after={"env": after}, reason=f"{', '.join(diff)} differ", notes=notes
        )

    def apply(self, args: AwsNodeEnvArgs, planned: Planned, current: dict[str, Any] | None, ctx: ActionContext) -> dict[str, Any]:
        if planned.op is Op.NOOP:
            return {}
        cluster = active_cluster(ctx, args.cluster)
        if cluster is None:
            raise RuntimeError(f"cluster {args.cluster} is not ACTIVE; aws-node cannot be configured yet")
        import kubernetes.client

        apps = kubernetes.client.AppsV1Api(api_client(ctx, cluster))
        want = self._desired(args)
        for _ in range(MAX_ATTEMPTS):
            ds = apps.read_namespaced_daemon_set(NAME, NAMESPACE)
            changed = False
            pod = ds.spec.template.spec
            assert pod is not None  # the API server requires a DaemonSet's pod template spec
            for c in pod.containers or []:
                if c.name != CONTAINER:
                    continue
                env = list(c.env or [])
                by_name = {e.name: e for e in env}
                for k, v in want.items():
                    e = by_name.get(k)
                    if e is None:
                        env.append(kubernetes.client.V1EnvVar(name=k, value=v))
                        changed = True
                    elif e.value != v or e.value_from is not None:
                        e.value, e.value_from = v, None
                        changed = True
                c.env = env
            if not changed:
                return {}
            try:
                # Replace with the resourceVersion we read: a concurrent edit gives 409, and we redo ours.
                apps.replace_namespaced_daemon_set(NAME, NAMESPACE, ds)
                return {}
            except Exception as exc:
                if status_of(exc) != 409:
                    raise
        raise RuntimeError(f"aws-node kept changing under us: gave up after {MAX_ATTEMPTS} conflicting writes")
