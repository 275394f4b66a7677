"""Checks for names and regions that both the spec and the CLI flags take, before any AWS call.

A bad value is named (``--region: ...``, or ``file:line:col: metadata.region: ...`` through the
spec model), not sent to AWS, where it would cost a timeout or an unreadable error.

Regions are checked against botocore's partition data (``data/partitions.json`` and
``data/endpoints.json``): a region is valid when the botocore in use knows it, in some
partition. That data is read lazily, on the first region checked, so that ``--help`` never
imports botocore (``tests/unit/test_import_hygiene.py``).
"""

from __future__ import annotations

import difflib
import functools
import re
from typing import Any

CLUSTER_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,99}")
ROLE_ARN = re.compile(r"arn:(aws[a-z-]*):iam::\d{12}:role/[\w+=,.@/-]{1,512}", re.ASCII)
# The shape every partition's regionRegex shares (us-east-1, us-gov-west-1, eusc-de-east-1);
# what is a region is decided by botocore's data, this only tells "not even shaped like one".
REGION_SHAPE = re.compile(r"[a-z]{2,4}(-[a-z]+)+-\d+")
# Local Zones are named after their parent region: us-west-2-lax-1a.
_LOCAL_ZONE = re.compile(r"(?P<region>.+)-[a-z]+-\d+[a-z]")


def shown(value: str) -> str:
    """``value`` quoted for an error message, cut at 80 characters."""
    return repr(value if len(value) <= 80 else value[:80] + "…")


def _load_data(name: str) -> Any:
    """botocore's ``data/<name>.json``: read directly when botocore's loader would find nothing else.

    Importing botocore.loaders costs over 100 ms (urllib3 and friends); ``validate`` needs only
    two JSON files. With custom data in ``~/.aws/models`` (the loader's other search path) it
    goes through the loader, which knows how to layer it.
    """
    import importlib.util
    import json
    from pathlib import Path

    spec = importlib.util.find_spec("botocore")
    bundled = Path(spec.origin).parent / "data" / f"{name}.json" if spec and spec.origin else None
    custom = Path("~/.aws/models").expanduser().is_dir()
    if bundled is not None and bundled.is_file() and not custom:
        return json.loads(bundled.read_text(encoding="utf-8"))
    from botocore.loaders import create_loader

    return create_loader().load_data(name)


@functools.cache
def known_regions() -> dict[str, str]:
    """Every region botocore knows, mapped to its partition (``us-east-1`` -> ``aws``)."""
    regions: dict[str, str] = {}
    for part in _load_data("partitions")["partitions"]:
        # The list also holds pseudo-regions such as aws-global; only names the partition's
        # own regionRegex accepts are regions.
        pattern = re.compile(part["regionRegex"])
        regions.update({name: part["id"] for name in part.get("regions", {}) if pattern.match(name)})
    for part in _load_data("endpoints")["partitions"]:
        for name in part.get("regions", {}):
            regions.setdefault(name, part["partition"])
    return regions


def partition_of(region: str) -> str | None:
    """The partition (``aws``, ``aws-cn``, ``aws-us-gov``, ...) of a known region, else ``None``."""
    return known_regions().get(region)


def _botocore_version() -> str:
    import botocore

    return str(botocore.__version__)


def region_problem(value: str) -> str | None:
    """What is wrong with ``value`` as an AWS region, or ``None`` when botocore knows it."""
    regions = known_regions()
    if value in regions:
        return None
    if value[:-1] in regions and value[-1:].isalpha():
        return f"{shown(value)} is an Availability Zone, not a region; the region is {value[:-1]!r}"
    example = "like us-east-1, eu-west-2 or us-gov-west-1"
    if value.lower() in regions:
        return f"{shown(value)}: region names are lowercase; did you mean {value.lower()!r}?"
    if not REGION_SHAPE.fullmatch(value):
        return f"{shown(value)} is not an AWS region name ({example})"
    stem = value.rsplit("-", 1)[0]
    siblings = sorted(r for r in regions if r.rsplit("-", 1)[0] == stem)
    close = difflib.get_close_matches(value, siblings or list(regions), n=1, cutoff=0.6)
    hint = f"; did you mean {close[0]!r}?" if close else f" ({example})"
    knows = " and ".join([", ".join(siblings[:-1]), siblings[-1]] if len(siblings) > 1 else siblings) or f"no {stem} region"
    return (
        f"{shown(value)} is not an AWS region{hint} "
        f"(botocore {_botocore_version()} knows {knows}; upgrade boto3 and botocore if the region is new)"
    )


def zone_region(zone: str) -> str | None:
    """The region of an Availability Zone or Local Zone name (``us-east-1a`` -> ``us-east-1``), or ``None``."""
    regions = known_regions()
    if zone[-1:].isalpha() and zone[-1:].islower() and zone[:-1] in regions:
        return zone[:-1]
    local = _LOCAL_ZONE.fullmatch(zone)
    if local and local.group("region") in regions:
        return local.group("region")
    return None


def check_region(region: str | None, flag: str = "--region") -> None:
    """ValueError naming ``flag`` when ``region`` is given and botocore does not know it."""
    if region is None:
        return
    problem = region_problem(region)
    if problem:
        raise ValueError(f"{flag}: {problem}")


def check_role_and_region(role_arn: str | None, region: str | None) -> None:
    """ValueError naming ``--role-arn`` or ``--region`` when either is given and malformed, or they disagree."""
    match = ROLE_ARN.fullmatch(role_arn) if role_arn is not None else None
    if role_arn is not None and not match:
        raise ValueError(f"--role-arn: {shown(role_arn)} is not an IAM role ARN (like arn:aws:iam::111122223333:role/name)")
    check_region(region)
    if match and region is not None and match.group(1) != partition_of(region):
        raise ValueError(
            f"--role-arn: the role is in partition {match.group(1)!r} but region {region} is in {partition_of(region)!r}; "
            "a role can only be assumed in its own partition"
        )
