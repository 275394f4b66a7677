"""``eks.access_entry``: EKS access entries and their access policies for ``iamMappings``.

The step manages the whole set of mappings that route to access entries (``via:
access-entry``, or ``auto`` on an API / API_AND_CONFIG_MAP cluster). Entries we create carry
our ownership tags; only those are ever deleted when a mapping leaves the spec. An entry
somebody else created for the same principal is updated in place but never deleted.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field, model_validator

from assistant.identity import access
from assistant.planning.plan import Op

from ... import tags as owntags
from ...errors import InputError
from ...run.waiting import WaitFailed
from ..base import Action, ActionArgs, ActionContext, Planned
from ..common import error_code, or_none, owner, parallel_map
from ..k8s.aws_auth import MappingArgs
from ..registry import register


class AccessEntryArgs(ActionArgs):
    """Arguments of ``eks.access_entry``."""

    cluster: str = Field(min_length=1)
    mappings: list[MappingArgs] = Field(default_factory=list)
    authentication_mode: str | None = Field(default=None, alias="authenticationMode", description="the spec's mode")
    tags: dict[str, str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _check(self) -> AccessEntryArgs:
        seen: set[str] = set()
        for m in self.mappings:
            if m.arn in seen:
                raise ValueError(f"duplicate mapping for {m.arn}")
            seen.add(m.arn)
            if m.kind != "account":
                try:
                    access.check_arn(m.arn, m.kind)
                except InputError as exc:
                    raise ValueError(str(exc)) from None
            for p in m.access_policies:
                scope = p.get("scope", "cluster")
                if scope == "namespace" and not p.get("namespaces"):
                    raise ValueError(f"{m.arn}: access policy {p.get('policy')}: scope namespace needs a list of namespaces")
                if scope not in ("cluster", "namespace"):
                    raise ValueError(f"{m.arn}: access policy scope must be cluster or namespace, got {scope!r}")
        return self


def _scope(p: dict[str, Any]) -> dict[str, Any]:
    if p.get("scope", "cluster") == "namespace":
        return {"type": "namespace", "namespaces": sorted(p.get("namespaces") or [])}
    return {"type": "cluster", "namespaces": []}


@register
class EksAccessEntry(Action):
    """Create, update and delete our access entries; associate their access policies."""

    name = "eks.access_entry"
    summary = "EKS access entries (username, groups) and access policies for IAM principals"
    Args = AccessEntryArgs
    permissions = (
        "eks:DescribeCluster",
        "eks:ListAccessEntries",
        "eks:DescribeAccessEntry",
        "eks:CreateAccessEntry",
        "eks:UpdateAccessEntry",
        "eks:DeleteAccessEntry",
        "eks:ListAccessPolicies",
        "eks:ListAssociatedAccessPolicies",
        "eks:AssociateAccessPolicy",
        "eks:DisassociateAccessPolicy",
        "eks:TagResource",
    )
    typical_seconds = 1.0

    def _valid_policies(self, ctx: ActionContext) -> list[str]:
        try:
            names: list[str] = []
            for page in ctx.client("eks").get_paginator("list_access_policies").paginate():
                names.extend(p["name"] for p in page["accessPolicies"])
            return sorted(names) or list(access.KNOWN_POLICIES)
        except Exception as exc:
            if error_code(exc) in ("AccessDeniedException", "UnknownOperationException", "404"):
                return list(access.KNOWN_POLICIES)
            raise

    def _describe(self, eks: Any, cluster: str, arn: str) -> dict[str, Any] | None:
        """An entry's username, groups, type and tags; None if it is gone (deleted since the list)."""
        e = or_none(lambda: eks.describe_access_entry(clusterName=cluster, principalArn=arn)["accessEntry"])
        if e is None:
            return None
        return {
            "username": e.get("username"),
            "kubernetesGroups": sorted(e.get("kubernetesGroups") or []),
            "type": e.get("type", "STANDARD"),
            "tags": dict(e.get("tags") or {}),
        }

    def _with_policies(self, eks: Any, cluster: str, arn: str, described: dict[str, Any]) -> dict[str, Any]:
        policies: dict[str, Any] = {}
        for page in eks.get_paginator("list_associated_access_policies").paginate(clusterName=cluster, principalArn=arn):
            for p in page["associatedAccessPolicies"]:
                scope = p.get("accessScope") or {}
                policies[p["policyArn"]] = {
                    "type": scope.get("type", "cluster"),
                    "namespaces": sorted(scope.get("namespaces") or []),
                }
        return {**described, "policies": policies}

    def _entry(self, eks: Any, cluster: str, arn: str) -> dict[str, Any] | None:
        described = self._describe(eks, cluster, arn)
        return None if described is None else self._with_policies(eks, cluster, arn, described)

    def read(self, args: AccessEntryArgs, ctx: ActionContext) -> dict[str, Any] | None:
        eks = ctx.client("eks")
        try:
            cluster = eks.describe_cluster(name=args.cluster)["cluster"]
        except Exception as exc:
            if error_code(exc) == "ResourceNotFoundException":
                return None
            raise
        mode = (cluster.get("accessConfig") or {}).get("authenticationMode", "CONFIG_MAP")
        state: dict[str, Any] = {"mode": mode, "entries": {}, "policies": self._valid_policies(ctx)}
        if mode == "CONFIG_MAP" or cluster.get("status") not in ("ACTIVE", "UPDATING"):
            return state
        wanted = {m.arn for m in args.mappings}
        ours = owner(args.cluster, ctx)
        arns = [
            arn
            for page in eks.get_paginator("list_access_entries").paginate(clusterName=args.cluster)
            for arn in page["accessEntries"]
        ]

        def look(arn: str) -> dict[str, Any] | None:
            # Only entries the spec names or that we created matter: of the others, only the
            # tags are read (to tell), never their policies.
            described = self._describe(eks, args.cluster, arn)
            if described is None or (arn not in wanted and not owntags.is_ours(described["tags"], ours)):
                return None
            return self._with_policies(eks, args.cluster, arn, described)

        # EKS has no batch read of access entries: one describe (and one policy list) per entry
        # is the floor, so they go out several at a time.
        for arn, entry in zip(arns, parallel_map(look, arns), strict=True):
            if entry is not None:
                state["entries"][arn] = entry
        return state

    def _desired(self, args: AccessEntryArgs, mode: str, valid: list[str]) -> dict[str, dict[str, Any]]:
        desired: dict[str, dict[str, Any]] = {}
        for m in args.mappings:
            if access.route(m.kind, m.via, mode) != "access-entry":
                continue
            if mode == "CONFIG_MAP":
                raise InputError(
                    f"{m.arn}: authenticationMode CONFIG_MAP has no access entries; use via: aws-auth, "
                    "or authenticationMode API_AND_CONFIG_MAP"
                )
            bad = [g for g in m.groups if g.startswith("system:")]
            if bad:
                raise InputError(f"{m.arn}: access entries cannot use groups starting with system: ({', '.join(bad)})")
            policies: dict[str, Any] = {}
            for p in m.access_policies:
                arn = access.policy_arn(str(p["policy"]))
                short = arn.rsplit("/", 1)[1]
                if short not in valid:
                    raise InputError(f"{m.arn}: unknown access policy '{p['policy']}'; valid policies: {', '.join(valid)}")
                policies[arn] = _scope(p)
            desired[m.arn] = {
                "username": m.username,
                "kubernetesGroups": sorted(m.groups),
                "type": "STANDARD",
                "policies": policies,
            }
        return desired

    def plan(self, args: AccessEntryArgs, current: dict[str, Any] | None, ctx: ActionContext) -> Planned:
        resource = f"access entries of {args.cluster}"
        mode = access.later_mode(args.authentication_mode, current["mode"] if current else None)
        valid = current["policies"] if current else list(access.KNOWN_POLICIES)
        desired = self._desired(args, mode, valid)
        have: dict[str, Any] = current["entries"] if current else {}
        before: dict[str, Any] = {}
        after: dict[str, Any] = {}
        notes: list[str] = []
        for arn, want in desired.items():
            cur = have.get(arn)
            if cur is None:
                # With no username asked for, EKS picks one at create time. "Known after apply" lets
                # a resume of a create that was killed after CreateAccessEntry (but before its policies
                # were associated) continue the approved create: EKS's default matches an unknown.
                after[arn] = {**want, "username": want["username"] or ctx.unknown(f"username of {arn}")}
                notes.append(f"+ {arn}")
                continue
            cur_view = {k: cur[k] for k in ("username", "kubernetesGroups", "type", "policies")}
            target = dict(want)
            if target["username"] is None:
                target["username"] = cur["username"]  # EKS chose a default; we did not ask for one
            if cur_view != target:
                before[arn], after[arn] = cur_view, target
                notes.append(f"~ {arn}")
        for arn, cur in have.items():
            if arn not in desired and owntags.is_ours(cur["tags"], owner(args.cluster, ctx)):
                before[arn] = {k: cur[k] for k in ("username", "kubernetesGroups", "type", "policies")}
                notes.append(f"- {arn}")
        outputs = {"principals": sorted(desired), "authenticationMode": mode}
        if not notes:
            return Planned(Op.NOOP, resource, outputs=outputs)
        ops = {n[0] for n in notes}
        op = Op.CREATE if ops == {"+"} else Op.DELETE if ops == {"-"} else Op.UPDATE
        return Planned(
            op, resource, before=before or None, after=after or None, reason="; ".join(notes), notes=notes, outputs=outputs
        )

    def apply(
        self, args: AccessEntryArgs, planned: Planned, current: dict[str, Any] | None, ctx: ActionContext
    ) -> dict[str, Any]:
        eks = ctx.client("eks")
        after = planned.after or {}
        # The step read every entry it manages just now (``current``); what it found is what
        # each change starts from, so an entry is not read a second time before it is changed.
        have: dict[str, Any] = (current or {}).get("entries", {})
        gone = [arn for arn in planned.before or {} if arn not in after]

        def delete(arn: str) -> None:
            if ctx.cancelled():
                return
            try:
                eks.delete_access_entry(clusterName=args.cluster, principalArn=arn)
            except Exception as exc:
                if error_code(exc) != "ResourceNotFoundException":
                    raise

        def put(arn: str) -> None:
            if not ctx.cancelled():
                self._put(eks, args, arn, after[arn], have.get(arn), ctx)

        parallel_map(delete, gone)
        parallel_map(put, list(after))
        if ctx.cancelled():
            # Like a cancelled wait: the run ends resumable, and a resume re-reads what was done.
            raise WaitFailed(f"access entries of {args.cluster}: cancelled; a resume finishes the rest")
        return dict(planned.outputs)

    def _put(
        self, eks: Any, args: AccessEntryArgs, arn: str, want: dict[str, Any], cur: dict[str, Any] | None, ctx: ActionContext
    ) -> None:
        """Create or update one entry and set its access policies, starting from ``cur`` (None: absent)."""
        # An unknown username (EKS's default, see plan) is one we do not send.
        username = want["username"] if isinstance(want["username"], str) else None
        if cur is None:
            params: dict[str, Any] = {
                "clusterName": args.cluster,
                "principalArn": arn,
                "kubernetesGroups": want["kubernetesGroups"],
                "type": "STANDARD",
                "tags": {**args.tags, **owntags.ownership(owner(args.cluster, ctx), "access-entry")},
                "clientRequestToken": ctx.client_token(arn),
            }
            if username:
                params["username"] = username
            try:
                eks.create_access_entry(**params)
                cur = {"username": username, "kubernetesGroups": want["kubernetesGroups"], "policies": {}}
            except Exception as exc:
                # Made since the step's read (by a run killed after this create, or by someone
                # else): start from what is there now.
                if error_code(exc) != "ResourceInUseException":
                    raise
                cur = self._entry(eks, args.cluster, arn)
                if cur is None:
                    raise
        if cur["kubernetesGroups"] != want["kubernetesGroups"] or (username and cur["username"] != username):
            upd: dict[str, Any] = {
                "clusterName": args.cluster,
                "principalArn": arn,
                "kubernetesGroups": want["kubernetesGroups"],
            }
            if username:
                upd["username"] = username
            eks.update_access_entry(**upd)
        for policy, scope in want["policies"].items():
            if cur["policies"].get(policy) != scope:
                access_scope: dict[str, Any] = {"type": scope["type"]}
                if scope["type"] == "namespace":
                    access_scope["namespaces"] = scope["namespaces"]
                eks.associate_access_policy(
                    clusterName=args.cluster, principalArn=arn, policyArn=policy, accessScope=access_scope
                )
        for policy in cur["policies"]:
            if policy not in want["policies"]:
                eks.disassociate_access_policy(clusterName=args.cluster, principalArn=arn, policyArn=policy)
