"""Decode the Kubernetes protobuf bodies that kubectl sends for a few built-in kinds.

Since Kubernetes 1.31, client-go's typed clients send built-in objects as protobuf
(``application/vnd.kubernetes.protobuf``), with no JSON fallback: ``kubectl create configmap``
and ``kubectl auth whoami`` do. Responses stay JSON (kubectl accepts both). Only the kinds in
``_KINDS`` are understood; the field numbers come from Kubernetes' generated.proto files.
"""

from __future__ import annotations

import base64
import datetime as dt
from typing import Any

from assistant.sandbox.k8s.errors import ApiError, bad_request

MAGIC = b"k8s\x00"

# A schema maps field number → (JSON name, type). Types: "str", "int", "bool", "time", "map",
# "bmap" (map<string, bytes>, base64 in JSON), "strs" (repeated string), or a nested schema / [schema] (repeated).
Schema = dict[int, tuple[str, Any]]

_OWNER_REFERENCE: Schema = {
    1: ("kind", "str"), 3: ("name", "str"), 4: ("uid", "str"), 5: ("apiVersion", "str"),
    6: ("controller", "bool"), 7: ("blockOwnerDeletion", "bool"),
}  # fmt: skip
_OBJECT_META: Schema = {
    1: ("name", "str"), 2: ("generateName", "str"), 3: ("namespace", "str"), 5: ("uid", "str"),
    6: ("resourceVersion", "str"), 7: ("generation", "int"), 8: ("creationTimestamp", "time"),
    11: ("labels", "map"), 12: ("annotations", "map"), 13: ("ownerReferences", [_OWNER_REFERENCE]),
    14: ("finalizers", "strs"),
}  # fmt: skip
_OBJECT_REFERENCE: Schema = {
    1: ("kind", "str"), 2: ("namespace", "str"), 3: ("name", "str"), 4: ("uid", "str"), 5: ("apiVersion", "str"),
}  # fmt: skip
_NON_RESOURCE_ATTRIBUTES: Schema = {1: ("path", "str"), 2: ("verb", "str")}
_RESOURCE_ATTRIBUTES: Schema = {
    1: ("namespace", "str"), 2: ("verb", "str"), 3: ("group", "str"), 4: ("version", "str"),
    5: ("resource", "str"), 6: ("subresource", "str"), 7: ("name", "str"),
}  # fmt: skip

_KINDS: dict[str, Schema] = {
    "ConfigMap": {1: ("metadata", _OBJECT_META), 2: ("data", "map"), 3: ("binaryData", "bmap"), 4: ("immutable", "bool")},
    "Secret": {
        1: ("metadata", _OBJECT_META), 2: ("data", "bmap"), 3: ("type", "str"), 4: ("stringData", "map"),
        5: ("immutable", "bool"),
    },
    "Namespace": {1: ("metadata", _OBJECT_META), 2: ("spec", {1: ("finalizers", "strs")})},
    "ServiceAccount": {
        1: ("metadata", _OBJECT_META), 2: ("secrets", [_OBJECT_REFERENCE]),
        3: ("imagePullSecrets", [{1: ("name", "str")}]), 4: ("automountServiceAccountToken", "bool"),
    },
    "SelfSubjectReview": {1: ("metadata", _OBJECT_META)},
    "SelfSubjectAccessReview": {
        1: ("metadata", _OBJECT_META),
        2: ("spec", {1: ("resourceAttributes", _RESOURCE_ATTRIBUTES), 2: ("nonResourceAttributes", _NON_RESOURCE_ATTRIBUTES)}),
    },
}  # fmt: skip


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= len(data):
            raise bad_request("truncated protobuf varint")
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7


def _fields(data: bytes) -> list[tuple[int, int | bytes]]:
    """Raw ``(field number, value)`` pairs; values are ints (varint) or bytes (length-delimited)."""
    fields: list[tuple[int, int | bytes]] = []
    pos = 0
    while pos < len(data):
        key, pos = _varint(data, pos)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = _varint(data, pos)
            fields.append((number, value))
        elif wire == 2:
            length, pos = _varint(data, pos)
            fields.append((number, data[pos : pos + length]))
            pos += length
        elif wire in (1, 5):
            pos += 8 if wire == 1 else 4  # fixed-width numbers: none of our kinds use them
        else:
            raise bad_request(f"unsupported protobuf wire type {wire}")
    return fields


def _time(raw: bytes) -> str | None:
    seconds = next((v for n, v in _fields(raw) if n == 1 and isinstance(v, int)), 0)
    if not seconds:
        return None
    return dt.datetime.fromtimestamp(seconds, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _message(raw: bytes, schema: Schema) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for number, value in _fields(raw):
        if number not in schema:
            continue
        name, kind = schema[number]
        if kind in ("map", "bmap"):
            assert isinstance(value, bytes)
            entry = dict(_fields(value))
            key, item = entry.get(1, b""), entry.get(2, b"")
            assert isinstance(key, bytes) and isinstance(item, bytes)
            text = base64.b64encode(item).decode() if kind == "bmap" else item.decode()
            out.setdefault(name, {})[key.decode()] = text
        elif kind == "strs":
            assert isinstance(value, bytes)
            out.setdefault(name, []).append(value.decode())
        elif isinstance(kind, list):
            assert isinstance(value, bytes)
            out.setdefault(name, []).append(_message(value, kind[0]))
        elif isinstance(kind, dict):
            assert isinstance(value, bytes)
            out[name] = _message(value, kind)
        elif kind == "str" and isinstance(value, bytes) and value:
            out[name] = value.decode()
        elif kind == "int" and isinstance(value, int) and value:
            out[name] = value
        elif kind == "bool" and isinstance(value, int):
            out[name] = bool(value)
        elif kind == "time" and isinstance(value, bytes):
            stamp = _time(value)
            if stamp:
                out[name] = stamp
    return out


def decode(body: bytes) -> dict[str, Any]:
    """A JSON-style object from a protobuf request body, or a 415 for kinds we cannot read."""
    if not body.startswith(MAGIC):
        raise bad_request("protobuf body without the k8s\\0 prefix")
    envelope = dict(_fields(body[len(MAGIC) :]))
    type_meta, raw = envelope.get(1, b""), envelope.get(2, b"")
    if not isinstance(type_meta, bytes) or not isinstance(raw, bytes):
        raise bad_request("malformed protobuf envelope")
    meta = {number: value for number, value in _fields(type_meta)}
    api_version = meta.get(1, b"")
    kind = meta.get(2, b"")
    assert isinstance(api_version, bytes) and isinstance(kind, bytes)
    schema = _KINDS.get(kind.decode())
    if schema is None:
        raise ApiError(
            415,
            "UnsupportedMediaType",
            f"the eks-assist sandbox reads protobuf only for {', '.join(sorted(_KINDS))}; "
            f"send {kind.decode() or 'this object'} as JSON (for example with kubectl apply -f)",
        )
    obj = {"apiVersion": api_version.decode(), "kind": kind.decode()}
    obj.update(_message(raw, schema))
    return obj
