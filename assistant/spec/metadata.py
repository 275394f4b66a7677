"""``metadata``: the cluster's name, region and the tags put on everything eks-assist creates."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import (
    AfterValidator,
    Field,
    field_validator,
)

from assistant import tags as owntags
from assistant.awsnames import REGION_SHAPE, region_problem
from assistant.spec.checks import (
    NAME_CHARS,
    Issues,
    SpecModel,
    bad_char_hint,
    fail,
    quote,
    repeats,
)

_CLUSTER_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,99}")
# AWS allows Unicode letters, digits and separators (\p{L}\p{Z}\p{N}) plus _ . : / = + - @ in tags.
# Not \s: that takes newlines and tabs, which AWS refuses, so the apply would stop halfway.
_TAG_SPACE = "\u0020\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
_TAG_CHARS = re.compile(rf"[\w{_TAG_SPACE}.:/=+\-@]*")
_TAG_CHAR = re.compile(rf"[\w{_TAG_SPACE}.:/=+\-@]")
# AWS allows 50 tags on a resource (EKS's TagMap, EC2, IAM). eks-assist adds its ownership tags
# to everything it creates, and Name to EC2 resources; the spec's own tags get the rest.
_AWS_MAX_TAGS = 50
OUR_TAG_KEYS = frozenset({owntags.MANAGED_BY, owntags.CLUSTER, owntags.RESOURCE, owntags.CLUSTER_ARN, "Name"})
MAX_TAGS = _AWS_MAX_TAGS - len(OUR_TAG_KEYS)


def _check_tag_key(key: str) -> str:
    if not 1 <= len(key) <= 128:
        fail(f"tag key must be 1-128 characters, got {len(key)}")
    if key.lower().startswith("aws:"):
        fail(f"tag key {quote(key)}: the 'aws:' prefix is reserved by AWS")
    if key.startswith("eks-assist:"):
        fail(f"tag key {quote(key)}: the 'eks-assist:' prefix is reserved for eks-assist")
    if not _TAG_CHARS.fullmatch(key):
        fail(f"tag key {quote(key)} may only contain letters, digits, spaces and _ . : / = + - @{bad_char_hint(key, _TAG_CHAR)}")
    return key


def _check_tag_value(value: str) -> str:
    if len(value) > 256:
        fail(f"tag value must be at most 256 characters, got {len(value)}")
    if not _TAG_CHARS.fullmatch(value):
        hint = bad_char_hint(value, _TAG_CHAR)
        fail(f"tag value {quote(value)} may only contain letters, digits, spaces and _ . : / = + - @{hint}")
    return value


TagKey = Annotated[str, AfterValidator(_check_tag_key)]

TagValue = Annotated[str, AfterValidator(_check_tag_value)]


class Metadata(SpecModel):
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
            hint = f" ({len(v)} characters)" if len(v) > 100 else bad_char_hint(v, NAME_CHARS)
            if not v:
                hint = " (it is empty)"
            elif not hint and not v[0].isalnum():
                hint = f" ({v[0]!r} cannot come first)"
            fail(
                "cluster name must be 1-100 characters, start with a letter or digit, and contain only "
                f"letters, digits, '-' and '_'; got {quote(v)}{hint}"
            )
        return v

    @field_validator("region")
    @classmethod
    def _region(cls, v: str) -> str:
        problem = region_problem(v)
        if problem:
            fail(problem)
        return v

    @field_validator("tags")
    @classmethod
    def _tags(cls, v: dict[str, str]) -> dict[str, str]:
        if len(set(v) | OUR_TAG_KEYS) > _AWS_MAX_TAGS:
            ours = ", ".join(sorted(OUR_TAG_KEYS - set(v)))
            fail(
                f"at most {MAX_TAGS} tags are allowed, got {len(v)}: AWS allows {_AWS_MAX_TAGS} on a resource "
                f"and eks-assist adds {ours} to each"
            )
        issues = Issues()
        keys = list(v)
        # IAM refuses tag keys that differ only in case ("Tag keys are case insensitive"), and the
        # cluster and node roles carry these tags: the apply would stop at the roles.
        for i, j in repeats([k.lower() for k in keys]):
            issues.add(
                (keys[i],),
                f"tag key {quote(keys[i])} differs from {quote(keys[j])} only in case; IAM treats tag keys "
                "case-insensitively and refuses both on one role: keep one",
                key=True,
            )
        issues.raise_any()
        return v
