"""The ``/eks new`` modal: the form, the spec it becomes, and spec problems mapped back to fields.

The form asks for what a first cluster needs (name, region, version, one node group's
instance type and size, a new or existing VPC, IAM mappings) and turns it into the same spec
YAML a user would write by hand (the shape of ``examples/demo.yaml``). That text is validated
by the engine's own spec parser, and each problem is shown under the field it came from, using
Slack's ``response_action: errors``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any

from .blocks import clip, plain

CALLBACK = "eks_new_cluster"
REGIONS = (
    "us-east-1",
    "us-east-2",
    "us-west-1",
    "us-west-2",
    "ca-central-1",
    "eu-west-1",
    "eu-west-2",
    "eu-central-1",
    "eu-north-1",
    "ap-south-1",
    "ap-southeast-1",
    "ap-southeast-2",
    "ap-northeast-1",
    "sa-east-1",
)
VERSIONS = ("1.33", "1.32", "1.31", "1.30")
NODE_GROUP = "general"

# Where a spec problem is shown: the first path prefix that matches names the form field.
_FIELD_FOR_PATH: tuple[tuple[str, str], ...] = (
    ("metadata.name", "name"),
    ("metadata.region", "region"),
    ("masters.version", "version"),
    ("masters.vpc.create", "vpc_cidr"),
    ("masters.vpc.existing", "subnets"),
    ("masters.vpc", "vpc"),
    ("workers[0].instanceTypes", "instance_type"),
    ("workers[0].scaling.min", "nodes_min"),
    ("workers[0].scaling.desired", "nodes_desired"),
    ("workers[0].scaling.max", "nodes_max"),
    ("workers[0].scaling", "nodes_max"),
    ("iamMappings", "mappings"),
)
_FIRST_FIELD = "name"


def _option(value: str) -> dict[str, Any]:
    return {"text": plain(value), "value": value}


def _input(block_id: str, label: str, element: dict[str, Any], *, optional: bool = False, hint: str = "") -> dict[str, Any]:
    block: dict[str, Any] = {
        "type": "input",
        "block_id": block_id,
        "label": plain(label),
        "element": {"action_id": "value", **element},
        "optional": optional,
    }
    if hint:
        block["hint"] = plain(hint)
    return block


def view(channel: str, default_region: str | None = None) -> dict[str, Any]:
    """The modal, remembering the channel the command came from (where the request is posted)."""
    region = default_region if default_region in REGIONS else REGIONS[0]
    regions = list(REGIONS)
    if default_region and default_region not in REGIONS:
        regions.insert(0, default_region)
        region = default_region
    return {
        "type": "modal",
        "callback_id": CALLBACK,
        "title": plain("New EKS cluster"),
        "submit": plain("Plan"),
        "close": plain("Cancel"),
        "private_metadata": json.dumps({"channel": channel}),
        "blocks": [
            _input(
                "name",
                "Cluster name",
                {"type": "plain_text_input", "max_length": 100, "placeholder": plain("demo")},
                hint="1-100 characters: letters, digits, - and _; starts with a letter or digit",
            ),
            _input(
                "region",
                "Region",
                {"type": "static_select", "options": [_option(r) for r in regions], "initial_option": _option(region)},
            ),
            _input(
                "version",
                "Kubernetes version",
                {"type": "static_select", "options": [_option(v) for v in VERSIONS], "initial_option": _option(VERSIONS[0])},
            ),
            _input("instance_type", "Node instance type", {"type": "plain_text_input", "initial_value": "m5.large"}),
            _input("nodes_min", "Nodes: minimum", {"type": "number_input", "is_decimal_allowed": False, "initial_value": "1"}),
            _input(
                "nodes_desired", "Nodes: desired", {"type": "number_input", "is_decimal_allowed": False, "initial_value": "2"}
            ),
            _input("nodes_max", "Nodes: maximum", {"type": "number_input", "is_decimal_allowed": False, "initial_value": "3"}),
            _input(
                "vpc",
                "Network",
                {
                    "type": "radio_buttons",
                    "options": [
                        {"text": plain("Create a new VPC (two Availability Zones)"), "value": "create"},
                        {"text": plain("Use existing subnets"), "value": "existing"},
                    ],
                    "initial_option": {"text": plain("Create a new VPC (two Availability Zones)"), "value": "create"},
                },
            ),
            _input(
                "vpc_cidr",
                "New VPC CIDR",
                {"type": "plain_text_input", "initial_value": "10.0.0.0/16"},
                optional=True,
                hint="Only for a new VPC",
            ),
            _input(
                "subnets",
                "Existing subnet IDs",
                {"type": "plain_text_input", "placeholder": plain("subnet-0abc…, subnet-0def…")},
                optional=True,
                hint="Only for existing subnets: two or more, in at least two Availability Zones",
            ),
            _input(
                "mappings",
                "IAM mappings",
                {
                    "type": "plain_text_input",
                    "multiline": True,
                    "placeholder": plain("arn:aws:iam::111122223333:role/Admins system:masters"),
                },
                optional=True,
                hint="One per line: an IAM role or user ARN, then one or more Kubernetes groups",
            ),
        ],
    }


def channel_of(view_payload: dict[str, Any]) -> str:
    """The channel stored in the modal's private_metadata when it was opened."""
    try:
        meta = json.loads(view_payload.get("private_metadata") or "{}")
    except ValueError:
        return ""
    # Metadata that is JSON but not our object (a list, a number) names no channel either.
    return str(meta.get("channel") or "") if isinstance(meta, dict) else ""


