"""Recognisable fake credentials for the drills, and a scanner that finds them where they must not be.

Every drill runs with these instead of the sandbox's default keys. Afterwards it scans what a
user or an attacker could later read: log and output text, the messages the mock Slack
server recorded, the store (SQLite bytes), and every file written under the test's
directories. A secret found there is a leak; the drills assert the count is 0.

The needles are distinctive on purpose ("DRILLSECRET" appears in nothing real), and each is
also searched for base64- and URL-encoded, so an encoded leak is still a leak.
"""

from __future__ import annotations

import base64
import os
import urllib.parse
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

# moto maps access keys to accounts by shape: 20 upper-case letters and digits.
AWS_ACCESS_KEY_ID = "AKIADRILLFAKEKEY0001"
AWS_SECRET_ACCESS_KEY = "DRILLSECRET-aws-secret-7f3a9c1e5b2d4f6a8c0e"
AWS_SESSION_TOKEN = "DRILLSECRET-aws-session-token-0b1d3f5a7c9e"
SLACK_BOT_TOKEN = "xoxb-000000000000-DRILLSECRET-bot-token"
SLACK_APP_TOKEN = "xapp-1-DRILLSECRET-app-token"
SLACK_SIGNING_SECRET = "DRILLSECRET-signing-secret-5e7d9f1b3a"

SECRETS: Mapping[str, str] = {
    "aws secret access key": AWS_SECRET_ACCESS_KEY,
    "aws session token": AWS_SESSION_TOKEN,
    "slack bot token": SLACK_BOT_TOKEN,
    "slack app token": SLACK_APP_TOKEN,
    "slack signing secret": SLACK_SIGNING_SECRET,
}
# A Kubernetes bearer token for EKS is a presigned STS URL: valid for 15 minutes, so a
# credential while it lives. Its prefix is enough to find one.
TOKEN_PREFIX = "k8s-aws-v1."

# Files whose whole job is to hold a credential, and that are written 0600 on purpose:
# the sandbox's own state file hands its (sandbox-only) keys to clients.
ALLOWED_FILES = ("sandbox.json",)


@dataclass(frozen=True)
class Finding:
    """One secret found somewhere it must not be."""

    what: str
    where: str

    def __str__(self) -> str:
        return f"{self.what} in {self.where}"


def _forms(secret: str) -> set[bytes]:
    raw = secret.encode()
    forms = {raw, urllib.parse.quote(secret, safe="").encode()}
    # Base64 of the secret at each of the three alignments it can have inside a longer text.
    for pad in range(3):
        enc = base64.b64encode(b"\0" * pad + raw)[4 if pad else 0 :]
        forms.add(enc[: len(enc) - 4])
    return {f for f in forms if len(f) >= 12}


_NEEDLES: dict[str, set[bytes]] = {what: _forms(secret) for what, secret in SECRETS.items()}
_NEEDLES["kubernetes bearer token"] = {TOKEN_PREFIX.encode()}


def env() -> dict[str, str]:
    """The fake AWS credentials, as environment variables (add the endpoint yourself)."""
    return {
        "AWS_ACCESS_KEY_ID": AWS_ACCESS_KEY_ID,
        "AWS_SECRET_ACCESS_KEY": AWS_SECRET_ACCESS_KEY,
    }


def scan_bytes(data: bytes, where: str) -> list[Finding]:
    """Every needle found in ``data``."""
    return [Finding(what, where) for what, forms in _NEEDLES.items() if any(f in data for f in forms)]


def scan_texts(texts: Mapping[str, str]) -> list[Finding]:
    """Scan named texts (captured output, recorded messages)."""
    found: list[Finding] = []
    for where, text in texts.items():
        found += scan_bytes(text.encode(), where)
    return found


def scan_tree(*roots: Path, skip: Iterable[str] = ALLOWED_FILES) -> list[Finding]:
    """Scan every regular file under ``roots`` (SQLite databases and their journals included)."""
    skipped = set(skip)
    found: list[Finding] = []
    for root in roots:
        if not root.exists():
            continue
        for dirpath, _dirs, files in os.walk(root):
            for name in files:
                path = Path(dirpath) / name
                if name in skipped or not path.is_file() or path.is_symlink():
                    continue
                found += scan_bytes(path.read_bytes(), str(path))
    return found


def files_scanned(*roots: Path) -> int:
    """How many files a ``scan_tree`` of ``roots`` reads, for the drill's figure."""
    return sum(len(files) for root in roots if root.exists() for _d, _s, files in os.walk(root))
