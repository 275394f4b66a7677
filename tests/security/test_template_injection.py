"""Drill 9, template injection: hostile values in every spec field that reaches templating or a target.

Payloads (Jinja-style expressions, a lookup that *would* resolve if rendered, shell
metacharacters, newlines and NUL bytes, Python format strings, YAML tags, alias bombs, deep
nesting, a 900 KB string, Unicode confusables and a right-to-left override) go into:

- fields with a strict shape (cluster, node group and tag names, labels, taints, ARNs,
  versions, regions, instance types): each must be **rejected** with an error located at
  the field (``spec.yaml:line:col: <field path>: ...``);
- free-text fields (mapping usernames and groups, through aws-auth and through access
  entries; tag values; the kubeconfig alias and path): each is rejected the same way, or
  accepted and then applied to the sandbox, where the **literal** string must be what reached
  AWS, Kubernetes or the kubeconfig file. Nothing may be evaluated: a lookup stays its own
  text, ``${HOME}`` is not expanded, and the sentinel file a shell injection would create
  never exists;
- playbook templates (``with``, ``when``, ``foreach``, ``key``, ``outputs``) that reach for
  attributes (``{{ steps.x.__class__ }}``, ``{{ spec.__init__ }}``): refused when the
  playbook is loaded.

Figures: payloads, field-payload pairs tried, rejected, inert, evaluated (must be 0).
"""

from __future__ import annotations

import base64
import json
import os
import re
import ssl
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from .. import secrets_scan as fake
from ..cli.conftest import CliRunner, Result
from .harness import CLUSTER, Tally, World, leaks, make_world

SENTINEL = "/tmp/eks-assist-drill-pwned"
ACCOUNT = "123456789012"

# (id, value): strings, written into the YAML as JSON (a valid YAML double-quoted scalar).
STRINGS: list[tuple[str, str]] = [
    ("jinja-class", "{{ ''.__class__ }}"),
    ("jinja-self", "{{ self }}"),
    ("jinja-init", "{{ spec.__init__ }}"),
    ("resolvable-lookup", "{{ spec.metadata.name }}"),
    ("jinja-statement", "{% import os %}"),
    ("env-variable", "${HOME}"),
    ("command-substitution", f"$(touch {SENTINEL})"),
    ("backticks", f"`touch {SENTINEL}`"),
    ("semicolon", f"x; touch {SENTINEL}"),
    ("pipe", f"x | touch {SENTINEL}"),
    ("python-format", "{0.__class__}%(x)s%s"),
    ("aws-auth-placeholder", "{{SessionName}}"),
    ("newline", "a\nb"),
    ("nul", "a\0b"),
    ("right-to-left-override", "admin\u202etxt.exe"),
    ("cyrillic-confusable", "\u0430dmin"),
    ("zero-width-space", "ad\u200bmin"),
    ("900-kb", "x" * 900_000),
]
# (id, raw YAML for the value, YAML to put before the document's first key)
RAW: list[tuple[str, str, str]] = [
    ("python-object-tag", f"!!python/object/apply:os.system ['touch {SENTINEL}']", ""),
    (
        "alias-bomb",
        "*c",
        "a: &a [x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b]\n",
    ),
    ("deep-nesting", "[" * 100 + "]" * 100, ""),
]
PAYLOAD_IDS = [p[0] for p in STRINGS] + [p[0] for p in RAW]


def _values() -> Iterator[tuple[str, str, str, str | None]]:
    """(payload id, YAML text of the value, YAML head, the literal string or None for raw YAML)."""
    for pid, value in STRINGS:
        yield pid, json.dumps(value), "", value
    for pid, text, head in RAW:
        yield pid, text, head, None


