"""Drill 6, the bad-input corpus: hostile and malformed input at every door, over the real interfaces.

Doors: spec files and playbooks (``plan -f``/``--playbook``), CLI arguments (in-process for
the bulk, real subprocesses for a representative subset), Slack payloads sent over HTTP to the
real Bolt app (signed with the fake signing secret, or deliberately not), kubeconfig files that
``eks-assist kubeconfig`` is asked to merge into, and bearer tokens presented to the sandbox's
Kubernetes API server. Each input is its own test.

Every input must get a clear error (which file, line, field or argument; a readable Slack
reply), a non-zero exit, a 4xx or an ephemeral error, and change nothing: the sandbox
inventory and the store (runs, steps, requests, locks; not the audit log, which records
refusals) are snapshotted before and after, and kubeconfig files are compared byte for byte.
A traceback or a bare exception repr in anything a user sees fails the case.

None of these inputs is an existing test's: tests/cli/test_bad_input.py, tests/integration/
test_bad_input_aws.py, tests/iam/test_bad_input.py and tests/slack/test_http.py cover the
everyday mistakes; this corpus is the hostile material.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import hashlib
import hmac
import json
import os
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from slackbot import new_cluster
from tests.doubles.mock_slack import (
    MockSlack,
    block_action,
    command_body,
    interactive_body,
    signature,
    signed_headers,
    view_submission,
)

from .. import secrets_scan as fake
from ..cli.conftest import CliRunner
from .harness import ALICE, CHANNEL, CLUSTER, REQUESTER, Tally, World, diff, leaks, make_world, serve_bot, spec_text

pytestmark = pytest.mark.slow

GOOD = spec_text("corpus-x")
SENTINEL = "/tmp/eks-assist-drill-pwned"  # a shell injection anywhere would create it


def _spec(old: str, new: str) -> str:
    assert old in GOOD, old
    return GOOD.replace(old, new, 1)


@dataclass(frozen=True)
class Case:
    """One hostile input: its door, its id, how to build it, and what the error must say."""

    door: str
    id: str
    data: Any
    expect: str  # a fragment of the error the user must see
    where: str | None = None  # "line:col" the error must point at (file inputs), when it has one
    code: int = 2
    sub: bool = False  # also run through a real subprocess
    extra: dict[str, Any] = field(default_factory=dict)


# -- spec files ------------------------------------------------------------------------------------

NAME_RULE = "cluster name must be 1-100 characters"
SPEC_CASES = [
    Case("spec", "nul-in-value", _spec("name: corpus-x", "name: corp\0us"), "(U+0000) is not allowed in YAML text", "4:13"),
    Case("spec", "nul-in-comment", GOOD + "# \0\n", "(U+0000) is not allowed in YAML text", "16:3"),
    Case("spec", "c1-control-char", _spec("name: corpus-x", "name: a\x85\x9b"), "(U+009B) is not allowed in YAML text", "4:11"),
    Case(
        "spec",
        "python-object-apply",
        _spec("name: corpus-x", f"name: !!python/object/apply:os.system ['touch {SENTINEL}']"),
        "expected a string, got a list",
        "4:9",
        sub=True,
    ),
    Case(
        "spec",
        "python-name-tag",
        _spec("name: corpus-x", "name: !!python/name:os.system"),
        "could not determine a constructor",
        "4:9",
    ),
    Case(
        "spec",
        "python-module-tag",
        _spec("name: corpus-x", "name: !!python/module:os"),
        "could not determine a constructor",
        "4:9",
    ),
    Case("spec", "custom-tag", _spec("name: corpus-x", "name: !evil corpus"), "could not determine a constructor", "4:9"),
    Case(
        "spec",
        "tag-directive",
        "%TAG !e! tag:evil.example,2000:\n---\n" + _spec("name: corpus-x", "name: !e!x corpus"),
        "could not determine a constructor",
        "6:9",
    ),
    Case("spec", "binary-tag", _spec("name: corpus-x", "name: !!binary aGVsbG8="), NAME_RULE, "4:9"),
    Case("spec", "set-tag", _spec("name: corpus-x", "name: !!set {a, b}"), "expected a string, got a mapping", "4:9"),
    Case("spec", "int-key", GOOD + "1: x\n", "mapping keys must be strings, got int 1", "16:1"),
    Case("spec", "null-key", GOOD + "~: x\n", "mapping keys must be strings", "16:1"),
    Case("spec", "complex-key", GOOD + "? [a, b]\n: x\n", "mapping keys must be strings, got list", "16:3"),
    Case("spec", "nul-key", GOOD + '"\\0": x\n', "unknown field '\\x00'", "16:1"),
    Case("spec", "merge-key", GOOD + "extra:\n  <<: {a: 1}\n", "YAML merge keys (<<) are not supported", "17:3"),
    Case(
        "spec",
        "billion-laughs",
        "a: &a [x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n" + GOOD,
        "YAML anchors and aliases (&, *) are not allowed",
        "1:4",
    ),
    Case("spec", "deep-flow", GOOD + "x: " + "[" * 70 + "]" * 70 + "\n", "nested deeper than 64 levels", "16:"),
    Case("spec", "recursion-bomb", GOOD + "x: " + "[" * 5000 + "]" * 5000 + "\n", "nested deeper than 64 levels", "16:"),
    Case(
        "spec",
        "deep-block",
        GOOD + "x:\n" + "".join("  " * (i + 1) + f"k{i}:\n" for i in range(70)) + "  " * 71 + "v\n",
        "nested deeper than 64 levels",
    ),
    Case("spec", "two-documents", GOOD + "---\n" + GOOD, "expected one YAML document, found more than one", "17:1"),
    Case("spec", "document-end-only", "...\n", "invalid YAML", "1:1"),
    Case("spec", "huge-integer", _spec("min: 1", "min: " + "9" * 5000), "a number too large to read", "13:20"),
    Case("spec", "infinity", _spec("max: 2", "max: .inf"), ".inf is read by YAML as infinity", "13:40"),
    Case("spec", "not-a-number", _spec("max: 2", "max: .nan"), ".nan is read by YAML as not a number (NaN)", "13:40"),
    Case("spec", "minus-infinity-tag", _spec("name: corpus-x", "name: !!float -.inf"), "-.inf is read by YAML as minus infinity"),
    Case(
        "spec",
        "sexagesimal-max",
        _spec("max: 2", "max: 1:00:00"),
        "read by YAML 1.1 as a base-60 (sexagesimal) number, 3600",
        "13:40",
    ),
    Case("spec", "explicit-int-octal", _spec("max: 2", "max: !!int 0777"), "0777 is read by YAML 1.1 as octal, 511", "13:40"),
    Case(
        "spec", "hex-in-name", _spec("name: corpus-x", "name: 0xdeadbeef"), "0xdeadbeef is read by YAML 1.1 as hexadecimal", "4:9"
    ),
    Case(
        "spec",
        "yaml12-exponent",
        _spec("max: 2", "max: 1e400"),
        "expected a whole number, got the text '1e400'",
        "13:40",
    ),
    Case("spec", "yaml-bool-name", _spec("name: corpus-x", "name: yes"), 'quote it: "yes"', "4:9"),
    Case(
        "spec", "rtl-override", _spec("name: corpus-x", 'name: "cor\u202epus"'), "'\\u202e' at position 4 is not allowed", "4:9"
    ),
    Case("spec", "cyrillic-confusable", _spec("name: corpus-x", 'name: "c\u043erpus"'), "at position 2 is not allowed", "4:9"),
    Case("spec", "zero-width-space", _spec("name: corpus-x", 'name: "cor\u200bpus"'), "'\\u200b' at position 4", "4:9"),
    Case("spec", "newline-in-name", _spec("name: corpus-x", 'name: "cor\\npus"'), "'\\n' at position 4", "4:9"),
    Case("spec", "half-megabyte-name", _spec("name: corpus-x", "name: " + "a" * 500_000), "(500000 characters)", "4:9"),
    Case("spec", "emoji-name", _spec("name: corpus-x", 'name: "\U0001f4a9"'), "at position 1 is not allowed", "4:9"),
    Case(
        "spec",
        "shell-substitution",
        _spec("name: corpus-x", f'name: "$(touch {SENTINEL})"'),
        "'$' at position 1 is not allowed",
        "4:9",
        sub=True,
    ),
    Case("spec", "backticks", _spec("name: corpus-x", f'name: "`touch {SENTINEL}`"'), "'`' at position 1", "4:9"),
    Case("spec", "template-in-name", _spec("name: corpus-x", "name: \"{{ ''.__class__ }}\""), "'{' at position 1", "4:9"),
    Case("spec", "jinja-statement", _spec("name: corpus-x", 'name: "{% import os %}"'), "'{' at position 1", "4:9"),
    Case(
        "spec",
        "region-injection",
        _spec("region: us-east-1", 'region: "us-east-1; rm -rf /"'),
        "is not an AWS region name",
        "5:11",
    ),
    Case("spec", "region-not-in-botocore", _spec("region: us-east-1", "region: us-east-7"), "is not an AWS region", "5:11"),
    Case("spec", "version-pipe", _spec('"1.33"', '"1.33 | sh"'), 'must be "major.minor"', "7:12"),
    Case("spec", "cidr-injection", _spec("10.0.0.0/16", '"10.0.0.0/16; id"'), "is not a valid IPv4 CIDR block", "9:20"),
    Case("spec", "instance-type-injection", _spec("[t3.medium]", '["t3.medium$(id)"]'), "is not an instance type name", "12:21"),
    Case(
        "spec",
        "tag-value-shell",
        _spec("region: us-east-1", 'region: us-east-1\n  tags: {owner: "$(id)"}'),
        "'$' at position 1",
        "6:17",
    ),
    Case(
        "spec",
        "tag-value-template",
        _spec("region: us-east-1", 'region: us-east-1\n  tags: {o: "{{ spec }}"}'),
        "'{' at position 1",
        "6:13",
    ),
    Case(
        "spec",
        "tag-key-nul",
        _spec("region: us-east-1", 'region: us-east-1\n  tags: {"a\\0b": x}'),
        "'\\x00' at position 2",
        "6:10",
    ),
    Case(
        "spec",
        "reserved-tag-key",
        _spec("region: us-east-1", "region: us-east-1\n  tags: {eks-assist:cluster: other}"),
        "reserved",
        "6:10",
    ),
    Case(
        "spec",
        "label-value-shell",
        _spec("[t3.medium]", '[t3.medium]\n    labels: {app: "; rm -rf /"}'),
        "is not a valid Kubernetes label value",
        "13:19",
    ),
    Case(
        "spec",
        "taint-key-space",
        _spec("[t3.medium]", "[t3.medium]\n    taints: [{key: 'a b', effect: NO_SCHEDULE}]"),
        "taint key 'a b' is not a valid Kubernetes key",
        "13:20",
    ),
    Case(
        "spec",
        "arn-with-newline",
        GOOD + 'iamMappings:\n  - {arn: "arn:aws:iam::123456789012:role/x\\nkind: user", kind: role}\n',
        "is not an IAM role ARN",
        "17:11",
    ),
    Case(
        "spec",
        "kms-arn-injection",
        _spec('version: "1.33"', 'version: "1.33"\n  secretsEncryption: {kmsKeyArn: "arn:aws:kms:us-east-1:1:key/$(id)"}'),
        "is not a KMS key ARN",
        "8:34",
    ),
    # A spec names no file outside the home directory or $KUBECONFIG (the bot writes none at all).
    Case(
        "spec",
        "kubeconfig-path-cron",
        _spec("  write: false\n", "  path: /etc/cron.d/evil\n"),
        "is outside your home directory",
        "15:9",
        sub=True,
    ),
    Case(
        "spec",
        "kubeconfig-path-traversal",
        _spec("  write: false\n", "  path: ../../../../etc/cron.d/evil\n"),
        "is relative",
        "15:9",
    ),
    Case(
        "spec", "kubeconfig-path-home-escape", _spec("  write: false\n", "  path: ~/../../etc/passwd\n"), "contains '..'", "15:9"
    ),
    Case(
        "spec",
        "kubeconfig-path-other-user",
        _spec("  write: false\n", "  path: ~root/.kube/config\n"),
        "another user's home",
        "15:9",
    ),
    Case(
        "spec",
        "nodegroup-case-twin",
        _spec(
            "    scaling: {min: 1, desired: 1, max: 2}\n",
            "    scaling: {min: 1, desired: 1, max: 2}\n  - {name: GENERAL, instanceTypes: [t3.medium]}\n",
        ),
        "differs from 'general' (workers[0]) only in case",
        "14:12",
    ),
    Case(
        "spec",
        "namespace-wildcard-inside",
        GOOD + "iamMappings:\n  - {arn: 'arn:aws:iam::123456789012:role/x', kind: role, accessPolicies: "
        "[{policy: AmazonEKSViewPolicy, scope: namespace, namespaces: ['kube-*-system']}]}\n",
        "a wildcard may only end a namespace",
    ),
    Case("spec", "not-utf8", GOOD.encode().replace(b"corpus-x", b"corp\xff\xfeus"), "file is not UTF-8 text (byte 62)"),
    Case("spec", "lone-surrogate", _spec("name: corpus-x", 'name: "\\ud800"'), "unpaired surrogate", "4:9"),
    # No item cap (a large team's spec has thousands of mappings): the list is read, fast, and
    # the unknown key is named; what bounds the work is the size in bytes.
    Case(
        "spec",
        "200k-item-list",
        GOOD + "x: [" + ",".join("1" for _ in range(200_000)) + "]\n",
        "unknown field 'x'",
        "16:1",
    ),
    Case("spec", "scalar-document", "rm -rf /\n", "spec must be a mapping", "1:1"),
    Case("spec", "eleven-megabytes", "# " + "x" * (11 * 1024 * 1024) + "\n", "larger than 4096 KiB"),
    Case("spec", "dev-zero", "/dev/zero", "is not a regular file", extra={"path": True}, sub=True),
    Case("spec", "fifo", "FIFO", "is not a regular file", extra={"path": True}),
    Case("spec", "directory", "DIR", "is a directory", extra={"path": True}),
    Case("spec", "empty-path", "", "no file name given", extra={"path": True}),
    Case("spec", "symlink-loop", "LOOP", "cannot read file", extra={"path": True}),
    Case("spec", "dangling-symlink", "DANGLING", "no such file", extra={"path": True}),
    Case("spec", "path-too-long", "x" * 5000 + ".yaml", "cannot read file", extra={"path": True}),
    # Valid shape, refused by the AWS checks against the sandbox (read-only calls only).
    Case("spec", "instance-type-not-offered", _spec("[t3.medium]", "[zz9.mega]"), "unknown instance type 'zz9.mega'", "12:21"),
    Case("spec", "version-not-offered", _spec('"1.33"', '"1.99"'), "is not offered by EKS", "7:12"),
    Case(
        "spec",
        "subnets-that-do-not-exist",
        _spec(
            "create: {cidr: 10.0.0.0/16, azCount: 2}",
            "existing: {subnetIds: [subnet-0123456789abcdef0, subnet-0123456789abcdef1]}",
        ),
        "subnet-0123456789abcdef0",
        "9:",
    ),
]

# -- playbooks -------------------------------------------------------------------------------------


def _pb(step: str = "", outputs: str = "", head: str = "name: x\n") -> str:
    body = step or "  - id: a\n    action: ec2.vpc\n    with: {cluster: '{{ spec.metadata.name }}'}\n"
    return head + "steps:\n" + body + (f"outputs:\n{outputs}" if outputs else "")


UNSUPPORTED = "unsupported template expression"
PLAYBOOK_CASES = [
    Case("playbook", "outputs-dunder-class", _pb(outputs="  x: '{{ steps.a.__class__ }}'\n"), UNSUPPORTED, "7:6"),
    Case(
        "playbook",
        "outputs-unknown-root",
        _pb(outputs="  x: '{{ os.environ }}'\n"),
        "undefined template variable 'os.environ'",
        "7:6",
    ),
    Case(
        "playbook",
        "with-dunder-init",
        _pb("  - id: a\n    action: ec2.vpc\n    with: {cluster: '{{ spec.__init__ }}'}\n"),
        UNSUPPORTED,
        "5:21",
    ),
    Case(
        "playbook",
        "when-dunder-dict",
        _pb("  - id: a\n    action: ec2.vpc\n    when: '{{ spec.metadata.__dict__ }}'\n    with: {cluster: x}\n"),
        UNSUPPORTED,
        "5:11",
    ),
    Case(
        "playbook",
        "foreach-method-call",
        _pb("  - id: a\n    action: ec2.vpc\n    foreach: \"{{ ''.join(spec) }}\"\n    with: {cluster: x}\n"),
        UNSUPPORTED,
        "5:14",
    ),
    Case(
        "playbook",
        "key-dunder",
        _pb(
            "  - id: a\n    action: ec2.vpc\n    foreach: '{{ spec.workers }}'\n    key: '{{ item.__class__ }}'\n    with: {cluster: x}\n"
        ),
        UNSUPPORTED,
        "6:10",
    ),
    Case(
        "playbook",
        "subscript-string",
        _pb("  - id: a\n    action: ec2.vpc\n    with: {cluster: \"{{ spec['metadata'] }}\"}\n"),
        UNSUPPORTED,
    ),
    Case(
        "playbook",
        "jinja-filter",
        _pb("  - id: a\n    action: ec2.vpc\n    with: {cluster: '{{ spec.metadata.name | upper }}'}\n"),
        UNSUPPORTED,
    ),
    Case(
        "playbook",
        "globals-escape",
        _pb("  - id: a\n    action: ec2.vpc\n    with: {cluster: '{{ lipsum.__globals__.os }}'}\n"),
        UNSUPPORTED,
    ),
    Case(
        "playbook",
        "giant-index",
        _pb("  - id: a\n    action: ec2.vpc\n    with: {cluster: '{{ spec.workers[99999999999] }}'}\n"),
        UNSUPPORTED,
    ),
    Case(
        "playbook",
        "unbalanced-braces",
        _pb("  - id: a\n    action: ec2.vpc\n    with: {cluster: '{{ spec.metadata.name }} }}'}\n"),
        "unbalanced '{{' / '}}'",
        "5:21",
    ),
    Case(
        "playbook", "import-action", _pb("  - id: a\n    action: \"__import__('os')\"\n    with: {}\n"), "unknown action", "4:13"
    ),
    Case(
        "playbook",
        "step-id-injection",
        _pb("  - id: 'a; rm -rf /'\n    action: ec2.vpc\n    with: {cluster: x}\n"),
        "step id",
        "3:9",
    ),
    Case(
        "playbook",
        "as-shadows-spec",
        _pb("  - id: a\n    action: ec2.vpc\n    as: spec\n    with: {cluster: x}\n"),
        "'as' must be",
        "5:9",
    ),
    Case(
        "playbook",
        "with-is-a-list",
        _pb("  - id: a\n    action: ec2.vpc\n    with: [cluster, x]\n"),
        "expected a mapping",
        "5:11",
    ),
    Case("playbook", "steps-is-a-string", "name: x\nsteps: rm -rf /\n", "expected a list", "2:8"),
    Case(
        "playbook",
        "needs-is-a-string",
        _pb("  - id: a\n    action: ec2.vpc\n    needs: a\n    with: {cluster: x}\n"),
        "expected a list",
        "5:12",
    ),
    Case("playbook", "anchors", "name: &n x\nsteps: []\n", "YAML anchors and aliases", "1:7"),
    Case("playbook", "include-itself", "name: x\ninclude: [pb.yaml]\nsteps: []\n", "include cycle", "2:11"),
    Case(
        "playbook",
        "include-missing",
        "name: x\ninclude: [nope.yaml]\nsteps: []\n",
        "included playbook nope.yaml not found",
        "2:11",
    ),
    Case("playbook", "include-dev-zero", "name: x\ninclude: [/dev/zero]\nsteps: []\n", "is not a regular file"),
    Case("playbook", "include-passwd", "name: x\ninclude: [/etc/passwd]\nsteps: []\n", "/etc/passwd"),
    Case("playbook", "include-directory", "name: x\ninclude: [/tmp]\nsteps: []\n", "is a directory"),
    Case("playbook", "playbook-is-dev-zero", "->/dev/zero", "is not a regular file", sub=True),
    Case("playbook", "two-megabytes", "name: x\nsteps: []\n# " + "x" * (2 * 1024 * 1024) + "\n", "larger than 1024 KiB"),
    Case("playbook", "list-document", "- name: x\n", "playbook must be a mapping", "1:1"),
]

# -- CLI arguments ---------------------------------------------------------------------------------

HEX64 = "ab" * 32
CLI_CASES = [
    Case("cli", "runs-limit-overflow", ["runs", "--limit", "9" * 20], "--limit must be between 1 and 100000", sub=True),
    Case("cli", "runs-limit-zero", ["runs", "--limit", "0"], "--limit must be between 1 and 100000"),
    Case("cli", "audit-limit-overflow", ["audit", "--limit", "9" * 20], "--limit must be between 1 and 100000"),
    Case("cli", "runs-like-wildcard", ["runs", "%"], "'%' is not a run id"),
    Case("cli", "runs-empty-id", ["runs", ""], "'' is not a run id"),
    Case("cli", "resume-like-wildcard", ["resume", "%"], "'%' is not a run id", sub=True),
    Case("cli", "resume-sql", ["resume", "'; DROP TABLE runs; --"], "is not a run id"),
    Case("cli", "resume-underscore-wildcard", ["resume", "_"], "'_' is not a run id"),
    Case("cli", "status-empty-name", ["status", ""], "cluster: '' is not an EKS cluster name"),
    Case("cli", "status-path-traversal", ["status", "../../etc"], "'../../etc' is not an EKS cluster name", sub=True),
    Case("cli", "status-rtl-override", ["status", "a\u202eb"], "is not an EKS cluster name"),
    Case("cli", "status-non-utf8", ["status", "\udcff\udcfe"], "is not an EKS cluster name", sub=True),
    Case(
        "cli",
        "region-injection",
        ["plan", "-f", "SPEC", "--region", "us-east-1; rm -rf /"],
        "--region: 'us-east-1; rm -rf /' is not",
    ),
    Case("cli", "region-empty", ["plan", "-f", "SPEC", "--region", ""], "--region: '' is not an AWS region name"),
    Case(
        "cli",
        "region-unknown-shape",
        ["status", "corpus", "--region", "mars-1"],
        "--region: 'mars-1' is not an AWS region name",
        sub=True,
    ),
    Case(
        "cli",
        "region-not-in-botocore",
        ["status", "corpus", "--region", "us-east-7"],
        "--region: 'us-east-7' is not an AWS region; did you mean 'us-east-2'?",
        sub=True,
    ),
    Case("cli", "region-upper-case", ["plan", "-f", "SPEC", "--region", "US-EAST-1"], "region names are lowercase"),
    Case(
        "cli",
        "region-fips-endpoint",
        ["access", "list", "--cluster", "corpus", "--region", "fips-us-east-1"],
        "is not an AWS region",
    ),
    Case(
        "cli",
        "token-region-unknown",
        ["token", "--cluster-name", "corpus", "--region", "ap-southeast-9"],
        "did you mean 'ap-southeast-7'?",
    ),
    Case("cli", "poll-max-nan", ["apply", "-f", "SPEC", "--approve", HEX64, "--poll-max", "nan"], "--poll-max must be positive"),
    Case("cli", "poll-max-inf", ["apply", "-f", "SPEC", "--approve", HEX64, "--poll-max", "inf"], "--poll-max must be positive"),
    Case(
        "cli",
        "lock-timeout-negative",
        ["apply", "-f", "SPEC", "--lock-timeout", "-1"],
        "--lock-timeout must be between 0 and 86400",
    ),
    Case("cli", "parallelism-text", ["apply", "-f", "SPEC", "--parallelism", "1; id"], "invalid int value: '1; id'"),
    Case("cli", "approve-sql", ["apply", "-f", "SPEC", "--approve", "'; DROP TABLE runs; --"], "is not a plan hash", code=3),
    Case("cli", "approve-like-wildcard", ["destroy", "-f", "SPEC", "--approve", "%"], "'%' is not a plan hash", code=3),
    Case(
        "cli",
        "access-empty-cluster",
        ["access", "check", "--cluster", "", "--principal", "arn:aws:iam::123456789012:role/x"],
        "--cluster: ''",
    ),
    Case(
        "cli",
        "access-principal-shell",
        ["access", "check", "--cluster", "corpus", "--principal", "$(id)"],
        "is not an IAM principal ARN",
    ),
    Case(
        "cli", "token-empty-cluster", ["token", "--cluster-name", ""], "--cluster-name: '' is not an EKS cluster name", sub=True
    ),
    Case("cli", "token-cluster-newline", ["token", "--cluster-name", "a\nb"], "is not an EKS cluster name"),
    Case(
        "cli",
        "token-role-arn",
        ["token", "--cluster-name", "corpus", "--role-arn", "not-an-arn"],
        "--role-arn: 'not-an-arn' is not",
    ),
    Case("cli", "token-region", ["token", "--cluster-name", "corpus", "--region", "mars"], "--region: 'mars' is not"),
    Case(
        "cli",
        "token-exec-info-garbage",
        ["token", "--cluster-name", "corpus"],
        "KUBERNETES_EXEC_INFO is not valid JSON",
        extra={"env": {"KUBERNETES_EXEC_INFO": "{not json"}},
    ),
    Case(
        "cli",
        "token-exec-info-version",
        ["token", "--cluster-name", "corpus"],
        "asks for apiVersion 'v999'",
        extra={"env": {"KUBERNETES_EXEC_INFO": '{"apiVersion": "v999"}'}},
    ),
    Case("cli", "kubeconfig-empty-cluster", ["kubeconfig", "--cluster", ""], "--cluster: '' is not an EKS cluster name"),
    Case(
        "cli",
        "kubeconfig-alias-newline",
        ["kubeconfig", "--cluster", "corpus", "--alias", "a\nb"],
        "--alias: 'a\\nb' is not a usable",
    ),
    Case("cli", "kubeconfig-alias-empty", ["kubeconfig", "--cluster", "corpus", "--alias", ""], "--alias: '' is not a usable"),
    Case(
        "cli",
        "kubeconfig-role-arn",
        ["kubeconfig", "--cluster", "corpus", "--role-arn", "x"],
        "--role-arn: 'x' is not an IAM role ARN",
    ),
    Case("cli", "kubeconfig-empty-path", ["kubeconfig", "--cluster", "corpus", "--path", ""], "--path: the path is empty"),
    Case("cli", "playbook-empty", ["plan", "-f", "SPEC", "--playbook", ""], "unknown playbook ''"),
    Case("cli", "playbooks-traversal", ["playbooks", "../../../../etc/passwd"], "unknown playbook '../../../../etc/passwd'"),
    Case(
        "cli",
        "store-url-scheme",
        ["runs"],
        "unsupported store URL scheme 'postgresql'",
        extra={"env": {"EKS_ASSIST_STORE": "postgresql://x"}},
    ),
    Case("cli", "output-format", ["runs", "-o", "yaml"], "invalid choice: 'yaml'"),
    Case("cli", "unknown-verb-injection", ["$(id)"], "invalid choice: '$(id)'", sub=True),
    Case(
        "cli",
        "sandbox-with-profile",
        ["status", "corpus", "--sandbox", "--profile", "prod"],
        "--profile cannot be combined with --sandbox",
    ),
]

# -- kubeconfig files ------------------------------------------------------------------------------

KC_OK = "apiVersion: v1\nkind: Config\nclusters: []\nusers: []\ncontexts: []\n"
KUBECONFIG_CASES = [
    Case("kubeconfig", "not-yaml", "clusters: [\n  - {name: a\n", "not valid YAML", "2:3"),
    Case("kubeconfig", "list-at-top", "- a\n- b\n", "the top level is not a mapping", "1:1"),
    Case("kubeconfig", "scalar-at-top", "rm -rf /\n", "the top level is not a mapping", "1:1"),
    Case("kubeconfig", "clusters-is-a-number", "apiVersion: v1\nclusters: 5\n", "clusters must be a list of entries", "2:11"),
    Case("kubeconfig", "clusters-is-a-string", "apiVersion: v1\nclusters: abc\n", "clusters must be a list of entries", "2:11"),
    Case(
        "kubeconfig",
        "clusters-is-a-mapping",
        "apiVersion: v1\nclusters: {name: x}\n",
        "clusters must be a list of entries",
        "2:11",
    ),
    Case("kubeconfig", "users-of-numbers", "apiVersion: v1\nusers: [1, 2]\n", "each entry must be a mapping", "2:9"),
    Case("kubeconfig", "contexts-of-lists", "apiVersion: v1\ncontexts:\n  - [a]\n", "each entry must be a mapping", "3:5"),
    Case(
        "kubeconfig",
        "name-is-a-number",
        "apiVersion: v1\nclusters:\n  - {name: 5}\n",
        "each entry must be a mapping with a string name",
    ),
    Case(
        "kubeconfig", "current-context-list", "apiVersion: v1\ncurrent-context: [a]\n", "current-context must be a string", "2:18"
    ),
    Case("kubeconfig", "duplicate-top-key", KC_OK + "clusters: []\n", "duplicate key 'clusters'", "6:1"),
    Case("kubeconfig", "duplicate-our-name", "DUPLICATE", "clusters has 2 entries named"),
    Case(
        "kubeconfig",
        "billion-laughs",
        "a: &a [x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n" + KC_OK,
        "uses YAML anchors and aliases",
    ),
    Case("kubeconfig", "nul-byte", KC_OK + "current-context: a\0b\n", "U+0000 is not allowed in YAML text", "6:19"),
    Case("kubeconfig", "not-utf8", KC_OK.encode() + b"# \xff\xfe\n", "is not UTF-8 text (byte 66)"),
    Case("kubeconfig", "deep-nesting", "x: " + "[" * 3000 + "]" * 3000 + "\n", "nested too deeply"),
    Case("kubeconfig", "nine-megabytes", "# " + "x" * (9 * 1024 * 1024) + "\n", "larger than 8 MiB"),
    Case("kubeconfig", "symlink-to-dev-zero", "->/dev/zero", "is not a regular file"),
    Case("kubeconfig", "fifo", "FIFO", "is not a regular file"),
    Case("kubeconfig", "directory", "DIR", "is a directory"),
    Case("kubeconfig", "symlink-loop", "LOOP", "Too many levels of symbolic links"),
    Case("kubeconfig", "parent-is-a-file", "UNDER-FILE", "Not a directory"),
    # The same files reached through an apply's kubeconfig step: refused while planning, located.
    Case(
        "kubeconfig",
        "plan-clusters-is-a-string",
        "apiVersion: v1\nclusters: abc\n",
        "clusters must be a list",
        "2:11",
        extra={"plan": True},
    ),
    Case("kubeconfig", "plan-anchors", "a: &a x\nb: *a\n", "uses YAML anchors and aliases", extra={"plan": True}),
]

# -- tokens presented to the sandbox Kubernetes API --------------------------------------------------

TOKEN_CASES = [
    Case("token", c, c, "Unauthorized", code=401)
    for c in (
        "no-header",
        "empty-bearer",
        "basic-auth",
        "garbage",
        "prefix-only",
        "bad-base64",
        "base64-of-binary",
        "not-a-url",
        "foreign-host",
        "lookalike-host",
        "file-scheme",
        "path-not-root",
        "assume-role-action",
        "repeated-parameter",
        "tampered-signature",
        "tampered-access-key",
        "unknown-access-key",
        "expired",
        "dated-in-future",
        "expires-too-long",
        "wrong-cluster-id",
        "header-not-signed",
        "unmapped-iam-user",
        "non-ascii",
        "sixty-kilobytes",
    )
] + [
    Case("token", "header-flood", "header-flood", "Too many headers", code=431),
    Case("token", "bad-content-length", "bad-content-length", "invalid Content-Length", code=400),
]

# -- Slack payloads ----------------------------------------------------------------------------------

SLACK_CASES = [
    Case("slack", c, c, e, code=s)
    for c, e, s in (
        ("unsigned", "invalid request", 401),
        ("wrong-secret", "invalid request", 401),
        ("signature-of-other-body", "invalid request", 401),
        ("old-timestamp", "invalid request", 401),
        ("future-timestamp", "invalid request", 401),
        ("non-numeric-timestamp", "invalid request", 401),
        ("v1-signature", "invalid request", 401),
        ("empty-signature", "invalid request", 401),
        ("replayed-old-request", "invalid request", 401),
        ("two-megabytes", "larger than", 413),
        ("not-utf8-body", "not UTF-8", 400),
        ("payload-not-json", "malformed request body", 400),
        ("payload-list", "malformed request body", 400),
        ("payload-null", "malformed request body", 400),
        ("payload-number", "malformed request body", 400),
        ("json-content-type", "malformed request body", 400),
        ("unknown-payload-type", "unhandled request", 404),
        ("command-nul", "is not a plain word", 200),
        ("command-too-long", "the command is too long", 200),
        ("command-template", "is not a spec name", 200),
        ("command-path-traversal", "is not a spec name", 200),
        ("command-cluster-traversal", "is not an EKS cluster name", 200),
        ("command-unlock-not-admin", "is not an admin", 200),
        ("command-map-role-bad-arn", "'not-an-arn' is not an IAM role ARN", 200),
        ("command-access-bad-arn", "is not an IAM principal ARN", 200),
        ("command-other-channel", "not accepted in this channel", 200),
        ("command-no-user", "user_id must be a string", 400),
        ("command-unknown-verb", "unknown command", 200),
        ("command-other-slash", "unhandled request", 404),
        ("approve-unknown-request", "no change request 'nope'", 200),
        ("approve-sql", "no change request", 200),
        ("approve-own-request", "someone else must approve it (four-eyes rule)", 200),
        ("approve-not-an-approver", "U0MALLORY is not an approver", 200),
        ("approve-other-channel", "not accepted in this channel", 200),
        ("approve-huge-value", "longer than 3000 characters", 400),
        ("reject-unknown-request", "no change request 'nope'", 200),
        ("resume-unknown-run", "no run 'nope'", 200),
        ("actions-not-a-list", "actions must be a non-empty list", 400),
        ("action-value-object", "must be a string", 400),
        ("action-without-user", "user must be an object", 400),
        ("unknown-action-id", "unhandled request", 404),
        ("view-template-name", "cluster name must be", 200),
        ("view-nul-name", "view.state.values.name contains a NUL character", 400),
        ("view-nodes-not-a-number", "enter a whole number", 200),
        ("view-mappings-garbage", "is not an IAM role ARN", 200),
        ("view-without-state", "view.state.values must be an object", 400),
        ("view-values-list", "view.state.values must be an object", 400),
        ("view-element-string", "must map action ids to objects", 400),
        ("view-metadata-garbage", "opened outside the bot's channels", 200),
        ("view-metadata-list", "opened outside the bot's channels", 200),
        ("view-unknown-callback", "unhandled request", 404),
        ("reject-view-bad-metadata", "metadata is not the bot's", 200),
        ("reject-view-unknown-request", "no change request 'nope'", 200),
    )
]

ALL = SPEC_CASES + PLAYBOOK_CASES + CLI_CASES + KUBECONFIG_CASES + TOKEN_CASES + SLACK_CASES
IDS = [f"{c.door}-{c.id}" for c in ALL]
assert len(set(IDS)) == len(IDS), Counter(IDS).most_common(3)


def _summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    by_door = Counter(r["door"] for r in rows)
    clear = sum(1 for r in rows if r["clear"])
    tracebacks = sum(r["tracebacks"] for r in rows)
    changed = sum(1 for r in rows if r["changed"])
    bad = len(rows) - clear + tracebacks + changed
    return {
        "runs": len(rows),
        "faults": "hostile input: " + ", ".join(f"{k} {v}" for k, v in sorted(by_door.items())),
        "outcome": "ok" if bad == 0 else "FAILED",
        "inputs": len(rows),
        "clear_errors": clear,
        "tracebacks": tracebacks,
        "changes": changed,
        "subprocess_runs": sum(1 for r in rows if r.get("subprocess")),
        "secrets_found": sum(r.get("secrets", 0) for r in rows),
    }


TALLY = Tally("bad-input corpus", IDS, _summary)


# -- shared setup ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    with make_world(tmp_path_factory.mktemp("corpus")) as w:
        yield w


@pytest.fixture
def here(world: World, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> World:
    """Point this test's environment at the module's world, from a fresh working directory."""
    world.use(monkeypatch)
    monkeypatch.chdir(tmp_path)
    return world


@pytest.fixture(scope="module")
def slack(world: World) -> Iterator[Any]:
    with MockSlack() as mock, serve_bot(mock, world.policy) as harness:
        yield harness


def _observe(case: Case, shown: str, *, clear: bool, changed: bool, subprocess_run: bool = False) -> list[str]:
    found = leaks(shown)
    secrets = fake.scan_texts({case.id: shown})
    TALLY.add(
        f"{case.door}-{case.id}",
        door=case.door,
        clear=clear,
        tracebacks=len(found),
        changed=changed,
        subprocess=subprocess_run,
        secrets=len(secrets),
    )
    assert not secrets, secrets
    return found


def _located(err: str, name: str, case: Case) -> bool:
    """The error names the file (and the line:col the case expects) and says what is wrong."""
    lines = [ln.removeprefix("error: ").removeprefix("eks-assist kubeconfig: ") for ln in err.splitlines()]
    prefix = f"{name}:{case.where}" if case.where else name
    return case.expect in err and any(ln.startswith(prefix) for ln in lines)


# -- running the CLI ---------------------------------------------------------------------------------


def _subprocess(argv: list[str], env: dict[str, str], cwd: Path) -> tuple[int, str, str]:
    args = [sys.executable, "-m", "assistant.cli", *argv]
    proc = subprocess.run(
        [a.encode("utf-8", "surrogateescape") for a in args], env=env, cwd=cwd, capture_output=True, timeout=120
    )
    return proc.returncode, proc.stdout.decode("utf-8", "replace"), proc.stderr.decode("utf-8", "replace")


def _file_input(tmp_path: Path, case: Case, name: str) -> str:
    """Write the case's file (or special file) as ``name`` in ``tmp_path``; the path to pass."""
    target = tmp_path / name
    data = case.data
    if case.extra.get("path"):
        special = {"FIFO": lambda: os.mkfifo(target), "DIR": lambda: target.mkdir()}
        if data in special:
            special[data]()
            return str(target)
        if data == "LOOP":
            os.symlink(tmp_path / "loop-b", tmp_path / "loop-a")
            os.symlink(tmp_path / "loop-a", tmp_path / "loop-b")
            return str(tmp_path / "loop-a")
        if data == "DANGLING":
            os.symlink(tmp_path / "nowhere.yaml", target)
            return str(target)
        return str(data)
    if isinstance(data, str) and data.startswith("->"):
        os.symlink(data[2:], target)
        return str(target)
    if isinstance(data, bytes):
        target.write_bytes(data)
    else:
        target.write_text(data, encoding="utf-8")
    return str(target)


