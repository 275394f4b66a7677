"""``k8s.aws_auth``: the entries eks-assist owns in ``kube-system/aws-auth``.

Only entries we manage (listed in an annotation) are ever changed or removed; everything
else, its order and comments stay as they are. Writes are read-modify-write with the
object's resourceVersion: on 409 we wait a jittered, growing moment, read again and re-apply
only our delta (computed once per apply), so a concurrent edit is never lost. A node-role
mapping is never removed while a node group still uses that role.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import Any, Literal

from pydantic import Field, model_validator

from assistant.identity import access
from assistant.identity import awsauth as aa
from assistant.planning.plan import Op
from assistant.run.waiting import WaitFailed

from ...errors import InputError
from ..base import Action, ActionArgs, ActionContext, Planned
from ..common import error_code
from ..registry import register
from ._client import core_v1, status_of

NAMESPACE = "kube-system"
NAME = "aws-auth"
MAX_ATTEMPTS = 30
# Full-jitter exponential backoff between conflicting writes: writers that collided once spread
# out instead of colliding again in lockstep. 30 attempts wait about 13 s on average, 26 s at most.
BACKOFF_BASE = 0.05
BACKOFF_CAP = 1.0
RETRYING = "aws-auth changed concurrently; retrying"
# Module attributes, so tests can count the waits instead of sleeping them.
sleep: Callable[[float], None] = time.sleep
_jitter = random.Random()


def backoff(conflicts: int, rng: random.Random = _jitter) -> float:
    """Seconds to wait after the ``conflicts``-th 409 in a row: uniform in [0, min(cap, base * 2^(conflicts-1))]."""
    return rng.uniform(0.0, min(BACKOFF_CAP, BACKOFF_BASE * 2 ** (conflicts - 1)))


class MappingArgs(ActionArgs):
    """One ``iamMappings`` entry of the spec (camelCase, as the spec renders it)."""

    arn: str
    kind: Literal["role", "user", "account"]
    username: str | None = None
    groups: list[str] = Field(default_factory=list)
    via: Literal["auto", "aws-auth", "access-entry"] = "auto"
    access_policies: list[dict[str, Any]] = Field(default_factory=list, alias="accessPolicies")


class AwsAuthArgs(ActionArgs):
    """Arguments of ``k8s.aws_auth``."""

    cluster: str = Field(min_length=1)
    mappings: list[MappingArgs] = Field(default_factory=list)
    node_roles: list[str] = Field(
        default_factory=list, alias="nodeRoles", description="node role ARNs (or role names in this account)"
    )
    authentication_mode: str | None = Field(default=None, alias="authenticationMode", description="the spec's mode")
    follow_node_groups: bool = Field(
        default=False,
        alias="nodeRolesFollowNodegroups",
        description="a node role given by name that no node group runs on, while all the cluster's node groups run "
        "on one other role, stands for that role (clusters made under older role names keep theirs)",
    )

    @model_validator(mode="after")
    def _check(self) -> AwsAuthArgs:
        seen: set[str] = set()
        for m in self.mappings:
            if m.arn in seen:
                raise ValueError(f"duplicate mapping for {m.arn}")
            seen.add(m.arn)
            if m.kind == "account":
                if not access.ACCOUNT.match(m.arn):
                    raise ValueError(f"an account mapping takes a 12-digit AWS account ID, got {m.arn!r}")
                continue
            try:
                access.check_arn(m.arn, m.kind)
            except InputError as exc:
                raise ValueError(str(exc)) from None
            if m.via == "aws-auth" and aa.role_path(m.arn):
                raise ValueError(_path_message(m.arn))
        return self


def _path_message(arn: str) -> str:
    return (
        f"{arn}: aws-auth role ARNs cannot include a path (/{aa.role_path(arn)}) because aws-auth matches the role "
        f"without it; use {aa.role_without_path(arn)}, or via: access-entry"
    )


def _no_path(arn: str) -> None:
    if aa.role_path(arn):
        raise InputError(_path_message(arn))


def _entry(m: MappingArgs) -> tuple[str, Any]:
    """The aws-auth section and item for one mapping."""
    if m.kind == "account":
        return "mapAccounts", m.arn
    if m.kind == "role":
        _no_path(m.arn)
        name = m.arn.rsplit("/", 1)[1]
        username = m.username or f"arn:aws:sts::{m.arn.split(':')[4]}:assumed-role/{name}/{{{{SessionName}}}}"
        return "mapRoles", {"rolearn": m.arn, "username": username, "groups": list(m.groups)}
    return "mapUsers", {"userarn": m.arn, "username": m.username or m.arn, "groups": list(m.groups)}


def _key(section: str, value: Any) -> str:
    return str(value) if section == "mapAccounts" else str(value["rolearn" if section == "mapRoles" else "userarn"])


@register
class AwsAuth(Action):
    """Keep our mappings in aws-auth, without touching anyone else's."""

    name = "k8s.aws_auth"
    summary = "Entries eks-assist manages in kube-system/aws-auth (mapRoles, mapUsers, mapAccounts)"
    Args = AwsAuthArgs
    permissions = ("eks:DescribeCluster", "eks:ListNodegroups", "eks:DescribeNodegroup", "sts:GetCallerIdentity")
    typical_seconds = 1.0

    # -- read ------------------------------------------------------------------------
    def _cluster(self, args: AwsAuthArgs, ctx: ActionContext) -> dict[str, Any] | None:
        try:
            return dict(ctx.client("eks").describe_cluster(name=args.cluster)["cluster"])
        except Exception as exc:
            if error_code(exc) == "ResourceNotFoundException":
                return None
            raise

    def _node_roles_in_use(self, args: AwsAuthArgs, ctx: ActionContext) -> dict[str, list[str]]:
        """Path-less node role ARN → node groups using it."""
        eks = ctx.client("eks")
        used: dict[str, list[str]] = {}
        for page in eks.get_paginator("list_nodegroups").paginate(clusterName=args.cluster):
            for ng in page["nodegroups"]:
                role = eks.describe_nodegroup(clusterName=args.cluster, nodegroupName=ng)["nodegroup"].get("nodeRole")
                if role:
                    used.setdefault(aa.role_without_path(role), []).append(ng)
        return used

    def _get(self, api: Any) -> Any:
        try:
            return api.read_namespaced_config_map(NAME, NAMESPACE)
        except Exception as exc:
            if status_of(exc) == 404:
                return None
            raise

    def read(self, args: AwsAuthArgs, ctx: ActionContext) -> dict[str, Any] | None:
        cluster = self._cluster(args, ctx)
        if cluster is None:
            return None
        state: dict[str, Any] = {
            "mode": (cluster.get("accessConfig") or {}).get("authenticationMode", "CONFIG_MAP"),
            "status": cluster.get("status"),
            "nodeRoles": self._node_roles_in_use(args, ctx),
            "configMap": None,
        }
        if cluster.get("status") == "ACTIVE" and cluster.get("endpoint"):
            cm = self._get(core_v1(ctx, cluster))
            if cm is not None:
                state["configMap"] = {"data": dict(cm.data or {}), "annotations": dict(cm.metadata.annotations or {})}
        return state

    # -- plan ------------------------------------------------------------------------
    def _node_role_arns(self, args: AwsAuthArgs, ctx: ActionContext, in_use: dict[str, list[str]]) -> list[str]:
        """The node role ARNs to map: as given, or (``follow_node_groups``) the one role the node groups run on."""
        arns = []
        for role in args.node_roles:
            arn = role if role.startswith("arn:") else f"arn:aws:iam::{ctx.account}:role/{role}"
            # Only a role given by name is a guess (iam-mappings run alone); an ARN comes from the
            # node_role step, which already keeps the role running node groups use.
            if args.follow_node_groups and not role.startswith("arn:") and arn not in in_use and len(in_use) == 1:
                arn = next(iter(in_use))
            arns.append(arn)
        return arns

    def _desired(
        self, args: AwsAuthArgs, mode: str, ctx: ActionContext, in_use: dict[str, list[str]] | None = None
    ) -> dict[str, dict[str, Any]]:
        desired: dict[str, dict[str, Any]] = {s: {} for s in aa.SECTIONS}
        if mode == "API":
            for m in args.mappings:
                if m.kind == "account" or m.via == "aws-auth":
                    raise InputError(
                        f"{m.arn}: authenticationMode API ignores aws-auth"
                        + ("; accounts can only be mapped in aws-auth" if m.kind == "account" else "; use via: access-entry")
                    )
            return desired
        for arn in self._node_role_arns(args, ctx, in_use or {}):
            entry = aa.node_entry(arn)
            desired["mapRoles"][entry["rolearn"]] = entry
        for m in args.mappings:
            if access.route(m.kind, m.via, mode) != "aws-auth":
                continue
            section, value = _entry(m)
            key = _key(section, value)
            if key in desired[section]:
                raise InputError(f"duplicate mapping for {key} (it is also a node role)")
            desired[section][key] = value
        return desired

    def plan(self, args: AwsAuthArgs, current: dict[str, Any] | None, ctx: ActionContext) -> Planned:
        resource = f"aws-auth ConfigMap of {args.cluster}"
        mode = access.later_mode(args.authentication_mode, current["mode"] if current else None)
        desired = self._desired(args, mode, ctx, (current or {}).get("nodeRoles"))
        cm = (current or {}).get("configMap")
        doc = aa.AwsAuth.parse(cm["data"], cm["annotations"]) if cm else aa.AwsAuth.parse({})
        before: dict[str, dict[str, Any]] = {}
        after: dict[str, dict[str, Any]] = {}
        notes: list[str] = []
        for section, values in desired.items():
            have = doc.entries(section)
            for key, value in values.items():
                if key not in have:
                    after.setdefault(section, {})[key] = value
                    notes.append(f"+ {section} {key}")
                elif have[key] != value or aa.ref(section, key) not in doc.managed:
                    before.setdefault(section, {})[key] = have[key]
                    after.setdefault(section, {})[key] = value
                    what = "now managed by eks-assist" if have[key] == value else "changed"
                    notes.append(f"~ {section} {key} ({what})")
        in_use = (current or {}).get("nodeRoles", {})
        entries = {section: doc.entries(section) for section in aa.SECTIONS}  # once, not per managed entry
        for r in sorted(doc.managed):
            section, key = aa.split_ref(r)
            if section not in desired or key in desired[section]:
                continue
            if section == "mapRoles" and key in in_use:
                raise InputError(
                    f"refusing to remove the aws-auth mapping for {key}: node group(s) "
                    f"{', '.join(sorted(in_use[key]))} still use this role, and their nodes would lose access "
                    "to the cluster; delete or move those node groups first"
                )
            before.setdefault(section, {})[key] = entries[section].get(key)
            # A removal is named in ``after`` too (as null): the runner checks a step's fresh
            # ``after`` against the approved one, so a removal nobody approved (a resumed run
            # meeting entries another run added since) is refused instead of carried out.
            after.setdefault(section, {})[key] = None
            notes.append(f"- {section} {key}")
        outputs = {"configMap": f"{NAMESPACE}/{NAME}", "authenticationMode": mode}
        if mode == "API":
            note = "authenticationMode API ignores aws-auth; nothing to map there"
            return Planned(Op.NOOP, resource, notes=[note], outputs=outputs)
        if not notes:
            return Planned(Op.NOOP, resource, outputs=outputs)
        op = Op.CREATE if cm is None else Op.UPDATE
        return Planned(op, resource, before=before or None, after=after, reason="; ".join(notes), notes=notes, outputs=outputs)

    # -- apply -----------------------------------------------------------------------
    def apply(self, args: AwsAuthArgs, planned: Planned, current: dict[str, Any] | None, ctx: ActionContext) -> dict[str, Any]:
        if planned.op is Op.NOOP:
            return dict(planned.outputs)
        cluster = self._cluster(args, ctx)
        if cluster is None or cluster.get("status") != "ACTIVE":
            raise RuntimeError(f"cluster {args.cluster} is not ACTIVE; cannot edit aws-auth")
        mode = access.later_mode(args.authentication_mode, (cluster.get("accessConfig") or {}).get("authenticationMode"))
        desired = self._desired(args, mode, ctx, (current or {}).get("nodeRoles"))
        # Only the removals in the plan (which the runner matched against the approved one):
        # entries another run added meanwhile stay.
        removals: dict[str, list[str]] = {}
        for section, values in (planned.after or {}).items():
            for key, value in values.items():
                if value is None:
                    removals.setdefault(section, []).append(key)
        if removals.get("mapRoles"):
            in_use = self._node_roles_in_use(args, ctx)
            busy = [k for k in removals["mapRoles"] if k in in_use]
            if busy:
                raise InputError(f"refusing to remove the aws-auth mapping for {busy[0]}: node groups still use it")
        api = core_v1(ctx, cluster)
        # Our delta (desired, removals) is fixed above; each attempt re-reads only the ConfigMap,
        # and re-parses only the sections whose text changed since the last attempt.
        cache = aa.SectionCache()
        started = time.monotonic()
        for attempt in range(1, MAX_ATTEMPTS + 1):
            if self._write(api, cache, desired, removals):
                return dict(planned.outputs)
            if attempt < MAX_ATTEMPTS:
                if ctx.cancelled():
                    # A cancel ends the run resumably, as it ends a wait; the backoff could be 26 s.
                    raise WaitFailed(
                        f"aws-auth: cancelled after {attempt} conflicting write(s); none of our entries were written"
                    )
                ctx.progress(RETRYING, None)
                sleep(backoff(attempt))
        raise RuntimeError(
            f"aws-auth kept changing: {MAX_ATTEMPTS} writes in a row met a newer version (409 Conflict) over "
            f"{time.monotonic() - started:.1f}s, so none of our entries were written; something else keeps editing "
            f"{NAMESPACE}/{NAME}. Run the apply again (or resume it) once it is quieter"
        )

    def _write(
        self, api: Any, cache: aa.SectionCache, desired: dict[str, dict[str, Any]], removals: dict[str, list[str]]
    ) -> bool:
        """One read-merge-write of aws-auth; False if another writer got in first (409)."""
        cm = self._get(api)
        data = dict(cm.data or {}) if cm is not None else {}
        annotations = dict(cm.metadata.annotations or {}) if cm is not None else {}
        doc = aa.AwsAuth.parse(data, annotations, cache=cache)
        changed = aa.apply_delta(doc, desired, removals)
        if cm is not None and not changed:
            return True
        annotations[aa.MANAGED_ANNOTATION] = doc.managed_annotation()
        body: dict[str, Any] = {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": NAME, "namespace": NAMESPACE, "annotations": annotations},
            "data": doc.render(data),
        }
        try:
            if cm is None:
                api.create_namespaced_config_map(NAMESPACE, body)
            else:
                meta = cm.metadata
                body["metadata"]["resourceVersion"] = meta.resource_version
                body["metadata"]["labels"] = dict(meta.labels or {}) or None
                api.replace_namespaced_config_map(NAME, NAMESPACE, body)
        except Exception as exc:
            # 409: someone wrote in between (stale resourceVersion, or created it first).
            if status_of(exc) != 409:
                raise
            return False
        return True
