"""Turn results and errors into EKS HTTP responses.

Results go through moto's own botocore-model serializer, so a moto object and our own records
come out in exactly the shapes (and timestamp formats) botocore expects.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from werkzeug.wrappers import Response

from assistant.sandbox.eks.errors import EksError


@cache
def _operation_model(operation: str) -> Any:
    from moto.core.utils import get_service_model

    return get_service_model("eks").operation_model(operation)


def ok(operation: str, result: Any) -> Response:
    """A success response for ``operation`` built from ``result`` (objects or camelCase dicts)."""
    from moto.core.serialize import XFormedAttributePicker, get_serializer_class

    serializer = get_serializer_class("eks", "rest-json")(
        operation_model=_operation_model(operation), value_picker=XFormedAttributePicker()
    )
    serialized = serializer.serialize(result)
    headers = {k: str(v) for k, v in serialized["headers"].items()}
    headers.setdefault("Content-Type", "application/json")
    return Response(serialized["body"], status=int(serialized["status_code"]), headers=headers)


def error(exc: EksError) -> Response:
    """An error response; botocore reads the code from ``x-amzn-ErrorType``."""
    return Response(
        json.dumps(exc.body()),
        status=exc.status,
        headers={"Content-Type": "application/json", "x-amzn-ErrorType": exc.code},
    )


def moto_error(exc: Exception) -> Response:
    """An error raised by moto's EKS backend when we call it directly."""
    status = int(getattr(exc, "STATUS", 400))
    code = str(getattr(exc, "TYPE", "InvalidRequestException"))
    body = getattr(exc, "description", None) or json.dumps({"message": str(exc)})
    return Response(body, status=status, headers={"Content-Type": "application/json", "x-amzn-ErrorType": code})