def build(
    *,
    head: str = "",
    name: str = CLUSTER,
    region: str = "us-east-1",
    version: str = '"1.33"',
    tags: str | None = None,
    ngname: str = "general",
    itype: str = "t3.medium",
    labels: str | None = None,
    taint: str | None = None,
    mappings: list[str] | None = None,
    kubeconfig: str = "  write: false\n",
) -> str:
    """The world's cluster spec, with one part replaced."""
    text = head + f"apiVersion: eks-assist/v1\nkind: Cluster\nmetadata:\n  name: {name}\n  region: {region}\n"
    if tags is not None:
        text += f"  tags: {tags}\n"
    text += f"masters:\n  version: {version}\n  vpc:\n    create: {{cidr: 10.0.0.0/16, azCount: 2}}\n"
    text += f"workers:\n  - name: {ngname}\n    instanceTypes: [{itype}]\n    scaling: {{min: 1, desired: 1, max: 2}}\n"
    if labels is not None:
        text += f"    labels: {{app: {labels}}}\n"
    if taint is not None:
        text += f"    taints: [{{key: dedicated, value: {taint}, effect: NO_SCHEDULE}}]\n"
    if mappings:
        text += "iamMappings:\n" + "".join(f"  - {m}\n" for m in mappings)
    return text + "kubeconfig:\n" + kubeconfig


@dataclass(frozen=True)
class Field:
    """A spec field: where a payload goes, and the path an error about it must name."""

    id: str
    path: str
    build: Callable[[str, str], str]  # (YAML value, YAML head) -> spec text


STRICT = [
    Field("cluster-name", "metadata.name", lambda v, h: build(head=h, name=v)),
    Field("region", "metadata.region", lambda v, h: build(head=h, region=v)),
    Field("version", "masters.version", lambda v, h: build(head=h, version=v)),
    Field("nodegroup-name", "workers[0].name", lambda v, h: build(head=h, ngname=v)),
    Field("instance-type", "workers[0].instanceTypes[0]", lambda v, h: build(head=h, itype=v)),
    Field("label-value", "workers[0].labels.app", lambda v, h: build(head=h, labels=v)),
    Field("taint-value", "workers[0].taints[0].value", lambda v, h: build(head=h, taint=v)),
    Field("mapping-arn", "iamMappings[0].arn", lambda v, h: build(head=h, mappings=[f"{{arn: {v}, kind: role}}"])),
]


def _role(field: str, i: int) -> str:
    return f"arn:aws:iam::{ACCOUNT}:role/drill-{field}-{i}"


FREE = [
    Field(
        "aws-auth-username",
        "iamMappings[0].username",
        lambda v, h: build(head=h, mappings=[f"{{arn: '{_role('u', 0)}', kind: role, via: aws-auth, username: {v}}}"]),
    ),
    Field(
        "aws-auth-groups",
        "iamMappings[0].groups[0]",
        lambda v, h: build(head=h, mappings=[f"{{arn: '{_role('g', 0)}', kind: role, via: aws-auth, groups: [{v}]}}"]),
    ),
    Field(
        "access-entry-username",
        "iamMappings[0].username",
        lambda v, h: build(head=h, mappings=[f"{{arn: '{_role('eu', 0)}', kind: role, via: access-entry, username: {v}}}"]),
    ),
    Field(
        "access-entry-groups",
        "iamMappings[0].groups[0]",
        lambda v, h: build(head=h, mappings=[f"{{arn: '{_role('eg', 0)}', kind: role, via: access-entry, groups: [{v}]}}"]),
    ),
    Field("tag-key", "metadata.tags", lambda v, h: build(head=h, tags=f"{{{v}: x}}")),
    Field("tag-value", "metadata.tags.owner", lambda v, h: build(head=h, tags=f"{{owner: {v}}}")),
    Field(
        "kubeconfig-alias",
        "kubeconfig.alias",
        lambda v, h: build(head=h, kubeconfig=f"  write: true\n  path: ~/kc/config\n  alias: {v}\n"),
    ),
    Field("kubeconfig-path", "kubeconfig.path", lambda v, h: build(head=h, kubeconfig=f"  write: true\n  path: {v}\n")),
]

PLAYBOOK_PAYLOADS = [
    "{{ steps.vpc.__class__ }}",
    "{{ spec.__init__ }}",
    "{{ ''.__class__ }}",
    "{{ self }}",
    "{{ spec.metadata.name.upper() }}",
    "{{ lipsum.__globals__.os }}",
    "{{ cycler.__init__.__globals__ }}",
    "{{ spec['metadata'] }}",
    "{{ spec | attr('__class__') }}",
    "{{ spec.metadata._private }}",
]
PLAYBOOK_SLOTS = {
    "with": ("steps[1].with.cluster", lambda p: _pb(with_=p)),
    "when": ("steps[1].when", lambda p: _pb(when=p)),
    "foreach": ("steps[1].foreach", lambda p: _pb(foreach=p)),
    "key": ("steps[1].key", lambda p: _pb(key=p)),
    "outputs": ("outputs.x", lambda p: _pb(outputs=p)),
}


