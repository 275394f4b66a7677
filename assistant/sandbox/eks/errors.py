"""EKS API errors in the rest-json shape botocore turns into ``ClientError`` codes."""

from __future__ import annotations

from typing import Any


class EksError(Exception):
    """An error EKS would answer with; ``fields`` add context such as ``clusterName``."""

    status = 400
    code = "InvalidParameterException"

    def __init__(self, message: str, **fields: Any) -> None:
        super().__init__(message)
        self.message = message
        self.fields = {k: v for k, v in fields.items() if v is not None}

    def body(self) -> dict[str, Any]:
        """The JSON error body; the code travels in the ``x-amzn-ErrorType`` header."""
        return {"message": self.message, **self.fields}


class ResourceNotFound(EksError):
    """404: no such cluster, node group, add-on, access entry or update."""

    status = 404
    code = "ResourceNotFoundException"


class ResourceInUse(EksError):
    """409: the name is taken, or the resource is busy or still has dependants."""

    status = 409
    code = "ResourceInUseException"


class InvalidParameter(EksError):
    """400: a parameter value EKS does not accept."""

    status = 400
    code = "InvalidParameterException"


class InvalidRequest(EksError):
    """400: the request is valid but not in the resource's current state."""

    status = 400
    code = "InvalidRequestException"


class ResourceLimitExceeded(EksError):
    """400: a service quota would be exceeded (e.g. clusters per Region, node groups per cluster)."""

    status = 400
    code = "ResourceLimitExceededException"


class NotFound(EksError):
    """404 ``NotFoundException``: what the tagging operations answer for an ARN that names nothing."""

    status = 404
    code = "NotFoundException"


class BadRequest(EksError):
    """400 ``BadRequestException``: the tagging operations' answer to a request they cannot accept."""

    status = 400
    code = "BadRequestException"
