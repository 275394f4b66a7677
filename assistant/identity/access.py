"""IAM principal → Kubernetes identity: routing rules for mappings, and resolution for
``eks-assist access check`` / ``access list``.

Two sources map IAM principals into Kubernetes: the ``kube-system/aws-auth`` ConfigMap and
EKS access entries (with access policies). Which ones EKS consults depends on the cluster's
authentication mode: CONFIG_MAP reads only aws-auth, API only access entries, and
API_AND_CONFIG_MAP both, access entries first. :func:`read_mappings` reads both from a live
cluster (read-only).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from assistant.errors import InputError

# Authentication modes only move rightwards.
MODES = ("CONFIG_MAP", "API_AND_CONFIG_MAP", "API")
POLICY_PREFIX = "arn:aws:eks::aws:cluster-access-policy/"
# EKS's access policies (ListAccessPolicies); used when the API is unreachable at validation.
KNOWN_POLICIES = (
    "AmazonEKSAdminPolicy",
    "AmazonEKSAdminViewPolicy",
    "AmazonEKSClusterAdminPolicy",
    "AmazonEKSEditPolicy",
    "AmazonEKSViewPolicy",
)

IAM_ARN = re.compile(r"^arn:(aws[a-z-]*):iam::(\d{12}):(role|user)/((?:[\w+=,.@-]+/)*)([\w+=,.@-]{1,64})$")
STS_ARN = re.compile(r"^arn:(aws[a-z-]*):sts::(\d{12}):assumed-role/([\w+=,.@-]{1,64})/([\w+=,.@-]{1,64})$")
ACCOUNT = re.compile(r"^\d{12}$")


def later_mode(*modes: str | None) -> str:
    """The furthest-right of the given modes (eks.cluster moves the cluster forward first)."""
    known = [m for m in modes if m in MODES]
    return max(known, key=MODES.index) if known else "CONFIG_MAP"


def route(kind: str, via: str, mode: str) -> str:
    """Where one mapping goes: ``aws-auth`` or ``access-entry``."""
    if kind == "account" or via == "aws-auth":
        return "aws-auth"
    if via == "access-entry":
        return "access-entry"
    return "aws-auth" if mode == "CONFIG_MAP" else "access-entry"


def check_arn(arn: str, kind: str | None = None) -> re.Match[str]:
    """The IAM ARN's parts; InputError with an example when it is not one."""
    m = IAM_ARN.match(arn)
    if not m or (kind is not None and m.group(3) != kind):
        want = kind or "role or user"
        raise InputError(f"{arn!r} is not an IAM {want} ARN (like arn:aws:iam::111122223333:{kind or 'role'}/name)")
    return m


def policy_arn(policy: str) -> str:
    """A full access-policy ARN from a short name or ARN."""
    return policy if policy.startswith("arn:") else POLICY_PREFIX + policy


def _levenshtein(a: str, b: str) -> int:
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


@dataclass
class Mapping:
    """One mapping from either source, as ``access list`` shows it."""

    source: str  # "aws-auth" | "access-entry"
    arn: str
    username: str | None
    groups: list[str]
    section: str = ""  # mapRoles / mapUsers / mapAccounts for aws-auth
    policies: list[dict[str, Any]] = field(default_factory=list)
    type: str = ""

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"source": self.source, "arn": self.arn, "username": self.username, "groups": self.groups}
        if self.section:
            out["section"] = self.section
        if self.source == "access-entry":
            out["type"] = self.type
            out["accessPolicies"] = self.policies
        return out


@dataclass
class Principal:
    """A parsed principal: the ARN given and the ARNs that may match it."""

    given: str
    account: str
    kind: str  # role | user | assumed-role
    name: str
    path: str = ""
    session: str = ""

    @property
    def role_arn(self) -> str:
        """The IAM role ARN behind an assumed-role session (without path: STS drops it)."""
        return f"arn:aws:iam::{self.account}:role/{self.name}"


