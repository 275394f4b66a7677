"""The sandbox's instance-type catalogue: moto's answer to a whole-region DescribeInstanceTypes, built once.

moto 5.2.5 answers an unfiltered ``DescribeInstanceTypes`` with all of its 1,395 types in one
page, through its generic XML serializer: about 5 s of CPU per listing, paid again by every
sandbox and every listing (the wizard's instance-type picker, a did-you-mean for an unknown type).
The answer depends only on moto, the botocore model its serializer follows, the region and the
request's parameters, so this module keeps it:

- in process, for every later sandbox (module-level, so a new sandbox does not rebuild it);
- on disk, for other processes: one file per request under :func:`cache_dir`, keyed by moto's
  and botocore's versions and :data:`DATA_VERSION`, written atomically; a file that does not
  parse, has another key or a body that fails its checksum is ignored and rebuilt.

Only the listing is kept. A lookup by name or by filter costs moto tens of milliseconds, less than
reading a file, and its answer (an error for an unknown name) is left to moto every time.
``EKS_ASSIST_SANDBOX_CACHE`` names the directory, or is ``off``: every listing is moto's own again.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

from assistant.sandbox.caller import signing_region, signing_service

# Bump when what this module stores, or how the sandbox shapes these answers, changes.
DATA_VERSION = 1
FORMAT = "eks-assist-sandbox-catalogue"
OPERATION = "DescribeInstanceTypes"
ENV = "EKS_ASSIST_SANDBOX_CACHE"

StartResponse = Callable[..., Any]


@dataclass(frozen=True)
class Answer:
    """One answer of moto's app as it left it: status line, headers and body."""

    status: str
    headers: tuple[tuple[str, str], ...]
    body: bytes


_lock = threading.Lock()
_memory: dict[str, Answer] = {}


def cache_dir() -> Path | None:
    """Where answers are kept on disk: ``$EKS_ASSIST_SANDBOX_CACHE``, else the user cache's ``sandbox/``; None: off."""
    configured = os.environ.get(ENV)
    if configured is not None:
        return None if configured.strip().lower() in ("", "off", "0", "no") else Path(configured)
    from assistant.inventory import cache_dir as user_cache_dir

    return user_cache_dir() / "sandbox"


def clear_memory() -> None:
    """Forget the in-process answers (tests; the disk cache stays)."""
    with _lock:
        _memory.clear()


def _versions() -> dict[str, str]:
    import botocore
    import moto

    return {"moto": str(moto.__version__), "botocore": str(botocore.__version__), "data": str(DATA_VERSION)}


def request_key(environ: dict[str, Any], body: bytes) -> dict[str, Any] | None:
    """What a catalogue answer depends on, or None if the request is not the whole-region listing.

    EC2's query protocol carries its parameters in the form body (or, rarely, the query string).
    """
    if signing_service(environ) != "ec2":
        return None
    params = parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True)
    params += parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)
    if dict(params).get("Action") != OPERATION:
        return None
    # Named types and filters are cheap for moto and can fail: only the listing is kept.
    if any(name.startswith(("InstanceType.", "Filter.")) for name, _ in params):
        return None
    return {**_versions(), "region": signing_region(environ) or "", "params": sorted(params)}


def _file(directory: Path, key: dict[str, Any]) -> Path:
    digest = hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:24]
    return directory / f"describe-instance-types-{digest}.json"


def _read(path: Path, key: dict[str, Any]) -> Answer | None:
    """The answer kept in ``path`` for ``key``; None if it is missing, corrupt or someone else's."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict) or data.get("format") != FORMAT or data.get("key") != json.loads(json.dumps(key)):
            return None
        body = str(data["body"]).encode("utf-8")
        if hashlib.sha256(body).hexdigest() != data["sha256"]:
            return None
        headers = tuple((str(k), str(v)) for k, v in data["headers"])
        return Answer(str(data["status"]), headers, body)
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _write(path: Path, key: dict[str, Any], answer: Answer) -> None:
    record = {
        "format": FORMAT,
        "key": key,
        "status": answer.status,
        "headers": [list(h) for h in answer.headers],
        "body": answer.body.decode("utf-8"),
        "sha256": hashlib.sha256(answer.body).hexdigest(),
    }
    tmp = path.with_name(f"{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_text(json.dumps(record), encoding="utf-8")
        # Readers in other processes see the old file or the whole new one, never half of it.
        os.replace(tmp, path)
    except (OSError, UnicodeDecodeError):
        tmp.unlink(missing_ok=True)  # a read-only cache only costs the next process a rebuild


def collect(app: Callable[..., Any], environ: dict[str, Any]) -> Answer:
    """Ask the WSGI ``app`` and collect its whole answer (the front rewrites request ids in it)."""
    answered: list[tuple[str, list[tuple[str, str]]]] = []
    chunks: list[bytes] = []

    def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Callable[[bytes], Any]:
        answered.append((status, headers))
        return chunks.append

    result = app(environ, capture)
    try:
        chunks.extend(result)
    finally:
        if hasattr(result, "close"):
            result.close()
    status, headers = answered[-1]
    return Answer(status, tuple((str(k), str(v)) for k, v in headers), b"".join(chunks))


def build(app: Callable[..., Any], environ: dict[str, Any]) -> Answer:
    """Ask moto's ``app`` for what the cache saves."""
    return collect(app, environ)


def _answer(app: Callable[..., Any], environ: dict[str, Any], key: dict[str, Any], directory: Path) -> Answer:
    memo = json.dumps(key, sort_keys=True)
    with _lock:
        kept = _memory.get(memo)
        if kept is not None:
            return kept
        path = _file(directory, key)
        answer = _read(path, key)
        if answer is None:
            # Built under the lock: two first listings at once cost one build, not two.
            answer = build(app, environ)
            if not answer.status.startswith("200"):
                return answer
            _write(path, key, answer)
        _memory[memo] = answer
        return answer


def cached(app: Callable[..., Any]) -> Callable[..., Any]:
    """moto's ``app``, answering the whole-region DescribeInstanceTypes from the catalogue cache."""

    def app_with_catalogue(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        directory = cache_dir() if signing_service(environ) == "ec2" else None
        if directory is None:
            return app(environ, start_response)  # type: ignore[no-any-return]
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        body = environ["wsgi.input"].read(length) if length > 0 else b""
        # moto reads the body again, whatever this answers.
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        key = request_key(environ, body)
        if key is None:
            return app(environ, start_response)  # type: ignore[no-any-return]
        answer = _answer(app, environ, key, directory)
        start_response(answer.status, list(answer.headers))
        return [answer.body]

    return app_with_catalogue
