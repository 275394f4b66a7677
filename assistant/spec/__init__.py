"""The typed cluster spec: what the user wants, validated before any AWS call.

A spec is one YAML document (``apiVersion: eks-assist/v1``, ``kind: Cluster``) parsed by
:mod:`~assistant.spec.source` and validated into a frozen :class:`ClusterSpec`. Every problem
found — not just the first — is reported as ``file:line:col: path: message`` in one
:class:`~assistant.errors.InputError` (exit code 2).

Where things are (a DAG: each module imports only those listed before it):

- :mod:`~assistant.spec.source` — YAML to data, with a :class:`~assistant.spec.source.Locator` of positions;
- :mod:`~assistant.spec.problems` — the one mapper from pydantic errors to located problems;
- :mod:`~assistant.spec.checks` — the base model, the error helpers validators raise with, shared field types;
- :mod:`~assistant.spec.metadata`, :mod:`~assistant.spec.masters`, :mod:`~assistant.spec.workers`,
  :mod:`~assistant.spec.cni`, :mod:`~assistant.spec.iam`, :mod:`~assistant.spec.kubeconfig` — one per section;
- :mod:`~assistant.spec.cluster` — :class:`ClusterSpec` and the rules across sections;
- :mod:`~assistant.spec.messages` — :class:`SpecWording`, the spec's wording of pydantic errors;
- :mod:`~assistant.spec.loading` — :func:`load_spec`, :func:`loads_spec`, :func:`parse_spec`, :func:`spec_json_schema`.

How errors are produced: pydantic checks structure and types (strict: YAML already gives
native types, so ``"3"`` is not a number and ``1.30`` is not a version). Rules that pydantic
cannot phrase well are validators that raise :class:`~pydantic_core.PydanticCustomError` — either
one message for the field (``eks_value``) or several located sub-problems (``eks_issues``).
Cross-field rules live in field validators that read earlier fields from ``info.data``, so
they still run when an unrelated part of the spec is broken.
"""

from __future__ import annotations

from assistant.spec.checks import SecurityGroupId, SubnetId, SubPath
from assistant.spec.cluster import API_VERSION, KIND, ClusterSpec
from assistant.spec.cni import Cni, CustomNetworking, EniConfig
from assistant.spec.iam import AccessPolicy, IamMapping
from assistant.spec.kubeconfig import Kubeconfig
from assistant.spec.loading import LoadedSpec, load_spec, loads_spec, parse_spec, spec_json_schema
from assistant.spec.masters import (
    DEFAULT_VERSION,
    LOG_TYPES,
    AuthenticationMode,
    Endpoint,
    LogType,
    Masters,
    PublicCidr,
    SecretsEncryption,
    SubnetCidr,
    Vpc,
    VpcCreate,
    VpcExisting,
)
from assistant.spec.messages import SpecWording
from assistant.spec.metadata import MAX_TAGS, OUR_TAG_KEYS, Metadata, TagKey, TagValue
from assistant.spec.workers import (
    AMI_TYPES,
    AmiType,
    CapacityType,
    InstanceTypeName,
    LabelKey,
    LabelValue,
    NodeGroup,
    Scaling,
    Taint,
    TaintEffect,
)

__all__ = [
    "AMI_TYPES",
    "API_VERSION",
    "DEFAULT_VERSION",
    "KIND",
    "LOG_TYPES",
    "MAX_TAGS",
    "OUR_TAG_KEYS",
    "AccessPolicy",
    "AmiType",
    "AuthenticationMode",
    "CapacityType",
    "ClusterSpec",
    "Cni",
    "CustomNetworking",
    "Endpoint",
    "EniConfig",
    "IamMapping",
    "InstanceTypeName",
    "Kubeconfig",
    "LabelKey",
    "LabelValue",
    "LoadedSpec",
    "LogType",
    "Masters",
    "Metadata",
    "NodeGroup",
    "PublicCidr",
    "Scaling",
    "SecretsEncryption",
    "SecurityGroupId",
    "SpecWording",
    "SubPath",
    "SubnetCidr",
    "SubnetId",
    "TagKey",
    "TagValue",
    "Taint",
    "TaintEffect",
    "Vpc",
    "VpcCreate",
    "VpcExisting",
    "load_spec",
    "loads_spec",
    "parse_spec",
    "spec_json_schema",
]
