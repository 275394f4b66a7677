"""The slow half of ``/eks`` commands, run after the ack: read-only answers and change requests.

Read-only verbs return an answer for the person who asked. Verbs that change something
(``apply``, ``destroy``, ``map-role``) open a change request through
:class:`~slackbot.changes.ChangeFlow`, which posts it for approval; ``unlock`` is the admin's
lock release. Errors propagate to the listener, which tells the person what went wrong.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from assistant.errors import InputError

from . import answers
from . import blocks as bk
from .commands import Command

if TYPE_CHECKING:
    from assistant.spec import LoadedSpec

    from .app import Bot


def run_command(bot: Bot, cmd: Command, *, user: str, channel: str, team: str) -> answers.Answer:
    """The slow part of one command (after the ack); the answer goes to the person who asked."""
    v, a = cmd.verb, cmd.args
    if v == "specs":
        return answers.specs_answer(bot.catalogue)
    if v == "plan":
        return answers.plan_answer(bot.engines, bot.catalogue, a[0])
    if v == "status":
        return answers.status_answer(bot.engines, a[0] if a else None)
    if v == "runs":
        return answers.runs_answer(bot.engines, bot.flow.requests)
    if v == "access":
        return answers.access_answer(bot.engines, a[0], a[1])
    if v == "locks":
        return answers.locks_answer(bot.flow.requests)
    if v == "unlock":
        return unlock(bot, a[0], user=user, channel=channel)
    if v == "apply":
        loaded = bot.catalogue.load(a[0])
        req = bot.flow.open_and_post(loaded, playbook="cluster", kind="apply", requester=user, channel=channel, team=team)
        return _posted(req)
    if v == "destroy":
        from assistant.engine import DESTROY_PLAYBOOK

        loaded = bot.engines.engine().last_spec(a[0])
        req = bot.flow.open_and_post(
            loaded, playbook=DESTROY_PLAYBOOK, kind="destroy", requester=user, channel=channel, team=team
        )
        return _posted(req)
    if v == "map-role":
        loaded = with_mapping(bot, a[0], a[1], list(a[2:]))
        req = bot.flow.open_and_post(loaded, playbook="iam-mappings", kind="apply", requester=user, channel=channel, team=team)
        return _posted(req)
    raise InputError(f"unknown command '{v}'")


def _posted(req: Any) -> answers.Answer:
    text = f"Posted request `{req.id}` ({bk.title(req)}) for approval; it expires {bk.when(req.expires_at)}."
    return text, [bk.mrkdwn(text)]


def with_mapping(bot: Bot, cluster: str, arn: str, groups: list[str]) -> LoadedSpec:
    """The cluster's last applied spec with ``arn`` mapped to ``groups`` (replacing its old mapping)."""
    import yaml

    from assistant.spec import loads_spec
    from assistant.spec.source import loads

    if not groups:
        raise InputError("usage: /eks map-role <cluster> <role-arn> <group...>")
    last = bot.engines.engine().last_spec(cluster)
    data, _ = loads(last.source, last.file)
    kind = "user" if ":user/" in arn else "role"
    mappings = [m for m in (data.get("iamMappings") or []) if m.get("arn") != arn]
    mappings.append({"arn": arn, "kind": kind, "groups": groups})
    data["iamMappings"] = mappings
    text = f"# {cluster}: map {arn} (requested from Slack)\n" + yaml.safe_dump(data, sort_keys=False)
    return loads_spec(text, f"slack-map-role-{cluster}.yaml")


def unlock(bot: Bot, cluster: str, *, user: str, channel: str) -> answers.Answer:
    """An admin releases ``cluster``'s lock; its request's message and the channel say so."""
    lock = bot.flow.requests.release_lock(cluster, admin=user)
    try:
        req = bot.flow.requests.get(lock.holder)
    except InputError:
        req = None
    if req is not None:
        bot.flow.refresh(req)
    text = f":unlock: <@{user}> released the lock on *{bk.escape(cluster)}* (held by `{lock.holder}` for <@{lock.owner}>)."
    bot.messenger.post(channel, text, [bk.mrkdwn(text)])
    return text, [bk.mrkdwn(text)]
