"""Approvals bound to plan hashes.

An approval names one plan hash. Apply re-plans first and proceeds only if the fresh plan's
hash is the approved one; any drift in the world, the spec, the playbooks, the account or
the region changes the hash, and the apply is refused before a single mutating call.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from assistant.errors import ApprovalError, PlanChangedError
from assistant.planning.plan import Plan

MIN_PREFIX = 12
_HEX = re.compile(r"^[0-9a-f]+$")


@dataclass(frozen=True)
class Approval:
    """Who approved which plan hash, and how (tty, flag, slack)."""

    plan_hash: str
    approver: str
    method: str


def check(approval: Approval, fresh: Plan) -> None:
    """Raise unless ``approval`` is for exactly ``fresh`` (a unique prefix of ≥12 hex chars is accepted)."""
    given = approval.plan_hash.strip().lower()
    if not _HEX.match(given) or len(given) < MIN_PREFIX or len(given) > 64:
        raise ApprovalError(
            f"--approve: '{approval.plan_hash}' is not a plan hash (expected {MIN_PREFIX}-64 hex characters, "
            "as printed after 'Plan hash:')"
        )
    if not fresh.hash.startswith(given):
        raise PlanChangedError(given, fresh.hash)
