"""Kubernetes API errors, rendered as the ``Status`` objects kube-apiserver sends."""

from __future__ import annotations

from typing import Any

from assistant.sandbox.k8s.resources import ResourceKind


class ApiError(Exception):
    """A failed API call; ``status()`` is the body the real server would send."""

    def __init__(self, code: int, reason: str, message: str, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.message = message
        self.details = details

    def status(self) -> dict[str, Any]:
        """The ``v1 Status`` body."""
        body: dict[str, Any] = {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "code": self.code,
        }
        if self.details is not None:
            body["details"] = self.details
        return body


def _details(res: ResourceKind, name: str) -> dict[str, Any]:
    details: dict[str, Any] = {"name": name, "kind": res.plural}
    if res.group:
        details["group"] = res.group
    return details


def not_found(res: ResourceKind, name: str) -> ApiError:
    """404 as in ``configmaps "x" not found``."""
    return ApiError(404, "NotFound", f'{res.qualified} "{name}" not found', _details(res, name))


def already_exists(res: ResourceKind, name: str) -> ApiError:
    """409 for a create whose name is taken."""
    return ApiError(409, "AlreadyExists", f'{res.qualified} "{name}" already exists', _details(res, name))


def conflict(res: ResourceKind, name: str) -> ApiError:
    """409 for a write based on a stale resourceVersion."""
    return ApiError(
        409,
        "Conflict",
        f'Operation cannot be fulfilled on {res.qualified} "{name}": the object has been modified; '
        "please apply your changes to the latest version and try again",
        _details(res, name),
    )


def bad_request(message: str) -> ApiError:
    """400 for a body the server cannot use."""
    return ApiError(400, "BadRequest", message)


def invalid(res: ResourceKind, name: str, message: str) -> ApiError:
    """422 for an object that fails validation."""
    return ApiError(422, "Invalid", f'{res.kind} "{name}" is invalid: {message}', _details(res, name))


def unauthorized() -> ApiError:
    """401 when the authenticator does not accept the credentials."""
    return ApiError(401, "Unauthorized", "Unauthorized")


def path_not_found() -> ApiError:
    """404 for a URL that names no resource at all."""
    return ApiError(404, "NotFound", "the server could not find the requested resource")


def method_not_allowed(method: str) -> ApiError:
    """405 for a verb a resource does not support."""
    return ApiError(405, "MethodNotAllowed", f"the server does not allow this method on the requested resource ({method})")


def unsupported_media_type(content_type: str) -> ApiError:
    """415 for a patch type the emulator does not implement."""
    return ApiError(
        415,
        "UnsupportedMediaType",
        "the body of the request was in an unknown format - accepted media types include: "
        "application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json "
        f"(got {content_type})",
    )
