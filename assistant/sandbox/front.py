"""The WSGI app on the AWS port: control endpoints, fault injection, the EKS front, then moto."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterable
from typing import Any

from werkzeug.wrappers import Request

from assistant.sandbox import aws_errors, control, moto_state
from assistant.sandbox.caller import caller, signing_service
from assistant.sandbox.eks.front import EksFront
from assistant.sandbox.faults import Fault, FaultInjector

StartResponse = Callable[..., Any]


def _read_body(environ: dict[str, Any]) -> bytes:
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    return environ["wsgi.input"].read(length) if length > 0 else b""


class SandboxFront:
    """Every AWS request passes here first; a fault is decided before moto sees anything."""

    def __init__(self, moto_app: Callable[..., Any], eks: EksFront, controls: control.Controls, faults: FaultInjector) -> None:
        self._moto_app = moto_app
        self._eks = eks
        self._controls = controls
        self._faults = faults

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path.startswith("/_sandbox"):
            return control.handle(self._controls, Request(environ))(environ, start_response)
        service = signing_service(environ)
        if not path.startswith("/moto-api"):
            fault, delay = self._faults.decide()
            if delay:
                time.sleep(delay)
            if fault is not None:
                # Read the body anyway so a keep-alive connection stays in step.
                _read_body(environ)
                if fault is Fault.THROTTLE:
                    response = aws_errors.throttle_response(service, environ)
                else:
                    response = aws_errors.unavailable_response(service, environ)
                return response(environ, start_response)
        if service == "eks":
            response = self._eks(environ, _read_body(environ))
            # Real EKS names every response; the audit log records these ids for mutating calls.
            if "x-amzn-RequestId" not in response.headers:
                response.headers["x-amzn-RequestId"] = str(uuid.uuid4())
            return response(environ, start_response)
        if service == "iam":
            moto_state.ensure_aws_managed_policies(caller(environ)[1])
        body: Iterable[bytes] = self._moto_app(environ, start_response)
        return body
