"""``kubeconfig``: where and how the kubeconfig for the new cluster is written."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import (
    Field,
    field_validator,
)

from assistant.spec.checks import (
    SpecModel,
    check_free_text,
    fail,
    quote,
)


def _kubeconfig_path_problem(text: str) -> str | None:
    """Why a spec may not write its kubeconfig at ``text``; ``None`` when it may.

    A spec is a document others write (a Slack catalogue, a shared repository), so the file it
    names must be one the user's own kubeconfig rules point at: a file listed in $KUBECONFIG,
    or a file under their home directory (``~/.kube/config``), symbolic links resolved. The
    path is written as ``~/...`` or absolute: relative to what would differ with where
    eks-assist runs, and ``..`` has no business in it.
    """
    if text in ("~", "/"):
        return f"{quote(text)} is a directory; give the kubeconfig file's name, like ~/.kube/config"
    if text.startswith("~") and not text.startswith("~/"):
        return f"{quote(text)} names another user's home directory; write ~/... for yours"
    if not (text.startswith("~/") or os.path.isabs(text)):
        return (
            f"{quote(text)} is relative, so it would name a different file in every directory "
            "eks-assist runs in; write ~/.kube/<file> or an absolute path"
        )
    if ".." in text.split("/"):
        return f"{quote(text)} contains '..'; write the path without it"
    if text.endswith("/"):
        return f"{quote(text)} names a directory; give the kubeconfig file's name"
    given = os.path.abspath(os.path.expanduser(text))
    real = os.path.realpath(given)
    # The user's own rules: a file listed in $KUBECONFIG is theirs, wherever it is (and wherever it links).
    listed = [os.path.abspath(os.path.expanduser(p)) for p in os.environ.get("KUBECONFIG", "").split(os.pathsep) if p]
    if given in listed or real in {os.path.realpath(p) for p in listed}:
        return None
    home = os.path.realpath(os.path.expanduser("~"))
    if real == home or not Path(real).is_relative_to(home):
        how = f" (through a symbolic link, it is {real})" if real != given else ""
        return (
            f"{quote(text)} is outside your home directory {home}{how} and is not a file listed in "
            "$KUBECONFIG; a spec may write its kubeconfig only there (docs/security.md)"
        )
    if os.path.isdir(real):
        return f"{quote(text)} is a directory; give the kubeconfig file's name"
    return None


class Kubeconfig(SpecModel):
    """Where and how to write the kubeconfig for the new cluster."""

    path: str | None = Field(
        default=None,
        description="Kubeconfig file; default $KUBECONFIG or ~/.kube/config. Only a file listed in $KUBECONFIG, "
        "or under your home directory (~/...); the Slack bot never writes one.",
    )
    alias: str | None = Field(default=None, description="Context name; default the cluster ARN.")
    exec_: Literal["aws", "builtin"] = Field(
        default="builtin",
        alias="exec",
        description="Token exec plugin: 'aws' (aws eks get-token) or 'builtin' (eks-assist token).",
    )
    write: bool = True

    @field_validator("path")
    @classmethod
    def _path(cls, v: str | None) -> str | None:
        if v is not None:
            check_free_text(v, "kubeconfig path", 4096)
            problem = _kubeconfig_path_problem(v)
            if problem:
                fail(problem)
        return v

    @field_validator("alias")
    @classmethod
    def _alias(cls, v: str | None) -> str | None:
        if v is not None:
            check_free_text(v, "context name", 253)
        return v
