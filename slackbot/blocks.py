"""Block Kit builders: the approval message and its decided states, progress, summary, failure.

Builders are pure functions of engine records (a change request, run events, outputs), so
tests check them without Slack. They respect Block Kit's limits (50 blocks per message, 3,000
characters per section text, 150 per header): anything longer is cut here with a pointer to
the full text, which the caller posts in the thread (see :mod:`slackbot.messenger`).

Nothing secret goes into a block: apply outputs are filtered to the endpoint and ARN, and the
certificate authority data is never shown.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from typing import Any

MAX_BLOCKS = 50
MAX_SECTION = 3000
MAX_HEADER = 150
MAX_FIELD = 2000

APPROVE = "eks_approve"
REJECT = "eks_reject"
RESUME = "eks_resume"
REJECT_VIEW = "eks_reject_reason"

_VERB = {"apply": "Apply", "destroy": "Destroy", "resume": "Resume"}
_OP_ORDER = ("create", "update", "replace", "delete")
_OP_MARK = {"create": "+", "update": "~", "replace": "-/+", "delete": "-"}
_STATUS_LINE = {
    "approved": ":white_check_mark: Approved",
    "applying": ":hourglass_flowing_sand: Approved; applying",
    "succeeded": ":white_check_mark: Applied",
    "failed": ":x: Apply failed",
    "rejected": ":no_entry: Rejected",
    "expired": ":hourglass: Expired",
    "superseded": ":twisted_rightwards_arrows: Superseded: the plan changed after approval; nothing was applied",
    "cancelled": ":wastebasket: Cancelled",
}


def clip(text: str, limit: int = MAX_SECTION, more: str = "…") -> str:
    """``text`` cut to ``limit`` characters, ending in ``more`` when cut."""
    return text if len(text) <= limit else text[: limit - len(more)] + more


def when(ts: float) -> str:
    """A Slack date token: shown in each reader's time zone, with a UTC fallback."""
    fallback = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(ts))
    return f"<!date^{int(ts)}^{{date_short_pretty}} at {{time}}|{fallback}>"


def mrkdwn(text: str) -> dict[str, Any]:
    """A section block with mrkdwn text, clipped to the section limit."""
    return {"type": "section", "text": {"type": "mrkdwn", "text": clip(text)}}


def plain(text: str) -> dict[str, str | bool]:
    """A plain_text object."""
    return {"type": "plain_text", "text": text, "emoji": True}


def context(*texts: str) -> dict[str, Any]:
    """A context block (small grey text) with up to ten elements."""
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": clip(t, MAX_FIELD)} for t in texts[:10]]}


def header(text: str) -> dict[str, Any]:
    """A header block, clipped to the header limit."""
    return {"type": "header", "text": plain(clip(text, MAX_HEADER))}


def code(text: str, limit: int = MAX_SECTION) -> str:
    """A code block that fits a section (backticks in the text cannot close it early)."""
    body = text.replace("```", "'''")
    return "```" + clip(body, limit - 6, "\n…") + "```"


