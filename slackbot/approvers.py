"""Slack user-group membership for the approver allowlist, failing closed.

The policy can name user groups (``S...`` IDs) as approvers. Membership is looked up live with
``usergroups.users.list`` on every decision, so someone removed from a group cannot approve a
minute later. If any lookup fails (an API error, a missing ``usergroups:read`` scope, a network
problem), the answer is ``None``: the engine then trusts only approvers named one by one.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

log = logging.getLogger(__name__)


class GroupDirectory:
    """Answers "which of these user groups is this user in?" from Slack's Web API."""

    def __init__(self, client: WebClient) -> None:
        self.client = client

    def groups_of(self, user: str, candidates: Iterable[str]) -> set[str] | None:
        """The ``candidates`` that ``user`` belongs to; None if any lookup failed (fail closed)."""
        found: set[str] = set()
        for group in candidates:
            try:
                resp = self.client.usergroups_users_list(usergroup=group)
            except (SlackApiError, SlackClientError, OSError) as exc:
                log.warning("user group lookup for %s failed (%s): only named approvers count", group, exc)
                return None
            users = resp.get("users")
            if not isinstance(users, list):
                log.warning("user group lookup for %s returned no user list: only named approvers count", group)
                return None
            if user in users:
                found.add(group)
        return found
