"""Protocol-correct AWS error responses: injected faults, unknown regions, and what moto cannot serve.

Each AWS protocol carries errors differently; botocore only retries what it can parse, so a
throttle for EC2 must look like EC2's XML and one for EKS like rest-json. A client must never
get an HTML page, whatever went wrong behind the front.
"""

from __future__ import annotations

import json
import uuid
from typing import Any
from xml.sax.saxutils import escape

from werkzeug.wrappers import Response

_REST_XML = frozenset({"s3", "route53", "cloudfront"})


def protocol(service: str | None, environ: dict[str, Any]) -> str:
    """``ec2``, ``query``, ``json``, ``rest-xml`` or ``rest-json``, judged from the request."""
    if service == "ec2":
        return "ec2"
    if environ.get("HTTP_X_AMZ_TARGET"):
        return "json"
    if environ.get("CONTENT_TYPE", "").startswith("application/x-www-form-urlencoded"):
        return "query"
    if service in _REST_XML:
        return "rest-xml"
    return "rest-json"


def _xml(status: int, body: str) -> Response:
    return Response(body, status=status, headers={"Content-Type": "text/xml"})


def error_response(proto: str, status: int, code: str, message: str) -> Response:
    """An AWS error in the wire format of ``proto``."""
    request_id = str(uuid.uuid4())
    code_x, message_x = escape(code), escape(message)
    if proto == "ec2":
        return _xml(
            status,
            f'<?xml version="1.0" encoding="UTF-8"?><Response><Errors><Error><Code>{code_x}</Code>'
            f"<Message>{message_x}</Message></Error></Errors><RequestID>{request_id}</RequestID></Response>",
        )
    if proto == "query":
        kind = "Sender" if status < 500 else "Receiver"
        return _xml(
            status,
            f"<ErrorResponse><Error><Type>{kind}</Type><Code>{code_x}</Code><Message>{message_x}</Message>"
            f"</Error><RequestId>{request_id}</RequestId></ErrorResponse>",
        )
    if proto == "rest-xml":
        return _xml(
            status,
            f"<Error><Code>{code_x}</Code><Message>{message_x}</Message><RequestId>{request_id}</RequestId></Error>",
        )
    headers = {"x-amzn-RequestId": request_id, "x-amzn-ErrorType": code}
    if proto == "json":
        return Response(
            json.dumps({"__type": code, "message": message}),
            status=status,
            headers={**headers, "Content-Type": "application/x-amz-json-1.1"},
        )
    return Response(json.dumps({"message": message}), status=status, headers={**headers, "Content-Type": "application/json"})


# (status, code, message) of a throttle, per protocol, as the real services send them.
_THROTTLES: dict[str, tuple[int, str, str]] = {
    "ec2": (503, "RequestLimitExceeded", "Request limit exceeded."),
    "query": (400, "Throttling", "Rate exceeded"),
    "json": (400, "ThrottlingException", "Rate exceeded"),
    "rest-xml": (503, "SlowDown", "Please reduce your request rate."),
    "rest-json": (429, "ThrottlingException", "Rate exceeded"),
}


def throttle_response(service: str | None, environ: dict[str, Any]) -> Response:
    """The throttling error ``service`` answers with."""
    proto = protocol(service, environ)
    return error_response(proto, *_THROTTLES[proto])


def unavailable_response(service: str | None, environ: dict[str, Any]) -> Response:
    """A 503 in ``service``'s format: ``ServiceUnavailableException`` for JSON APIs (EKS models it so)."""
    proto = protocol(service, environ)
    code = "ServiceUnavailableException" if proto in ("json", "rest-json") else "ServiceUnavailable"
    return error_response(proto, 503, code, "Service is unavailable, please try again later.")


def invalid_region_response(service: str | None, environ: dict[str, Any], region: str) -> Response:
    """What AWS answers a request whose credential is scoped to a region that does not exist.

    A 403 that botocore does not retry: ``SignatureDoesNotMatch`` in the XML protocols,
    ``InvalidSignatureException`` in the JSON ones, with AWS's message (see "Troubleshoot
    Signature Version 4 signing" in the IAM user guide).
    """
    proto = protocol(service, environ)
    code = "InvalidSignatureException" if proto in ("json", "rest-json") else "SignatureDoesNotMatch"
    return error_response(proto, 403, code, f"Credential should be scoped to a valid region, not '{region}'. ")


def unknown_operation_response(service: str | None, environ: dict[str, Any], operation: str) -> Response:
    """How a service refuses an operation it does not have: the answer for what moto does not implement."""
    proto = protocol(service, environ)
    name = operation or "requested"
    if proto in ("ec2", "query"):
        return error_response(proto, 400, "InvalidAction", f"The action {name} is not valid for this web service.")
    if proto == "rest-xml":
        return error_response(proto, 501, "NotImplemented", f"The {name} operation is not implemented.")
    status = 404 if proto == "rest-json" else 400
    return error_response(proto, status, "UnknownOperationException", f"The {name} operation is not supported.")


def internal_failure_response(service: str | None, environ: dict[str, Any]) -> Response:
    """A 500 ``InternalFailure`` in the service's format (botocore retries it, as it would AWS's)."""
    proto = protocol(service, environ)
    return error_response(proto, 500, "InternalFailure", "The request processing has failed because of an unknown error.")