def _pb(with_: str = "{{ spec.metadata.name }}", when: str | None = None, foreach: str | None = None, key: str | None = None,
        outputs: str | None = None) -> str:  # fmt: skip
    step = f"  - id: sg\n    action: ec2.vpc\n    with: {{cluster: {json.dumps(with_)}}}\n"
    if when is not None:
        step += f"    when: {json.dumps(when)}\n"
    if foreach is not None:
        step += f"    foreach: {json.dumps(foreach)}\n"
    if key is not None:
        step += f"    foreach: '{{{{ spec.workers }}}}'\n    key: {json.dumps(key)}\n"
    text = "name: x\nsteps:\n  - id: vpc\n    action: ec2.vpc\n    with: {cluster: '{{ spec.metadata.name }}'}\n" + step
    return text + (f"outputs:\n  x: {json.dumps(outputs)}\n" if outputs is not None else "")


CASES = [f"strict-{f.id}" for f in STRICT] + [f"free-{f.id}" for f in FREE] + [f"playbook-{s}" for s in PLAYBOOK_SLOTS]


def _summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    tried = sum(r["tried"] for r in rows)
    rejected = sum(r["rejected"] for r in rows)
    inert = sum(r["inert"] for r in rows)
    evaluated = sum(r["evaluated"] for r in rows)
    unclear = sum(r["unclear"] for r in rows)
    ok = evaluated == 0 and unclear == 0 and rejected + inert == tried
    return {
        "runs": len(rows),
        "faults": f"{len(PAYLOAD_IDS)} payloads x {len(STRICT) + len(FREE)} spec fields, {len(PLAYBOOK_PAYLOADS)} x {len(PLAYBOOK_SLOTS)} playbook slots",
        "outcome": "ok" if ok else "FAILED",
        "payloads": len(PAYLOAD_IDS) + len(PLAYBOOK_PAYLOADS),
        "tried": tried,
        "rejected": rejected,
        "inert": inert,
        "evaluated": evaluated,
        "unclear_errors": unclear,
        "secrets_found": sum(r["secrets"] for r in rows),
    }


TALLY = Tally("template injection", CASES, _summary)


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> CliRunner:
    """The real CLI entry point in-process."""
    from assistant.cli.main import main

    def run(*argv: str) -> Result:
        try:
            code = main(list(argv))
        except SystemExit as exc:
            code = int(exc.code or 0)
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return run


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    with make_world(tmp_path_factory.mktemp("inject")) as w:
        yield w


def _validate(cli: CliRunner, text: str) -> Result:
    Path("spec.yaml").write_text(text, encoding="utf-8")
    return cli("validate", "-f", "spec.yaml")


def _rejected_at(r: Result, path: str, raw: bool) -> bool:
    """Exit 2 with ``spec.yaml:line:col: <path>: ...`` (YAML-level refusals name only the line)."""
    if r.code != 2:
        return False
    located = r"spec\.yaml:\d+:\d+: "
    # Refused by the YAML reader itself (e.g. an implicit key past YAML's 1024-character limit)
    # is located too, at the offending character, before any field exists.
    at_field = re.search(located + re.escape(path) + r"[.:\[]", r.err) or re.search(located + "invalid YAML: ", r.err)
    return ((raw and re.search(located, r.err) is not None) or at_field is not None) and len(r.err) < 4000


def _observe(case: str, shown: str, **counts: int) -> None:
    found = leaks(shown)
    secrets = fake.scan_texts({case: shown})
    TALLY.add(case, secrets=len(secrets), **counts)
    assert not found, found
    assert not secrets, secrets


