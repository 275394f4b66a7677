"""The ``/_sandbox/*`` control endpoints on the AWS port: health, faults, inventory, CA, quotas."""

from __future__ import annotations

import json
from typing import Any, Protocol

from werkzeug.wrappers import Request, Response

from assistant.sandbox.faults import FaultConfig


class Controls(Protocol):
    """What the control endpoints need from the sandbox."""

    @property
    def ca_pem(self) -> str:
        """PEM of the sandbox CA."""
        ...

    def health(self) -> dict[str, Any]:
        """The health document."""
        ...

    def inventory(self) -> dict[str, Any]:
        """A snapshot of all state."""
        ...

    def set_faults(self, faults: FaultConfig) -> None:
        """Replace the fault configuration."""
        ...


def _json(data: Any, status: int = 200) -> Response:
    return Response(json.dumps(data, indent=2, sort_keys=True, default=str), status, mimetype="application/json")


def handle(controls: Controls, request: Request) -> Response:
    """Answer one ``/_sandbox/...`` request."""
    path = request.path.rstrip("/")
    if path == "/_sandbox/health" and request.method == "GET":
        return _json(controls.health())
    if path == "/_sandbox/inventory" and request.method == "GET":
        return _json(controls.inventory())
    if path == "/_sandbox/ca.pem" and request.method == "GET":
        return Response(controls.ca_pem, mimetype="application/x-pem-file")
    if path == "/_sandbox/quotas":
        from assistant.sandbox import servicequotas

        return servicequotas.handle_control(request)
    if path == "/_sandbox/faults" and request.method == "GET":
        return _json(controls.health()["faults"])
    if path == "/_sandbox/faults" and request.method in ("POST", "PUT"):
        try:
            data = json.loads(request.get_data() or b"{}")
            if not isinstance(data, dict):
                raise ValueError("the body must be a JSON object")
            faults = FaultConfig.from_dict(data)
        except (ValueError, TypeError) as exc:
            return _json({"error": str(exc)}, 400)
        controls.set_faults(faults)
        return _json(controls.health()["faults"])
    return _json({"error": f"no such sandbox endpoint: {request.method} {request.path}"}, 404)
