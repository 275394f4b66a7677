"""The typed cluster spec: what the user wants, validated before any AWS call.

A spec is one YAML document (``apiVersion: eks-assist/v1``, ``kind: Cluster``) parsed by
:mod:`assistant.spec.source` and validated here into a frozen :class:`ClusterSpec`. Every
problem found — not just the first — is reported as ``file:line:col: path: message`` in one
:class:`~assistant.errors.InputError` (exit code 2).

How errors are produced: pydantic checks structure and types (strict: YAML already gives
native types, so ``"3"`` is not a number and ``1.30`` is not a version). Rules that pydantic
cannot phrase well are validators that raise :class:`PydanticCustomError` — either one
message for the field (``eks_value``) or several located sub-problems (``eks_issues``).
:func:`~assistant.spec.problems.problems_from`, worded by :class:`SpecWording`, maps every error to a
plain-English :class:`Problem` at its source position.
Cross-field rules live in field validators that read earlier fields from ``info.data``, so
they still run when an unrelated part of the spec is broken.
"""

from __future__ import annotations

import difflib
import hashlib
import ipaddress
import json
import math
import os
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal, NoReturn, get_args

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic.alias_generators import to_camel
from pydantic_core import ErrorDetails, PydanticCustomError

from assistant import tags as owntags
from assistant.awsnames import REGION_SHAPE, partition_of, region_problem, zone_region
from assistant.errors import InputError, Problem
from assistant.identity.access import route
from assistant.spec.problems import Wording, problems_from, strip_error_prefix
from assistant.spec.problems import describe_value as _describe
from assistant.spec.source import MAX_BYTES, Locator, PathT, load_file, loads, text_number_hint

__all__ = [
    "AMI_TYPES",
    "API_VERSION",
    "DEFAULT_VERSION",
    "LOG_TYPES",
    "AccessPolicy",
    "ClusterSpec",
    "Cni",
    "CustomNetworking",
    "Endpoint",
    "EniConfig",
    "IamMapping",
    "Kubeconfig",
    "LoadedSpec",
    "Masters",
    "Metadata",
    "NodeGroup",
    "Scaling",
    "SecretsEncryption",
    "Taint",
    "Vpc",
    "VpcCreate",
    "VpcExisting",
    "load_spec",
    "loads_spec",
    "parse_spec",
    "spec_json_schema",
]

API_VERSION = "eks-assist/v1"
KIND = "Cluster"
#: The newest Kubernetes version we know EKS offers; the default for ``masters.version``.
DEFAULT_VERSION = "1.33"

AmiType = Literal[
    "AL2023_x86_64_STANDARD",
    "AL2023_ARM_64_STANDARD",
    "AL2023_x86_64_NVIDIA",
    "AL2023_ARM_64_NVIDIA",
    "AL2023_x86_64_NEURON",
    "BOTTLEROCKET_x86_64",
    "BOTTLEROCKET_ARM_64",
    "BOTTLEROCKET_x86_64_NVIDIA",
    "BOTTLEROCKET_ARM_64_NVIDIA",
    "BOTTLEROCKET_x86_64_FIPS",
    "BOTTLEROCKET_ARM_64_FIPS",
    "BOTTLEROCKET_x86_64_NVIDIA_FIPS",
    "BOTTLEROCKET_ARM_64_NVIDIA_FIPS",
    "AL2_x86_64",
    "AL2_x86_64_GPU",
    "AL2_ARM_64",
    "WINDOWS_CORE_2019_x86_64",
    "WINDOWS_FULL_2019_x86_64",
    "WINDOWS_CORE_2022_x86_64",
    "WINDOWS_FULL_2022_x86_64",
    "WINDOWS_CORE_2025_x86_64",
    "WINDOWS_FULL_2025_x86_64",
    "CUSTOM",
]
AMI_TYPES: tuple[str, ...] = get_args(AmiType)
LogType = Literal["api", "audit", "authenticator", "controllerManager", "scheduler"]
LOG_TYPES: tuple[str, ...] = get_args(LogType)
AuthenticationMode = Literal["CONFIG_MAP", "API_AND_CONFIG_MAP", "API"]
# EKS also has CAPACITY_BLOCK, which needs a launch template naming a capacity reservation:
# the spec cannot express that, so the node group could not be created (see NodeGroup).
CapacityType = Literal["ON_DEMAND", "SPOT"]
TaintEffect = Literal["NO_SCHEDULE", "NO_EXECUTE", "PREFER_NO_SCHEDULE"]

# EKS stopped publishing Amazon Linux 2 AMIs after Kubernetes 1.32.
_AL2_REPLACEMENT = {
    "AL2_x86_64": "AL2023_x86_64_STANDARD",
    "AL2_x86_64_GPU": "AL2023_x86_64_NVIDIA",
    "AL2_ARM_64": "AL2023_ARM_64_STANDARD",
}
_AL2_LAST_VERSION = (1, 32)

