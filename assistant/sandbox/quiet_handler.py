"""moto's WSGI request handler without the per-request access log on stderr."""

from __future__ import annotations

from typing import Any

from moto.moto_server.werkzeug_app import MotoRequestHandler


class QuietRequestHandler(MotoRequestHandler):
    """Keeps moto's header handling; drops werkzeug's access log lines."""

    def log(self, type: str, message: str, *args: Any) -> None:
        pass  # the sandbox runs inside tests and CLIs; an access log is noise there
