"""``workers``: EKS managed node groups, their scaling, labels and taints."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal, get_args

from pydantic import (
    AfterValidator,
    Field,
    field_validator,
    model_validator,
)

from assistant.spec.checks import (
    NAME_CHARS,
    Issues,
    SpecModel,
    SubnetId,
    bad_char_hint,
    duplicates,
    fail,
    fail_at,
    quote,
)

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
# EKS also has CAPACITY_BLOCK, which needs a launch template naming a capacity reservation:
# the spec cannot express that, so the node group could not be created (see NodeGroup).
CapacityType = Literal["ON_DEMAND", "SPOT"]
TaintEffect = Literal["NO_SCHEDULE", "NO_EXECUTE", "PREFER_NO_SCHEDULE"]
# EKS stopped publishing Amazon Linux 2 AMIs after Kubernetes 1.32.
AL2_REPLACEMENT = {
    "AL2_x86_64": "AL2023_x86_64_STANDARD",
    "AL2_x86_64_GPU": "AL2023_x86_64_NVIDIA",
    "AL2_ARM_64": "AL2023_ARM_64_STANDARD",
}
AL2_LAST_VERSION = (1, 32)
_NODEGROUP_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,62}")
_INSTANCE_TYPE = re.compile(r"[a-z][a-z0-9-]*\.[a-z0-9-]+")
# EC2 resource IDs have 8 hexadecimal characters (before 2016) or 17.
_AMI_ID = re.compile(r"ami-([0-9a-f]{8}|[0-9a-f]{17})")
_LABEL_NAME = re.compile(r"([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]")
_DNS_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
_RESERVED_LABEL_PREFIXES = ("kubernetes.io", "k8s.io", "eks.amazonaws.com")
# EKS's API takes 32-bit integers for sizes.
_INT32_MAX = 2**31 - 1


def _label_key_problem(key: str, what: str, max_len: int | None = None) -> str | None:
    """Kubernetes qualified-name rules for label and taint keys; ``None`` when fine."""
    prefix, _, name = key.rpartition("/")
    rule = f"{what} {quote(key)} is not a valid Kubernetes key"
    if max_len is not None and len(key) > max_len:
        return f"{what} {quote(key)} is {len(key)} characters; at most {max_len} allowed"
    if "/" in key and not prefix:
        return f"{rule}: the prefix before '/' is empty"
    if prefix and (len(prefix) > 253 or not _DNS_SUBDOMAIN.fullmatch(prefix)):
        return f"{rule}: the prefix {quote(prefix)} must be a lowercase DNS subdomain (like example.com)"
    if not name or len(name) > 63 or not _LABEL_NAME.fullmatch(name):
        return (
            f"{rule}: the name part must be 1-63 characters of letters, digits, '-', '_' or '.', "
            "starting and ending with a letter or digit"
        )
    return None


def _label_value_problem(value: str, what: str) -> str | None:
    if value and (len(value) > 63 or not _LABEL_NAME.fullmatch(value)):
        return (
            f"{what} {quote(value)} is not a valid Kubernetes label value: at most 63 characters of letters, "
            "digits, '-', '_' or '.', starting and ending with a letter or digit"
        )
    return None


def _check_instance_type(value: str) -> str:
    if not _INSTANCE_TYPE.fullmatch(value):
        fail(f"{quote(value)} is not an instance type name (like m5.large or p5.48xlarge)")
    return value


def _check_label_key(key: str) -> str:
    # EKS's CreateNodegroup takes label keys of 1-63 characters in all (botocore: labelKey),
    # prefix included, where Kubernetes alone would allow a 253-character prefix.
    problem = _label_key_problem(key, "label key", max_len=63)
    if problem:
        fail(problem)
    prefix = key.rpartition("/")[0]
    # EKS: "Label cannot contain reserved prefixes [kubernetes.io/, k8s.io/, eks.amazonaws.com/]".
    if any(prefix == ns or prefix.endswith("." + ns) for ns in _RESERVED_LABEL_PREFIXES):
        fail(f"label key {quote(key)}: EKS reserves the kubernetes.io/, k8s.io/ and eks.amazonaws.com/ prefixes")
    return key


def _check_label_value(value: str) -> str:
    if not value:
        # EKS's CreateNodegroup takes label values of 1-63 characters (botocore: labelValue).
        fail("label value is empty; EKS node group labels need a value of 1-63 characters")
    problem = _label_value_problem(value, "label value")
    if problem:
        fail(problem)
    return value


InstanceTypeName = Annotated[
    str,
    AfterValidator(_check_instance_type),
    Field(json_schema_extra={"pattern": r"^[a-z][a-z0-9-]*\.[a-z0-9-]+$"}),
]

LabelKey = Annotated[str, AfterValidator(_check_label_key)]

LabelValue = Annotated[str, AfterValidator(_check_label_value)]


class Scaling(SpecModel):
    """Node group size: ``0 <= min <= desired <= max``, ``max >= 1``.

    How large ``max`` may be is an adjustable EKS quota (nodes per managed node group, 450 by
    default), checked at plan time, not a rule of the spec.
    """

    min_size: int = Field(alias="min", ge=0, le=_INT32_MAX)
    desired_size: int = Field(alias="desired", ge=0, le=_INT32_MAX)
    max_size: int = Field(alias="max", ge=1, le=_INT32_MAX)

    @model_validator(mode="after")
    def _order(self) -> Scaling:
        issues = Issues()
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


class Taint(SpecModel):
    """A Kubernetes taint put on every node of the group."""

    key: str
    value: str | None = None
    effect: TaintEffect

    @field_validator("key")
    @classmethod
    def _key(cls, v: str) -> str:
        problem = _label_key_problem(v, "taint key", max_len=63)
        if problem:
            fail(problem)
        return v

    @field_validator("value")
    @classmethod
    def _value(cls, v: str | None) -> str | None:
        problem = _label_value_problem(v, "taint value") if v is not None else None
        if problem:
            fail(problem)
        return v


class NodeGroup(SpecModel):
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
            hint = f" ({len(v)} characters)" if len(v) > 63 else bad_char_hint(v, NAME_CHARS)
            if not v:
                hint = " (it is empty)"
            elif not hint and not v[0].isalnum():
                hint = f" ({v[0]!r} cannot come first)"
            fail(
                "node group name must be 1-63 characters, start with a letter or digit, and contain only "
                f"letters, digits, '-' and '_'; got {quote(v)}{hint}"
            )
        return v

    @field_validator("capacity_type", mode="before")
    @classmethod
    def _capacity_block(cls, v: Any) -> Any:
        if v == "CAPACITY_BLOCK":
            fail(
                "capacity type CAPACITY_BLOCK needs a launch template that names an EC2 capacity reservation, "
                "which an eks-assist spec cannot express; use ON_DEMAND or SPOT"
            )
        return v

    @field_validator("instance_types")
    @classmethod
    def _instance_types(cls, v: list[str]) -> list[str]:
        issues = Issues()
        if not v:
            issues.add((), "needs at least one instance type, like [m5.large]")
        if len(v) > 20:
            issues.add((), f"at most 20 instance types are allowed, got {len(v)}")
        duplicates(v, "instance type", "instanceTypes", issues)
        issues.raise_any()
        return v

    @field_validator("custom_ami_id")
    @classmethod
    def _ami_id(cls, v: str | None) -> str | None:
        if v is not None and not _AMI_ID.fullmatch(v):
            fail(f"{quote(v)} is not an AMI ID (like ami-0123456789abcdef0)")
        return v

    @field_validator("disk_size")
    @classmethod
    def _disk(cls, v: int) -> int:
        if not 1 <= v <= 16384:
            fail(f"diskSize must be between 1 and 16384 GiB, got {v}")
        return v

    @field_validator("taints")
    @classmethod
    def _taints(cls, v: list[Taint]) -> list[Taint]:
        issues = Issues()
        if len(v) > 50:
            issues.add((), f"EKS allows at most 50 taints per node group, got {len(v)}")
        # Kubernetes identifies a taint by key and effect; a second one would be refused.
        duplicates([(t.key, t.effect) for t in v], "taint", "taints", issues, render=lambda ke: f"{ke[0]}:{ke[1]}")
        issues.raise_any()
        return v

    @field_validator("subnet_ids")
    @classmethod
    def _subnets(cls, v: list[str]) -> list[str]:
        issues = Issues()
        duplicates(v, "subnet ID", "subnetIds", issues)
        issues.raise_any()
        return v

    @model_validator(mode="after")
    def _custom_ami(self) -> NodeGroup:
        if self.ami_type == "CUSTOM" and self.custom_ami_id is None:
            fail_at(("amiType",), "amiType CUSTOM needs customAmiId (the AMI to launch)")
        if self.ami_type != "CUSTOM" and self.custom_ami_id is not None:
            fail_at(("customAmiId",), f"customAmiId needs amiType: CUSTOM (amiType is {self.ami_type})")
        return self