_CLUSTER_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,99}")
_NODEGROUP_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,62}")
_NAME_CHARS = re.compile(r"[A-Za-z0-9_-]")
_VERSION = re.compile(r"\d+\.\d+")
_INSTANCE_TYPE = re.compile(r"[a-z][a-z0-9-]*\.[a-z0-9-]+")
# EC2 resource IDs have 8 hexadecimal characters (before 2016) or 17.
_AMI_ID = re.compile(r"ami-([0-9a-f]{8}|[0-9a-f]{17})")
_SUBNET_ID = re.compile(r"subnet-([0-9a-f]{8}|[0-9a-f]{17})")
_SG_ID = re.compile(r"sg-([0-9a-f]{8}|[0-9a-f]{17})")
# KMS key ids are UUIDs, or mrk-<32 hex> for multi-Region keys; alias names are 1-256 of
# [A-Za-z0-9/_-] (KMS CreateAlias), after "alias/".
_KMS_ARN = re.compile(
    r"arn:(?P<partition>aws[a-z-]*):kms:(?P<region>[a-z0-9-]+):\d{12}:"
    r"(key/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|mrk-[0-9a-f]{32})|alias/[A-Za-z0-9/_-]{1,250})"
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
_LABEL_NAME = re.compile(r"([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]")
_DNS_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
_DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
# Every version DescribeAddonVersions lists ends in -eksbuild.N (v1.19.2-eksbuild.1).
_ADDON_VERSION = re.compile(r"v\d+\.\d+\.\d+(-[a-z0-9]+)*-eksbuild\.\d+")
# AWS allows Unicode letters, digits and separators (\p{L}\p{Z}\p{N}) plus _ . : / = + - @ in tags.
# Not \s: that takes newlines and tabs, which AWS refuses, so the apply would stop halfway.
_TAG_SPACE = "\u0020\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
_TAG_CHARS = re.compile(rf"[\w{_TAG_SPACE}.:/=+\-@]*")
_TAG_CHAR = re.compile(rf"[\w{_TAG_SPACE}.:/=+\-@]")

_RESERVED_LABEL_PREFIXES = ("kubernetes.io", "k8s.io", "eks.amazonaws.com")
# Prefixes EKS reserves for itself in access entry usernames.
_RESERVED_USERNAME = ("system:", "eks:", "aws:", "amazon:", "iam:")
# AWS allows 50 tags on a resource (EKS's TagMap, EC2, IAM). eks-assist adds its ownership tags
# to everything it creates, and Name to EC2 resources; the spec's own tags get the rest.
_AWS_MAX_TAGS = 50
OUR_TAG_KEYS = frozenset({owntags.MANAGED_BY, owntags.CLUSTER, owntags.RESOURCE, owntags.CLUSTER_ARN, "Name"})
MAX_TAGS = _AWS_MAX_TAGS - len(OUR_TAG_KEYS)
# EKS's API takes 32-bit integers for sizes.
_INT32_MAX = 2**31 - 1
_RFC1918 = tuple(ipaddress.IPv4Network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"))

SubPath = tuple[str | int, ...]


# --------------------------------------------------------------------------- error helpers


def _fail(message: str) -> NoReturn:
    """One problem with the field being validated."""
    # The message travels in ctx, not the template, so braces in user values stay literal.
    raise PydanticCustomError("eks_value", "{detail}", {"detail": message})


class _Issues:
    """Collects several problems inside one validator, each at a sub-path of the field/model."""

    def __init__(self) -> None:
        self.items: list[tuple[SubPath, str, bool]] = []

    def add(self, sub: SubPath, message: str, *, key: bool = False) -> None:
        self.items.append((sub, message, key))

    def raise_any(self) -> None:
        if self.items:
            raise PydanticCustomError("eks_issues", "{count} problem(s)", {"issues": list(self.items), "count": len(self.items)})


def _fail_at(sub: SubPath, message: str, *, key: bool = False) -> NoReturn:
    """One problem at a sub-path of the model being validated (e.g. ``("scaling", "min")``)."""
    issues = _Issues()
    issues.add(sub, message, key=key)
    issues.raise_any()
    raise AssertionError("unreachable")  # pragma: no cover


def _did_you_mean(word: str, choices: Iterable[str], cutoff: float = 0.6) -> str | None:
    options = list(choices)

    def norm(text: str) -> str:
        return text.lower().replace("_", "").replace("-", "")

    # Case and separators first: "NoSchedule" means NO_SCHEDULE, whatever difflib thinks.
    for option in options:
        if norm(option) == norm(word):
            return option
    by_norm = {norm(o): o for o in options}
    close = difflib.get_close_matches(norm(word), list(by_norm), n=1, cutoff=cutoff)
    return by_norm[close[0]] if close else None


def _duplicates(values: list[Any], label: str, where: str, issues: _Issues, render: Callable[[Any], str] = repr) -> None:
    """Report each repeat of a value, naming where it first appeared (``where`` is the field)."""
    for i, j in _repeats(values):
        issues.add((i,), f"duplicate {label} {render(values[i])} (also at {where}[{j}])")


def _repeats(keys: list[Any]) -> list[tuple[int, int]]:
    """``(i, j)`` for each ``keys[i]`` that already appeared first at ``j``."""
    first: dict[Any, int] = {}
    return [(i, j) for i, key in enumerate(keys) if (j := first.setdefault(key, i)) != i]


def _near_duplicates(
    names: list[str], keys: list[Any], where: tuple[str, str, str], why: Callable[[int, str], str], issues: _Issues
) -> None:
    """Report each name whose key repeats an earlier one's: an exact repeat, or (``why``) a different
    spelling of the same thing. ``where`` is (the item's field, the noun, the list's field)."""
    field, noun, listed = where
    for i, j in _repeats(keys):
        shown = _q(names[i]) if noun.endswith("name") else names[i]
        if names[j] == names[i]:
            issues.add((i, field), f"duplicate {noun} {shown} (also at {listed}[{j}])")
        else:
            issues.add((i, field), f"duplicate {noun} {shown}: {why(j, names[j])}")


def _q(value: str) -> str:
    """``repr(value)``, shortened: a 1 MB name must not become a 1 MB error message."""
    if len(value) <= 120:
        return repr(value)
    return f"{value[:60]!r}…"


def _free_text_problem(value: str, what: str, limit: int) -> str | None:
    """Free-form text (usernames, groups, context names, paths) is data, never code, but it must be
    text a person can read: 1-``limit`` characters, no control or invisible formatting characters
    (a newline, a NUL, a right-to-left override), so that what the plan shows is what is written."""
    if not value:
        return f"{what} is empty"
    if len(value) > limit:
        return f"{what} is {len(value)} characters; at most {limit} allowed"
    for i, ch in enumerate(value):
        if not ch.isprintable():
            return f"{what} {_q(value)} contains {ch!r} at position {i + 1}: control and invisible characters are not allowed"
    return None


def _check_free_text(value: str, what: str, limit: int) -> None:
    problem = _free_text_problem(value, what, limit)
    if problem:
        _fail(problem)


def _bad_char_hint(value: str, allowed: re.Pattern[str]) -> str:
    for i, ch in enumerate(value):
        if not allowed.fullmatch(ch):
            return f" ({ch!r} at position {i + 1} is not allowed)"
    return ""


def _cidr(text: str, what: str) -> ipaddress.IPv4Network:
    """Parse an IPv4 CIDR block, failing the field with a message that says how to fix it."""
    if "/" not in text:
        _fail(f"{what} {_q(text)} needs a prefix length, like 10.0.0.0/16")
    try:
        net = ipaddress.ip_network(text, strict=False)
    except ValueError:
        _fail(f"{what} {_q(text)} is not a valid IPv4 CIDR block (like 10.0.0.0/16)")
    if not isinstance(net, ipaddress.IPv4Network):
        _fail(f"{what} {_q(text)} is IPv6; only IPv4 CIDR blocks are supported here")
    if str(net) != text:
        # Either host bits are set (10.0.0.1/16) or it is spelled oddly (10.0.0.0/016).
        address = text.split("/", 1)[0]
        reason = "has host bits set" if ipaddress.ip_address(address) != net.network_address else "is unusual"
        _fail(f"{what} {_q(text)} {reason}; did you mean '{net}'?")
    return net


def _version_tuple(version: str) -> tuple[int, int]:
    major, minor = version.split(".")
    return int(major), int(minor)


def _label_key_problem(key: str, what: str, max_len: int | None = None) -> str | None:
    """Kubernetes qualified-name rules for label and taint keys; ``None`` when fine."""
    prefix, _, name = key.rpartition("/")
    rule = f"{what} {_q(key)} is not a valid Kubernetes key"
    if max_len is not None and len(key) > max_len:
        return f"{what} {_q(key)} is {len(key)} characters; at most {max_len} allowed"
    if "/" in key and not prefix:
        return f"{rule}: the prefix before '/' is empty"
    if prefix and (len(prefix) > 253 or not _DNS_SUBDOMAIN.fullmatch(prefix)):
        return f"{rule}: the prefix {_q(prefix)} must be a lowercase DNS subdomain (like example.com)"
    if not name or len(name) > 63 or not _LABEL_NAME.fullmatch(name):
        return (
            f"{rule}: the name part must be 1-63 characters of letters, digits, '-', '_' or '.', "
            "starting and ending with a letter or digit"
        )
    return None


def _label_value_problem(value: str, what: str) -> str | None:
    if value and (len(value) > 63 or not _LABEL_NAME.fullmatch(value)):
        return (
            f"{what} {_q(value)} is not a valid Kubernetes label value: at most 63 characters of letters, "
            "digits, '-', '_' or '.', starting and ending with a letter or digit"
        )
    return None


def _check_subnet_id(value: str) -> str:
    if not _SUBNET_ID.fullmatch(value):
        _fail(f"{_q(value)} is not a subnet ID (like subnet-0123456789abcdef0)")
    return value


def _check_sg_id(value: str) -> str:
    if not _SG_ID.fullmatch(value):
        _fail(f"{_q(value)} is not a security group ID (like sg-0123456789abcdef0)")
    return value


def _check_instance_type(value: str) -> str:
    if not _INSTANCE_TYPE.fullmatch(value):
        _fail(f"{_q(value)} is not an instance type name (like m5.large or p5.48xlarge)")
    return value


def _check_subnet_cidr(value: str) -> str:
    _cidr(value, "subnet CIDR")
    return value


def _check_public_cidr(value: str) -> str:
    _cidr(value, "public CIDR")
    return value


def _check_tag_key(key: str) -> str:
    if not 1 <= len(key) <= 128:
        _fail(f"tag key must be 1-128 characters, got {len(key)}")
    if key.lower().startswith("aws:"):
        _fail(f"tag key {_q(key)}: the 'aws:' prefix is reserved by AWS")
    if key.startswith("eks-assist:"):
        _fail(f"tag key {_q(key)}: the 'eks-assist:' prefix is reserved for eks-assist")
    if not _TAG_CHARS.fullmatch(key):
        _fail(f"tag key {_q(key)} may only contain letters, digits, spaces and _ . : / = + - @{_bad_char_hint(key, _TAG_CHAR)}")
    return key


def _check_tag_value(value: str) -> str:
    if len(value) > 256:
        _fail(f"tag value must be at most 256 characters, got {len(value)}")
    if not _TAG_CHARS.fullmatch(value):
        hint = _bad_char_hint(value, _TAG_CHAR)
        _fail(f"tag value {_q(value)} may only contain letters, digits, spaces and _ . : / = + - @{hint}")
    return value


def _check_label_key(key: str) -> str:
    # EKS's CreateNodegroup takes label keys of 1-63 characters in all (botocore: labelKey),
    # prefix included, where Kubernetes alone would allow a 253-character prefix.
    problem = _label_key_problem(key, "label key", max_len=63)
    if problem:
        _fail(problem)
    prefix = key.rpartition("/")[0]
    # EKS: "Label cannot contain reserved prefixes [kubernetes.io/, k8s.io/, eks.amazonaws.com/]".
    if any(prefix == ns or prefix.endswith("." + ns) for ns in _RESERVED_LABEL_PREFIXES):
        _fail(f"label key {_q(key)}: EKS reserves the kubernetes.io/, k8s.io/ and eks.amazonaws.com/ prefixes")
    return key


def _check_label_value(value: str) -> str:
    if not value:
        # EKS's CreateNodegroup takes label values of 1-63 characters (botocore: labelValue).
        _fail("label value is empty; EKS node group labels need a value of 1-63 characters")
    problem = _label_value_problem(value, "label value")
    if problem:
        _fail(problem)
    return value


# Items, keys and values are checked one by one (not by a validator over the whole list or
# dict) so that one bad entry does not hide another: pydantic reports every entry's errors.
SubnetId = Annotated[str, AfterValidator(_check_subnet_id), Field(json_schema_extra={"pattern": "^subnet-[0-9a-f]{8,17}$"})]
SecurityGroupId = Annotated[str, AfterValidator(_check_sg_id), Field(json_schema_extra={"pattern": "^sg-[0-9a-f]{8,17}$"})]
InstanceTypeName = Annotated[
    str,
    AfterValidator(_check_instance_type),
    Field(json_schema_extra={"pattern": r"^[a-z][a-z0-9-]*\.[a-z0-9-]+$"}),
]
SubnetCidr = Annotated[str, AfterValidator(_check_subnet_cidr)]
PublicCidr = Annotated[str, AfterValidator(_check_public_cidr)]
TagKey = Annotated[str, AfterValidator(_check_tag_key)]
TagValue = Annotated[str, AfterValidator(_check_tag_value)]
LabelKey = Annotated[str, AfterValidator(_check_label_key)]
LabelValue = Annotated[str, AfterValidator(_check_label_value)]


# --------------------------------------------------------------------------- models


class _Model(BaseModel):
    """Base of every spec model: camelCase in YAML, unknown fields refused, immutable, strict."""

    model_config = ConfigDict(
        extra="forbid",
        alias_generator=to_camel,
        populate_by_name=True,
        frozen=True,
        strict=True,
        # Editors show titles; the YAML key is the useful one, not "Prefixdelegation".
        field_title_generator=lambda name, info: info.alias or to_camel(name),
    )


class Metadata(_Model):
    """Cluster identity: EKS name, AWS region and the tags put on everything we create."""

    name: str = Field(
        description="EKS cluster name: 1-100 characters, starts with a letter or digit, then letters, digits, '-' or '_'.",
        json_schema_extra={"pattern": "^[A-Za-z0-9][A-Za-z0-9_-]{0,99}$"},
    )
    region: str = Field(
        description="AWS region, e.g. us-east-1: one that botocore's partition data knows.",
        json_schema_extra={"pattern": f"^{REGION_SHAPE.pattern}$"},
    )
    tags: dict[TagKey, TagValue] = Field(
        default_factory=dict, description=f"AWS tags for every resource created (at most {MAX_TAGS})."
    )

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        if not _CLUSTER_NAME.fullmatch(v):
            hint = f" ({len(v)} characters)" if len(v) > 100 else _bad_char_hint(v, _NAME_CHARS)
            if not v:
                hint = " (it is empty)"
            elif not hint and not v[0].isalnum():
                hint = f" ({v[0]!r} cannot come first)"
            _fail(
                "cluster name must be 1-100 characters, start with a letter or digit, and contain only "
                f"letters, digits, '-' and '_'; got {_q(v)}{hint}"
            )
        return v

    @field_validator("region")
    @classmethod
    def _region(cls, v: str) -> str:
        problem = region_problem(v)
        if problem:
            _fail(problem)
        return v

    @field_validator("tags")
    @classmethod
    def _tags(cls, v: dict[str, str]) -> dict[str, str]:
        if len(set(v) | OUR_TAG_KEYS) > _AWS_MAX_TAGS:
            ours = ", ".join(sorted(OUR_TAG_KEYS - set(v)))
            _fail(
                f"at most {MAX_TAGS} tags are allowed, got {len(v)}: AWS allows {_AWS_MAX_TAGS} on a resource "
                f"and eks-assist adds {ours} to each"
            )
        issues = _Issues()
        keys = list(v)
        # IAM refuses tag keys that differ only in case ("Tag keys are case insensitive"), and the
        # cluster and node roles carry these tags: the apply would stop at the roles.
        for i, j in _repeats([k.lower() for k in keys]):
            issues.add(
                (keys[i],),
                f"tag key {_q(keys[i])} differs from {_q(keys[j])} only in case; IAM treats tag keys "
                "case-insensitively and refuses both on one role: keep one",
                key=True,
            )
        issues.raise_any()
        return v


class VpcCreate(_Model):
    """A new VPC for the cluster, with one subnet per Availability Zone."""

    cidr: str = Field(default="10.0.0.0/16", description="IPv4 CIDR block of the new VPC, /16 to /28.")
    az_count: int = Field(default=2, description="How many Availability Zones to use (2-6).")
    subnet_cidrs: list[SubnetCidr] | None = Field(
        default=None,
        description="Explicit subnet CIDRs, one per AZ, inside the VPC CIDR. Default: carved evenly.",
    )

    @field_validator("cidr")
    @classmethod
    def _cidr_field(cls, v: str) -> str:
        net = _cidr(v, "VPC CIDR")
        if not 16 <= net.prefixlen <= 28:
            _fail(f"VPC CIDR must be between /16 and /28 (AWS limits), got /{net.prefixlen}")
        return v

    @field_validator("az_count")
    @classmethod
    def _az_count(cls, v: int) -> int:
        if v < 2:
            _fail(f"EKS needs subnets in at least two Availability Zones; azCount must be at least 2, got {v}")
        if v > 6:
            _fail(f"azCount must be at most 6 (no AWS region has more Availability Zones), got {v}")
        return v

    @model_validator(mode="after")
    def _subnets_fit(self) -> VpcCreate:
        issues = _Issues()
        vpc = ipaddress.IPv4Network(self.cidr)
        if self.subnet_cidrs is None:
            # We carve equal subnets; each must still be at least a /28.
            needed = vpc.prefixlen + math.ceil(math.log2(self.az_count))
            if needed > 28:
                issues.add(
                    ("cidr",),
                    f"a /{vpc.prefixlen} VPC cannot be split into {self.az_count} subnets "
                    "of at least /28; use a larger CIDR or list subnetCidrs",
                )
            issues.raise_any()
            return self
        nets = [ipaddress.IPv4Network(c) for c in self.subnet_cidrs]
        if len(nets) != self.az_count:
            issues.add(
                ("subnetCidrs",),
                f"{len(nets)} subnet CIDRs given but azCount is {self.az_count}; give exactly one per Availability Zone",
            )
        for i, net in enumerate(nets):
            if not net.subnet_of(vpc):
                issues.add(("subnetCidrs", i), f"subnet {net} is outside the VPC CIDR {vpc}")
                continue
            if not 16 <= net.prefixlen <= 28:
                issues.add(("subnetCidrs", i), f"subnet CIDR must be between /16 and /28, got /{net.prefixlen}")
            for j in range(i):
                if net.overlaps(nets[j]):
                    issues.add(("subnetCidrs", i), f"subnet {net} overlaps subnetCidrs[{j}] {nets[j]}")
        issues.raise_any()
        return self


class VpcExisting(_Model):
    """Your own VPC: the subnets (in two or more AZs) and extra security groups for the cluster."""

    subnet_ids: list[SubnetId] = Field(description="Subnets for the control plane ENIs, in at least two AZs.")
    security_group_ids: list[SecurityGroupId] = Field(
        default_factory=list, description="Extra security groups for the control plane (at most 4)."
    )

    @field_validator("subnet_ids")
    @classmethod
    def _subnets(cls, v: list[str]) -> list[str]:
        issues = _Issues()
        if len(v) < 2:
            issues.add((), f"EKS needs subnets in at least two Availability Zones; give at least 2 subnet IDs, got {len(v)}")
        _duplicates(v, "subnet ID", "subnetIds", issues)
        issues.raise_any()
        return v

    @field_validator("security_group_ids")
    @classmethod
    def _sgs(cls, v: list[str]) -> list[str]:
        issues = _Issues()
        if len(v) > 4:
            # EKS service quotas: "Control plane security groups per cluster: 4", not adjustable.
            issues.add((), f"EKS allows at most 4 control plane security groups (a fixed quota), got {len(v)}")
        _duplicates(v, "security group ID", "securityGroupIds", issues)
        issues.raise_any()
        return v


class Vpc(_Model):
    """Where the cluster lives: exactly one of ``create`` (a new VPC) or ``existing`` (yours)."""

    create: VpcCreate | None = None
    existing: VpcExisting | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> Vpc:
        if self.create is not None and self.existing is not None:
            _fail("give exactly one of 'create' (a new VPC) or 'existing' (your subnets), not both")
        if self.create is None and self.existing is None:
            hint = ""
            if "create" in self.model_fields_set:
                hint = "; 'create' is empty: write 'create: {}' for the defaults"
            _fail(f"give one of 'create' (a new VPC) or 'existing' (your subnets){hint}")
        return self

    @property
    def cidr(self) -> ipaddress.IPv4Network | None:
        """The VPC CIDR when we create the VPC; unknown (``None``) for an existing one."""
        return ipaddress.IPv4Network(self.create.cidr) if self.create else None


def _default_vpc() -> Vpc:
    return Vpc(create=VpcCreate())


class Endpoint(_Model):
    """Who can reach the Kubernetes API server: the public endpoint, the private one, or both."""

    public_access: bool = True
    private_access: bool = False
    public_cidrs: list[PublicCidr] = Field(
        default_factory=list,
        description="CIDRs allowed to reach the public endpoint; default 0.0.0.0/0 when publicAccess.",
    )

    @model_validator(mode="before")
    @classmethod
    def _default_public_cidrs(cls, data: Any) -> Any:
        # Filled here, not as a field default, so "publicCidrs only with publicAccess" can tell
        # what the user wrote from what we assumed.
        if isinstance(data, dict) and "publicCidrs" not in data and "public_cidrs" not in data:
            public = data.get("publicAccess", data.get("public_access", True))
            if public is True:
                data = {**data, "publicCidrs": ["0.0.0.0/0"]}
        return data

    @field_validator("public_cidrs")
    @classmethod
    def _cidrs(cls, v: list[str]) -> list[str]:
        issues = _Issues()
        if len(v) > 40:
            # EKS service quotas: "Public endpoint access CIDR ranges per cluster: 40", not adjustable.
            issues.add((), f"EKS allows at most 40 public access CIDR ranges (a fixed quota), got {len(v)}")
        _duplicates(v, "CIDR", "publicCidrs", issues)
        issues.raise_any()
        return v

    @model_validator(mode="after")
    def _access(self) -> Endpoint:
        if not self.public_access and not self.private_access:
            _fail("at least one of publicAccess or privateAccess must be true, or nothing can reach the API server")
        issues = _Issues()
        if self.public_cidrs and not self.public_access:
            issues.add(("publicCidrs",), "publicCidrs needs publicAccess: true")
        if self.public_access and not self.public_cidrs:
            issues.add(("publicCidrs",), "publicCidrs is empty; omit it to allow 0.0.0.0/0, or list the CIDRs allowed")
        issues.raise_any()
        return self


class SecretsEncryption(_Model):
    """Envelope encryption of Kubernetes secrets with a KMS key in the cluster's region."""

    kms_key_arn: str = Field(description="ARN of a KMS key (or alias) in the cluster's region.")

    @field_validator("kms_key_arn")
    @classmethod
    def _arn(cls, v: str) -> str:
        match = _KMS_ARN.fullmatch(v)
        if not match:
            _fail(
                f"{_q(v)} is not a KMS key ARN (like "
                "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab, or ...:alias/name)"
            )
        problem = region_problem(match.group("region"))
        if problem:
            _fail(f"the KMS key ARN names region {problem}")
        partition = partition_of(match.group("region"))
        if match.group("partition") != partition:
            _fail(
                f"the KMS key ARN says partition {match.group('partition')!r}, but region {match.group('region')} "
                f"is in {partition!r}: write arn:{partition}:kms:..."
            )
        return v

    @property
    def region(self) -> str:
        """The region named in the key ARN."""
        match = _KMS_ARN.fullmatch(self.kms_key_arn)
        return match.group("region") if match else ""


class Masters(_Model):
    """The EKS control plane: version, network, API endpoint, logging, encryption, auth mode."""

    version: str = Field(
        default=DEFAULT_VERSION,
        description='Kubernetes version "major.minor"; quote it in YAML ("1.30", not 1.30).',
        json_schema_extra={"pattern": r"^\d+\.\d+$"},
    )
    vpc: Vpc = Field(default_factory=_default_vpc)
    service_cidr: str | None = Field(
        default=None,
        description="Kubernetes service CIDR: RFC 1918, /12 to /24, not overlapping the VPC.",
    )
    endpoint: Endpoint = Field(default_factory=Endpoint)
    logging: list[LogType] = Field(default_factory=list, description="Control plane log types to enable.")
    secrets_encryption: SecretsEncryption | None = None
    authentication_mode: AuthenticationMode = "API_AND_CONFIG_MAP"

    @field_validator("version")
    @classmethod
    def _version(cls, v: str) -> str:
        if not _VERSION.fullmatch(v):
            _fail(f'Kubernetes version must be "major.minor" like "{DEFAULT_VERSION}", got {_q(v)}')
        return v

    @field_validator("service_cidr")
    @classmethod
    def _service_cidr(cls, v: str | None) -> str | None:
        if v is None:
            return v
        net = _cidr(v, "service CIDR")
        if not any(net.subnet_of(block) for block in _RFC1918):
            _fail(f"service CIDR {v} must be inside a private (RFC 1918) range: 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16")
        if not 12 <= net.prefixlen <= 24:
            _fail(f"service CIDR must be between /12 and /24, got /{net.prefixlen}")
        return v

    @field_validator("logging")
    @classmethod
    def _logging(cls, v: list[str]) -> list[str]:
        issues = _Issues()
        _duplicates(v, "log type", "logging", issues)
        issues.raise_any()
        return v

    @model_validator(mode="after")
    def _service_vs_vpc(self) -> Masters:
        vpc = self.vpc.cidr
        if self.service_cidr and vpc is not None:
            service = ipaddress.IPv4Network(self.service_cidr)
            if service.overlaps(vpc):
                _fail_at(("serviceCidr",), f"service CIDR {service} overlaps the VPC CIDR {vpc} (masters.vpc.create.cidr)")
        return self


class Scaling(_Model):
    """Node group size: ``0 <= min <= desired <= max``, ``max >= 1``.

    How large ``max`` may be is an adjustable EKS quota (nodes per managed node group, 450 by
    default), checked at plan time, not a rule of the spec.
    """

    min_size: int = Field(alias="min", ge=0, le=_INT32_MAX)
    desired_size: int = Field(alias="desired", ge=0, le=_INT32_MAX)
    max_size: int = Field(alias="max", ge=1, le=_INT32_MAX)

    @model_validator(mode="after")
    def _order(self) -> Scaling:
        issues = _Issues()
        if self.min_size > self.max_size:
            issues.add(("min",), f"min ({self.min_size}) is greater than max ({self.max_size})")
        elif not self.min_size <= self.desired_size <= self.max_size:
            issues.add(
                ("desired",), f"desired ({self.desired_size}) must be between min ({self.min_size}) and max ({self.max_size})"
            )
        issues.raise_any()
        return self


def _default_scaling() -> Scaling:
    # The same defaults EKS's CreateNodegroup uses.
    return Scaling(min_size=1, desired_size=2, max_size=2)


class Taint(_Model):
    """A Kubernetes taint put on every node of the group."""

    key: str
    value: str | None = None
    effect: TaintEffect

    @field_validator("key")
    @classmethod
    def _key(cls, v: str) -> str:
        problem = _label_key_problem(v, "taint key", max_len=63)
        if problem:
            _fail(problem)
        return v

    @field_validator("value")
    @classmethod
    def _value(cls, v: str | None) -> str | None:
        problem = _label_value_problem(v, "taint value") if v is not None else None
        if problem:
            _fail(problem)
        return v


class NodeGroup(_Model):
    """One EKS managed node group."""

    name: str = Field(
        description="Node group name: 1-63 characters, starts with a letter or digit, then letters, digits, "
        "'-' or '_'; unique in the cluster.",
        json_schema_extra={"pattern": "^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$"},
    )
    instance_types: list[InstanceTypeName] = Field(description="1-20 EC2 instance types, e.g. m5.large.")
    ami_type: AmiType = "AL2023_x86_64_STANDARD"
    custom_ami_id: str | None = Field(default=None, description="Only with amiType CUSTOM, and then required.")
    capacity_type: CapacityType = Field(default="ON_DEMAND", description="ON_DEMAND or SPOT.")
    scaling: Scaling = Field(default_factory=_default_scaling)
    disk_size: int = Field(default=20, description="Root volume size in GiB (1-16384).")
    labels: dict[LabelKey, LabelValue] = Field(default_factory=dict)
    taints: list[Taint] = Field(default_factory=list)
    subnet_ids: list[SubnetId] = Field(default_factory=list, description="Subnets for the nodes; default: the cluster's subnets.")

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        if not _NODEGROUP_NAME.fullmatch(v):
            hint = f" ({len(v)} characters)" if len(v) > 63 else _bad_char_hint(v, _NAME_CHARS)
            if not v:
                hint = " (it is empty)"
            elif not hint and not v[0].isalnum():
                hint = f" ({v[0]!r} cannot come first)"
            _fail(
                "node group name must be 1-63 characters, start with a letter or digit, and contain only "
                f"letters, digits, '-' and '_'; got {_q(v)}{hint}"
            )
        return v

    @field_validator("capacity_type", mode="before")
    @classmethod
    def _capacity_block(cls, v: Any) -> Any:
        if v == "CAPACITY_BLOCK":
            _fail(
                "capacity type CAPACITY_BLOCK needs a launch template that names an EC2 capacity reservation, "
                "which an eks-assist spec cannot express; use ON_DEMAND or SPOT"
            )
        return v

    @field_validator("instance_types")
    @classmethod
    def _instance_types(cls, v: list[str]) -> list[str]:
        issues = _Issues()
        if not v:
            issues.add((), "needs at least one instance type, like [m5.large]")
        if len(v) > 20:
            issues.add((), f"at most 20 instance types are allowed, got {len(v)}")
        _duplicates(v, "instance type", "instanceTypes", issues)
        issues.raise_any()
        return v

    @field_validator("custom_ami_id")
    @classmethod
    def _ami_id(cls, v: str | None) -> str | None:
        if v is not None and not _AMI_ID.fullmatch(v):
            _fail(f"{_q(v)} is not an AMI ID (like ami-0123456789abcdef0)")
        return v

    @field_validator("disk_size")
    @classmethod
    def _disk(cls, v: int) -> int:
        if not 1 <= v <= 16384:
            _fail(f"diskSize must be between 1 and 16384 GiB, got {v}")
        return v

    @field_validator("taints")
    @classmethod
    def _taints(cls, v: list[Taint]) -> list[Taint]:
        issues = _Issues()
        if len(v) > 50:
            issues.add((), f"EKS allows at most 50 taints per node group, got {len(v)}")
        # Kubernetes identifies a taint by key and effect; a second one would be refused.
        _duplicates([(t.key, t.effect) for t in v], "taint", "taints", issues, render=lambda ke: f"{ke[0]}:{ke[1]}")
        issues.raise_any()
        return v

    @field_validator("subnet_ids")
    @classmethod
    def _subnets(cls, v: list[str]) -> list[str]:
        issues = _Issues()
        _duplicates(v, "subnet ID", "subnetIds", issues)
        issues.raise_any()
        return v

    @model_validator(mode="after")
    def _custom_ami(self) -> NodeGroup:
        if self.ami_type == "CUSTOM" and self.custom_ami_id is None:
            _fail_at(("amiType",), "amiType CUSTOM needs customAmiId (the AMI to launch)")
        if self.ami_type != "CUSTOM" and self.custom_ami_id is not None:
            _fail_at(("customAmiId",), f"customAmiId needs amiType: CUSTOM (amiType is {self.ami_type})")
        return self


class EniConfig(_Model):
    """Custom networking: where pods of one AZ get their IPs."""

    availability_zone: str
    subnet_id: SubnetId
    security_group_ids: list[SecurityGroupId] = Field(default_factory=list)

    @field_validator("availability_zone")
    @classmethod
    def _az(cls, v: str) -> str:
        if zone_region(v) is None:
            region = region_problem(v[:-1]) if v[-1:].isalpha() else None
            why = f": {region}" if region and REGION_SHAPE.fullmatch(v[:-1]) else ""
            _fail(f"{_q(v)} is not an Availability Zone name (like us-east-1a, a region and a letter){why}")
        return v

    @field_validator("security_group_ids")
    @classmethod
    def _sgs(cls, v: list[str]) -> list[str]:
        issues = _Issues()
        _duplicates(v, "security group ID", "securityGroupIds", issues)
        issues.raise_any()
        return v


class CustomNetworking(_Model):
    """VPC CNI custom networking: pod IPs from other subnets than the node's."""

    enabled: bool = False
    eni_configs: list[EniConfig] = Field(default_factory=list)

    @model_validator(mode="after")
    def _configs(self) -> CustomNetworking:
        issues = _Issues()
        if self.enabled and not self.eni_configs:
            issues.add(("eniConfigs",), "custom networking needs eniConfigs (one per Availability Zone)")
        zones = [c.availability_zone for c in self.eni_configs]
        first: dict[str, int] = {}
        for i, zone in enumerate(zones):
            if zone in first:
                issues.add(
                    ("eniConfigs", i, "availabilityZone"),
                    f"duplicate Availability Zone {_q(zone)} (also at eniConfigs[{first[zone]}])",
                )
            first.setdefault(zone, i)
        issues.raise_any()
        return self


class Cni(_Model):
    """Amazon VPC CNI settings (applied by a later playbook; validated here)."""

    prefix_delegation: bool = False
    warm_eni_target: int | None = Field(default=None, ge=0)
    warm_ip_target: int | None = Field(default=None, ge=0)
    minimum_ip_target: int | None = Field(default=None, ge=0)
    warm_prefix_target: int | None = Field(default=None, ge=0)
    external_snat: bool = False
    addon_version: str | None = Field(default=None, description="vpc-cni add-on version, e.g. v1.19.2-eksbuild.1")
    custom_networking: CustomNetworking = Field(default_factory=CustomNetworking)

    @field_validator("addon_version")
    @classmethod
    def _addon_version(cls, v: str | None) -> str | None:
        if v is not None and not _ADDON_VERSION.fullmatch(v):
            _fail(f"addonVersion must be a version EKS lists for vpc-cni, like v1.19.2-eksbuild.1, got {_q(v)}")
        return v

    @model_validator(mode="after")
    def _combinations(self) -> Cni:
        # The same rules the planner enforces, here too so that `validate` and the wizard catch them.
        from assistant.network.capacity import CniSettings, check_settings

        settings = CniSettings(
            prefix_delegation=self.prefix_delegation,
            warm_eni_target=self.warm_eni_target,
            warm_ip_target=self.warm_ip_target,
            minimum_ip_target=self.minimum_ip_target,
            warm_prefix_target=self.warm_prefix_target,
            custom_networking=self.custom_networking.enabled,
            external_snat=self.external_snat,
        )
        issues = _Issues()
        for field, message in check_settings(settings):
            issues.add((field,), message)
        issues.raise_any()
        return self


def _namespace_problem(ns: str) -> str | None:
    """A namespace of an access scope: a Kubernetes namespace name, or a prefix of one and ``*``.

    EKS's AccessScope takes a wildcard at the end (``dev-*``: every namespace starting with
    ``dev-``; the EKS User Guide and eksctl's examples use it); nowhere else.
    """
    if ns == "*":
        return "'*' alone would be every namespace; use scope: cluster"
    name = ns[:-1] if ns.endswith("*") else ns
    if "*" in name:
        return f"{_q(ns)}: a wildcard may only end a namespace, like dev-*"
    # A prefix may end in '-' (dev-*); a whole name may not.
    shape = _DNS_LABEL.fullmatch(name) or (ns.endswith("*") and _DNS_LABEL.fullmatch(name.rstrip("-")))
    if len(ns) > 63 or not name or not shape:
        return (
            f"{_q(ns)} is not a valid namespace name (lowercase letters, digits and '-', at most 63 characters), "
            "or a prefix of one followed by * (like dev-*)"
        )
    return None


class AccessPolicy(_Model):
    """An EKS access policy associated with an access entry."""

    policy: str = Field(description="AmazonEKSClusterAdminPolicy, AmazonEKSAdminPolicy, ... or its full ARN.")
    scope: Literal["cluster", "namespace"] = "cluster"
    namespaces: list[str] = Field(default_factory=list)

    @field_validator("policy")
    @classmethod
    def _policy(cls, v: str) -> str:
        if not (_POLICY_ARN.fullmatch(v) or _POLICY_NAME.fullmatch(v)):
            _fail(
                f"{_q(v)} is not an EKS access policy (like AmazonEKSViewPolicy or "
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
        issues = _Issues()
        for i, ns in enumerate(v):
            problem = _namespace_problem(ns)
            if problem:
                issues.add((i,), problem)
        _duplicates(v, "namespace", "namespaces", issues)
        issues.raise_any()
        return v

    @model_validator(mode="after")
    def _scope(self) -> AccessPolicy:
        if self.scope == "namespace" and not self.namespaces:
            _fail_at(("namespaces",), "scope namespace needs a list of namespaces")
        if self.scope == "cluster" and self.namespaces:
            _fail_at(("namespaces",), "namespaces only apply with scope: namespace")
        return self


class IamMapping(_Model):
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
            _check_free_text(v, "username", 256)
        return v

    @field_validator("groups")
    @classmethod
    def _groups(cls, v: list[str]) -> list[str]:
        issues = _Issues()
        for i, group in enumerate(v):
            problem = _free_text_problem(group, "group", 256)
            if problem:
                issues.add((i,), problem)
        _duplicates(v, "group", "groups", issues)
        issues.raise_any()
        return v

    @model_validator(mode="after")
    def _arn_matches(self) -> IamMapping:
        issues = _Issues()
        if self.kind == "account":
            if not _ACCOUNT_ID.fullmatch(self.arn):
                issues.add(("arn",), f"an account mapping takes a 12-digit AWS account ID, got {_q(self.arn)}")
            if self.via == "access-entry":
                issues.add(("via",), "accounts cannot be mapped with access entries; use via: aws-auth")
        else:
            match = _IAM_ARN.fullmatch(self.arn)
            if not match:
                issues.add(
                    ("arn",), f"{_q(self.arn)} is not an IAM {self.kind} ARN (like arn:aws:iam::111122223333:{self.kind}/name)"
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
        for i, j in _repeats([p.name for p in self.access_policies]):
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
                out.append((("groups", i), f"access entry groups cannot start with 'system:' (EKS reserves it): {_q(group)}"))
        return out


def _kubeconfig_path_problem(text: str) -> str | None:
    """Why a spec may not write its kubeconfig at ``text``; ``None`` when it may.

    A spec is a document others write (a Slack catalogue, a shared repository), so the file it
    names must be one the user's own kubeconfig rules point at: a file listed in $KUBECONFIG,
    or a file under their home directory (``~/.kube/config``), symbolic links resolved. The
    path is written as ``~/...`` or absolute: relative to what would differ with where
    eks-assist runs, and ``..`` has no business in it.
    """
    if text in ("~", "/"):
        return f"{_q(text)} is a directory; give the kubeconfig file's name, like ~/.kube/config"
    if text.startswith("~") and not text.startswith("~/"):
        return f"{_q(text)} names another user's home directory; write ~/... for yours"
    if not (text.startswith("~/") or os.path.isabs(text)):
        return (
            f"{_q(text)} is relative, so it would name a different file in every directory "
            "eks-assist runs in; write ~/.kube/<file> or an absolute path"
        )
    if ".." in text.split("/"):
        return f"{_q(text)} contains '..'; write the path without it"
    if text.endswith("/"):
        return f"{_q(text)} names a directory; give the kubeconfig file's name"
    given = os.path.abspath(os.path.expanduser(text))
    real = os.path.realpath(given)
    # The user's own rules: a file listed in $KUBECONFIG is theirs, wherever it is (and wherever it links).
    listed = [os.path.abspath(os.path.expanduser(p)) for p in os.environ.get("KUBECONFIG", "").split(os.pathsep) if p]
    if given in listed or real in {os.path.realpath(p) for p in listed}:
        return None
    home = os.path.realpath(os.path.expanduser("~"))
    if real == home or not Path(real).is_relative_to(home):
        how = f" (through a symbolic link, it is {real})" if real != given else ""
        return (
            f"{_q(text)} is outside your home directory {home}{how} and is not a file listed in "
            "$KUBECONFIG; a spec may write its kubeconfig only there (docs/security.md)"
        )
    if os.path.isdir(real):
        return f"{_q(text)} is a directory; give the kubeconfig file's name"
    return None


class Kubeconfig(_Model):
    """Where and how to write the kubeconfig for the new cluster."""

    path: str | None = Field(
        default=None,
        description="Kubeconfig file; default $KUBECONFIG or ~/.kube/config. Only a file listed in $KUBECONFIG, "
        "or under your home directory (~/...); the Slack bot never writes one.",
    )
    alias: str | None = Field(default=None, description="Context name; default the cluster ARN.")
    exec_: Literal["aws", "builtin"] = Field(
        default="builtin",
        alias="exec",
        description="Token exec plugin: 'aws' (aws eks get-token) or 'builtin' (eks-assist token).",
    )
    write: bool = True

    @field_validator("path")
    @classmethod
    def _path(cls, v: str | None) -> str | None:
        if v is not None:
            _check_free_text(v, "kubeconfig path", 4096)
            problem = _kubeconfig_path_problem(v)
            if problem:
                _fail(problem)
        return v

    @field_validator("alias")
    @classmethod
    def _alias(cls, v: str | None) -> str | None:
        if v is not None:
            _check_free_text(v, "context name", 253)
        return v


class ClusterSpec(_Model):
    """The whole spec: ``apiVersion: eks-assist/v1``, ``kind: Cluster``, masters, workers, ..."""

    model_config = ConfigDict(title="eks-assist Cluster spec")

    api_version: Literal["eks-assist/v1"]
    kind: Literal["Cluster"]
    metadata: Metadata
    masters: Masters = Field(default_factory=Masters)
    workers: list[NodeGroup] = Field(default_factory=list, description="Managed node groups (may be empty).")
    cni: Cni = Field(default_factory=Cni)
    iam_mappings: list[IamMapping] = Field(default_factory=list)
    kubeconfig: Kubeconfig = Field(default_factory=Kubeconfig)

    @field_validator("masters")
    @classmethod
    def _masters_vs_metadata(cls, v: Masters, info: ValidationInfo) -> Masters:
        metadata = info.data.get("metadata")
        enc = v.secrets_encryption
        if isinstance(metadata, Metadata) and enc is not None and enc.region != metadata.region:
            _fail_at(
                ("secretsEncryption", "kmsKeyArn"),
                f"the KMS key is in {enc.region} but the cluster is in {metadata.region}; "
                "EKS needs a key in the cluster's region",
            )
        return v

    @field_validator("workers")
    @classmethod
    def _workers(cls, v: list[NodeGroup], info: ValidationInfo) -> list[NodeGroup]:
        issues = _Issues()
        # EKS names are case-sensitive, so EKS would make both; but kubectl, the console and the
        # nodes' eks.amazonaws.com/nodegroup label would then tell them apart only by case.
        _near_duplicates(
            [ng.name for ng in v],
            [ng.name.lower() for ng in v],
            ("name", "node group name", "workers"),
            lambda j, other: (
                f"it differs from {_q(other)} (workers[{j}]) only in case; EKS would make two node "
                "groups that people and tools tell apart only by case: use distinct names"
            ),
            issues,
        )
        masters = info.data.get("masters")
        if isinstance(masters, Masters):
            for i, ng in enumerate(v):
                if ng.ami_type in _AL2_REPLACEMENT and _version_tuple(masters.version) > _AL2_LAST_VERSION:
                    issues.add(
                        (i, "amiType"),
                        f"EKS publishes no Amazon Linux 2 AMIs for Kubernetes "
                        f"{masters.version}; use {_AL2_REPLACEMENT[ng.ami_type]}",
                    )
                if ng.subnet_ids and masters.vpc.create is not None:
                    issues.add(
                        (i, "subnetIds"),
                        "subnetIds need an existing VPC; with masters.vpc.create the node groups use the new subnets",
                    )
        issues.raise_any()
        return v

    @field_validator("cni")
    @classmethod
    def _cni_zones(cls, v: Cni, info: ValidationInfo) -> Cni:
        metadata = info.data.get("metadata")
        if not isinstance(metadata, Metadata):
            return v
        issues = _Issues()
        for i, cfg in enumerate(v.custom_networking.eni_configs):
            if zone_region(cfg.availability_zone) != metadata.region:
                issues.add(
                    ("customNetworking", "eniConfigs", i, "availabilityZone"),
                    f"{cfg.availability_zone} is not in the cluster's region {metadata.region}",
                )
        issues.raise_any()
        return v

    @field_validator("iam_mappings")
    @classmethod
    def _mappings(cls, v: list[IamMapping], info: ValidationInfo) -> list[IamMapping]:
        issues = _Issues()
        # IAM names are unique in an account whatever their case or path, and aws-auth matches
        # ARNs lower-cased: two spellings are one principal mapped twice.
        _near_duplicates(
            [m.arn for m in v],
            [_principal_key(m) for m in v],
            ("arn", "mapping for", "iamMappings"),
            lambda j, other: (
                f"it names the same IAM {v[j].kind} as iamMappings[{j}] ({other}); "
                "IAM names are unique in an account whatever their case or path: keep one mapping"
            ),
            issues,
        )
        masters = info.data.get("masters")
        if isinstance(masters, Masters):
            mode = masters.authentication_mode
            for i, m in enumerate(v):
                if m.via == "aws-auth" and mode == "API":
                    issues.add(
                        (i, "via"),
                        "authenticationMode API ignores aws-auth; use via: access-entry, "
                        "or authenticationMode API_AND_CONFIG_MAP",
                    )
                if m.via == "access-entry" and mode == "CONFIG_MAP":
                    issues.add(
                        (i, "via"),
                        "authenticationMode CONFIG_MAP has no access entries; use via: "
                        "aws-auth, or authenticationMode API_AND_CONFIG_MAP",
                    )
                if m.via == "auto" and route(m.kind, m.via, mode) == "access-entry":
                    # Caught here, not at apply: EKS's CreateAccessEntry refuses these.
                    why = f"with via: auto and authenticationMode {mode} this mapping is an access entry"
                    instead = "pick another" if mode == "API" else "pick another, or use via: aws-auth"
                    for sub, message in m.access_entry_problems():
                        issues.add((i, *sub), f"{message}; {why}: {instead}")
        metadata = info.data.get("metadata")
        if isinstance(metadata, Metadata):
            # A cluster in aws-cn maps arn:aws-cn:iam::... principals; an arn:aws:... one is nobody there.
            partition = partition_of(metadata.region)
            for i, m in enumerate(v):
                for sub, named in _partitions_named(m):
                    if named != partition:
                        issues.add(
                            (i, *sub),
                            f"the ARN is in partition {named!r} but the cluster's region {metadata.region} "
                            f"is in {partition!r}: write arn:{partition}:...",
                        )
        issues.raise_any()
        return v

    def canonical(self) -> dict[str, Any]:
        """JSON-able form by alias with every default filled and keys sorted, for hashing."""
        return _sort_keys(self.model_dump(mode="json", by_alias=True))

    def digest(self) -> str:
        """SHA-256 of the canonical form: equal for specs that mean the same thing."""
        text = json.dumps(self.canonical(), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _partitions_named(m: IamMapping) -> list[tuple[SubPath, str]]:
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


def _principal_key(m: IamMapping) -> tuple[str, ...]:
    """What identifies the IAM principal of a mapping: IAM ignores case and path in names."""
    match = _IAM_ARN.fullmatch(m.arn) if m.kind != "account" else None
    if match is None:
        return (m.kind, m.arn)
    return (match.group("kind"), match.group("account"), match.group("name").lower())


def _sort_keys(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {k: _sort_keys(obj[k]) for k in sorted(obj)}
    if isinstance(obj, list):
        return [_sort_keys(x) for x in obj]
    return obj


# --------------------------------------------------------------------------- loading


@dataclass(frozen=True)
class LoadedSpec:
    """A validated spec with where it came from, so later checks can point at its lines."""

    spec: ClusterSpec
    locator: Locator
    source: str  # the file text ("" when built from data)
    file: str

    def problem(self, path: Iterable[str | int], message: str) -> Problem:
        """A :class:`Problem` located at ``path`` in the spec file."""
        return self.locator.problem(path, message)


def load_spec(path: str | Path) -> LoadedSpec:
    """Read, parse and validate a spec file; raises :class:`InputError` listing every problem."""
    p = Path(path)
    text: str | None = None
    try:
        if p.is_file() and p.stat().st_size <= MAX_BYTES:
            text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        text = None
    if text is None:
        load_file(path)  # unreadable, too large or missing: it raises the precise error
        raise InputError(Problem("cannot read file", str(path)))  # pragma: no cover - raced with a change
    return loads_spec(text, str(path))


def loads_spec(text: str, filename: str = "<string>") -> LoadedSpec:
    """Parse and validate spec text (the UIs and tests use this; files go through :func:`load_spec`)."""
    data, locator = loads(text, filename)
    return parse_spec(data, locator, source=text)


def parse_spec(data: Any, locator: Locator, *, source: str | None = None) -> LoadedSpec:
    """Validate already-parsed YAML data; ``source`` (the text) sharpens some messages."""
    if not isinstance(data, dict):
        raise InputError(locator.problem((), f"spec must be a mapping (apiVersion, kind, metadata, ...), got {_describe(data)}"))
    try:
        spec = ClusterSpec.model_validate(data)
    except ValidationError as exc:
        raise InputError(problems_from(exc, locator, ClusterSpec, wording=SpecWording(source))) from None
    return LoadedSpec(spec=spec, locator=locator, source=source or "", file=locator.file)


def spec_json_schema() -> dict[str, Any]:
    """JSON Schema (draft 2020-12, by alias) of the spec, for editor completion and checks."""
    schema = ClusterSpec.model_json_schema(by_alias=True, mode="validation")
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", **schema}


# --------------------------------------------------------------------------- error mapping

_EXPECTED = {
    "string_type": "a string",
    "int_type": "a whole number",
    "int_parsing": "a whole number",
    "int_from_float": "a whole number",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "list_type": "a list",
    "dict_type": "a mapping",
    "model_type": "a mapping",
    "model_attributes_type": "a mapping",
    "float_type": "a number",
}

_CHOICE_NOUN = {
    "logging": "log type",
    "amiType": "AMI type",
    "capacityType": "capacity type",
    "effect": "taint effect",
    "authenticationMode": "authentication mode",
    "scope": "scope",
    "via": "mapping method",
    "kind": "kind",
    "exec": "exec plugin",
}


def _raw_token(locator: Locator, path: tuple[str | int, ...], source: str | None) -> str | None:
    """The scalar exactly as written in the source, e.g. ``1.30`` that YAML read as 1.3."""
    if not source or tuple(path) not in locator.marks:
        return None
    line, col = locator.marks[tuple(path)]
    lines = source.splitlines()
    if not 1 <= line <= len(lines):
        return None
    match = re.match(r"[^\s,\]\}#]+", lines[line - 1][col - 1 :])
    return match.group(0) if match else None


def _yaml_rendering(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return repr(value)


class SpecWording(Wording):
    """The cluster spec's wording: choices named by what they are, YAML's readings of numbers
    explained from the text as written, unknown fields matched ignoring case and separators."""

    keys_name_their_mapping = True
    in_file_order = True

    def __init__(self, source: str | None = None) -> None:
        # The file text, when there is one: it shows how a scalar was written (1.30, not 1.3).
        self.source = source

    def unknown_field(self, name: str, candidates: list[str]) -> str:
        close = _did_you_mean(name, candidates)
        if close:
            return f"unknown field {_q(name)}; did you mean {close!r}?"
        return f"unknown field {_q(name)} (valid fields: {', '.join(candidates)})"

    def message(self, err: ErrorDetails, loc: PathT, locator: Locator) -> str:
        kind: str = err["type"]
        value = err.get("input")
        ctx = err.get("ctx") or {}
        field = next((p for p in reversed(loc) if isinstance(p, str)), "")

        if kind == "missing":
            return f"missing required field {loc[-1]!r}"
        if kind == "literal_error":
            choices = re.findall(r"'([^']*)'", str(ctx.get("expected", "")))
            if len(choices) == 1:
                return f"must be {choices[0]!r}, got {_describe(value)}"
            listed = ", ".join(choices)
            if isinstance(value, str):
                noun = _CHOICE_NOUN.get(field, "value")
                close = _did_you_mean(value, choices)
                if close:
                    return f"unknown {noun} {_q(value)}; did you mean {close!r}?"
                return f"unknown {noun} {_q(value)} (one of: {listed})"
            return f"expected one of: {listed}; got {_describe(value)}"
        if kind == "string_type" and isinstance(value, int | float | bool):
            raw = _raw_token(locator, loc, self.source) or _yaml_rendering(value)
            read_as = f" (YAML reads {raw} as {_yaml_rendering(value)})" if raw != _yaml_rendering(value) else ""
            if field == "version" and len(loc) == 2 and loc[0] == "masters":
                lost = f": YAML reads {raw} as the number {_yaml_rendering(value)}" if read_as else ""
                return f'Kubernetes version must be a quoted string{lost}; write "{raw}"'
            return f'expected a string, got {_describe(value)}{read_as}; quote it: "{raw}"'
        if kind in _EXPECTED:
            hint = text_number_hint(value) if kind.startswith(("int", "float")) else None
            return f"expected {_EXPECTED[kind]}, got {_describe(value)}" + (f": {hint}" if hint else "")
        if kind == "greater_than_equal":
            return f"must be at least {ctx.get('ge')}, got {_describe(value)}"
        if kind == "less_than_equal":
            return f"must be at most {ctx.get('le')}, got {_describe(value)}"
        if kind == "too_short":
            return f"needs at least {ctx.get('min_length')} item(s), got {ctx.get('actual_length')}"
        if kind == "too_long":
            return f"allows at most {ctx.get('max_length')} item(s), got {ctx.get('actual_length')}"
        if kind == "eks_value":
            return str(ctx.get("detail", err["msg"]))
        return strip_error_prefix(str(err["msg"]))
