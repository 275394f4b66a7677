"""``kubeconfig.write``: the cluster's context in a local kubeconfig, merged like ``aws eks update-kubeconfig``.

With ``state: absent`` (teardown) it removes the entries eks-assist wrote for the cluster, as
``eksctl delete cluster`` does: only ours (:func:`assistant.identity.kubeconfig.ours_for`), never another.
"""

from __future__ import annotations

import hashlib
import os
from typing import Any, Literal

from pydantic import Field

from assistant.identity import kubeconfig
from assistant.planning.plan import Op, Unknown

from ..base import Action, ActionArgs, ActionContext, Planned
from ..common import State, Str, error_code
from ..registry import register


class KubeconfigWriteArgs(ActionArgs):
    """Arguments of ``kubeconfig.write``."""

    cluster: str = Field(min_length=1, description="EKS cluster name")
    path: str | None = Field(default=None, description="kubeconfig file; default $KUBECONFIG's first file or ~/.kube/config")
    alias: str | None = Field(default=None, description="context name; default the cluster ARN")
    exec_: Literal["aws", "builtin"] = Field(default="builtin", alias="exec")
    profile: str | None = Field(default=None, description="AWS profile for the token plugin; default $AWS_PROFILE")
    role_arn: str | None = Field(default=None, alias="roleArn", description="role the token plugin assumes")
    # From an earlier step (e.g. steps.cluster.*); when absent the action asks DescribeCluster.
    endpoint: Str | None = None
    certificate_authority: Str | None = Field(default=None, alias="certificateAuthority")
    arn: Str | None = None
    state: State = Field(default="present", description="absent: remove the entries eks-assist wrote for the cluster")


def _known(*values: Any) -> bool:
    return all(v is not None and not isinstance(v, Unknown) for v in values)


def _fingerprint(ca_data: str) -> str:
    # The CA is long and public; a digest is enough to see whether it changed.
    return "sha256:" + hashlib.sha256(ca_data.encode()).hexdigest()[:16]


def _summary(entries: dict[str, Any] | None, current: str | None) -> dict[str, Any] | None:
    """What the plan shows of our three entries."""
    if not entries:
        return None
    cluster = (entries.get("clusters") or {}).get("cluster") or {}
    user = ((entries.get("users") or {}).get("user") or {}).get("exec") or {}
    context = entries.get("contexts") or {}
    return {
        "context": context.get("name"),
        "server": cluster.get("server"),
        "certificateAuthority": _fingerprint(cluster["certificate-authority-data"])
        if cluster.get("certificate-authority-data")
        else None,
        "exec": " ".join([str(user.get("command", ""))] + [str(a) for a in user.get("args") or []]).strip() or None,
        "env": {e.get("name"): e.get("value") for e in user.get("env") or []},
        "current": current == context.get("name"),
    }