def parse_principal(arn: str) -> Principal:
    """Parse an IAM role/user ARN or an STS assumed-role ARN; InputError (exit 2) otherwise."""
    m = STS_ARN.match(arn)
    if m:
        return Principal(arn, m.group(2), "assumed-role", m.group(3), session=m.group(4))
    m = IAM_ARN.match(arn)
    if m:
        return Principal(arn, m.group(2), m.group(3), m.group(5), path=m.group(4))
    raise InputError(
        f"--principal: {arn!r} is not an IAM principal ARN (like arn:aws:iam::111122223333:role/name, "
        "arn:aws:iam::111122223333:user/name or arn:aws:sts::111122223333:assumed-role/name/session)"
    )


def _render(template: str | None, p: Principal) -> str | None:
    if template is None:
        return None
    session = p.session or "{{SessionName}}"
    return (
        template.replace("{{AccountID}}", p.account)
        .replace("{{SessionName}}", session)
        .replace("{{SessionNameRaw}}", session)
        .replace("{{EC2PrivateDNSName}}", "ip-…")
    )


def resolve(principal: str, mode: str, mappings: list[Mapping]) -> dict[str, Any]:
    """Who ``principal`` is in Kubernetes, which rule says so, and near misses when nothing does."""
    p = parse_principal(principal)
    # EKS matches a session by its role ARN; aws-auth by the path-less role ARN, access
    # entries by the ARN they were created with (paths included).
    candidates = [p.role_arn] if p.kind == "assumed-role" else [p.given]
    consulted = {"API": ["access-entry"], "CONFIG_MAP": ["aws-auth"]}.get(mode, ["access-entry", "aws-auth"])
    for source in consulted:
        for m in mappings:
            if m.source != source:
                continue
            if _matches(m, p, candidates):
                return {
                    "principal": principal,
                    "authenticationMode": mode,
                    "mapped": True,
                    "username": _render(m.username, p),
                    "groups": m.groups,
                    "source": m.source,
                    "rule": m.to_json(),
                    "accessPolicies": m.policies,
                    "notes": [f"matched as {p.role_arn}" if p.kind == "assumed-role" else "matched exactly"],
                    "nearMisses": [],
                }
    return {
        "principal": principal,
        "authenticationMode": mode,
        "mapped": False,
        "username": None,
        "groups": [],
        "source": None,
        "rule": None,
        "accessPolicies": [],
        "notes": ["no aws-auth entry or access entry maps this principal; Kubernetes will reject it (401)"],
        "nearMisses": near_misses(p, mode, mappings),
    }


def _matches(m: Mapping, p: Principal, candidates: list[str]) -> bool:
    if m.source == "aws-auth" and m.section == "mapAccounts":
        return m.arn == p.account
    parts = IAM_ARN.match(m.arn)
    if parts is None:
        return False
    _part, acct, kind, path, name = parts.groups()
    if p.kind in ("role", "assumed-role"):
        # IAM role names are unique per account whatever the path, and EKS sees a session's
        # role without its path; aws-auth entries written with a path therefore never match.
        if m.source == "aws-auth" and path:
            return False
        return kind == "role" and acct == p.account and name == p.name
    return m.arn in candidates


def near_misses(p: Principal, mode: str, mappings: list[Mapping]) -> list[str]:
    """Reasons a mapping that looks meant for ``p`` does not apply."""
    out: list[str] = []
    ignored = {"API": "aws-auth", "CONFIG_MAP": "access-entry"}.get(mode)
    for m in mappings:
        parts = IAM_ARN.match(m.arn)
        if m.source == ignored:
            same = _matches(m, p, [p.role_arn] if p.kind == "assumed-role" else [p.given])
            if same:
                out.append(
                    f"{m.source} maps {m.arn}, but the cluster's authenticationMode {mode} ignores "
                    f"{'aws-auth' if ignored == 'aws-auth' else 'access entries'}"
                )
                continue
        if parts is None:
            continue
        _part, acct, kind, path, name = parts.groups()
        same_role = p.kind in ("role", "assumed-role") and kind == "role" and name == p.name and acct == p.account
        if same_role and path and m.source == "aws-auth":
            out.append(
                f"aws-auth maps {m.arn}, but aws-auth matches role ARNs without their path (/{path}): "
                f"map arn:aws:iam::{p.account}:role/{p.name} instead"
            )
        if p.kind in ("role", "assumed-role") and kind == "role" and name == p.name and acct != p.account:
            d = _levenshtein(acct, p.account)
            if d <= 2:
                out.append(f"{m.source} maps {m.arn}: account {acct} differs from {p.account} by {d} digit(s) (typo?)")
        if p.kind == "user" and kind == "user" and name == p.name and acct != p.account:
            d = _levenshtein(acct, p.account)
            if d <= 2:
                out.append(f"{m.source} maps {m.arn}: account {acct} differs from {p.account} by {d} digit(s) (typo?)")
        if p.kind != "assumed-role" and kind == p.kind and acct == p.account and name != p.name:
            d = _levenshtein(name, p.name)
            if d <= 2:
                out.append(f"{m.source} maps {m.arn}: name '{name}' differs from '{p.name}' by {d} character(s) (typo?)")
    return out