def escape(text: str) -> str:
    """Escape user-controlled text for mrkdwn (Slack's three control characters)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


# -- the approval message -------------------------------------------------------------------------


def title(req: Any) -> str:
    """``Apply cluster demo`` / ``Destroy cluster demo`` / ``IAM mappings for demo`` / ``Resume run X``."""
    if req.kind == "resume":
        return f"Resume run {req.resume_of} on cluster {req.cluster}"
    if req.playbook == "iam-mappings":
        return f"IAM mappings for cluster {req.cluster}"
    return f"{_VERB.get(req.kind, req.kind.capitalize())} cluster {req.cluster}"


def summary_line(summary: dict[str, int]) -> str:
    """``3 to create, 1 to update, 0 to replace, 0 to delete``."""
    return ", ".join(f"{summary.get(op, 0)} to {op}" for op in _OP_ORDER)


def change_lines(changes: Iterable[dict[str, Any]]) -> list[str]:
    """One line per changed resource, grouped create → update → replace → delete."""
    ordered = sorted(changes, key=lambda c: _OP_ORDER.index(c["op"]) if c.get("op") in _OP_ORDER else 9)
    return [f"`{_OP_MARK.get(c['op'], '?')}` {c['op']} {escape(str(c['resource']))}  _(step {c['step']})_" for c in ordered]


def _bounded_list(lines: list[str], limit: int, tail: str) -> str:
    out: list[str] = []
    used = 0
    for i, line in enumerate(lines):
        extra = f"\n…and {len(lines) - i} more {tail}"
        if used + len(line) + 1 + len(extra) > limit:
            out.append(extra.strip())
            break
        out.append(line)
        used += len(line) + 1
    return "\n".join(out)


def diff_fits_inline(req: Any) -> bool:
    """Whether the full plan text fits in the approval message itself (else it goes in the thread)."""
    return len(req.plan_text) + 8 <= MAX_SECTION


def approvals_line(req: Any) -> str:
    """``1 of 2 (<@U…>)``: approvals so far against the quorum."""
    names = ", ".join(f"<@{a['approver']}>" for a in req.approvals)
    line = f"{len(req.approvals)} of {req.required_approvals}"
    return f"{line} ({names})" if names else line


def request_text(req: Any) -> str:
    """The notification text (and the fallback for clients without blocks)."""
    return f"{title(req)}: {summary_line(req.summary)}. Requested by <@{req.requester}>, needs approval."


def decision_line(req: Any) -> str | None:
    """Who decided what and when, for a request that is no longer pending."""
    status = req.status
    if status == "pending":
        return None
    line = _STATUS_LINE.get(status, status)
    at = f" at {when(req.decided_at)}" if req.decided_at else ""
    if status in ("approved", "applying", "succeeded", "failed"):
        who = ", ".join(f"<@{a['approver']}>" for a in req.approvals) or (f"<@{req.decided_by}>" if req.decided_by else "")
        line += f" by {who}{at}" if who else at
    elif status == "rejected":
        line += f" by <@{req.decided_by}>{at}"
        if req.reason:
            line += f": “{escape(clip(req.reason, 500))}”"
    elif status == "expired":
        line += f" at {when(req.expires_at)}"
    elif status == "cancelled":
        by = f" by <@{req.decided_by}>" if req.decided_by and req.decided_by.startswith(("U", "W")) else ""
        line += f"{by}{at}" + (f" ({escape(req.reason)})" if req.reason else "")
    return line


def approval_blocks(req: Any, *, extra_status: str | None = None) -> list[dict[str, Any]]:
    """The approval message for ``req`` in its current state.

    Pending: Approve (with a confirm dialog) and Reject buttons, and "n of m" approvals so far.
    Decided: no buttons, and who decided what and when.
    """
    blocks: list[dict[str, Any]] = [header(title(req))]
    blocks.append(
        mrkdwn(
            f"<@{req.requester}> requests *{req.kind}* of cluster *{escape(req.cluster)}* "
            f"with playbook `{req.playbook}`" + (f", continuing run `{req.resume_of}`" if req.resume_of else "")
        )
    )
    fields = [
        f"*Account*\n{req.account}",
        f"*Region*\n{req.region}",
        f"*Environment*\n{req.environment}",
        f"*Approvals*\n{approvals_line(req)}",
        f"*Expires*\n{when(req.expires_at)}",
        f"*Request*\n`{req.id}`",
    ]
    blocks.append({"type": "section", "fields": [{"type": "mrkdwn", "text": clip(f, MAX_FIELD)} for f in fields]})
    lines = change_lines(req.changes)
    inline = diff_fits_inline(req)
    where = "in the full plan below" if inline else "in the full plan in the thread"
    blocks.append(mrkdwn(f"*Changes:* {summary_line(req.summary)}\n" + _bounded_list(lines, MAX_SECTION - 200, where)))
    if req.warnings:
        warn = [f":warning: {escape(w)}" for w in req.warnings]
        blocks.append(mrkdwn("*Capacity warnings*\n" + _bounded_list(warn, MAX_SECTION - 100, "warnings in the full plan")))
    if inline:
        blocks.append(mrkdwn(code(req.plan_text)))
    else:
        blocks.append(context(":page_facing_up: The full plan is in this message's thread."))
    blocks.append(
        context(f"Plan hash `{req.plan_hash}` · approving applies exactly this plan; if anything drifts, it is re-posted")
    )
    line = decision_line(req)
    if line is None:
        blocks.append(approval_buttons(req))
    else:
        blocks.append(mrkdwn(line))
    if extra_status:
        blocks.append(context(extra_status))
    return blocks[:MAX_BLOCKS]


def approval_buttons(req: Any) -> dict[str, Any]:
    """Approve (with a confirm dialog) and Reject; both carry the request id."""
    return {
        "type": "actions",
        "block_id": f"decide:{req.id}",
        "elements": [
            {
                "type": "button",
                "action_id": APPROVE,
                "text": plain("Approve"),
                "style": "primary",
                "value": req.id,
                "confirm": {
                    "title": plain("Approve this plan?"),
                    "text": {
                        "type": "mrkdwn",
                        "text": clip(
                            f"{title(req)} in {req.account}/{req.region}: {summary_line(req.summary)}. "
                            f"Plan `{req.plan_hash[:16]}`.",
                            300,
                        ),
                    },
                    "confirm": plain("Approve"),
                    "deny": plain("Cancel"),
                    "style": "primary",
                },
            },
            {"type": "button", "action_id": REJECT, "text": plain("Reject"), "style": "danger", "value": req.id},
        ],
    }


def reject_modal(req: Any, channel: str, message_ts: str) -> dict[str, Any]:
    """The "Reject, with an optional reason" modal; the request and message ride in private_metadata."""
    return {
        "type": "modal",
        "callback_id": REJECT_VIEW,
        "title": plain("Reject change"),
        "submit": plain("Reject"),
        "close": plain("Cancel"),
        "private_metadata": json.dumps({"request": req.id, "channel": channel, "ts": message_ts}),
        "blocks": [
            mrkdwn(f"Reject *{escape(title(req))}* (request `{req.id}`)?"),
            {
                "type": "input",
                "block_id": "reason",
                "optional": True,
                "label": plain("Reason (optional)"),
                "element": {"type": "plain_text_input", "action_id": "value", "multiline": True, "max_length": 500},
            },
        ],
    }


# -- progress, summary, failure --------------------------------------------------------------------

_STEP_MARK = {
    "pending": ":white_small_square:",
    "running": ":hourglass_flowing_sand:",
    "done": ":white_check_mark:",
    "failed": ":x:",
    "skipped": ":fast_forward:",
}


def _secs(s: float) -> str:
    return f"{s:.0f}s" if s < 90 else f"{int(s // 60)}m{int(s % 60):02d}s"


def progress_blocks(title_text: str, steps: dict[str, dict[str, Any]], elapsed: float, state: str) -> list[dict[str, Any]]:
    """The one progress message, edited in place: every step's state and elapsed time."""
    head = {"running": ":arrows_counterclockwise:", "done": ":white_check_mark:", "failed": ":x:"}.get(state, "")
    lines = []
    for name, st in steps.items():
        mark = _STEP_MARK.get(st["state"], "")
        detail = f" {escape(clip(st['message'], 120))}" if st.get("message") else ""
        took = f" ({_secs(st['elapsed'])})" if st.get("elapsed") else ""
        lines.append(f"{mark} `{name}`{detail}{took}")
    body = _bounded_list(lines, MAX_SECTION - 50, "steps") if lines else "_starting…_"
    return [mrkdwn(f"{head} *{escape(title_text)}* · {_secs(elapsed)}"), mrkdwn(body)]


