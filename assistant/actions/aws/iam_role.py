"""``iam.role``: an IAM role that a service (EKS, EC2) assumes, with managed policies."""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

from pydantic import Field, field_validator, model_validator

from ... import tags as owntags
from ...plan import Op
from ..base import Action, ActionArgs, ActionContext, Planned
from ..common import State, error_code, or_none
from ..registry import register


class IamRoleArgs(ActionArgs):
    """Arguments of ``iam.role``."""

    name: str = Field(min_length=1)
    cluster: str
    service: str = Field(default="", description="service principal allowed to assume the role, e.g. eks.amazonaws.com")
    managed_policies: list[str] = Field(default_factory=list, alias="managedPolicies")
    tags: dict[str, str] = Field(default_factory=dict)
    state: State = "present"

    @field_validator("name")
    @classmethod
    def _fit(cls, v: str) -> str:
        # IAM caps role names at 64 characters while cluster names may have 100: shorten
        # long ones deterministically so the same cluster always maps to the same role.
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
    )

    def read(self, args: IamRoleArgs, ctx: ActionContext) -> dict[str, Any] | None:
        iam = ctx.client("iam")
        role = or_none(lambda: iam.get_role(RoleName=args.name)["Role"], "NoSuchEntity")
        if role is None:
            return None
        policies: list[str] = []
        for page in iam.get_paginator("list_attached_role_policies").paginate(RoleName=args.name):
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

    def _desired_tags(self, args: IamRoleArgs) -> dict[str, str]:
        return {**args.tags, **owntags.ownership(args.cluster, f"iam-role/{args.name}")}

    def plan(self, args: IamRoleArgs, current: dict[str, Any] | None, ctx: ActionContext) -> Planned:
        arn = f"arn:aws:iam::{ctx.account}:role/{args.name}"
        resource = f"IAM role {args.name}"
        outputs = {"arn": arn, "name": args.name}
        desired = {
            "name": args.name,
            "assumedBy": [args.service],
            "managedPolicies": sorted(args.managed_policies),
            "tags": self._desired_tags(args),
        }
        if args.state == "absent":
            if current is None:
                return Planned(Op.NOOP, resource, reason="already absent")
            if not owntags.is_ours(current["tags"], args.cluster):
                return Planned(Op.NOOP, resource, notes=["exists but was not created by eks-assist for this cluster; left alone"])
            before = {"name": current["name"], "managedPolicies": current["managedPolicies"]}
            return Planned(Op.DELETE, resource, before=before, reason="teardown")
        if current is None:
            return Planned(Op.CREATE, resource, after=desired, reason="not found", outputs=outputs)
        outputs["arn"] = current["arn"]
        before = {
            "name": current["name"],
            "assumedBy": current["services"],
            "managedPolicies": current["managedPolicies"],
            "tags": current["tags"],
        }
        if not owntags.is_ours(current["tags"], args.cluster):
            missing = sorted(set(args.managed_policies) - set(current["managedPolicies"]))
            notes = ["exists and was not created by eks-assist: used as is, not modified"]
            if missing:
                notes.append(f"it lacks policies this cluster needs: {', '.join(missing)}")
            return Planned(Op.NOOP, resource, notes=notes, outputs=outputs)
        after = dict(desired)
        # Policies attached by someone else stay attached; we only add what is missing.
        after["managedPolicies"] = sorted(set(current["managedPolicies"]) | set(args.managed_policies))
        after["tags"] = {**current["tags"], **desired["tags"]}
        if args.service not in current["services"]:
            after["assumedBy"] = sorted({*current["services"], args.service})
        else:
            after["assumedBy"] = current["services"]
        if after == before:
            return Planned(Op.NOOP, resource, outputs=outputs)
        changed = [k for k in after if after[k] != before.get(k)]
        return Planned(Op.UPDATE, resource, before=before, after=after, reason=f"{', '.join(changed)} differ", outputs=outputs)

    def apply(self, args: IamRoleArgs, planned: Planned, current: dict[str, Any] | None, ctx: ActionContext) -> dict[str, Any]:
        iam = ctx.client("iam")
        if planned.op is Op.DELETE:
            self._delete(iam, args.name)
            return {}
        tags = self._desired_tags(args)
        if planned.op is Op.CREATE:
            try:
                iam.create_role(
                    RoleName=args.name,
                    AssumeRolePolicyDocument=json.dumps(trust_policy(args.service)),
                    Description=f"eks-assist: {args.service} role for cluster {args.cluster}",
                    Tags=owntags.to_aws_list(tags),
                )
            except Exception as exc:
                # Created by an earlier, interrupted attempt of this same run: carry on.
                if error_code(exc) != "EntityAlreadyExists":
                    raise
            current = self.read(args, ctx)
            assert current is not None
        assert current is not None
        after = planned.after or {}
        if args.service not in current["services"]:
            services = sorted({*current["services"], args.service})
            doc = trust_policy(args.service)
            doc["Statement"][0]["Principal"]["Service"] = services
            iam.update_assume_role_policy(RoleName=args.name, PolicyDocument=json.dumps(doc))
        for arn in sorted(set(after.get("managedPolicies", [])) - set(current["managedPolicies"])):
            iam.attach_role_policy(RoleName=args.name, PolicyArn=arn)
        missing_tags = {k: v for k, v in tags.items() if current["tags"].get(k) != v}
        if missing_tags:
            iam.tag_role(RoleName=args.name, Tags=owntags.to_aws_list(missing_tags))
        return {"arn": current["arn"], "name": args.name}

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
