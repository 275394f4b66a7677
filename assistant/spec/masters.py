"""``masters``: the EKS control plane (version, VPC, API endpoint, logging, encryption, auth mode)."""

from __future__ import annotations

import ipaddress
import math
import re
from typing import Annotated, Any, Literal, get_args

from pydantic import (
    AfterValidator,
    Field,
    field_validator,
    model_validator,
)

from assistant.awsnames import partition_of, region_problem
from assistant.spec.checks import (
    Issues,
    SecurityGroupId,
    SpecModel,
    SubnetId,
    duplicates,
    fail,
    fail_at,
    parse_cidr,
    quote,
)

#: The newest Kubernetes version we know EKS offers; the default for ``masters.version``.
DEFAULT_VERSION = "1.33"
LogType = Literal["api", "audit", "authenticator", "controllerManager", "scheduler"]
LOG_TYPES: tuple[str, ...] = get_args(LogType)
AuthenticationMode = Literal["CONFIG_MAP", "API_AND_CONFIG_MAP", "API"]
_VERSION = re.compile(r"\d+\.\d+")
# KMS key ids are UUIDs, or mrk-<32 hex> for multi-Region keys; alias names are 1-256 of
# [A-Za-z0-9/_-] (KMS CreateAlias), after "alias/".
_KMS_ARN = re.compile(
    r"arn:(?P<partition>aws[a-z-]*):kms:(?P<region>[a-z0-9-]+):\d{12}:"
    r"(key/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|mrk-[0-9a-f]{32})|alias/[A-Za-z0-9/_-]{1,250})"
)
_RFC1918 = tuple(ipaddress.IPv4Network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"))


def _check_subnet_cidr(value: str) -> str:
    parse_cidr(value, "subnet CIDR")
    return value


def _check_public_cidr(value: str) -> str:
    parse_cidr(value, "public CIDR")
    return value


SubnetCidr = Annotated[str, AfterValidator(_check_subnet_cidr)]

PublicCidr = Annotated[str, AfterValidator(_check_public_cidr)]


class VpcCreate(SpecModel):
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
        net = parse_cidr(v, "VPC CIDR")
        if not 16 <= net.prefixlen <= 28:
            fail(f"VPC CIDR must be between /16 and /28 (AWS limits), got /{net.prefixlen}")
        return v

    @field_validator("az_count")
    @classmethod
    def _az_count(cls, v: int) -> int:
        if v < 2:
            fail(f"EKS needs subnets in at least two Availability Zones; azCount must be at least 2, got {v}")
        if v > 6:
            fail(f"azCount must be at most 6 (no AWS region has more Availability Zones), got {v}")
        return v

    @model_validator(mode="after")
    def _subnets_fit(self) -> VpcCreate:
        issues = Issues()
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


class VpcExisting(SpecModel):
    """Your own VPC: the subnets (in two or more AZs) and extra security groups for the cluster."""

    subnet_ids: list[SubnetId] = Field(description="Subnets for the control plane ENIs, in at least two AZs.")
    security_group_ids: list[SecurityGroupId] = Field(
        default_factory=list, description="Extra security groups for the control plane (at most 4)."
    )

    @field_validator("subnet_ids")
    @classmethod
    def _subnets(cls, v: list[str]) -> list[str]:
        issues = Issues()
        if len(v) < 2:
            issues.add((), f"EKS needs subnets in at least two Availability Zones; give at least 2 subnet IDs, got {len(v)}")
        duplicates(v, "subnet ID", "subnetIds", issues)
        issues.raise_any()
        return v

    @field_validator("security_group_ids")
    @classmethod
    def _sgs(cls, v: list[str]) -> list[str]:
        issues = Issues()
        if len(v) > 4:
            # EKS service quotas: "Control plane security groups per cluster: 4", not adjustable.
            issues.add((), f"EKS allows at most 4 control plane security groups (a fixed quota), got {len(v)}")
        duplicates(v, "security group ID", "securityGroupIds", issues)
        issues.raise_any()
        return v


class Vpc(SpecModel):
    """Where the cluster lives: exactly one of ``create`` (a new VPC) or ``existing`` (yours)."""

    create: VpcCreate | None = None
    existing: VpcExisting | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> Vpc:
        if self.create is not None and self.existing is not None:
            fail("give exactly one of 'create' (a new VPC) or 'existing' (your subnets), not both")
        if self.create is None and self.existing is None:
            hint = ""
            if "create" in self.model_fields_set:
                hint = "; 'create' is empty: write 'create: {}' for the defaults"
            fail(f"give one of 'create' (a new VPC) or 'existing' (your subnets){hint}")
        return self

    @property
    def cidr(self) -> ipaddress.IPv4Network | None:
        """The VPC CIDR when we create the VPC; unknown (``None``) for an existing one."""
        return ipaddress.IPv4Network(self.create.cidr) if self.create else None


def _default_vpc() -> Vpc:
    return Vpc(create=VpcCreate())


class Endpoint(SpecModel):
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
        issues = Issues()
        if len(v) > 40:
            # EKS service quotas: "Public endpoint access CIDR ranges per cluster: 40", not adjustable.
            issues.add((), f"EKS allows at most 40 public access CIDR ranges (a fixed quota), got {len(v)}")
        duplicates(v, "CIDR", "publicCidrs", issues)
        issues.raise_any()
        return v

    @model_validator(mode="after")
    def _access(self) -> Endpoint:
        if not self.public_access and not self.private_access:
            fail("at least one of publicAccess or privateAccess must be true, or nothing can reach the API server")
        issues = Issues()
        if self.public_cidrs and not self.public_access:
            issues.add(("publicCidrs",), "publicCidrs needs publicAccess: true")
        if self.public_access and not self.public_cidrs:
            issues.add(("publicCidrs",), "publicCidrs is empty; omit it to allow 0.0.0.0/0, or list the CIDRs allowed")
        issues.raise_any()
        return self


class SecretsEncryption(SpecModel):
    """Envelope encryption of Kubernetes secrets with a KMS key in the cluster's region."""

    kms_key_arn: str = Field(description="ARN of a KMS key (or alias) in the cluster's region.")

    @field_validator("kms_key_arn")
    @classmethod
    def _arn(cls, v: str) -> str:
        match = _KMS_ARN.fullmatch(v)
        if not match:
            fail(
                f"{quote(v)} is not a KMS key ARN (like "
                "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab, or ...:alias/name)"
            )
        problem = region_problem(match.group("region"))
        if problem:
            fail(f"the KMS key ARN names region {problem}")
        partition = partition_of(match.group("region"))
        if match.group("partition") != partition:
            fail(
                f"the KMS key ARN says partition {match.group('partition')!r}, but region {match.group('region')} "
                f"is in {partition!r}: write arn:{partition}:kms:..."
            )
        return v

    @property
    def region(self) -> str:
        """The region named in the key ARN."""
        match = _KMS_ARN.fullmatch(self.kms_key_arn)
        return match.group("region") if match else ""


class Masters(SpecModel):
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
            fail(f'Kubernetes version must be "major.minor" like "{DEFAULT_VERSION}", got {quote(v)}')
        return v

    @field_validator("service_cidr")
    @classmethod
    def _service_cidr(cls, v: str | None) -> str | None:
        if v is None:
            return v
        net = parse_cidr(v, "service CIDR")
        if not any(net.subnet_of(block) for block in _RFC1918):
            fail(f"service CIDR {v} must be inside a private (RFC 1918) range: 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16")
        if not 12 <= net.prefixlen <= 24:
            fail(f"service CIDR must be between /12 and /24, got /{net.prefixlen}")
        return v

    @field_validator("logging")
    @classmethod
    def _logging(cls, v: list[str]) -> list[str]:
        issues = Issues()
        duplicates(v, "log type", "logging", issues)
        issues.raise_any()
        return v

    @model_validator(mode="after")
    def _service_vs_vpc(self) -> Masters:
        vpc = self.vpc.cidr
        if self.service_cidr and vpc is not None:
            service = ipaddress.IPv4Network(self.service_cidr)
            if service.overlaps(vpc):
                fail_at(("serviceCidr",), f"service CIDR {service} overlaps the VPC CIDR {vpc} (masters.vpc.create.cidr)")
        return self
