"""``iamMappings``: IAM principals mapped into Kubernetes, by aws-auth or by EKS access entries."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import (
    Field,
    field_validator,
    model_validator,
)

from assistant.spec.checks import (
    Issues,
    SpecModel,
    SubPath,
    check_free_text,
    duplicates,
    fail,
    fail_at,
    free_text_problem,
    quote,
    repeats,
)

# IAM names and paths are ASCII ([\w+=,.@-] in IAM's API reference means ASCII word characters).
_IAM_ARN = re.compile(
    r"arn:(?P<partition>aws[a-z-]*):iam::(?P<account>\d{12}):(?P<kind>role|user)/(?P<path>(?:[\w+=,.@-]+/)*)"
    r"(?P<name>[\w+=,.@-]{1,64})",
    re.ASCII,
)
_ACCOUNT_ID = re.compile(r"\d{12}")
# EKS's access policies (ListAccessPolicies) are Amazon...Policy, not only AmazonEKS...Policy
# (AmazonAIOpsAssistantPolicy, AmazonARCRegionSwitchScalingPolicy); the plan checks the name
# against ListAccessPolicies.
_POLICY_ARN = re.compile(r"arn:(?P<partition>aws[a-z-]*):eks::aws:cluster-access-policy/(?P<name>Amazon[A-Za-z0-9]+Policy)")
_POLICY_NAME = re.compile(r"Amazon[A-Za-z0-9]+Policy")
_DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
# Prefixes EKS reserves for itself in access entry usernames.
_RESERVED_USERNAME = ("system:", "eks:", "aws:", "amazon:", "iam:")


def _namespace_problem(ns: str) -> str | None:
    """A namespace of an access scope: a Kubernetes namespace name, or a prefix of one and ``*``.

    EKS's AccessScope takes a wildcard at the end (``dev-*``: every namespace starting with
    ``dev-``; the EKS User Guide and eksctl's examples use it); nowhere else.
    """
    if ns == "*":
        return "'*' alone would be every namespace; use scope: cluster"
    name = ns[:-1] if ns.endswith("*") else ns
    if "*" in name:
        return f"{quote(ns)}: a wildcard may only end a namespace, like dev-*"
    # A prefix may end in '-' (dev-*); a whole name may not.
    shape = _DNS_LABEL.fullmatch(name) or (ns.endswith("*") and _DNS_LABEL.fullmatch(name.rstrip("-")))
    if len(ns) > 63 or not name or not shape:
        return (
            f"{quote(ns)} is not a valid namespace name (lowercase letters, digits and '-', at most 63 characters), "
            "or a prefix of one followed by * (like dev-*)"
        )
    return None


class AccessPolicy(SpecModel):
    """An EKS access policy associated with an access entry."""

    policy: str = Field(description="AmazonEKSClusterAdminPolicy, AmazonEKSAdminPolicy, ... or its full ARN.")
    scope: Literal["cluster", "namespace"] = "cluster"
    namespaces: list[str] = Field(default_factory=list)

    @field_validator("policy")
    @classmethod
    def _policy(cls, v: str) -> str:
        if not (_POLICY_ARN.fullmatch(v) or _POLICY_NAME.fullmatch(v)):
            fail(
                f"{quote(v)} is not an EKS access policy (like AmazonEKSViewPolicy or "
                "arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy)"
            )
        return v

    @property
    def name(self) -> str:
        """The policy's short name (AmazonEKSViewPolicy), whichever way it was written."""
        match = _POLICY_ARN.fullmatch(self.policy)
        return match.group("name") if match else self.policy

    @field_validator("namespaces")
    @classmethod
    def _namespaces(cls, v: list[str]) -> list[str]:
        issues = Issues()
        for i, ns in enumerate(v):
            problem = _namespace_problem(ns)
            if problem:
                issues.add((i,), problem)
        duplicates(v, "namespace", "namespaces", issues)
        issues.raise_any()
        return v

    @model_validator(mode="after")
    def _scope(self) -> AccessPolicy:
        if self.scope == "namespace" and not self.namespaces:
            fail_at(("namespaces",), "scope namespace needs a list of namespaces")
        if self.scope == "cluster" and self.namespaces:
            fail_at(("namespaces",), "namespaces only apply with scope: namespace")
        return self


