"""The outermost layer on the AWS port: AWS's answer for unknown regions, and no HTML ever.

Three things used to reach clients as HTML: a request signed for a region that does not exist
(moto has no backend for it, raises ``KeyError``, and werkzeug answers its "500 Internal Server
Error" page with a traceback in the sandbox's log), an operation moto does not implement
(``NotImplementedError``, the same page), and a REST route moto does not have (Flask's "404 Not
Found" page, e.g. EKS Pod Identity). botocore cannot parse any of them, and retries the 500s for
half a minute. This layer answers each the way AWS answers, in the protocol the client speaks.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Callable, Iterable
from typing import Any

from assistant.sandbox import aws_errors, regions
from assistant.sandbox.caller import signing_region, signing_service
from assistant.sandbox.front import operation_of

StartResponse = Callable[..., Any]

log = logging.getLogger(__name__)


def _buffer_body(environ: dict[str, Any]) -> bytes:
    """Read the body once and put it back, so the layers inside still read it (and we can too)."""
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    body: bytes = environ["wsgi.input"].read(length) if length > 0 else b""
    environ["wsgi.input"] = io.BytesIO(body)
    environ["CONTENT_LENGTH"] = str(len(body))
    return body


class AwsErrorGuard:
    """Wraps the sandbox's AWS app: refuses unknown regions first, and turns crashes into AWS errors."""

    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self._app = app

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path.startswith(("/_sandbox", "/moto-api")):
            return self._app(environ, start_response)
        service = signing_service(environ)
        region = signing_region(environ)
        body = _buffer_body(environ)
        if region is not None and not regions.is_known(region):
            return aws_errors.invalid_region_response(service, environ, region)(environ, start_response)
        captured: list[tuple[str, list[tuple[str, str]]]] = []

        def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Callable[[bytes], None]:
            captured.append((status, headers))

            def write(_data: bytes) -> None:
                raise RuntimeError("the sandbox's apps return their bodies; write() is not supported")

            return write

        try:
            result = self._app(environ, capture)
            status, headers = captured[-1]
            html = any(k.lower() == "content-type" and v.startswith("text/html") for k, v in headers)
            if not html:
                start_response(status, headers)
                return result
            # A framework's error page, never an AWS answer: say what AWS would say instead.
            if hasattr(result, "close"):
                result.close()
            operation = operation_of(service, environ, body)
            if int(status.split(" ", 1)[0]) in (404, 405):
                response = aws_errors.unknown_operation_response(service, environ, operation)
            else:
                log.error("sandbox: %s:%s answered an HTML %s; answered 500 InternalFailure", service, operation, status)
                response = aws_errors.internal_failure_response(service, environ)
        except NotImplementedError as exc:
            operation = operation_of(service, environ, body)
            log.warning("sandbox: moto does not implement %s:%s (%s); answered as an unknown operation", service, operation, exc)
            response = aws_errors.unknown_operation_response(service, environ, operation)
        except Exception:
            log.exception("sandbox: %s:%s failed; answered 500 InternalFailure", service, operation_of(service, environ, body))
            response = aws_errors.internal_failure_response(service, environ)
        return response(environ, start_response)
