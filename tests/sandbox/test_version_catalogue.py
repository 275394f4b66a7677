"""Kubernetes versions: a data file with EKS's dates, statuses derived from them and the calendar.

The statuses used to be fixed: on 2026-12-05, 1.33 still said STANDARD_SUPPORT, months past
its end of standard support (2026-07-29). The sandbox's day comes from ``EKS_ASSIST_TODAY``
(assistant/clock.py), which the tests set; the package's sandbox reads it on every request.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from assistant.sandbox.eks import catalog

from .helpers import Network, create_cluster, unique, wait_cluster, wait_status


def _months_later(day: dt.date, months: int) -> dt.date:
    month = day.month - 1 + months
    return day.replace(year=day.year + month // 12, month=month % 12 + 1)


def test_the_catalogue_file_is_well_formed_and_ordered() -> None:
    versions, default = catalog.load_catalogue()
    names = [v.version for v in versions]
    assert names == sorted(names, key=lambda n: tuple(int(p) for p in n.split(".")))
    for older, newer in itertools.pairwise(versions):
        assert newer.version == catalog.next_minor(older.version)
        assert older.release_date < newer.release_date
    for v in versions:
        # EKS's calendar: 14 months of standard support, then 12 of extended support.
        assert v.end_of_standard_support == _months_later(v.release_date, 14), v.version
        assert v.end_of_extended_support == _months_later(v.end_of_standard_support, 12), v.version
        assert v.patch.startswith(v.version + ".")
    assert default in names
    # Every version has a default version of each add-on the engine installs.
    for addon in ("vpc-cni", "coredns", "kube-proxy"):
        assert all(catalog.default_addon_version(addon, n) for n in names), addon


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            'default = "1.30"\n[[versions]]\nversion = "1.29"\npatch = "1.29.1"\nplatform = "eks.1"\n'
            "released = 2024-01-23\nend_of_standard_support = 2025-03-23\nend_of_extended_support = 2026-03-23\n",
            "default '1.30' is not one of the versions",
        ),
        (
            'default = "1.29"\n[[versions]]\nversion = "1.29"\npatch = "1.29.1"\nplatform = "eks.1"\n'
            'released = "2024-01-23"\nend_of_standard_support = 2025-03-23\nend_of_extended_support = 2026-03-23\n',
            "versions[0]: released must be a date",
        ),
        (
            'default = "1.29"\n[[versions]]\nversion = "1.29"\npatch = "1.29.1"\nplatform = "eks.1"\n'
            "released = 2024-01-23\nend_of_standard_support = 2025-03-23\nend_of_extended_support = 2026-03-23\n"
            '[[versions]]\nversion = "1.31"\npatch = "1.31.1"\nplatform = "eks.1"\n'
            "released = 2024-09-26\nend_of_standard_support = 2025-11-26\nend_of_extended_support = 2026-11-26\n",
            "versions[1]: 1.31 must follow 1.29",
        ),
    ],
    ids=["unknown-default", "quoted-date", "gap"],
)
def test_a_broken_catalogue_says_what_is_wrong(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "kubernetes_versions.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ValueError, match=message.replace("[", r"\[").replace("]", r"\]")):
        catalog.load_catalogue(path)


def _on(monkeypatch: pytest.MonkeyPatch, day: str) -> None:
    monkeypatch.setenv("EKS_ASSIST_TODAY", day)


def _statuses(eks: Any, **params: Any) -> dict[str, str]:
    pages = eks.get_paginator("describe_cluster_versions").paginate(**params)
    return {v["clusterVersion"]: v["versionStatus"] for page in pages for v in page["clusterVersions"]}


def test_statuses_follow_the_dates(aws: Callable[..., Any], monkeypatch: pytest.MonkeyPatch) -> None:
    eks = aws("eks")
    _on(monkeypatch, "2026-12-05")  # the day of the field report
    versions = {v["clusterVersion"]: v for v in eks.describe_cluster_versions()["clusterVersions"]}
    v133 = versions["1.33"]
    assert (v133["versionStatus"], v133["status"]) == ("EXTENDED_SUPPORT", "extended-support")
    assert v133["endOfStandardSupportDate"] == dt.datetime(2026, 7, 29, tzinfo=dt.UTC)
    assert v133["endOfExtendedSupportDate"] == dt.datetime(2027, 7, 29, tzinfo=dt.UTC)
    # Past their end of extended support: no longer offered, listed only with includeAll.
    assert _statuses(eks) == {
        "1.32": "EXTENDED_SUPPORT",
        "1.33": "EXTENDED_SUPPORT",
        "1.34": "EXTENDED_SUPPORT",
        "1.35": "STANDARD_SUPPORT",
    }
    assert {k: v for k, v in _statuses(eks, includeAll=True).items() if v == "UNSUPPORTED"} == {
        "1.29": "UNSUPPORTED",
        "1.30": "UNSUPPORTED",
        "1.31": "UNSUPPORTED",
    }
    # The configured default (1.33) is out of standard support: the newest standard one is the default.
    assert [v["clusterVersion"] for v in eks.describe_cluster_versions(defaultOnly=True)["clusterVersions"]] == ["1.35"]

    # Extended support starts at the beginning of the end-of-standard-support day (UTC).
    _on(monkeypatch, "2026-07-28")
    assert _statuses(eks, clusterVersions=["1.33"]) == {"1.33": "STANDARD_SUPPORT"}
    _on(monkeypatch, "2026-07-29")
    assert _statuses(eks, clusterVersions=["1.33"]) == {"1.33": "EXTENDED_SUPPORT"}
    _on(monkeypatch, "2027-07-29")
    assert _statuses(eks, clusterVersions=["1.33"]) == {}
    assert _statuses(eks, clusterVersions=["1.33"], includeAll=True) == {"1.33": "UNSUPPORTED"}

    # Not released yet: not listed at all.
    _on(monkeypatch, "2026-01-26")
    assert "1.35" not in _statuses(eks, includeAll=True)
    _on(monkeypatch, "2026-01-27")
    assert _statuses(eks, clusterVersions=["1.35"]) == {"1.35": "STANDARD_SUPPORT"}


def test_request_filters_and_pages(aws: Callable[..., Any], monkeypatch: pytest.MonkeyPatch) -> None:
    eks = aws("eks")
    _on(monkeypatch, "2026-12-05")
    assert set(_statuses(eks, versionStatus="EXTENDED_SUPPORT")) == {"1.32", "1.33", "1.34"}
    assert set(_statuses(eks, status="standard-support")) == {"1.35"}
    assert set(_statuses(eks, includeAll=True, versionStatus="UNSUPPORTED")) == {"1.29", "1.30", "1.31"}
    assert set(_statuses(eks, clusterVersions=["1.34", "1.29"])) == {"1.34"}
    assert _statuses(eks, clusterType="eks-local-outposts") == {}
    assert set(_statuses(eks, clusterType="eks")) == {"1.32", "1.33", "1.34", "1.35"}

    first = eks.describe_cluster_versions(includeAll=True, maxResults=2)
    assert [v["clusterVersion"] for v in first["clusterVersions"]] == ["1.35", "1.34"]  # newest first
    second = eks.describe_cluster_versions(includeAll=True, maxResults=2, nextToken=first["nextToken"])
    assert [v["clusterVersion"] for v in second["clusterVersions"]] == ["1.33", "1.32"]
    paged = eks.get_paginator("describe_cluster_versions").paginate(includeAll=True, PaginationConfig={"PageSize": 3})
    assert [v["clusterVersion"] for p in paged for v in p["clusterVersions"]] == [
        "1.35",
        "1.34",
        "1.33",
        "1.32",
        "1.31",
        "1.30",
        "1.29",
    ]
    with pytest.raises(ClientError) as exc:
        eks.describe_cluster_versions(nextToken="not-a-token")
    assert exc.value.response["Error"]["Code"] == "InvalidParameterException"


def test_create_refuses_versions_past_extended_support(
    aws: Callable[..., Any], network: Network, monkeypatch: pytest.MonkeyPatch
) -> None:
    eks = aws("eks")
    _on(monkeypatch, "2026-12-05")
    name = unique("old")
    with pytest.raises(ClientError) as exc:
        create_cluster(eks, network, name, version="1.31")
    error = exc.value.response
    assert (error["Error"]["Code"], error["Error"]["Message"]) == (
        "InvalidParameterException",
        "unsupported Kubernetes version 1.31",
    )
    assert error["clusterName"] == name
    with pytest.raises(eks.exceptions.ResourceNotFoundException):
        eks.describe_cluster(name=name)
    # Extended support still creates (and bills); without a version, the default of the day.
    assert create_cluster(eks, network, unique("ext"), version="1.32")["version"] == "1.32"
    assert create_cluster(eks, network, unique("dflt"))["version"] == "1.35"


def test_upgrade_refuses_an_unsupported_target(
    aws: Callable[..., Any], network: Network, monkeypatch: pytest.MonkeyPatch
) -> None:
    eks = aws("eks")
    _on(monkeypatch, "2025-12-01")
    name = unique("upg")
    create_cluster(eks, network, name, version="1.30")
    wait_cluster(eks, name)
    _on(monkeypatch, "2026-11-26")  # 1.31's extended support ends today
    with pytest.raises(ClientError) as exc:
        eks.update_cluster_version(name=name, version="1.31")
    assert exc.value.response["Error"]["Message"] == "unsupported Kubernetes version 1.31"
    assert eks.list_updates(name=name)["updateIds"] == []
    _on(monkeypatch, "2026-11-25")
    update = eks.update_cluster_version(name=name, version="1.31")["update"]
    wait_status(lambda: eks.describe_update(name=name, updateId=update["id"])["update"], "Successful")