class IamMapping(SpecModel):
    """Maps an IAM principal to a Kubernetes username and groups (aws-auth or access entry)."""

    arn: str = Field(description="IAM role or user ARN; for kind account, the 12-digit account ID.")
    kind: Literal["role", "user", "account"]
    username: str | None = None
    groups: list[str] = Field(default_factory=list)
    via: Literal["auto", "aws-auth", "access-entry"] = "auto"
    access_policies: list[AccessPolicy] = Field(default_factory=list)

    @field_validator("username")
    @classmethod
    def _username(cls, v: str | None) -> str | None:
        if v is not None:
            check_free_text(v, "username", 256)
        return v

    @field_validator("groups")
    @classmethod
    def _groups(cls, v: list[str]) -> list[str]:
        issues = Issues()
        for i, group in enumerate(v):
            problem = free_text_problem(group, "group", 256)
            if problem:
                issues.add((i,), problem)
        duplicates(v, "group", "groups", issues)
        issues.raise_any()
        return v

    @model_validator(mode="after")
    def _arn_matches(self) -> IamMapping:
        issues = Issues()
        if self.kind == "account":
            if not _ACCOUNT_ID.fullmatch(self.arn):
                issues.add(("arn",), f"an account mapping takes a 12-digit AWS account ID, got {quote(self.arn)}")
            if self.via == "access-entry":
                issues.add(("via",), "accounts cannot be mapped with access entries; use via: aws-auth")
        else:
            match = _IAM_ARN.fullmatch(self.arn)
            if not match:
                issues.add(
                    ("arn",), f"{quote(self.arn)} is not an IAM {self.kind} ARN (like arn:aws:iam::111122223333:{self.kind}/name)"
                )
            elif match.group("kind") != self.kind:
                issues.add(("arn",), f"kind is {self.kind} but the ARN names an IAM {match.group('kind')}")
            elif self.kind == "role" and match.group("path") and self.via == "aws-auth":
                issues.add(
                    ("arn",),
                    f"aws-auth role ARNs cannot include a path (/{match.group('path')}); drop the path or use via: access-entry",
                )
        if self.access_policies and self.via == "aws-auth":
            issues.add(("accessPolicies",), "accessPolicies need an access entry; use via: access-entry or auto")
        if self.via == "access-entry":
            # EKS refuses these in CreateAccessEntry; caught here, the apply does not stop halfway.
            for sub, message in self.access_entry_problems():
                issues.add(sub, message)
        for i, j in repeats([p.name for p in self.access_policies]):
            issues.add(
                ("accessPolicies", i, "policy"),
                f"duplicate access policy {self.access_policies[i].name} (also at accessPolicies[{j}]); "
                "EKS associates a policy with an access entry once: give it one scope",
            )
        issues.raise_any()
        return self

    def access_entry_problems(self) -> list[tuple[SubPath, str]]:
        """What EKS's CreateAccessEntry would refuse in this mapping: reserved username and group prefixes."""
        out: list[tuple[SubPath, str]] = []
        reserved = next((p for p in _RESERVED_USERNAME if (self.username or "").startswith(p)), None)
        if reserved:
            out.append((("username",), f"access entry usernames cannot start with {reserved!r} (EKS reserves it)"))
        for i, group in enumerate(self.groups):
            if group.startswith("system:"):
                out.append((("groups", i), f"access entry groups cannot start with 'system:' (EKS reserves it): {quote(group)}"))
        return out


def partitions_named(m: IamMapping) -> list[tuple[SubPath, str]]:
    """(sub-path, partition) of every ARN in a mapping: its principal and its access policies."""
    out: list[tuple[SubPath, str]] = []
    match = _IAM_ARN.fullmatch(m.arn) if m.kind != "account" else None
    if match:
        out.append((("arn",), match.group("partition")))
    for k, p in enumerate(m.access_policies):
        policy = _POLICY_ARN.fullmatch(p.policy)
        if policy:
            out.append((("accessPolicies", k, "policy"), policy.group("partition")))
    return out


def principal_key(m: IamMapping) -> tuple[str, ...]:
    """What identifies the IAM principal of a mapping: IAM ignores case and path in names."""
    match = _IAM_ARN.fullmatch(m.arn) if m.kind != "account" else None
    if match is None:
        return (m.kind, m.arn)
    return (match.group("kind"), match.group("account"), match.group("name").lower())
