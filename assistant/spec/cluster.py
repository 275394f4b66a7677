"""The whole spec, :class:`ClusterSpec`, and the rules that join its sections."""

from __future__ import annotations

import hashlib
import json
from typing import Any, Literal

from pydantic import (
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
)

from assistant.awsnames import partition_of, zone_region
from assistant.identity.access import route
from assistant.spec.checks import (
    Issues,
    SpecModel,
    fail_at,
    near_duplicates,
    quote,
    version_tuple,
)
from assistant.spec.cni import Cni
from assistant.spec.iam import IamMapping, partitions_named, principal_key
from assistant.spec.kubeconfig import Kubeconfig
from assistant.spec.masters import Masters
from assistant.spec.metadata import Metadata
from assistant.spec.workers import AL2_LAST_VERSION, AL2_REPLACEMENT, NodeGroup

API_VERSION = "eks-assist/v1"
KIND = "Cluster"


class ClusterSpec(SpecModel):
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
            fail_at(
                ("secretsEncryption", "kmsKeyArn"),
                f"the KMS key is in {enc.region} but the cluster is in {metadata.region}; "
                "EKS needs a key in the cluster's region",
            )
        return v

    @field_validator("workers")
    @classmethod
    def _workers(cls, v: list[NodeGroup], info: ValidationInfo) -> list[NodeGroup]:
        issues = Issues()
        # EKS names are case-sensitive, so EKS would make both; but kubectl, the console and the
        # nodes' eks.amazonaws.com/nodegroup label would then tell them apart only by case.
        near_duplicates(
            [ng.name for ng in v],
            [ng.name.lower() for ng in v],
            ("name", "node group name", "workers"),
            lambda j, other: (
                f"it differs from {quote(other)} (workers[{j}]) only in case; EKS would make two node "
                "groups that people and tools tell apart only by case: use distinct names"
            ),
            issues,
        )
        masters = info.data.get("masters")
        if isinstance(masters, Masters):
            for i, ng in enumerate(v):
                if ng.ami_type in AL2_REPLACEMENT and version_tuple(masters.version) > AL2_LAST_VERSION:
                    issues.add(
                        (i, "amiType"),
                        f"EKS publishes no Amazon Linux 2 AMIs for Kubernetes "
                        f"{masters.version}; use {AL2_REPLACEMENT[ng.ami_type]}",
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
        issues = Issues()
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
        issues = Issues()
        # IAM names are unique in an account whatever their case or path, and aws-auth matches
        # ARNs lower-cased: two spellings are one principal mapped twice.
        near_duplicates(
            [m.arn for m in v],
            [principal_key(m) for m in v],
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
                for sub, named in partitions_named(m):
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
        canonical: dict[str, Any] = _sort_keys(self.model_dump(mode="json", by_alias=True))
        return canonical

    def digest(self) -> str:
        """SHA-256 of the canonical form: equal for specs that mean the same thing."""
        text = json.dumps(self.canonical(), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _sort_keys(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {k: _sort_keys(obj[k]) for k in sorted(obj)}
    if isinstance(obj, list):
        return [_sort_keys(x) for x in obj]
    return obj
