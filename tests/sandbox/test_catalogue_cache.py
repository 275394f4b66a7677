"""The instance-type catalogue cache: built once, then read from memory or disk; never a different answer.

Most checks drive :func:`catalogue.cached` with a stand-in for moto's app, so they count builds
without paying moto's seconds; one goes through a real sandbox with boto3 and compares the
whole listing with the cache off, just built, in memory and read back from disk.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pytest

from assistant.sandbox import catalogue

LISTING = b"Action=DescribeInstanceTypes&Version=2016-11-15"


class FakeMoto:
    """A WSGI app that answers like moto, numbering its answers so a rebuilt one is told apart."""

    def __init__(self, status: str = "200 OK") -> None:
        self.calls = 0
        self.status = status

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        self.calls += 1
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        start_response(self.status, [("Content-Type", "text/xml")])
        return [b"<answer n='%d'>%s</answer>" % (self.calls, body)]


def _environ(body: bytes = LISTING, service: str = "ec2", region: str = "us-east-1") -> dict[str, Any]:
    return {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": "/",
        "QUERY_STRING": "",
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.input": io.BytesIO(body),
        "HTTP_AUTHORIZATION": f"AWS4-HMAC-SHA256 Credential=AKIAEKSASSISTSANDBOX/20251201/{region}/{service}/aws4_request, x",
    }


def _ask(app: Callable[..., Any], environ: dict[str, Any]) -> tuple[str, bytes]:
    status: list[str] = []
    body = b"".join(app(environ, lambda s, h, e=None: status.append(s)))
    return status[0], body


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterable[Path]:
    """A private cache directory and an empty memory, restored afterwards for the other tests."""
    directory = tmp_path / "catalogue"
    monkeypatch.setenv(catalogue.ENV, str(directory))
    catalogue.clear_memory()
    yield directory
    catalogue.clear_memory()


def _files(directory: Path) -> list[Path]:
    return sorted(directory.glob("describe-instance-types-*.json"))


def test_the_listing_is_built_once_then_read_from_memory_and_from_disk(cache: Path) -> None:
    moto = FakeMoto()
    app = catalogue.cached(moto)
    first = _ask(app, _environ())
    assert moto.calls == 1 and len(_files(cache)) == 1
    assert _ask(app, _environ()) == first and moto.calls == 1
    # Another process (an empty memory) reads the file, and any app gets that answer.
    catalogue.clear_memory()
    other = FakeMoto()
    assert _ask(catalogue.cached(other), _environ()) == first and other.calls == 0


def test_a_corrupt_or_foreign_file_is_ignored_and_rebuilt(cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    moto = FakeMoto()
    app = catalogue.cached(moto)
    _ask(app, _environ())
    [path] = _files(cache)
    good = path.read_text(encoding="utf-8")
    record = json.loads(good)
    tampered = {**record, "body": record["body"].replace("n='1'", "n='9'")}  # its checksum no longer matches
    foreign = {**record, "key": {**record["key"], "moto": "0.0.1"}}  # written by another moto
    for broken in ("{not json", json.dumps([1, 2]), json.dumps(tampered), json.dumps(foreign), ""):
        path.write_text(broken, encoding="utf-8")
        catalogue.clear_memory()
        before = moto.calls
        status, body = _ask(app, _environ())
        assert (status, moto.calls) == ("200 OK", before + 1), broken
        assert body == b"<answer n='%d'>%s</answer>" % (moto.calls, LISTING)
        assert json.loads(path.read_text(encoding="utf-8"))["sha256"] != record["sha256"]  # rewritten whole

    # Another moto version is another key: another file, and the first one is not read.
    catalogue.clear_memory()
    real = catalogue.request_key(_environ(), LISTING)
    assert real is not None
    monkeypatch.setattr(catalogue, "request_key", lambda environ, body: {**real, "moto": "99.0.0"})
    before = moto.calls
    _ask(app, _environ())
    assert moto.calls == before + 1 and len(_files(cache)) == 2


def test_only_the_whole_listing_is_kept(cache: Path) -> None:
    moto = FakeMoto()
    app = catalogue.cached(moto)
    passed_through: list[tuple[bytes, str]] = [
        (b"Action=DescribeInstanceTypes&Version=2016-11-15&InstanceType.1=m5.large", "ec2"),
        (b"Action=DescribeInstanceTypes&Version=2016-11-15&Filter.1.Name=vcpu-info.default-vcpus&Filter.1.Value.1=2", "ec2"),
        (b"Action=DescribeVpcs&Version=2016-11-15", "ec2"),
        (LISTING, "iam"),
    ]
    for body, service in passed_through * 2:
        assert _ask(app, _environ(body, service))[1] == b"<answer n='%d'>%s</answer>" % (moto.calls, body)
    assert moto.calls == len(passed_through) * 2 and _files(cache) == []
    # Each region has its own answer; a different page size is a different request.
    for body, region in ((LISTING, "eu-west-1"), (LISTING + b"&MaxResults=5", "us-east-1"), (LISTING, "us-east-1")):
        _ask(app, _environ(body, region=region))
        _ask(app, _environ(body, region=region))
    assert moto.calls == len(passed_through) * 2 + 3 and len(_files(cache)) == 3


def test_a_failed_build_is_not_kept(cache: Path) -> None:
    moto = FakeMoto(status="500 Internal Server Error")
    app = catalogue.cached(moto)
    assert _ask(app, _environ())[0].startswith("500")
    assert _ask(app, _environ())[0].startswith("500")
    assert moto.calls == 2 and _files(cache) == []


def test_off_means_every_listing_is_motos_own(monkeypatch: pytest.MonkeyPatch, cache: Path) -> None:
    monkeypatch.setenv(catalogue.ENV, "off")
    moto = FakeMoto()
    app = catalogue.cached(moto)
    _ask(app, _environ())
    _ask(app, _environ())
    assert moto.calls == 2 and not cache.exists()


def test_the_sandbox_answers_the_same_with_and_without_the_cache(
    aws: Callable[..., Any], cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    builds: list[str] = []
    real_build = catalogue.build

    def counted(app: Callable[..., Any], environ: dict[str, Any]) -> catalogue.Answer:
        builds.append(environ.get("HTTP_AUTHORIZATION", ""))
        return real_build(app, environ)

    monkeypatch.setattr(catalogue, "build", counted)

    def listing() -> tuple[list[dict[str, Any]], str]:
        pages = list(aws("ec2").get_paginator("describe_instance_types").paginate())
        return [t for page in pages for t in page["InstanceTypes"]], pages[0]["ResponseMetadata"]["RequestId"]

    monkeypatch.setenv(catalogue.ENV, "off")
    uncached, _ = listing()
    assert builds == [] and len(uncached) > 1000
    monkeypatch.setenv(catalogue.ENV, str(cache))
    built, first_id = listing()
    assert len(builds) == 1 and len(_files(cache)) == 1
    in_memory, second_id = listing()
    catalogue.clear_memory()
    from_disk, third_id = listing()
    assert len(builds) == 1
    assert built == uncached and in_memory == uncached and from_disk == uncached
    # A kept answer still gets a request id of its own each time.
    assert len({first_id, second_id, third_id}) == 3 and "request-id" not in {first_id, second_id, third_id}