def _check_cli(
    world: World, cli: CliRunner, tmp_path: Path, case: Case, argv: list[str], name: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    for k, v in case.extra.get("env", {}).items():
        monkeypatch.setenv(k, v)
    before = world.snapshot()
    r = cli(*argv)
    results = [(r.code, r.out, r.err)]
    if case.sub:
        results.append(_subprocess(argv, dict(os.environ), tmp_path))
    after = world.snapshot()
    changed = after != before or os.path.exists(SENTINEL)
    clear = True
    shown = ""
    for code, out, err in results:
        shown += out + err
        clear = clear and code == case.code and (_located(err, name, case) if name else case.expect in err)
    found = _observe(case, shown, clear=clear, changed=changed, subprocess_run=case.sub)
    assert not found, (found, shown[-3000:])
    assert not changed, diff(before, after)
    for code, _out, err in results:
        assert code == case.code, (code, err[-2000:])
        if name:
            assert _located(err, name, case), err[-2000:]
        else:
            assert case.expect in err, err[-2000:]
    assert clear


@pytest.mark.parametrize("case", SPEC_CASES, ids=[c.id for c in SPEC_CASES])
def test_spec_file(here: World, cli: CliRunner, tmp_path: Path, case: Case, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _file_input(tmp_path, case, "spec.yaml")
    # A special path (a device, a loop) must be named in the error as it was given.
    name = path if case.extra.get("path") else "spec.yaml"
    _check_cli(here, cli, tmp_path, case, ["plan", "-f", path if case.extra.get("path") else "spec.yaml"], name, monkeypatch)


@pytest.mark.parametrize("case", PLAYBOOK_CASES, ids=[c.id for c in PLAYBOOK_CASES])
def test_playbook(here: World, cli: CliRunner, tmp_path: Path, case: Case, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "spec.yaml").write_text(GOOD, encoding="utf-8")
    _file_input(tmp_path, case, "pb.yaml")
    name = "pb.yaml" if case.where else None
    _check_cli(here, cli, tmp_path, case, ["plan", "-f", "spec.yaml", "--playbook", "pb.yaml"], name, monkeypatch)


@pytest.mark.parametrize("case", CLI_CASES, ids=[c.id for c in CLI_CASES])
def test_cli_argument(here: World, cli: CliRunner, tmp_path: Path, case: Case, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "spec.yaml").write_text(spec_text(CLUSTER), encoding="utf-8")
    argv = ["spec.yaml" if a == "SPEC" else a for a in case.data]
    _check_cli(here, cli, tmp_path, case, argv, None, monkeypatch)


# -- kubeconfig files ----------------------------------------------------------------------------------


def _kubeconfig_file(world: World, tmp_path: Path, case: Case) -> tuple[Path, Path]:
    """(the path to pass, the file whose bytes must not change)."""
    path = tmp_path / "config"
    data = case.data
    if data == "DUPLICATE":
        arn = world.cluster["arn"]
        entry = f"  - name: {arn}\n    cluster: {{server: 'https://x'}}\n"
        path.write_text(f"apiVersion: v1\nkind: Config\nclusters:\n{entry}{entry}", encoding="utf-8")
    elif data == "FIFO":
        os.mkfifo(path)
    elif data == "DIR":
        path.mkdir()
    elif data == "LOOP":
        os.symlink(tmp_path / "config-b", path)
        os.symlink(path, tmp_path / "config-b")
    elif data == "UNDER-FILE":
        (tmp_path / "plain").write_text("x", encoding="utf-8")
        return tmp_path / "plain" / "config", tmp_path / "plain"
    elif isinstance(data, str) and data.startswith("->"):
        os.symlink(data[2:], path)
    elif isinstance(data, bytes):
        path.write_bytes(data)
    else:
        path.write_text(data, encoding="utf-8")
    return path, path


def _fingerprint(directory: Path) -> dict[str, Any]:
    """Names, kinds and bytes of everything in ``directory`` (regular files only are read)."""
    out: dict[str, Any] = {}
    for p in sorted(directory.iterdir()):
        if p.is_symlink():
            out[p.name] = ("link", os.readlink(p))
        elif p.is_dir():
            out[p.name] = ("dir", sorted(x.name for x in p.iterdir()))
        elif p.is_file():
            out[p.name] = ("file", hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mode & 0o777)
        else:
            out[p.name] = ("special",)
    return out


@pytest.mark.parametrize("case", KUBECONFIG_CASES, ids=[c.id for c in KUBECONFIG_CASES])
def test_kubeconfig_file(here: World, cli: CliRunner, tmp_path: Path, case: Case) -> None:
    # Under the home directory: a spec may name a kubeconfig only there (or in $KUBECONFIG).
    kc_dir = Path.home() / "kc"
    kc_dir.mkdir(parents=True)
    path, _guarded = _kubeconfig_file(here, kc_dir, case)
    files_before = _fingerprint(kc_dir)
    before = here.snapshot()
    if case.extra.get("plan"):
        spec = spec_text(CLUSTER).replace("kubeconfig:\n  write: false\n", f"kubeconfig:\n  path: {path}\n")
        (tmp_path / "spec.yaml").write_text(spec, encoding="utf-8")
        r = cli("plan", "-f", "spec.yaml", "--playbook", "kubeconfig")
    else:
        r = cli("kubeconfig", "--cluster", CLUSTER, "--path", str(path))
    changed = here.snapshot() != before or _fingerprint(kc_dir) != files_before
    located = f"{path}:{case.where}" if case.where else str(path)
    clear = r.code == 2 and case.expect in r.err and located in r.err
    found = _observe(case, r.out + r.err, clear=clear, changed=changed)
    assert not found, r
    assert not changed
    assert r.code == 2, r
    assert case.expect in r.err and located in r.err, r.err


# -- tokens ------------------------------------------------------------------------------------------


def _presign(host: str, cluster: str, key: str, secret: str, when: dt.datetime, **over: str) -> str:
    """A SigV4-presigned STS GetCallerIdentity URL, written from the spec (not with the code under test)."""
    amz_date = when.strftime("%Y%m%dT%H%M%SZ")
    date = amz_date[:8]
    query = {
        "Action": "GetCallerIdentity",
        "Version": "2011-06-15",
        "X-Amz-Algorithm": "AWS4-HMAC-SHA256",
        "X-Amz-Credential": f"{key}/{date}/us-east-1/sts/aws4_request",
        "X-Amz-Date": amz_date,
        "X-Amz-Expires": "60",
        "X-Amz-SignedHeaders": "host;x-k8s-aws-id",
    }
    signed_headers_list = over.pop("signed", "host;x-k8s-aws-id")
    query["X-Amz-SignedHeaders"] = signed_headers_list
    query.update(over)
    canonical_query = "&".join(
        f"{urllib.parse.quote(k, safe='-_.~')}={urllib.parse.quote(v, safe='-_.~')}" for k, v in sorted(query.items())
    )
    headers = f"host:{host}\n" + (f"x-k8s-aws-id:{cluster}\n" if "x-k8s-aws-id" in signed_headers_list else "")
    request = f"GET\n/\n{canonical_query}\n{headers}\n{signed_headers_list}\nUNSIGNED-PAYLOAD"
    scope = f"{date}/us-east-1/sts/aws4_request"
    to_sign = f"AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{hashlib.sha256(request.encode()).hexdigest()}"
    k = f"AWS4{secret}".encode()
    for part in (date, "us-east-1", "sts", "aws4_request"):
        k = hmac.new(k, part.encode(), hashlib.sha256).digest()
    sig = hmac.new(k, to_sign.encode(), hashlib.sha256).hexdigest()
    return f"http://{host}/?{canonical_query}&X-Amz-Signature={sig}"


def _token(url: str) -> str:
    return "k8s-aws-v1." + base64.urlsafe_b64encode(url.encode()).decode().rstrip("=")


def _token_headers(world: World, which: str) -> dict[str, str]:
    host = urllib.parse.urlsplit(world.sandbox.aws_url).netloc
    now = dt.datetime.now(dt.UTC)
    key, secret = fake.AWS_ACCESS_KEY_ID, fake.AWS_SECRET_ACCESS_KEY

    def good(**over: Any) -> str:
        return _presign(
            over.pop("host", host),
            over.pop("cluster", CLUSTER),
            over.pop("key", key),
            over.pop("secret", secret),
            over.pop("when", now),
            **over,
        )

    # The control: a well-formed token signed by the cluster creator is accepted (see test_token_control).
    bearer = {
        "empty-bearer": "Bearer ",
        "basic-auth": "Basic " + base64.b64encode(b"admin:admin").decode(),
        "garbage": "Bearer garbage",
        "prefix-only": "Bearer k8s-aws-v1.",
        "bad-base64": "Bearer k8s-aws-v1.!!!!",
        "base64-of-binary": "Bearer k8s-aws-v1." + base64.urlsafe_b64encode(b"\xff\xfe\x00\x01").decode(),
        "not-a-url": "Bearer " + _token("hello world"),
        "foreign-host": "Bearer " + _token(good(host="evil.example.com")),
        "lookalike-host": "Bearer " + _token(good(host="sts.amazonaws.com.evil.example")),
        "file-scheme": "Bearer " + _token("file:///etc/passwd?Action=GetCallerIdentity"),
        "path-not-root": "Bearer " + _token(good().replace("/?", "/evil?", 1)),
        "assume-role-action": "Bearer " + _token(good(Action="AssumeRole")),
        "repeated-parameter": "Bearer " + _token(good() + "&Action=GetCallerIdentity"),
        "tampered-signature": "Bearer " + _token(good()[:-4] + ("0000" if not good().endswith("0000") else "1111")),
        "tampered-access-key": "Bearer " + _token(good().replace(key, "AKIAOTHERKEY00000001")),
        "unknown-access-key": "Bearer " + _token(good(key="AKIAUNKNOWNKEY000001")),
        "expired": "Bearer " + _token(good(when=now - dt.timedelta(minutes=20))),
        "dated-in-future": "Bearer " + _token(good(when=now + dt.timedelta(minutes=30))),
        "expires-too-long": "Bearer " + _token(good(**{"X-Amz-Expires": "86400"})),
        "wrong-cluster-id": "Bearer " + _token(good(cluster="another-cluster")),
        "header-not-signed": "Bearer " + _token(good(signed="host")),
        "unmapped-iam-user": "Bearer " + _token(good(key=world_user(world)[0], secret=world_user(world)[1])),
        "non-ascii": "Bearer k8s-aws-v1.\u00e9\u00e9",
        "control": "Bearer " + _token(good()),
    }
    if which == "no-header":
        return {}
    if which == "sixty-kilobytes":  # just under the server's line limit, so it is read and judged
        return {"Authorization": "Bearer k8s-aws-v1." + "A" * 60_000}
    if which == "header-flood":
        return {"Authorization": bearer["control"], **{f"X-Drill-{i}": "x" for i in range(150)}}
    if which == "bad-content-length":
        return {"Authorization": bearer["control"], "Content-Length": "12abc"}
    return {"Authorization": bearer[which]}


_USER: dict[int, tuple[str, str]] = {}


def world_user(world: World) -> tuple[str, str]:
    """An IAM user with keys, mapped to nothing in the cluster (created once per world)."""
    if id(world) not in _USER:
        import boto3

        iam = boto3.client("iam", region_name="us-east-1")
        iam.create_user(UserName="drill-outsider")
        k = iam.create_access_key(UserName="drill-outsider")["AccessKey"]
        _USER[id(world)] = (k["AccessKeyId"], k["SecretAccessKey"])
    return _USER[id(world)]


def _kube_request(world: World, headers: dict[str, str], body: bytes) -> tuple[int, str]:
    import http.client

    ca = base64.b64decode(world.cluster["certificateAuthority"]["data"]).decode()
    url = urllib.parse.urlsplit(world.cluster["endpoint"])
    conn = http.client.HTTPSConnection(url.hostname, url.port, context=ssl.create_default_context(cadata=ca), timeout=30)
    try:
        conn.putrequest("POST", url.path + "/api/v1/namespaces/default/configmaps", skip_accept_encoding=True)
        sent = {"Content-Type": "application/json", "Content-Length": str(len(body)), **headers}
        for k, v in sent.items():
            conn.putheader(k, v.encode("utf-8"))
        conn.endheaders(body)
        resp = conn.getresponse()
        return resp.status, resp.read().decode("utf-8", "replace")
    finally:
        conn.close()


PROBE = json.dumps({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "drill-probe"}, "data": {"x": "1"}}).encode()


def test_token_control(here: World) -> None:
    """The control for the token cases: the same request with a valid token is accepted (so 401 means refused)."""
    world_user(here)  # created before any snapshot
    status, body = _kube_request(
        here,
        _token_headers(here, "control"),
        json.dumps({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "drill-control"}}).encode(),
    )
    assert status == 201, body