@register
class KubeconfigWrite(Action):
    """Add or update the cluster's context (or remove ours: ``state: absent``); other contexts stay byte-for-byte."""

    name = "kubeconfig.write"
    summary = "kubeconfig context for the cluster with an exec token plugin (local file; no credentials written)"
    Args = KubeconfigWriteArgs
    permissions = ("eks:DescribeCluster",)
    writes_local_file = True

    def _info(self, args: KubeconfigWriteArgs, ctx: ActionContext) -> kubeconfig.ClusterInfo | None:
        if _known(args.endpoint, args.certificate_authority, args.arn):
            return kubeconfig.ClusterInfo(
                args.cluster, str(args.arn), str(args.endpoint), str(args.certificate_authority), ctx.region
            )
        try:
            c = ctx.client("eks").describe_cluster(name=args.cluster)["cluster"]
        except Exception as exc:
            if error_code(exc) == "ResourceNotFoundException":
                return None
            raise
        if not c.get("endpoint") or not (c.get("certificateAuthority") or {}).get("data"):
            return None
        return kubeconfig.ClusterInfo(args.cluster, c["arn"], c["endpoint"], c["certificateAuthority"]["data"], ctx.region)

    def _options(self, args: KubeconfigWriteArgs, ctx: ActionContext) -> kubeconfig.ExecOptions:
        endpoint = ctx.client("eks").meta.endpoint_url
        sandbox = kubeconfig.is_sandbox_endpoint(endpoint, ctx.sandbox)
        return kubeconfig.ExecOptions(
            kind=args.exec_,
            profile=args.profile or os.environ.get("AWS_PROFILE") or None,
            role_arn=args.role_arn,
            sandbox=sandbox,
            sandbox_endpoint=endpoint if sandbox else None,
        )

    def read(self, args: KubeconfigWriteArgs, ctx: ActionContext) -> dict[str, Any] | None:
        if args.state == "absent":
            return self._read_absent(args, ctx)
        info = self._info(args, ctx)
        path = kubeconfig.resolve_path(args.path)
        arn = info.arn if info else (str(args.arn) if _known(args.arn) else None)
        arn = arn or f"arn:aws:eks:{ctx.region}:{ctx.account}:cluster/{args.cluster}"
        context = args.alias or arn
        existing = kubeconfig.current_entries(path, {"clusters": arn, "users": arn, "contexts": context})
        return {"info": info, "path": str(path), "arn": arn, "context": context, "entries": existing}

    def _read_absent(self, args: KubeconfigWriteArgs, ctx: ActionContext) -> dict[str, Any]:
        try:
            arn = ctx.client("eks").describe_cluster(name=args.cluster)["cluster"]["arn"]
        except Exception as exc:
            if error_code(exc) != "ResourceNotFoundException":
                raise
            # Gone already (a destroy resumed after the cluster step): the ARN is what it was.
            arn = f"arn:aws:eks:{ctx.region}:{ctx.account}:cluster/{args.cluster}"
        path = kubeconfig.resolve_path(args.path)
        try:
            removal = kubeconfig.planned_removal(path, arn, args.cluster)
        except kubeconfig.KubeconfigError as exc:
            # A kubeconfig we cannot read must not block a teardown; the plan says what is left.
            return {"path": str(path), "arn": arn, "removal": None, "error": "; ".join(str(p) for p in exc.problems)}
        return {"path": str(path), "arn": arn, "removal": removal, "error": ""}

    def _plan_absent(self, current: dict[str, Any]) -> Planned:
        path, removal = current["path"], current["removal"]
        outputs: dict[str, Any] = {"path": path, "contexts": []}
        if current["error"]:
            note = f"cannot read the kubeconfig, so its entries for this cluster (if any) are left: {current['error']}"
            return Planned(Op.NOOP, f"kubeconfig {path}", notes=[note], outputs=outputs)
        if removal is None:
            return Planned(Op.NOOP, f"kubeconfig {path}", reason="no context of ours for this cluster", outputs=outputs)
        found = removal["removed"]
        contexts = found.get("contexts", [])
        outputs = {"path": removal["path"], "contexts": contexts}
        before = {section: names for section, names in found.items()}
        before["current"] = removal.get("current-context") in contexts
        shown = ", ".join(contexts) or found["users"][0]
        return Planned(
            Op.DELETE,
            f"kubeconfig context {shown} in {removal['path']}",
            before=before,
            reason="the cluster is deleted: its context, cluster and user entries go (others stay byte-for-byte)",
            outputs=outputs,
        )

    def plan(self, args: KubeconfigWriteArgs, current: dict[str, Any] | None, ctx: ActionContext) -> Planned:
        assert current is not None
        if args.state == "absent":
            return self._plan_absent(current)
        path, context = current["path"], current["context"]
        resource = f"kubeconfig context {context} in {path}"
        outputs = {"path": path, "context": context}
        existing = current["entries"]
        before = _summary(existing, existing.get("current-context") if existing else None)
        info: kubeconfig.ClusterInfo | None = current["info"]
        if info is None:
            # The cluster does not exist yet (it is made earlier in the same run).
            # Plan the same shape apply will produce, with only what the cluster decides unknown,
            # so the runner can check the fresh plan against this approved one.
            placeholder = kubeconfig.ClusterInfo(args.cluster, current["arn"], "https://known-after-apply", "", ctx.region)
            after = _summary(kubeconfig.desired_entries(placeholder, self._options(args, ctx), args.alias), context) or {}
            after["server"] = ctx.unknown("server")
            after["certificateAuthority"] = ctx.unknown("ca")
            op = Op.UPDATE if existing else Op.CREATE
            return Planned(
                op, resource, before=before, after=after, reason="the cluster's endpoint is known after apply", outputs=outputs
            )
        entries = kubeconfig.desired_entries(info, self._options(args, ctx), args.alias)
        file_op, _ = kubeconfig.plan_op(kubeconfig.resolve_path(args.path), entries, context)
        summary = _summary(entries, context)
        if file_op == "no-op":
            return Planned(Op.NOOP, resource, outputs=outputs)
        if file_op == "create":
            return Planned(Op.CREATE, resource, before=None, after=summary, outputs=outputs)
        diff = [k for k in (summary or {}) if (before or {}).get(k) != (summary or {}).get(k)]
        return Planned(Op.UPDATE, resource, before=before, after=summary, reason=f"{', '.join(diff)} differ", outputs=outputs)

    def apply(
        self, args: KubeconfigWriteArgs, planned: Planned, current: dict[str, Any] | None, ctx: ActionContext
    ) -> dict[str, Any]:
        if args.state == "absent":
            assert current is not None
            removed = kubeconfig.remove(args.path, current["arn"], args.cluster)
            return {"path": str(removed.path), "contexts": removed.contexts}
        info = self._info(args, ctx)
        if info is None:
            raise RuntimeError(f"cluster {args.cluster} has no endpoint yet; the kubeconfig cannot be written")
        result = kubeconfig.write(info, self._options(args, ctx), args.path, args.alias, sandbox=ctx.sandbox)
        return {"path": str(result.path), "context": result.context}
