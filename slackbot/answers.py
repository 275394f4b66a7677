"""Read-only answers: help, specs, plan, status, runs, access check, locks.

Each returns ``(text, blocks)`` for an ephemeral reply to the person who asked. None of them
changes anything: planning is read-only in the engine (a test proves it), and the rest only
read the store, EKS and the cluster's aws-auth.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from . import blocks as bk
from .catalogue import Catalogue
from .commands import help_text
from .engines import Engines
from .messenger import chunk_blocks

if TYPE_CHECKING:
    from assistant.governance.requests import Requests

Answer = tuple[str, list[dict[str, Any]]]
MAX_PLAN_SECTIONS = 12  # one message: keep it under Slack's ~40k-character size limit


def _ago(ts: float) -> str:
    s = int(time.time() - ts)
    for unit, n in (("d", 86400), ("h", 3600), ("m", 60)):
        if s >= n:
            return f"{s // n}{unit} ago"
    return f"{s}s ago"


def help_answer() -> Answer:
    """Every command, one per line."""
    text = help_text()
    return text, [bk.mrkdwn("*eks-assist* commands:\n" + bk.code(text))]


def specs_answer(catalogue: Catalogue) -> Answer:
    """The names in the spec catalogue."""
    names = catalogue.names()
    if not names:
        return "The spec catalogue is empty.", [bk.mrkdwn("The spec catalogue is empty.")]
    text = "Specs: " + ", ".join(names)
    return text, [
        bk.mrkdwn("*Spec catalogue* (`/eks plan <name>`, `/eks apply <name>`):\n" + "\n".join(f"• `{n}`" for n in names))
    ]


def plan_answer(engines: Engines, catalogue: Catalogue, name: str) -> Answer:
    """Plan a catalogue spec (read-only): summary, warnings, the diff and the hash."""
    from assistant.planning.plan import render_text

    loaded = catalogue.load(name)
    planning = engines.engine(loaded.spec.metadata.region).plan(loaded)
    plan = planning.plan
    counts = plan.counts
    summary = bk.summary_line({k: counts.get(k, 0) for k in ("create", "update", "replace", "delete")})
    head = (
        f"*Plan for `{name}`* (cluster *{bk.escape(loaded.spec.metadata.name)}*, {plan.account}/{plan.region}): "
        f"{summary if plan.has_changes else 'no changes'}"
    )
    out = [bk.mrkdwn(head)]
    if plan.warnings:
        out.append(bk.mrkdwn("*Capacity warnings*\n" + "\n".join(f":warning: {bk.escape(w)}" for w in plan.warnings)))
    sections = [b for msg in chunk_blocks(render_text(plan)) for b in msg]
    if len(sections) > MAX_PLAN_SECTIONS:
        sections = [*sections[: MAX_PLAN_SECTIONS - 1], bk.mrkdwn("…the rest is too long for Slack: see `eks-assist plan`.")]
    out.extend(sections)
    out.append(bk.context(f"Plan hash `{plan.hash}` · read-only: nothing was changed. `/eks apply {name}` asks for approval."))
    return f"Plan for {name}: {summary}", out[: bk.MAX_BLOCKS]


def _status_lines(st: dict[str, Any]) -> list[str]:
    lines = [
        f"*{bk.escape(st['name'])}* ({st['status']}) · Kubernetes {st['version']} · {st['region']}",
        f"Endpoint: {st['endpoint'] or '(not yet)'} · auth mode {st.get('authenticationMode')}",
    ]
    for g in st.get("nodeGroups") or []:
        lines.append(
            f"• `{g['name']}` {g['status']} · {', '.join(g['instanceTypes'])} · {g['capacityType'] or ''} · "
            f"{g['min']}/{g['desired']}/{g['max']}"
        )
    if not st.get("nodeGroups"):
        lines.append("No node groups.")
    return lines


def status_answer(engines: Engines, cluster: str | None) -> Answer:
    """One cluster's status, or every cluster's in the bot's region."""
    engine = engines.engine()
    if cluster:
        lines = _status_lines(engine.status(cluster))
        return lines[0], [bk.mrkdwn("\n".join(lines))]
    names: list[str] = []
    for page in engine.aws.client("eks").get_paginator("list_clusters").paginate():
        names.extend(page["clusters"])
    if not names:
        return "No EKS clusters.", [bk.mrkdwn(f"No EKS clusters in {engine.aws.region}.")]
    out = [bk.mrkdwn(f"*{len(names)} cluster(s) in {engine.aws.region}*")]
    for name in names[:20]:
        out.append(bk.mrkdwn("\n".join(_status_lines(engine.status(name)))))
    if len(names) > 20:
        out.append(bk.context(f"…and {len(names) - 20} more; `/eks status <cluster>` shows one."))
    return f"{len(names)} cluster(s)", out