@pytest.mark.parametrize("case", TOKEN_CASES, ids=[c.id for c in TOKEN_CASES])
def test_token(here: World, case: Case) -> None:
    headers = _token_headers(here, case.data)
    before = here.snapshot()
    status, body = _kube_request(here, headers, PROBE)
    changed = here.snapshot() != before
    clear = status == case.code and case.expect in body
    found = _observe(case, body, clear=clear, changed=changed)
    assert not found, body
    assert not changed
    assert (status, case.expect in body) == (case.code, True), (status, body[:500])
    if status == 401:
        assert json.loads(body)["reason"] == "Unauthorized"


# -- Slack -----------------------------------------------------------------------------------------------


def _form(fields: dict[str, str]) -> str:
    return urllib.parse.urlencode(fields)


def _slack_send(bot: Any, name: str) -> Any:
    """Send the case's request; returns the HTTP reply."""
    mock: MockSlack = bot.mock
    secret = bot.secret
    cmd = command_body("apply corpus", user=REQUESTER, channel=CHANNEL, response_url=mock.response_url(name))

    def command(text: str, *, user: str = REQUESTER, channel: str = CHANNEL) -> Any:
        return bot.post(command_body(text, user=user, channel=channel, response_url=mock.response_url(name)))

    def click(
        action: str,
        value: str,
        *,
        user: str = ALICE,
        channel: str = CHANNEL,
        edit: Callable[[dict[str, Any]], None] | None = None,
    ) -> Any:
        payload = block_action(action, value, user=user, channel=channel, message_ts="1.000001")
        if edit:
            edit(payload)
        return bot.post(interactive_body(payload))

    view = new_cluster.view(CHANNEL, "us-east-1")

    def values(**over: str) -> dict[str, Any]:
        base = {
            "name": "okname",
            "region": "us-east-1",
            "version": "1.33",
            "instance_type": "t3.medium",
            "nodes_min": "1",
            "nodes_desired": "1",
            "nodes_max": "2",
            "vpc": "create",
            "vpc_cidr": "10.0.0.0/16",
            "subnets": "",
            "mappings": "",
        }
        base.update(over)
        out: dict[str, Any] = {}
        for k, v in base.items():
            if k in ("region", "version", "vpc"):
                out[k] = {"value": {"type": "static_select", "selected_option": {"value": v}}}
            else:
                out[k] = {"value": {"type": "plain_text_input", "value": v}}
        return out

    def submit(vals: Any, v: dict[str, Any] | None = None) -> Any:
        return bot.post(interactive_body(view_submission(v or view, vals, user=REQUESTER)))

    from slackbot import blocks as bk

    reject_view = {"type": "modal", "callback_id": bk.REJECT_VIEW, "private_metadata": "{not json"}
    now = time.time()
    senders: dict[str, Callable[[], Any]] = {
        "unsigned": lambda: bot.post(cmd, {"content-type": "application/x-www-form-urlencoded"}),
        "wrong-secret": lambda: bot.post(cmd, signed_headers("not-the-secret", cmd)),
        "signature-of-other-body": lambda: bot.post(cmd, signed_headers(secret, cmd.replace("corpus", "other"))),
        "old-timestamp": lambda: bot.post(cmd, signed_headers(secret, cmd, timestamp=now - 6 * 60)),
        "future-timestamp": lambda: bot.post(cmd, signed_headers(secret, cmd, timestamp=now + 6 * 60)),
        "non-numeric-timestamp": lambda: bot.post(cmd, {**signed_headers(secret, cmd), "x-slack-request-timestamp": "soon"}),
        "v1-signature": lambda: bot.post(cmd, {**signed_headers(secret, cmd), "x-slack-signature": "v1=" + "0" * 64}),
        "empty-signature": lambda: bot.post(cmd, {**signed_headers(secret, cmd), "x-slack-signature": ""}),
        "replayed-old-request": lambda: bot.post(
            cmd,
            {
                "content-type": "application/x-www-form-urlencoded",
                "x-slack-request-timestamp": str(int(now)),
                "x-slack-signature": signature(secret, str(int(now) - 600), cmd),
            },
        ),
        "two-megabytes": lambda: bot.post(cmd + "&pad=" + "x" * (2 * 1024 * 1024)),
        "not-utf8-body": lambda: _raw_post(bot, b"text=\xff\xfe&command=/eks", secret),
        "payload-not-json": lambda: bot.post("payload=%7Bnot"),
        "payload-list": lambda: bot.post("payload=" + urllib.parse.quote("[1, 2]")),
        "payload-null": lambda: bot.post("payload=null"),
        "payload-number": lambda: bot.post("payload=5"),
        "json-content-type": lambda: bot.post(cmd, {**signed_headers(secret, cmd), "content-type": "application/json"}),
        "unknown-payload-type": lambda: bot.post("payload=" + urllib.parse.quote(json.dumps({"type": "evil"}))),
        "command-nul": lambda: command("apply a\0b"),
        "command-too-long": lambda: command("apply " + "x" * 3000),
        "command-template": lambda: command("apply {{''.__class__}}"),
        "command-path-traversal": lambda: command("apply ../../etc/passwd"),
        "command-cluster-traversal": lambda: command("status ../../x"),
        "command-unlock-not-admin": lambda: command("unlock corpus-pending"),
        "command-map-role-bad-arn": lambda: command(f"map-role corpus not-an-arn $(touch {SENTINEL})"),
        "command-access-bad-arn": lambda: command("access check corpus `id`"),
        "command-other-channel": lambda: command("apply corpus", channel="C0RANDOM1"),
        "command-no-user": lambda: bot.post(
            _form({"command": "/eks", "text": "runs", "channel_id": CHANNEL, "response_url": mock.response_url(name)})
        ),
        "command-unknown-verb": lambda: command("pwn $(id)"),
        "command-other-slash": lambda: bot.post(
            command_body("help", user=REQUESTER, channel=CHANNEL, response_url=mock.response_url(name), command="/evil")
        ),
        "approve-unknown-request": lambda: click("eks_approve", "nope"),
        "approve-sql": lambda: click("eks_approve", "'; DROP TABLE requests; --"),
        "approve-own-request": lambda: click("eks_approve", bot.world_request, user=REQUESTER),
        "approve-not-an-approver": lambda: click("eks_approve", bot.world_request, user="U0MALLORY"),
        "approve-other-channel": lambda: click("eks_approve", bot.world_request, channel="C0RANDOM1"),
        "approve-huge-value": lambda: click("eks_approve", "x" * 100_000),
        "reject-unknown-request": lambda: click("eks_reject", "nope"),
        "resume-unknown-run": lambda: click("eks_resume", "nope"),
        "actions-not-a-list": lambda: click("eks_approve", "nope", edit=lambda p: p.update(actions="eks_approve")),
        "action-value-object": lambda: click("eks_approve", "nope", edit=lambda p: p["actions"][0].update(value={"$ne": 1})),
        "action-without-user": lambda: click("eks_approve", "nope", edit=lambda p: p.pop("user")),
        "unknown-action-id": lambda: click("evil_action", "x"),
        "view-template-name": lambda: submit(values(name="{{ ''.__class__ }}")),
        "view-nul-name": lambda: submit(values(name="a\0b")),
        "view-nodes-not-a-number": lambda: submit(values(nodes_min="1e9")),
        "view-mappings-garbage": lambda: submit(values(mappings=f"arn:aws:iam::1:role/x $(touch {SENTINEL})")),
        "view-without-state": lambda: bot.post(
            interactive_body({**view_submission(view, {}, user=REQUESTER), "view": {**view, "id": "V1"}})
        ),
        "view-values-list": lambda: submit([]),
        "view-element-string": lambda: submit({"name": {"value": "str"}}),
        "view-metadata-garbage": lambda: submit(values(), {**view, "private_metadata": "{not json"}),
        "view-metadata-list": lambda: submit(values(), {**view, "private_metadata": "[1]"}),
        "view-unknown-callback": lambda: submit({}, {"type": "modal", "callback_id": "evil"}),
        "reject-view-bad-metadata": lambda: submit({"reason": {"value": {"value": "x"}}}, reject_view),
        "reject-view-unknown-request": lambda: submit(
            {"reason": {"value": {"value": "x"}}},
            {**reject_view, "private_metadata": json.dumps({"channel": CHANNEL, "request": "nope", "ts": "1.1"})},
        ),
    }
    return senders[name]()


