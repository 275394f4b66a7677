"""The Bolt app: ``/eks`` commands, Approve/Reject/Resume buttons and the two modals.

Every listener acks on the request's own thread, at once, within Slack's 3 seconds, and never
waits on work: slow work (planning, AWS reads, store writes, Slack posts) goes to the bot's
bounded :class:`~slackbot.work.WorkPool` once the ack has been sent, and applies then move to
:class:`~slackbot.changes.ChangeFlow`'s own pool. When the work pool is full, the ack says the
bot is busy and that nothing was done. Two things stay in the ack by design: opening a modal
(its ``trigger_id`` expires in 3 seconds) and validating the ``/eks new`` form, whose errors
must come back in the ack itself.

Requests are verified by Bolt's own signature check (v0 HMAC-SHA256, 5-minute window); there
is deliberately no option to turn it off. Commands and clicks are accepted only from the
policy's channels, and any failure to reach the store or Slack's user-group API refuses
rather than proceeds.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import sqlite3
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from slack_bolt import Ack, App, BoltContext, BoltResponse, Respond
from slack_sdk import WebClient

from assistant.errors import EksAssistError, InputError

from . import answers, new_cluster
from . import blocks as bk
from .approvers import GroupDirectory
from .catalogue import Catalogue
from .changes import ChangeFlow
from .command_runner import run_command
from .commands import Command, parse
from .config import BotConfig
from .engines import Engines
from .housekeeping import Housekeeper
from .messenger import Messenger
from .notify import make_client
from .pacing import ChannelPacer
from .payloads import shape_problem
from .work import WORK_QUEUE, WORK_WORKERS, WorkPool, after_ack

log = logging.getLogger(__name__)


def explain(exc: BaseException) -> str:
    """What to tell a Slack user about an error, without internals or secrets."""
    if isinstance(exc, InputError):
        return "\n".join(f"• {p}" for p in exc.problems)
    if isinstance(exc, EksAssistError):
        return str(exc)
    if isinstance(exc, sqlite3.Error):
        return "the bot's state store is unavailable, so nothing was done (fail closed); try again later"
    mod = type(exc).__module__
    if mod.startswith(("botocore", "boto3", "urllib3")):
        err = getattr(exc, "response", {}).get("Error", {}) if isinstance(getattr(exc, "response", None), dict) else {}
        if err:
            return f"AWS error {err.get('Code')}: {err.get('Message')}"
        return f"AWS error: {type(exc).__name__}"
    return f"internal error ({type(exc).__name__}); see the bot's log"


@dataclass
class Bot:
    """One running bot: the Bolt app and what its listeners use."""

    config: BotConfig
    app: App
    client: WebClient
    engines: Engines
    catalogue: Catalogue
    messenger: Messenger
    flow: ChangeFlow
    housekeeper: Housekeeper
    # Set on shutdown: running applies stop between steps and end "interrupted", resumable.
    cancel: threading.Event
    # Where every listener's slow half runs, after its ack.
    work: WorkPool

    def healthy(self) -> bool:
        """The store answers (what /healthz reports); when it does not, the log says which file and why."""
        from assistant.store import explain_fault

        try:
            self.engines.store.list_runs(1)
        except Exception as exc:
            log.error("unhealthy: %s", explain_fault(exc) or f"the state store failed: {type(exc).__name__}: {exc}")
            return False
        return True

    def close(self) -> None:
        """Stop sweeping, finish accepted work, interrupt running applies (they stay resumable) and wait for them."""
        self.housekeeper.stop()
        self.work.close()
        self.cancel.set()
        self.flow.close()


def create_bot(
    config: BotConfig,
    *,
    options: Any = None,
    pace_interval: float = 1.0,
    expiry_interval: float = 30.0,
    clock: Callable[[], float] = time.time,
    apply_workers: int = 4,
    work_workers: int = WORK_WORKERS,
    work_queue: int = WORK_QUEUE,
) -> Bot:
    """Build the bot from a checked config (see :func:`slackbot.config.load_config`).

    ``work_workers`` threads run the work behind acks, and ``work_queue`` more jobs may wait;
    beyond that, commands are answered "busy". Applies run on ``apply_workers`` threads.
    """
    from assistant.governance.requests import Requests
    from assistant.run.runner import RunOptions
    from assistant.store import open_store

    client = make_client(config.bot_token, config.api_url)
    store = open_store()
    cancel = threading.Event()
    options = dataclasses.replace(options or RunOptions(), cancel=cancel)
    # Every thread that can call AWS at once gets a connection: the work pool, and each apply's
    # parallel steps. (botocore's default of 10 logged "Connection pool is full" under load.)
    connections = work_workers + apply_workers * max(1, options.parallelism) + 2
    engines = Engines(
        store, default_region=config.region, profile=config.profile, options=options, max_pool_connections=connections
    )
    requests = Requests(store, config.policy, clock=clock)
    messenger = Messenger(client, ChannelPacer(pace_interval))
    flow = ChangeFlow(requests, engines, messenger, GroupDirectory(client), apply_workers=apply_workers)
    catalogue = Catalogue(config.policy.specs_dir)
    app = App(
        client=client,
        signing_secret=config.signing_secret,
        # The ack function runs on the dispatching thread and the response goes out when it
        # returns. With False, Bolt queued ack functions on the same executor as the work.
        process_before_response=True,
        # Unused: no listener is lazy (the work pool takes their place).
        listener_executor=ThreadPoolExecutor(max_workers=1, thread_name_prefix="bolt"),
        name="eks-assist",
    )
    work = WorkPool(work_workers, work_queue)
    bot = Bot(config, app, client, engines, catalogue, messenger, flow, Housekeeper(flow, expiry_interval), cancel, work)
    app.use(_refuse_malformed)
    _register(bot)
    return bot


def _refuse_malformed(body: Any, next: Callable[[], None]) -> BoltResponse | None:
    """Global middleware: a payload listeners cannot read gets a 400 naming the problem, not a 500."""
    problem = shape_problem(body)
    if problem:
        log.warning("refused a malformed Slack payload: %s", problem)
        return BoltResponse(status=400, body=json.dumps({"error": f"malformed payload: {problem}"}))
    next()
    return None


# -- listeners -----------------------------------------------------------------------------------


def _allowed_channels(config: BotConfig) -> set[str]:
    policy = config.policy
    return set(policy.channels) | ({policy.notifyChannel} if policy.notifyChannel else set())


def _not_here(channel: str) -> str:
    return (
        f":no_entry: `/eks` is not accepted in this channel (<#{channel}>): the approval policy lists the channels it works in."
    )


def busy_text(what: str, pool: WorkPool) -> str:
    """What a user is told when the work pool is full: nothing was done, try again."""
    return (
        f":hourglass: The bot is busy: {pool.capacity} requests are already running or waiting. "
        f"{what} was not done; try again in a minute."
    )


def _register(bot: Bot) -> None:
    app, config = bot.app, bot.config
    command_channels = set(config.policy.channels)
    action_channels = _allowed_channels(config)

    def check_command(command: dict[str, Any]) -> tuple[Command | None, str | None]:
        """(parsed command, None) or (None, the reason it is refused)."""
        channel = command.get("channel_id", "")
        if channel not in command_channels:
            return None, _not_here(channel)
        try:
            return parse(command.get("text") or ""), None
        except InputError as exc:
            return None, f"{exc}\n`/eks help` lists the commands."

    def ack_command(ack: Ack, command: dict[str, Any], client: WebClient, context: BoltContext, respond: Respond) -> None:
        cmd, refusal = check_command(command)
        if cmd is None:
            ack(text=refusal or "refused")
            return
        if cmd.verb == "new":
            ack()
            # trigger_id is valid for 3 seconds: open the form right after the ack, not on the pool.
            form = new_cluster.view(command["channel_id"], bot.engines.default_region)
            after_ack(context, lambda: client.views_open(trigger_id=command["trigger_id"], view=form))
            return
        if cmd.verb == "help":
            text, blocks = answers.help_answer()
            ack(text=text, blocks=blocks)
            return
        shown = f"`/eks {bk.escape(' '.join([cmd.verb, *cmd.args]))}`"
        ticket = bot.work.reserve()
        if ticket is None:
            ack(text=busy_text(shown, bot.work))
            return
        ack(text=f":hourglass_flowing_sand: {shown} …")
        after_ack(context, lambda: ticket.start(answer_command, cmd, command, respond))

    def answer_command(cmd: Command, command: dict[str, Any], respond: Respond) -> None:
        user, channel, team = command["user_id"], command["channel_id"], command.get("team_id", "")
        try:
            text, blocks = run_command(bot, cmd, user=user, channel=channel, team=team)
        except Exception as exc:
            if not isinstance(exc, EksAssistError):
                log.exception("/eks %s failed", cmd.verb)
            ok = isinstance(exc, EksAssistError) and exc.exit_code == 0  # e.g. nothing to change
            text = f"{':white_check_mark:' if ok else ':no_entry:'} `/eks {cmd.verb}`: " + explain(exc)
            blocks = [bk.mrkdwn(text)]
        respond(text=text, blocks=blocks, response_type="ephemeral", replace_original=False)

    app.command("/eks")(ack_command)

    # -- the /eks new modal -----------------------------------------------------------------
    def ack_new(ack: Ack, view: dict[str, Any], body: dict[str, Any], context: BoltContext) -> None:
        if new_cluster.channel_of(view) not in command_channels:
            ack(response_action="errors", errors={"name": "this form was opened outside the bot's channels; refused"})
            return
        spec, errors = new_cluster.spec_from_values(view["state"]["values"])
        if not errors:
            from assistant.spec import loads_spec

            try:
                loads_spec(new_cluster.to_yaml(spec), "new-cluster.yaml")
            except InputError as exc:
                errors = new_cluster.errors_for(exc.problems)
        if errors:
            ack(response_action="errors", errors=errors)
            return
        ticket = bot.work.reserve()
        if ticket is None:  # the form stays open: submitting again later keeps what was typed
            ack(response_action="errors", errors={"name": busy_text("This request", bot.work)})
            return
        ack()
        after_ack(context, lambda: ticket.start(run_new, view, body))

    def run_new(view: dict[str, Any], body: dict[str, Any]) -> None:
        channel = new_cluster.channel_of(view)
        user, team = body["user"]["id"], (body.get("team") or {}).get("id", "")
        if channel not in command_channels:
            return
        spec, errors = new_cluster.spec_from_values(view["state"]["values"])
        if errors:
            return
        from assistant.spec import loads_spec

        try:
            loaded = loads_spec(new_cluster.to_yaml(spec), f"slack-new-{spec['metadata']['name']}.yaml")
            bot.flow.open_and_post(loaded, playbook="cluster", kind="apply", requester=user, channel=channel, team=team)
        except Exception as exc:
            _tell(bot, channel, user, "`/eks new`", exc)

    app.view(new_cluster.CALLBACK)(ack_new)

    # -- Approve / Reject / Resume ----------------------------------------------------------
    def action_context(body: dict[str, Any]) -> dict[str, Any]:
        action = (body.get("actions") or [{}])[0]
        return {
            "via": "slack",
            "team": (body.get("team") or {}).get("id", ""),
            "channel": (body.get("channel") or {}).get("id", ""),
            "message_ts": (body.get("message") or {}).get("ts") or (body.get("container") or {}).get("message_ts", ""),
            "action_ts": action.get("action_ts", ""),
            "action_id": action.get("action_id", ""),
            "user": (body.get("user") or {}).get("id", ""),
        }

    def refuse_outside(body: dict[str, Any]) -> bool:
        ctx = action_context(body)
        if ctx["channel"] in action_channels:
            return False
        bot.messenger.ephemeral(ctx["channel"], ctx["user"], _not_here(ctx["channel"]))
        return True

    def ack_then(work: Callable[[dict[str, Any], dict[str, Any]], None], what: str) -> Callable[..., None]:
        """A click's ack: at once, then ``work`` on the pool, or a "busy" note to the clicker."""

        def ack_click(ack: Ack, body: dict[str, Any], action: dict[str, Any], context: BoltContext) -> None:
            ack()
            ticket = bot.work.reserve()
            if ticket is None:
                ctx = action_context(body)
                after_ack(context, lambda: bot.messenger.ephemeral(ctx["channel"], ctx["user"], busy_text(what, bot.work)))
                return
            after_ack(context, lambda: ticket.start(work, body, action))

        return ack_click

    def run_approve(body: dict[str, Any], action: dict[str, Any]) -> None:
        if refuse_outside(body):
            return
        ctx = action_context(body)
        try:
            bot.flow.approve(str(action.get("value") or ""), ctx["user"], ctx)
        except Exception as exc:
            _tell(bot, ctx["channel"], ctx["user"], "Approve", exc)

    app.action(bk.APPROVE)(ack_then(run_approve, "Your approval"))

    def ack_reject(ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient, context: BoltContext) -> None:
        ack()
        after_ack(context, lambda: open_reject_form(body, action, client))

    def open_reject_form(body: dict[str, Any], action: dict[str, Any], client: WebClient) -> None:
        """Right after the ack, on the request's thread: the form must open within 3 s of the click."""
        if refuse_outside(body):
            return
        ctx = action_context(body)
        try:
            req = bot.flow.requests.get(str(action.get("value") or ""))
        except Exception as exc:
            _tell(bot, ctx["channel"], ctx["user"], "Reject", exc)
            return
        if req.status == "pending":
            client.views_open(trigger_id=body["trigger_id"], view=bk.reject_modal(req, ctx["channel"], ctx["message_ts"]))
            return
        # No form for a decided request: say why, and show its state.
        bot.messenger.ephemeral(ctx["channel"], ctx["user"], f":no_entry: Request `{req.id}` is already {req.status}.")
        bot.flow.refresh(req)

    app.action(bk.REJECT)(ack_reject)

    def run_reject(view: dict[str, Any], body: dict[str, Any]) -> None:
        try:
            meta = json.loads(view.get("private_metadata") or "{}")
        except ValueError:
            meta = None
        if not isinstance(meta, dict):
            return  # not this bot's form: ack_reject_view already told the user in the form
        user = body["user"]["id"]
        channel = str(meta.get("channel") or "")
        if channel not in action_channels:
            return
        reason = str(((view["state"]["values"].get("reason") or {}).get("value") or {}).get("value") or "")
        ctx = {
            "via": "slack",
            "team": (body.get("team") or {}).get("id", ""),
            "channel": channel,
            "message_ts": str(meta.get("ts") or ""),
            "view_id": view.get("id", ""),
            "user": user,
        }
        try:
            bot.flow.reject(str(meta.get("request") or ""), user, reason, ctx)
        except Exception as exc:
            _tell(bot, channel, user, "Reject", exc)

    def ack_reject_view(ack: Ack, view: dict[str, Any], body: dict[str, Any], context: BoltContext) -> None:
        try:
            meta = json.loads(view.get("private_metadata") or "{}")
        except ValueError:
            meta = None
        if not isinstance(meta, dict):
            ack(response_action="errors", errors={"reason": "this form's metadata is not the bot's; nothing was rejected"})
            return
        ticket = bot.work.reserve()
        if ticket is None:
            ack(response_action="errors", errors={"reason": busy_text("The rejection", bot.work)})
            return
        ack()
        after_ack(context, lambda: ticket.start(run_reject, view, body))

    app.view(bk.REJECT_VIEW)(ack_reject_view)

    def run_resume(body: dict[str, Any], action: dict[str, Any]) -> None:
        if refuse_outside(body):
            return
        ctx = action_context(body)
        try:
            bot.flow.request_resume(
                str(action.get("value") or ""), requester=ctx["user"], channel=ctx["channel"], team=ctx["team"]
            )
        except Exception as exc:
            _tell(bot, ctx["channel"], ctx["user"], "Resume", exc)

    app.action(bk.RESUME)(ack_then(run_resume, "Resume"))

    @app.error
    def on_error(error: Exception, body: dict[str, Any]) -> None:
        log.error("unhandled error in a listener: %s: %s", type(error).__name__, error)


def _tell(bot: Bot, channel: str, user: str, what: str, exc: BaseException) -> None:
    if not isinstance(exc, EksAssistError):
        log.exception("%s failed", what)
    bot.messenger.ephemeral(channel, user, f":no_entry: {what}: {explain(exc)}")
