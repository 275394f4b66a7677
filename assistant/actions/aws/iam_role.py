"""``iam.role``: an IAM role that a service (EKS, EC2) assumes, with managed policies.

IAM is global, so a role is only ever ours when its ``eks-assist:cluster-arn`` tag names this
cluster in this region and account (see :mod:`assistant.tags`). A role tagged for another
cluster is never adopted: the plan refuses. A role an older eks-assist tagged without the
region (``LEGACY``) may serve the cluster of the same name in another region, so it is used
as it is where a cluster runs on it, and never modified or deleted.

``usedBy`` ties the role to what runs on it: ``cluster`` (the control plane's role) or
``nodegroups`` (the node role). EKS cannot change either on a running cluster or node group
without replacing it, so when they already run on another role (typically one named by an
older eks-assist, ``<name>-cluster-role``), that role is the one planned: kept, not swapped.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from functools import partial
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from assistant.planning.plan import Op

from ... import tags as owntags
from ..base import Action, ActionArgs, ActionContext, Planned
from ..common import State, error_code, left_alone, or_none, owner, refuse_other_owner
from ..registry import register


class IamRoleArgs(ActionArgs):
    """Arguments of ``iam.role``."""

    name: str = Field(min_length=1)
    cluster: str
    service: str = Field(default="", description="service principal allowed to assume the role, e.g. eks.amazonaws.com")
    managed_policies: list[str] = Field(default_factory=list, alias="managedPolicies")
    used_by: Literal["cluster", "nodegroups"] | None = Field(
        default=None,
        alias="usedBy",
        description="what runs on the role: the cluster's control plane or its node groups; "
        "if they already run on another role, that role is kept",
    )
    tags: dict[str, str] = Field(default_factory=dict)
    state: State = "present"

    @field_validator("name")
    @classmethod
    def _fit(cls, v: str) -> str:
        # IAM caps role names at 64 characters while cluster names may have 100: shorten
        # long ones deterministically so the same cluster always maps to the same role.
        # (The built-in playbooks pass names from tags.role_name, which already fit.)
        if len(v) > 64:
            v = f"{v[:55]}-{hashlib.sha256(v.encode()).hexdigest()[:8]}"
        if not re.match(r"^[\w+=,.@-]+$", v):
            raise ValueError(f"IAM role name {v!r} may only contain letters, digits and +=,.@_-")
        return v

    @model_validator(mode="after")
    def _service(self) -> IamRoleArgs:
        if self.state == "present" and not self.service:
            raise ValueError("service is required when state is present")
        return self


def trust_policy(service: str) -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}],
    }


def _role_name(arn: str) -> str:
    """The role name in a role ARN (any path dropped)."""
    return arn.rsplit("/", 1)[-1]


@register
class IamRole(Action):
    """Create, update or delete an IAM role we own; leave roles we did not create alone."""

    name = "iam.role"
    summary = "IAM role assumed by an AWS service, with attached managed policies"
    Args = IamRoleArgs
    permissions = (
        "iam:GetRole",
        "iam:CreateRole",
        "iam:DeleteRole",
        "iam:TagRole",
        "iam:AttachRolePolicy",
        "iam:DetachRolePolicy",
        "iam:ListAttachedRolePolicies",
        "iam:ListRolePolicies",
        "iam:DeleteRolePolicy",
        "iam:ListInstanceProfilesForRole",
        "iam:RemoveRoleFromInstanceProfile",
        "iam:UpdateAssumeRolePolicy",
        "eks:DescribeCluster",
        "eks:ListNodegroups",
        "eks:DescribeNodegroup",
    )

    # -- read ------------------------------------------------------------------------
    def _get(self, iam: Any, name: str) -> dict[str, Any] | None:
        role = or_none(lambda: iam.get_role(RoleName=name)["Role"], "NoSuchEntity")
        if role is None:
            return None
        policies: list[str] = []
        for page in iam.get_paginator("list_attached_role_policies").paginate(RoleName=name):
            policies.extend(p["PolicyArn"] for p in page["AttachedPolicies"])
        doc = role.get("AssumeRolePolicyDocument") or {}
        if isinstance(doc, str):
            from urllib.parse import unquote

            doc = json.loads(unquote(doc))
        services: list[str] = []
        for st in doc.get("Statement", []):
            svc = (st.get("Principal") or {}).get("Service", [])
            services.extend([svc] if isinstance(svc, str) else svc)
        return {
            "arn": role["Arn"],
            "name": role["RoleName"],
            "services": sorted(services),
            "managedPolicies": sorted(policies),
            "tags": owntags.from_aws_list(role.get("Tags")),
        }

    def _running_on(self, args: IamRoleArgs, ctx: ActionContext) -> str | None:
        """The ARN of the role this region's cluster (or its node groups) runs on now, if any."""
        eks = ctx.client("eks")
        if args.used_by == "cluster":
            cluster = or_none(lambda: eks.describe_cluster(name=args.cluster)["cluster"])
            return str(cluster["roleArn"]) if cluster and cluster.get("roleArn") else None
        if args.used_by != "nodegroups":
            return None
        try:
            names = [
                n for page in eks.get_paginator("list_nodegroups").paginate(clusterName=args.cluster) for n in page["nodegroups"]
            ]
        except Exception as exc:
            if error_code(exc) == "ResourceNotFoundException":
                return None
            raise
        mine = owner(args.cluster, ctx)
        roles: Counter[str] = Counter()

        def nodegroup(name: str) -> Any:
            return eks.describe_nodegroup(clusterName=args.cluster, nodegroupName=name)["nodegroup"]

        for n in sorted(names):
            ng = or_none(partial(nodegroup, n))
            if ng and ng.get("nodeRole") and owntags.is_ours(ng.get("tags"), mine):
                roles[str(ng["nodeRole"])] += 1
        # The role most of our node groups run on; ties go to the first by ARN, for stable plans.
        return sorted(roles.items(), key=lambda kv: (-kv[1], kv[0]))[0][0] if roles else None

    def read(self, args: IamRoleArgs, ctx: ActionContext) -> dict[str, Any] | None:
        iam = ctx.client("iam")
        role = self._get(iam, args.name)
        in_use = None
        if args.used_by and role is None:
            # Only when the role of this name is missing: a cluster we made under this naming
            # runs on it, and a cluster from before it (or made otherwise) runs on another.
            arn = self._running_on(args, ctx)
            if arn and _role_name(arn) != args.name:
                in_use = self._get(iam, _role_name(arn))
        if role is None and in_use is None:
            return None
        return {"role": role, "inUse": in_use}

    # -- plan ------------------------------------------------------------------------
    def _desired_tags(self, args: IamRoleArgs, ctx: ActionContext) -> dict[str, str]:
        return {**args.tags, **owntags.ownership(owner(args.cluster, ctx), f"iam-role/{args.name}")}

    def plan(self, args: IamRoleArgs, current: dict[str, Any] | None, ctx: ActionContext) -> Planned:
        mine = owner(args.cluster, ctx)
        role = (current or {}).get("role")
        in_use = (current or {}).get("inUse")
        if args.state == "absent":
            return self._plan_absent(args, role, in_use, mine)
        if in_use is not None:
            return self._plan_in_use(args, in_use, mine)
        resource = f"IAM role {args.name}"
        if role is None:
            arn = f"arn:{mine.partition}:iam::{ctx.account}:role/{args.name}"
            desired = {
                "name": args.name,
                "assumedBy": [args.service],
                "managedPolicies": sorted(args.managed_policies),
                "tags": self._desired_tags(args, ctx),
            }
            return Planned(Op.CREATE, resource, after=desired, reason="not found", outputs={"arn": arn, "name": args.name})
        kind = owntags.owner_of(role["tags"], mine, scope="global")
        if kind is owntags.Ownership.OTHER:
            refuse_other_owner(resource, role["tags"], mine)
        if kind is not owntags.Ownership.OURS:
            return self._used_as_is(args, role, resource, mine)
        return self._plan_update(args, role, resource, ctx)

    def _plan_absent(
        self, args: IamRoleArgs, role: dict[str, Any] | None, in_use: dict[str, Any] | None, mine: owntags.Owner
    ) -> Planned:
        resource = f"IAM role {args.name}"
        notes = []
        if in_use is not None:
            # The role the cluster runs on under another name (an older eks-assist's, or one made
            # outside): deleted only when its tags prove it is this cluster's.
            if owntags.is_ours(in_use["tags"], mine, scope="global"):
                before = {"name": in_use["name"], "managedPolicies": in_use["managedPolicies"]}
                return Planned(Op.DELETE, f"IAM role {in_use['name']}", before=before, reason="teardown")
            notes.append(f"{args.cluster} runs on IAM role {in_use['name']}: {left_alone(in_use['tags'], mine, 'global')}")
        if role is None:
            return Planned(Op.NOOP, resource, reason="already absent", notes=notes)
        if not owntags.is_ours(role["tags"], mine, scope="global"):
            return Planned(Op.NOOP, resource, notes=[*notes, left_alone(role["tags"], mine, "global")])
        before = {"name": role["name"], "managedPolicies": role["managedPolicies"]}
        return Planned(Op.DELETE, resource, before=before, reason="teardown", notes=notes)

    def _plan_in_use(self, args: IamRoleArgs, in_use: dict[str, Any], mine: owntags.Owner) -> Planned:
        """The cluster (or its node groups) already runs on another role: keep it, since swapping means replacing."""
        resource = f"IAM role {in_use['name']}"
        what = "cluster" if args.used_by == "cluster" else "node groups"
        note = (
            f"{args.cluster}'s {what} already run on this role, not on {args.name}; it is kept, because EKS "
            f"cannot change the role of a running {what.rstrip('s')} without replacing it"
        )
        kind = owntags.owner_of(in_use["tags"], mine, scope="global")
        if kind is owntags.Ownership.OURS:
            planned = self._plan_update(args, in_use, resource, None)
            planned.notes.insert(0, note)
            return planned
        used = self._used_as_is(args, in_use, resource, mine)
        used.notes.insert(0, note)
        return used

    def _used_as_is(self, args: IamRoleArgs, role: dict[str, Any], resource: str, mine: owntags.Owner) -> Planned:
        """A role that is not provably ours: used, never modified (and never deleted by teardown)."""
        kind = owntags.owner_of(role["tags"], mine, scope="global")
        if kind is owntags.Ownership.LEGACY:
            notes = [
                "an older eks-assist created it without recording the region; it may also serve the cluster of this "
                "name in another region, so it is used as is: never modified, and never deleted by destroy"
            ]
        elif kind is owntags.Ownership.OTHER:
            notes = [f"it belongs to {owntags.recorded_owner(role['tags'])}: used as is, never modified or deleted here"]
        else:
            notes = ["exists and was not created by eks-assist: used as is, not modified"]
        missing = sorted(set(args.managed_policies) - set(role["managedPolicies"]))
        if missing:
            notes.append(f"it lacks policies this cluster needs: {', '.join(missing)}")
        return Planned(Op.NOOP, resource, notes=notes, outputs={"arn": role["arn"], "name": role["name"]})

    def _plan_update(self, args: IamRoleArgs, role: dict[str, Any], resource: str, ctx: ActionContext | None) -> Planned:
        """A role of ours: add missing policies, trust and tags; never remove what others attached."""
        outputs = {"arn": role["arn"], "name": role["name"]}
        before = {
            "name": role["name"],
            "assumedBy": role["services"],
            "managedPolicies": role["managedPolicies"],
            "tags": role["tags"],
        }
        after = dict(before)
        # Policies attached by someone else stay attached; we only add what is missing.
        after["managedPolicies"] = sorted(set(role["managedPolicies"]) | set(args.managed_policies))
        if ctx is not None:
            after["tags"] = {**role["tags"], **self._desired_tags(args, ctx)}
        if args.service not in role["services"]:
            after["assumedBy"] = sorted({*role["services"], args.service})
        if after == before:
            return Planned(Op.NOOP, resource, outputs=outputs)
        changed = [k for k in after if after[k] != before.get(k)]
        return Planned(Op.UPDATE, resource, before=before, after=after, reason=f"{', '.join(changed)} differ", outputs=outputs)

    # -- apply -----------------------------------------------------------------------
    def apply(self, args: IamRoleArgs, planned: Planned, current: dict[str, Any] | None, ctx: ActionContext) -> dict[str, Any]:
        iam = ctx.client("iam")
        target = (current or {}).get("inUse") or (current or {}).get("role")
        if planned.op is Op.DELETE:
            assert target is not None
            self._delete(iam, target["name"])
            return {}
        tags = self._desired_tags(args, ctx)
        if planned.op is Op.CREATE:
            try:
                iam.create_role(
                    RoleName=args.name,
                    AssumeRolePolicyDocument=json.dumps(trust_policy(args.service)),
                    Description=f"eks-assist: {args.service} role for cluster {args.cluster} in {ctx.region}",
                    Tags=owntags.to_aws_list(tags),
                )
            except Exception as exc:
                # Created by an earlier, interrupted attempt of this same run: carry on.
                if error_code(exc) != "EntityAlreadyExists":
                    raise
            target = self._get(iam, args.name)
            assert target is not None
        assert target is not None
        name = target["name"]
        after = planned.after or {}
        if args.service not in target["services"]:
            services = sorted({*target["services"], args.service})
            doc = trust_policy(args.service)
            doc["Statement"][0]["Principal"]["Service"] = services
            iam.update_assume_role_policy(RoleName=name, PolicyDocument=json.dumps(doc))
        for arn in sorted(set(after.get("managedPolicies", [])) - set(target["managedPolicies"])):
            iam.attach_role_policy(RoleName=name, PolicyArn=arn)
        if name == args.name:
            missing_tags = {k: v for k, v in tags.items() if target["tags"].get(k) != v}
            if missing_tags:
                iam.tag_role(RoleName=name, Tags=owntags.to_aws_list(missing_tags))
        return {"arn": target["arn"], "name": name}

    def _delete(self, iam: Any, name: str) -> None:
        try:
            for page in iam.get_paginator("list_attached_role_policies").paginate(RoleName=name):
                for p in page["AttachedPolicies"]:
                    iam.detach_role_policy(RoleName=name, PolicyArn=p["PolicyArn"])
            for page in iam.get_paginator("list_role_policies").paginate(RoleName=name):
                for pname in page["PolicyNames"]:
                    iam.delete_role_policy(RoleName=name, PolicyName=pname)
            for page in iam.get_paginator("list_instance_profiles_for_role").paginate(RoleName=name):
                for prof in page["InstanceProfiles"]:
                    iam.remove_role_from_instance_profile(InstanceProfileName=prof["InstanceProfileName"], RoleName=name)
            iam.delete_role(RoleName=name)
        except Exception as exc:
            if error_code(exc) != "NoSuchEntity":
                raise
