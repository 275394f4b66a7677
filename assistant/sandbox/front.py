"""The WSGI app on the AWS port: control endpoints, fault injection, the EKS front, then moto."""

from __future__ import annotations

import io
import re
import time
import uuid
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qs

from werkzeug.wrappers import Request

from assistant.run.guard import is_read_only
from assistant.sandbox import aws_errors, catalogue, control, moto_state, servicequotas
from assistant.sandbox.caller import caller, signing_service
from assistant.sandbox.eks.front import EksFront
from assistant.sandbox.eks.request import match_operation
from assistant.sandbox.faults import AwsCall, Fault, FaultInjector

StartResponse = Callable[..., Any]


def _read_body(environ: dict[str, Any]) -> bytes:
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    return environ["wsgi.input"].read(length) if length > 0 else b""


def operation_of(service: str | None, environ: dict[str, Any], body: bytes) -> str:
    """The AWS operation a request names: EKS's REST route, a JSON target, or a query ``Action``."""
    if service == "eks":
        matched = match_operation(environ.get("REQUEST_METHOD", "GET"), environ.get("RAW_URI") or environ.get("PATH_INFO", ""))
        return matched[0] if matched else ""
    target = environ.get("HTTP_X_AMZ_TARGET", "")
    if target:
        return str(target).rsplit(".", 1)[-1]
    query: str = environ.get("QUERY_STRING", "")
    for text in (query, body.decode("utf-8", "replace")):
        action = parse_qs(text).get("Action")
        if action:
            return action[0]
    return ""


def _call(service: str | None, operation: str, status: int) -> AwsCall:
    mutating = bool(service and operation) and not is_read_only(service or "", operation)
    return AwsCall(service=service or "", operation=operation, status=status, mutating=mutating)


# Where query and EC2 protocols carry the request id in the body (EC2 errors say RequestID).
_BODY_ID = re.compile(rb"<(requestId|RequestId|RequestID)>[^<]*</\1>")


def with_request_ids(app: Callable[..., Any]) -> Callable[..., Any]:
    """moto's app, with one fresh request id per answer in the header and in the body, as AWS does.

    moto 5.2.5's serializer writes the constant ``request-id`` into EC2 bodies (botocore reads
    EC2's id from the body), while its header holds another, random id.
    """

    def app_with_ids(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("PATH_INFO", "").startswith("/moto-api"):
            return app(environ, start_response)  # type: ignore[no-any-return]
        answer = catalogue.collect(app, environ)
        request_id = str(uuid.uuid4()).encode()
        body = _BODY_ID.sub(lambda m: b"<%s>%s</%s>" % (m[1], request_id, m[1]), answer.body)
        status, headers = answer.status, answer.headers
        names = {k.lower() for k, _ in headers}
        kept = [(k, v) for k, v in headers if k.lower() not in ("x-amzn-requestid", "x-amz-request-id", "content-length")]
        kept.append(("x-amzn-RequestId", request_id.decode()))
        if "x-amz-request-id" in names:  # S3-style protocols name it so
            kept.append(("x-amz-request-id", request_id.decode()))
        kept.append(("Content-Length", str(len(body))))
        start_response(status, kept)
        return [body]

    return app_with_ids


class SandboxFront:
    """Every AWS request passes here first; a fault is decided before moto sees anything."""

    def __init__(self, moto_app: Callable[..., Any], eks: EksFront, controls: control.Controls, faults: FaultInjector) -> None:
        # The whole-region instance-type listing costs moto seconds to serialize: kept once built.
        self._moto_app = with_request_ids(catalogue.cached(moto_app))
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
            request_body = _read_body(environ)
            response = self._eks(environ, request_body)
            # Real EKS names every response; the audit log records these ids for mutating calls.
            if "x-amzn-RequestId" not in response.headers:
                response.headers["x-amzn-RequestId"] = str(uuid.uuid4())
            if self._faults.observing:
                self._faults.after_call(_call(service, operation_of(service, environ, request_body), response.status_code))
            return response(environ, start_response)
        if service == "servicequotas":
            request_body = _read_body(environ)
            response = servicequotas.handle(environ, request_body)
            if self._faults.observing:
                self._faults.after_call(_call(service, operation_of(service, environ, request_body), response.status_code))
            return response(environ, start_response)
        if service == "iam":
            moto_state.ensure_aws_managed_policies(caller(environ)[1])
        if not self._faults.observing or path.startswith("/moto-api"):
            body: Iterable[bytes] = self._moto_app(environ, start_response)
            return body
        # Observed: note the operation (moto must still read the body) and the status moto answers
        # with; moto has done the work by the time its app returns, before anything is sent.
        request_body = _read_body(environ)
        environ["wsgi.input"] = io.BytesIO(request_body)
        environ["CONTENT_LENGTH"] = str(len(request_body))
        status: list[int] = []

        def recording_start_response(status_line: str, headers: Any, exc_info: Any = None) -> Any:
            status.append(int(status_line.split(" ", 1)[0]))
            return start_response(status_line, headers, exc_info) if exc_info else start_response(status_line, headers)

        answer: Iterable[bytes] = self._moto_app(environ, recording_start_response)
        self._faults.after_call(_call(service, operation_of(service, environ, request_body), status[-1] if status else 200))
        return answer