def _raw_post(bot: Any, body: bytes, secret: str) -> Any:
    from ..slack.conftest import Reply

    ts = str(int(time.time()))
    sig = "v0=" + hmac.new(secret.encode(), f"v0:{ts}:".encode() + body, hashlib.sha256).hexdigest()
    headers = {"content-type": "application/x-www-form-urlencoded", "x-slack-request-timestamp": ts, "x-slack-signature": sig}
    req = urllib.request.Request(bot.url + "/slack/events", data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return Reply(resp.status, resp.read().decode(), 0.0)
    except urllib.error.HTTPError as exc:
        with exc:
            return Reply(exc.code, exc.read().decode(), 0.0)


def _user_visible(calls: list[Any]) -> str:
    out = []
    for c in calls:
        if c.method in ("response_url", "chat.postEphemeral", "chat.postMessage", "chat.update", "views.open", "views.update"):
            out.append(c.text_all())
    return "\n".join(out)


@pytest.mark.parametrize("case", SLACK_CASES, ids=[c.id for c in SLACK_CASES])
def test_slack_payload(here: World, slack: Any, case: Case) -> None:
    slack.world_request = here.request_id
    mock: MockSlack = slack.mock
    start = len(mock.calls)
    before = here.snapshot()
    reply = _slack_send(slack, case.data)
    seen = reply.body

    def visible() -> str:
        return reply.body + "\n" + _user_visible(mock.calls[start:])

    if case.code == 200 and case.expect not in reply.body:
        # The answer comes after the ack: in the response_url post, an ephemeral message or the form.
        with contextlib.suppress(AssertionError):
            mock.wait_for(lambda m: case.expect in visible(), 20, case.expect)
    time.sleep(0.3)  # anything the work behind the ack was going to post has been posted by now
    seen = visible()
    calls = mock.calls[start:]
    posted = [c.method for c in calls if c.method in ("chat.postMessage", "chat.update", "views.open", "views.update")]
    after = here.snapshot()
    changed = after != before or bool(posted) or os.path.exists(SENTINEL)
    clear = reply.status == case.code and case.expect in seen
    found = _observe(case, seen, clear=clear, changed=changed)
    assert not found, seen
    assert not changed, (posted, seen, diff(before, after))
    assert reply.status == case.code, (reply.status, reply.body[:500])
    assert case.expect in seen, seen[-2000:]
    # An error is for the person who caused it: ephemeral (or the ack, or the form), never the channel.
    for c in calls:
        if c.method == "response_url":
            assert c.params.get("response_type", "ephemeral") == "ephemeral", c.params
