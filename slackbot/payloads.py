"""The shape every Slack payload must have before a listener reads it.

Slack always sends well-formed payloads, but a signed request is only as trustworthy as the
signing secret, and listeners index straight into the body (``body["user"]["id"]``,
``view["state"]["values"]``). A payload of the wrong shape made them raise, and Bolt answered
500 with a traceback in the log. :func:`shape_problem` names what is wrong instead, and the
bot's global middleware answers 400 with it before any listener runs.
"""

from __future__ import annotations

from typing import Any

# No Slack id, action value or metadata of ours comes near this; a longer one is not from Slack.
MAX_FIELD = 3000


def _text(value: Any, what: str, *, required: bool = True, limit: int = MAX_FIELD, nul: bool = False) -> str | None:
    if value is None and not required:
        return None
    if not isinstance(value, str):
        return f"{what} must be a string"
    if len(value) > limit:
        return f"{what} is longer than {limit} characters"
    if "\0" in value and not nul:
        return f"{what} contains a NUL character"
    return None


def _user(body: dict[str, Any]) -> str | None:
    user = body.get("user")
    if not isinstance(user, dict):
        return "user must be an object with an id"
    return _text(user.get("id"), "user.id")


def _actions(body: dict[str, Any]) -> str | None:
    actions = body.get("actions")
    if not isinstance(actions, list) or not actions or not all(isinstance(a, dict) for a in actions):
        return "actions must be a non-empty list of objects"
    for i, action in enumerate(actions):
        for key in ("action_id", "value", "action_ts"):
            problem = _text(action.get(key), f"actions[{i}].{key}", required=key == "action_id")
            if problem:
                return problem
    for key in ("channel", "container", "message", "team"):
        if body.get(key) is not None and not isinstance(body.get(key), dict):
            return f"{key} must be an object"
    return _user(body)


def _view(body: dict[str, Any]) -> str | None:
    view = body.get("view")
    if not isinstance(view, dict):
        return "view must be an object"
    problem = _text(view.get("callback_id"), "view.callback_id") or _text(
        view.get("private_metadata"), "view.private_metadata", required=False
    )
    if problem:
        return problem
    # A submission always carries the form's state; listeners read view["state"]["values"].
    state = view.get("state") if body.get("type") == "view_submission" else view.get("state", {"values": {}})
    values = state.get("values") if isinstance(state, dict) else None
    if not isinstance(values, dict):
        return "view.state.values must be an object"
    for block_id, block in values.items():
        if not isinstance(block, dict) or not all(isinstance(el, dict) for el in block.values()):
            return f"view.state.values.{str(block_id)[:40]} must map action ids to objects"
        for el in block.values():
            option = el.get("selected_option")
            if option is not None and not isinstance(option, dict):
                return f"view.state.values.{str(block_id)[:40]}: selected_option must be an object"
            raw = option.get("value") if isinstance(option, dict) else el.get("value")
            problem = _text(raw, f"view.state.values.{str(block_id)[:40]}", required=False)
            if problem:
                return problem
    return _user(body)


def shape_problem(body: Any) -> str | None:
    """What is wrong with the shape of ``body`` (a parsed command or interactive payload), or None."""
    if not isinstance(body, dict):
        return "the payload must be a JSON object"
    kind = body.get("type")
    if kind == "block_actions":
        return _actions(body)
    if kind in ("view_submission", "view_closed"):
        return _view(body)
    if "command" in body:
        for key in ("command", "text", "user_id", "channel_id", "response_url", "trigger_id", "team_id"):
            # The command text gets the parser's own readable answer (too long, not a name), not a 400.
            problem = _text(body.get(key), key, required=key in ("command", "user_id", "channel_id"), limit=1 << 20, nul=True)
            if problem:
                return problem
    return None