def session_hint(arn: str) -> str | None:
    """For an assumed-role session ARN, the role ARN EKS actually matches."""
    m = STS_ARN.match(arn)
    return f"arn:aws:iam::{m.group(2)}:role/{m.group(3)}" if m else None


def read_mappings(aws: Any, cluster: str) -> tuple[str, list[Mapping], list[str]]:
    """(authentication mode, every mapping from both sources, notes) for ``cluster``."""
    import botocore.exceptions

    from assistant.clients.kube import api_client
    from assistant.identity import awsauth

    eks = aws.client("eks")
    try:
        c = eks.describe_cluster(name=cluster)["cluster"]
    except botocore.exceptions.ClientError as exc:
        if exc.response["Error"]["Code"] == "ResourceNotFoundException":
            raise InputError(f"no EKS cluster named '{cluster}' in {aws.region}") from None
        raise
    mode = (c.get("accessConfig") or {}).get("authenticationMode", "CONFIG_MAP")
    mappings: list[Mapping] = []
    notes: list[str] = []
    if mode != "CONFIG_MAP":
        for page in eks.get_paginator("list_access_entries").paginate(clusterName=cluster):
            for arn in page["accessEntries"]:
                e = eks.describe_access_entry(clusterName=cluster, principalArn=arn)["accessEntry"]
                policies = []
                for pp in eks.get_paginator("list_associated_access_policies").paginate(clusterName=cluster, principalArn=arn):
                    for pol in pp["associatedAccessPolicies"]:
                        scope = pol.get("accessScope") or {}
                        policies.append(
                            {
                                "policy": pol["policyArn"].rsplit("/", 1)[1],
                                "scope": scope.get("type", "cluster"),
                                "namespaces": list(scope.get("namespaces") or []),
                            }
                        )
                mappings.append(
                    Mapping(
                        "access-entry",
                        arn,
                        e.get("username"),
                        list(e.get("kubernetesGroups") or []),
                        policies=policies,
                        type=e.get("type", "STANDARD"),
                    )
                )
    import kubernetes.client

    core = kubernetes.client.CoreV1Api(api_client(aws, cluster))
    try:
        cm = core.read_namespaced_config_map("aws-auth", "kube-system")
    except kubernetes.client.ApiException as exc:
        if exc.status != 404:
            raise
        cm = None
        notes.append("kube-system/aws-auth does not exist")
    if cm is not None:
        doc = awsauth.AwsAuth.parse(dict(cm.data or {}))
        for section in awsauth.SECTIONS:
            for key, value in doc.entries(section).items():
                if section == "mapAccounts":
                    mappings.append(Mapping("aws-auth", key, None, [], section=section))
                else:
                    mappings.append(
                        Mapping("aws-auth", key, value.get("username"), list(value.get("groups") or []), section=section)
                    )
    if mode == "API":
        notes.append("authenticationMode API: EKS ignores aws-auth")
    if mode == "CONFIG_MAP":
        notes.append("authenticationMode CONFIG_MAP: the cluster has no access entries")
    return mode, mappings, notes