SAFE_OUTPUTS = ("endpoint", "arn", "status", "version")


def summary_blocks(req: Any, run_id: str, outputs: dict[str, Any], status: dict[str, Any] | None) -> list[dict[str, Any]]:
    """The end-of-run summary: endpoint, node groups, and the commands to run locally."""
    if req.kind == "destroy":
        return [mrkdwn(f":white_check_mark: Cluster *{escape(req.cluster)}* was torn down (run `{run_id}`).")]
    lines = [f":white_check_mark: *{escape(title(req))}* finished (run `{run_id}`)."]
    endpoint = (status or {}).get("endpoint") or outputs.get("endpoint")
    if endpoint:
        lines.append(f"*Endpoint:* {endpoint}")
    if status:
        lines.append(f"*Status:* {status.get('status')} · Kubernetes {status.get('version')}")
        groups = status.get("nodeGroups") or []
        if groups:
            lines.append("*Node groups:*")
            for g in groups[:20]:
                lines.append(
                    f"• `{g['name']}` {g.get('status')} · {', '.join(g.get('instanceTypes') or [])} · "
                    f"{g.get('capacityType') or ''} · {g.get('min')}/{g.get('desired')}/{g.get('max')} nodes"
                )
    cmds = (
        f"eks-assist kubeconfig --cluster {req.cluster} --region {req.region}\n"
        f"# or\naws eks update-kubeconfig --name {req.cluster} --region {req.region}"
    )
    return [mrkdwn("\n".join(lines)), mrkdwn("*To use it from your machine:*\n" + code(cmds))]


def failure_blocks(req: Any, run_id: str, error: str) -> list[dict[str, Any]]:
    """The error, and a Resume button (which opens a new, approval-gated request)."""
    return [
        mrkdwn(f":x: *{escape(title(req))}* failed (run `{run_id}`):\n" + code(error, 2500)),
        {
            "type": "actions",
            "block_id": f"resume:{run_id}",
            "elements": [
                {
                    "type": "button",
                    "action_id": RESUME,
                    "text": plain("Resume"),
                    "value": run_id,
                    "confirm": {
                        "title": plain("Request a resume?"),
                        "text": {
                            "type": "mrkdwn",
                            "text": f"This posts a request to resume run `{run_id}`; it needs approval like any change.",
                        },
                        "confirm": plain("Request"),
                        "deny": plain("Cancel"),
                    },
                }
            ],
        },
        context("The journal keeps what was done; resuming continues from there under the original plan."),
    ]


def problems_text(problems: Iterable[Any]) -> str:
    """Located input problems as a code block."""
    return code("\n".join(f"error: {p}" for p in problems))