def runs_answer(engines: Engines, requests: Requests) -> Answer:
    """The latest runs and change requests."""
    runs = engines.store.list_runs(10)
    lines = [f"`{r.id}` {r.kind} `{r.playbook}` *{r.status}* · {r.region} · {_ago(r.created_at)}" for r in runs]
    reqs = requests.list(limit=10)
    rlines = [
        f"`{q.id}` {bk.escape(bk.title(q))} *{q.status}* · by <@{q.requester}> · {_ago(q.created_at)}"
        + (f" · {len(q.approvals)} of {q.required_approvals} approvals" if q.status == "pending" else "")
        for q in reqs
    ]
    out = [bk.mrkdwn("*Latest runs*\n" + ("\n".join(lines) or "No runs yet."))]
    out.append(bk.mrkdwn("*Latest change requests*\n" + ("\n".join(rlines) or "No change requests yet.")))
    return f"{len(runs)} run(s), {len(reqs)} request(s)", out


def access_answer(engines: Engines, cluster: str, arn: str) -> Answer:
    """Which Kubernetes user and groups ``arn`` gets on ``cluster``, and which rule says so."""
    from assistant.identity import access
    from assistant.identity.access import read_mappings

    access.parse_principal(arn)  # malformed: InputError before any call
    mode, mappings, _ = read_mappings(engines.aws(), cluster)
    r = access.resolve(arn, mode, mappings)
    if r["mapped"]:
        rule = r["rule"]
        where = f"aws-auth {rule.get('section')}" if rule["source"] == "aws-auth" else "an access entry"
        lines = [
            f"`{bk.escape(arn)}` is mapped on *{bk.escape(cluster)}* (authenticationMode {mode})",
            f"username: `{r['username']}`",
            f"groups: {', '.join(f'`{g}`' for g in r['groups']) or '-'}",
            f"granted by {where} for `{rule['arn']}`",
        ]
        for p in r["accessPolicies"]:
            scope = "cluster" if p["scope"] == "cluster" else f"namespaces {', '.join(p['namespaces'])}"
            lines.append(f"access policy: {p['policy']} ({scope})")
        lines += [f"note: {n}" for n in r["notes"]]
    else:
        lines = [f"`{bk.escape(arn)}` is *not* mapped on *{bk.escape(cluster)}* (authenticationMode {mode})"]
        lines += [str(n) for n in r["notes"]]
        lines += [f"near miss: {m}" for m in r["nearMisses"]]
    return lines[0], [bk.mrkdwn("\n".join(lines))]


def locks_answer(requests: Requests) -> Answer:
    """Every cluster lock: who holds it, for which request, since when."""
    held = requests.locks()
    if not held:
        return "No cluster is locked.", [bk.mrkdwn("No cluster is locked.")]
    lines = []
    for lk in held:
        owner = f"<@{lk.owner}>" if str(lk.owner).startswith(("U", "W")) else bk.escape(str(lk.owner))
        lines.append(
            f"• *{bk.escape(lk.cluster)}* ({lk.account}/{lk.region}): `{lk.holder}` by {owner}, since {bk.when(lk.since)}"
        )
    return f"{len(held)} lock(s)", [bk.mrkdwn("*Cluster locks*\n" + "\n".join(lines))]
