"""The spec catalogue: the only specs Slack users can plan and apply, by name.

Slack users never send paths. ``/eks apply demo`` means ``<specs dir>/demo.yaml``, where the
directory comes from the approval policy. A name must match :data:`NAME` (so no ``/``, no
``..``, no absolute paths, no hidden files), and the file it names must be a regular file that
still lies inside the directory once symlinks are resolved, so a link pointing elsewhere on the
host is refused too.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

from assistant.errors import InputError

if TYPE_CHECKING:
    from assistant.spec import LoadedSpec

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
SUFFIX = ".yaml"


class Catalogue:
    """Names of the ``*.yaml`` specs in one directory, resolved safely."""

    def __init__(self, directory: Path | None) -> None:
        self.directory = directory.resolve() if directory is not None else None

    def _root(self) -> Path:
        if self.directory is None:
            raise InputError("this bot has no spec catalogue: set 'specs:' in the approval policy to a directory of <name>.yaml")
        return self.directory

    def names(self) -> list[str]:
        """Every valid, reachable spec name, sorted."""
        root = self._root()
        out = []
        for path in sorted(root.glob(f"*{SUFFIX}")):
            name = path.name[: -len(SUFFIX)]
            if NAME.fullmatch(name) and self._inside(root, path):
                out.append(name)
        return out

    @staticmethod
    def _inside(root: Path, path: Path) -> bool:
        try:
            real = path.resolve(strict=True)
        except (OSError, RuntimeError):  # missing, or a symlink loop
            return False
        return real.is_relative_to(root) and real.is_file()

    def path(self, name: str) -> Path:
        """The file for ``name``; InputError for anything that is not a plain catalogue name."""
        root = self._root()
        if not NAME.fullmatch(name):
            shown = name if len(name) <= 80 else name[:80] + "…"
            raise InputError(
                f"'{shown}' is not a spec name: use a name from the catalogue (letters, digits, - and _; "
                "no paths). '/eks specs' lists them"
            )
        path = root / f"{name}{SUFFIX}"
        if not path.exists() and not path.is_symlink():
            known = self.names()
            hint = f" (available: {', '.join(known)})" if known else " (the catalogue is empty)"
            raise InputError(f"no spec named '{name}' in the catalogue{hint}")
        if not self._inside(root, path):
            raise InputError(f"spec '{name}' is not a regular file inside the catalogue directory; refused")
        return path.resolve(strict=True)

    def load(self, name: str) -> LoadedSpec:
        """Load and statically validate the spec ``name`` (InputError with file:line:col problems).

        Problems name the file as ``<name>.yaml``: the host's directory layout is none of the
        channel's business.
        """
        from assistant.spec import loads_spec
        from assistant.spec.source import MAX_BYTES

        path = self.path(name)
        label = f"{name}{SUFFIX}"
        if path.stat().st_size > MAX_BYTES:
            raise InputError(f"{label}: the spec is larger than {MAX_BYTES} bytes")
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise InputError(f"{label}: cannot read the spec ({type(exc).__name__})") from None
        return loads_spec(text, label)
