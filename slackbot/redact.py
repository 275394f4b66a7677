"""Scrub secrets from anything the bot is about to post to Slack.

The bot never puts credentials, tokens or kubeconfig material in a message on purpose: it posts
no apply output but the endpoint, and never the cluster's certificate authority data. This is
the belt to those braces: an error message from AWS or Kubernetes that happens to carry a key,
a token or a certificate is masked before it leaves the process.
"""

from __future__ import annotations

import re
from typing import Any

_PATTERNS: list[tuple[re.Pattern[str], str]] = [
    # PEM blocks (certificates, keys) in full.
    (re.compile(r"-----BEGIN [A-Z ]+-----.*?-----END [A-Z ]+-----", re.S), "[redacted PEM block]"),
    # Slack tokens: bot, user, app-level, refresh, config.
    (re.compile(r"\bx(?:ox[abeprs]|app)-[A-Za-z0-9-]+"), "[redacted Slack token]"),
    # EKS bearer tokens (a presigned STS URL inside).
    (re.compile(r"\bk8s-aws-v1\.[A-Za-z0-9_-]+"), "[redacted EKS token]"),
    # AWS access key IDs.
    (re.compile(r"\b(?:AKIA|ASIA|AROA|AIDA)[A-Z0-9]{16}\b"), "[redacted AWS key id]"),
    # key=value / key: value forms for secrets, whatever the value looks like.
    (
        re.compile(
            r"(?i)\b(aws_secret_access_key|secretaccesskey|aws_session_token|sessiontoken|password|client_secret|"
            r"signing_secret|authorization)(\"?\s*[:=]\s*\"?)(?:Bearer\s+)?[^\s\"',}]+"
        ),
        r"\1\2[redacted]",
    ),
    # Presigned URL signatures and credentials.
    (re.compile(r"(?i)\b(X-Amz-(?:Signature|Credential|Security-Token))=[^&\s]+"), r"\1=[redacted]"),
    # Long base64 runs: certificate authority data, kubeconfig blobs, secret keys.
    (re.compile(r"(?<![A-Za-z0-9+/=])[A-Za-z0-9+/]{100,}={0,2}(?![A-Za-z0-9+/=])"), "[redacted base64 data]"),
    # 40-character AWS secret access keys: mixed case, unlike hex digests and run ids.
    (
        re.compile(r"(?<![A-Za-z0-9+/=])(?=[A-Za-z0-9+/]*[a-z])(?=[A-Za-z0-9+/]*[A-Z])[A-Za-z0-9+/]{40}(?![A-Za-z0-9+/=])"),
        "[redacted]",
    ),
]


def redact(text: str) -> str:
    """``text`` with every secret-looking substring masked."""
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def redact_payload(value: Any) -> Any:
    """Redact every string inside a Block Kit payload (dicts and lists, recursively)."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {k: redact_payload(v) for k, v in value.items()}
    if isinstance(value, list):
        return [redact_payload(v) for v in value]
    return value
