"""``cni``: Amazon VPC CNI settings and custom networking (ENIConfigs per Availability Zone)."""

from __future__ import annotations

import re

from pydantic import (
    Field,
    field_validator,
    model_validator,
)

from assistant.awsnames import REGION_SHAPE, region_problem, zone_region
from assistant.spec.checks import (
    Issues,
    SecurityGroupId,
    SpecModel,
    SubnetId,
    duplicates,
    fail,
    quote,
)

# Every version DescribeAddonVersions lists ends in -eksbuild.N (v1.19.2-eksbuild.1).
_ADDON_VERSION = re.compile(r"v\d+\.\d+\.\d+(-[a-z0-9]+)*-eksbuild\.\d+")


class EniConfig(SpecModel):
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
            fail(f"{quote(v)} is not an Availability Zone name (like us-east-1a, a region and a letter){why}")
        return v

    @field_validator("security_group_ids")
    @classmethod
    def _sgs(cls, v: list[str]) -> list[str]:
        issues = Issues()
        duplicates(v, "security group ID", "securityGroupIds", issues)
        issues.raise_any()
        return v


class CustomNetworking(SpecModel):
    """VPC CNI custom networking: pod IPs from other subnets than the node's."""

    enabled: bool = False
    eni_configs: list[EniConfig] = Field(default_factory=list)

    @model_validator(mode="after")
    def _configs(self) -> CustomNetworking:
        issues = Issues()
        if self.enabled and not self.eni_configs:
            issues.add(("eniConfigs",), "custom networking needs eniConfigs (one per Availability Zone)")
        zones = [c.availability_zone for c in self.eni_configs]
        first: dict[str, int] = {}
        for i, zone in enumerate(zones):
            if zone in first:
                issues.add(
                    ("eniConfigs", i, "availabilityZone"),
                    f"duplicate Availability Zone {quote(zone)} (also at eniConfigs[{first[zone]}])",
                )
            first.setdefault(zone, i)
        issues.raise_any()
        return self


class Cni(SpecModel):
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
            fail(f"addonVersion must be a version EKS lists for vpc-cni, like v1.19.2-eksbuild.1, got {quote(v)}")
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
        issues = Issues()
        for field, message in check_settings(settings):
            issues.add((field,), message)
        issues.raise_any()
        return self