def _value(values: dict[str, Any], block: str) -> str:
    el = values.get(block, {}).get("value", {})
    if "selected_option" in el:
        return str((el.get("selected_option") or {}).get("value") or "")
    return str(el.get("value") or "").strip()


def _int(values: dict[str, Any], block: str, errors: dict[str, str]) -> int | None:
    text = _value(values, block)
    try:
        return int(text)
    except ValueError:
        errors[block] = "enter a whole number"
        return None


def spec_from_values(values: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """(spec data, form errors found before validation) from a view_submission's ``state.values``."""
    errors: dict[str, str] = {}
    vpc: dict[str, Any]
    if _value(values, "vpc") == "existing":
        subnets = [s for s in re.split(r"[\s,]+", _value(values, "subnets")) if s]
        if not subnets:
            errors["subnets"] = "list the subnet IDs to use (two or more, in at least two Availability Zones)"
        vpc = {"existing": {"subnetIds": subnets}}
    else:
        vpc = {"create": {"cidr": _value(values, "vpc_cidr") or "10.0.0.0/16", "azCount": 2}}
    scaling = {k: _int(values, f"nodes_{k}", errors) for k in ("min", "desired", "max")}
    mappings = []
    for n, line in enumerate(_value(values, "mappings").splitlines(), 1):
        words = line.split()
        if not words:
            continue
        if len(words) < 2:
            errors["mappings"] = f"line {n}: give an ARN and at least one Kubernetes group"
            continue
        kind = "user" if ":user/" in words[0] else "role"
        mappings.append({"arn": words[0], "kind": kind, "groups": words[1:]})
    spec: dict[str, Any] = {
        "apiVersion": "eks-assist/v1",
        "kind": "Cluster",
        "metadata": {"name": _value(values, "name"), "region": _value(values, "region")},
        "masters": {"version": _value(values, "version"), "vpc": vpc},
        "workers": [{"name": NODE_GROUP, "instanceTypes": [_value(values, "instance_type")], "scaling": scaling}],
        # The bot's host is nobody's workstation: users fetch their kubeconfig themselves.
        "kubeconfig": {"write": False},
    }
    if mappings:
        spec["iamMappings"] = mappings
    return spec, errors


def to_yaml(spec: dict[str, Any]) -> str:
    """The spec as YAML text, the way a person would write it (keys in spec order)."""
    import yaml

    head = "# Requested from Slack with /eks new.\n"
    return head + yaml.safe_dump(spec, sort_keys=False, default_flow_style=False)


def field_for(path: str | None) -> str:
    """The form field a spec problem at ``path`` belongs to."""
    for prefix, block in _FIELD_FOR_PATH:
        if path and (path == prefix or path.startswith((prefix + ".", prefix + "["))):
            return block
    return _FIRST_FIELD


def errors_for(problems: Iterable[Any]) -> dict[str, str]:
    """Spec problems as Slack's ``{block_id: message}``; several on one field are joined."""
    out: dict[str, list[str]] = {}
    for p in problems:
        out.setdefault(field_for(p.path), []).append(p.message)
    return {k: clip("; ".join(v), 300) for k, v in out.items()}
