"""Read an EKS rest-json request: which operation it is and its parameters, per botocore's model."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from assistant.sandbox.eks.errors import InvalidParameter


@dataclass(frozen=True)
class _Route:
    operation: str
    method: str
    segments: tuple[str, ...]  # literal text, or "{label}"

    def match(self, method: str, parts: list[str]) -> dict[str, str] | None:
        if method != self.method or len(parts) != len(self.segments):
            return None
        labels: dict[str, str] = {}
        for template, actual in zip(self.segments, parts, strict=True):
            if template.startswith("{"):
                labels[template.strip("{}+")] = unquote(actual)
            elif template != actual:
                return None
        return labels


@cache
def _service_model() -> Any:
    from moto.core.utils import get_service_model

    return get_service_model("eks")


@cache
def _routes() -> tuple[_Route, ...]:
    model = _service_model()
    routes = []
    for name in model.operation_names:
        http = model.operation_model(name).http
        path = http["requestUri"].split("?")[0]
        routes.append(_Route(name, http["method"], tuple(p for p in path.split("/") if p)))
    # Literal segments beat labels when two templates could both match.
    return tuple(sorted(routes, key=lambda r: -sum(not s.startswith("{") for s in r.segments)))


def match_operation(method: str, raw_path: str) -> tuple[str, dict[str, str]] | None:
    """The EKS operation a request is for and its URI labels, matched on the still-encoded path."""
    parts = [p for p in urlsplit(raw_path).path.split("/") if p]
    for route in _routes():
        labels = route.match(method.upper(), parts)
        if labels is not None:
            return route.operation, labels
    return None


def _coerce(shape: Any, values: list[str]) -> Any:
    if shape.type_name == "list":
        return values
    value = values[0]
    if shape.type_name in ("integer", "long"):
        try:
            return int(value)
        except ValueError:
            raise InvalidParameter(f"{value!r} is not a valid integer") from None
    if shape.type_name == "boolean":
        return value.lower() == "true"
    return value


def parse_params(operation: str, labels: dict[str, str], raw_path: str, body: bytes) -> dict[str, Any]:
    """Parameters by model member name, gathered from the URI, the query string and the JSON body."""
    input_shape = _service_model().operation_model(operation).input_shape
    if input_shape is None:
        return {}
    query = parse_qs(urlsplit(raw_path).query, keep_blank_values=True)
    try:
        payload = json.loads(body) if body.strip() else {}
    except ValueError:
        raise InvalidParameter("the request body is not valid JSON") from None
    if not isinstance(payload, dict):
        raise InvalidParameter("the request body must be a JSON object")
    params: dict[str, Any] = {}
    for member, shape in input_shape.members.items():
        location = shape.serialization.get("location")
        wire_name = shape.serialization.get("name", member)
        if location == "uri":
            if wire_name in labels:
                params[member] = labels[wire_name]
        elif location == "querystring":
            if wire_name in query:
                params[member] = _coerce(shape, query[wire_name])
        elif location is None and member in payload:
            params[member] = payload[member]
    return params