@pytest.mark.parametrize("field", STRICT, ids=[f.id for f in STRICT])
def test_strict_field_rejects_every_payload(
    field: Field, cli: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    rejected, unclear, shown, accepted = 0, 0, "", []
    for pid, value, head, _literal in _values():
        r = _validate(cli, field.build(value, head))
        shown += r.out + r.err
        if _rejected_at(r, field.path, raw=head != "" or _literal is None):
            rejected += 1
        elif r.code == 2:
            unclear += 1
            accepted.append((pid, "unclear: " + r.err[:300]))
        else:
            accepted.append((pid, "accepted"))
    tried = len(PAYLOAD_IDS)
    _observe(f"strict-{field.id}", shown, tried=tried, rejected=rejected, inert=0, evaluated=0, unclear=unclear)
    assert not os.path.exists(SENTINEL)
    assert accepted == [], accepted


# -- free-text fields: rejected, or applied and checked literally ------------------------------------


def _kube_get(world: World, path: str) -> Any:
    import boto3

    from assistant.identity.tokens import get_token

    token = get_token(boto3.Session(), "us-east-1", CLUSTER).token
    ca = base64.b64decode(world.cluster["certificateAuthority"]["data"]).decode()
    req = urllib.request.Request(world.cluster["endpoint"] + path, headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(req, context=ssl.create_default_context(cadata=ca), timeout=30) as resp:
        return json.loads(resp.read())


_ENGINES: dict[int, Any] = {}


def _apply(world: World, text: str, playbook: str) -> str:
    """Plan and apply ``text`` through the engine (one per world: the CLI would add seconds of set-up per call)."""
    from assistant.clients.aws import AwsContext
    from assistant.engine import Engine
    from assistant.planning.plan import render_text
    from assistant.run.runner import RunOptions
    from assistant.sandbox.link import SandboxLink
    from assistant.spec import loads_spec
    from assistant.store import open_store

    if id(world) not in _ENGINES:
        _ENGINES[id(world)] = Engine(
            AwsContext(region="us-east-1", sandbox=SandboxLink()), open_store(), options=RunOptions(poll_min=0.05, poll_max=0.1)
        )
    engine = _ENGINES[id(world)]
    Path("spec.yaml").write_text(text, encoding="utf-8")
    loaded = loads_spec(text, "spec.yaml")
    plan = engine.plan(loaded, playbook).plan
    _run_id, outputs = engine.apply(loaded, plan.hash, "drill", "flag", playbook=playbook)
    return render_text(plan) + json.dumps(outputs, default=str)


def _landed(world: World, field: Field, literals: dict[int, str], cwd: Path) -> dict[int, str]:
    """What reached the target for each accepted payload (index → the string found there)."""
    inv = world.sandbox.inventory()
    cluster = next(a for a in inv.values())["regions"]["us-east-1"]["eks"][CLUSTER]
    if field.id.startswith("aws-auth"):
        cm = _kube_get(world, "/api/v1/namespaces/kube-system/configmaps/aws-auth")
        roles = {r["rolearn"]: r for r in yaml.safe_load(cm["data"]["mapRoles"])}
        which = "u" if field.id.endswith("username") else "g"
        out = {}
        for i in literals:
            entry = roles.get(_role(which, i), {})
            out[i] = entry.get("username") if which == "u" else (entry.get("groups") or [None])[0]
        return out
    if field.id.startswith("access-entry"):
        which = "eu" if field.id.endswith("username") else "eg"
        entries = cluster["accessEntries"]
        if which == "eu":
            return {i: entries.get(_role(which, i), {}).get("username") for i in literals}
        return {i: (entries.get(_role(which, i), {}).get("kubernetesGroups") or [None])[0] for i in literals}
    if field.id == "tag-value":
        return {i: cluster["tags"].get(f"drill{i}") for i in literals}
    if field.id == "tag-key":
        return {i: v if cluster["tags"].get(v) == "drill" else None for i, v in literals.items()}
    raise AssertionError(field.id)


def _combined(field: Field, literals: dict[int, str]) -> str:
    """One spec carrying every accepted payload of ``field`` at once (one apply for all)."""
    if field.id == "tag-value":
        tags = ", ".join(f"drill{i}: {json.dumps(v)}" for i, v in literals.items())
        return build(tags="{" + tags + "}")
    if field.id == "tag-key":
        return build(tags="{" + ", ".join(f"{json.dumps(v)}: drill" for v in literals.values()) + "}")
    via = "aws-auth" if field.id.startswith("aws-auth") else "access-entry"
    which = {"aws-auth-username": "u", "aws-auth-groups": "g", "access-entry-username": "eu", "access-entry-groups": "eg"}[
        field.id
    ]
    part = "username: {v}" if field.id.endswith("username") else "groups: [{v}]"
    return build(
        mappings=[
            f"{{arn: '{_role(which, i)}', kind: role, via: {via}, " + part.format(v=json.dumps(v)) + "}"
            for i, v in literals.items()
        ]
    )


@pytest.mark.slow
@pytest.mark.parametrize("field", FREE, ids=[f.id for f in FREE])
def test_free_text_field_is_rejected_or_inert(
    field: Field, world: World, cli: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    world.use(monkeypatch)
    monkeypatch.chdir(tmp_path)
    home = Path(os.environ["HOME"])
    rejected, unclear, shown = 0, 0, ""
    accepted: dict[int, str] = {}
    for i, (pid, value, head, literal) in enumerate(_values()):
        r = _validate(cli, field.build(value, head))
        shown += r.out + r.err
        if _rejected_at(r, field.path, raw=literal is None):
            rejected += 1
        elif r.code == 2:
            unclear += 1
            shown += f"\n[unclear for {pid}]"
        else:
            assert literal is not None, (pid, "raw YAML accepted")
            accepted[i] = literal
    landed: dict[int, str | None] = {}
    if field.id.startswith("kubeconfig"):
        for i, literal in accepted.items():
            shown += _apply(world, field.build(json.dumps(literal), ""), "kubeconfig")
            if field.id == "kubeconfig-alias":
                config = yaml.safe_load((home / "kc" / "config").read_text(encoding="utf-8"))
                names = [c["name"] for c in config["contexts"]]
                landed[i] = literal if literal in names else repr(names)
            else:
                # The file is where the literal path says, relative to here; nothing was expanded.
                landed[i] = literal if (tmp_path / literal).is_file() else f"no file at {literal!r}"
        assert not (home / ".kube").exists(), "a path was expanded to the home directory"
    elif accepted:
        # Tags reach AWS through the cluster's own resources; the masters playbook tags them all.
        playbook = "masters" if field.id.startswith("tag") else "iam-mappings"
        shown += _apply(world, _combined(field, accepted), playbook)
        landed = dict(_landed(world, field, accepted, tmp_path))
    evaluated = sum(1 for i, literal in accepted.items() if landed.get(i) != literal)
    inert = len(accepted) - evaluated
    evaluated += 1 if os.path.exists(SENTINEL) else 0
    _observe(
        f"free-{field.id}", shown, tried=len(PAYLOAD_IDS), rejected=rejected, inert=inert, evaluated=evaluated, unclear=unclear
    )
    assert not os.path.exists(SENTINEL)
    assert unclear == 0, shown[-3000:]
    assert {i: landed.get(i) for i in accepted} == accepted


@pytest.mark.parametrize("slot", list(PLAYBOOK_SLOTS), ids=list(PLAYBOOK_SLOTS))
def test_playbook_template_reaching_for_attributes_is_refused_at_load(
    slot: str, cli: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("spec.yaml").write_text(build(), encoding="utf-8")
    path, make = PLAYBOOK_SLOTS[slot]
    rejected, unclear, shown = 0, 0, ""
    for payload in PLAYBOOK_PAYLOADS:
        Path("pb.yaml").write_text(make(payload), encoding="utf-8")
        # validate-level: loading the playbook needs no AWS; plan loads it first and stops there.
        r = cli("plan", "-f", "spec.yaml", "--playbook", "pb.yaml")
        shown += r.out + r.err
        located = re.search(r"pb\.yaml:\d+:\d+: " + re.escape(path) + ": ", r.err)
        if r.code == 2 and located and ("unsupported template expression" in r.err or "undefined template variable" in r.err):
            rejected += 1
        else:
            unclear += 1
            shown += f"\n[not refused: {payload!r}: {r.code} {r.err[:300]}]"
    _observe(f"playbook-{slot}", shown, tried=len(PLAYBOOK_PAYLOADS), rejected=rejected, inert=0, evaluated=0, unclear=unclear)
    assert unclear == 0, shown[-3000:]
