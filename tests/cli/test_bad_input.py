"""Bad input through the real CLI: a precise message, exit 2, and nothing touched.

None of these reach AWS: static validation and playbook checks run before any call, so no
endpoint is configured at all (a call would fail with a different error and exit code).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from .conftest import CliRunner

GOOD = """apiVersion: eks-assist/v1
kind: Cluster
metadata:
  name: demo
  region: us-east-1
masters:
  version: "1.33"
  vpc:
    create: {cidr: 10.0.0.0/16, azCount: 2}
workers:
  - name: general
    instanceTypes: [m5.large]
    scaling: {min: 1, desired: 2, max: 3}
"""

SPEC_CASES: list[tuple[str, str, str]] = [
    ("malformed-yaml", "metadata: [name: demo\n", "spec.yaml:2:1: invalid YAML: expected ',' or ']', but got '<stream end>'"),
    (
        "unknown-field",
        GOOD.replace("instanceTypes", "instanceType"),
        "spec.yaml:12:5: workers[0]: unknown field 'instanceType'; did you mean 'instanceTypes'?",
    ),
    (
        "bad-cluster-name",
        GOOD.replace("name: demo", "name: -demo"),
        "spec.yaml:4:9: metadata.name: cluster name must be 1-100 characters, start with a letter or digit, and contain only letters, digits, '-' and '_'; got '-demo' ('-' cannot come first)",
    ),
    (
        "invalid-cidr",
        GOOD.replace("10.0.0.0/16", "10.0.0.300/16"),
        "spec.yaml:9:20: masters.vpc.create.cidr: VPC CIDR '10.0.0.300/16' is not a valid IPv4 CIDR block (like 10.0.0.0/16)",
    ),
    (
        "overlapping-cidrs",
        GOOD.replace("azCount: 2}", "azCount: 2, subnetCidrs: [10.0.0.0/20, 10.0.8.0/24]}"),
        "spec.yaml:9:72: masters.vpc.create.subnetCidrs[1]: subnet 10.0.8.0/24 overlaps subnetCidrs[0] 10.0.0.0/20",
    ),
    (
        "single-az",
        GOOD.replace("azCount: 2", "azCount: 1"),
        "spec.yaml:9:42: masters.vpc.create.azCount: EKS needs subnets in at least two Availability Zones; azCount must be at least 2, got 1",
    ),
    (
        "min-gt-max",
        GOOD.replace("min: 1, desired: 2, max: 3", "min: 4, desired: 4, max: 3"),
        "spec.yaml:13:20: workers[0].scaling.min: min (4) is greater than max (3)",
    ),
    (
        "list-not-mapping",
        "- apiVersion: eks-assist/v1\n- kind: Cluster\n",
        "spec.yaml:1:1: spec must be a mapping (apiVersion, kind, metadata, ...), got a list",
    ),
    ("empty-file", "", "spec.yaml: file is empty"),
    ("comments-only", "# nothing here\n", "spec.yaml: file has no YAML document (only comments or blank lines)"),
    (
        "float-version",
        GOOD.replace('"1.33"', "1.30"),
        'spec.yaml:7:12: masters.version: Kubernetes version must be a quoted string: YAML reads 1.30 as the number 1.3; write "1.30"',
    ),
    (
        "wrong-api-version",
        GOOD.replace("eks-assist/v1", "eks-assist/v2"),
        "spec.yaml:1:13: apiVersion: must be 'eks-assist/v1', got the text 'eks-assist/v2'",
    ),
    ("alias-bomb", GOOD + "x: &a [1, 2]\ny: *a\n", "spec.yaml:14:4: YAML anchors and aliases (&, *) are not allowed"),
    ("duplicate-key", GOOD + "kind: Cluster\n", "spec.yaml:14:1: duplicate key 'kind'"),
    (
        "service-cidr-overlap",
        GOOD.replace('version: "1.33"', 'version: "1.33"\n  serviceCidr: 10.0.0.0/16'),
        "spec.yaml:8:16: masters.serviceCidr: service CIDR 10.0.0.0/16 overlaps the VPC CIDR 10.0.0.0/16 (masters.vpc.create.cidr)",
    ),
    (
        "custom-ami-without-custom",
        GOOD.replace("[m5.large]", "[m5.large]\n    customAmiId: ami-0123456789abcdef0"),
        "spec.yaml:13:18: workers[0].customAmiId: customAmiId needs amiType: CUSTOM (amiType is AL2023_x86_64_STANDARD)",
    ),
    (
        "duplicate-nodegroups",
        GOOD + "  - name: general\n    instanceTypes: [m5.large]\n",
        "spec.yaml:14:11: workers[1].name: duplicate node group name 'general' (also at workers[0])",
    ),
    (
        "kubeconfig-path-traversal",
        GOOD + "kubeconfig:\n  path: ../../../../etc/cron.d/evil\n",
        "spec.yaml:15:9: kubeconfig.path: '../../../../etc/cron.d/evil' is relative, so it would name a different file "
        "in every directory eks-assist runs in; write ~/.kube/<file> or an absolute path",
    ),
    (
        "kubeconfig-path-system-file",
        GOOD + "kubeconfig:\n  path: /etc/cron.d/evil\n",
        "spec.yaml:15:9: kubeconfig.path: '/etc/cron.d/evil' is outside your home directory HOME and is not a file "
        "listed in $KUBECONFIG; a spec may write its kubeconfig only there (docs/security.md)",
    ),
    (
        "case-duplicate-nodegroups",
        GOOD + "  - name: General\n    instanceTypes: [m5.large]\n",
        "spec.yaml:14:11: workers[1].name: duplicate node group name 'General': it differs from 'general' (workers[0]) "
        "only in case; EKS would make two node groups that people and tools tell apart only by case: use distinct names",
    ),
    (
        "bad-taint-effect",
        GOOD + "    taints: [{key: a, value: b, effect: NoSchedule}]\n",
        "spec.yaml:14:41: workers[0].taints[0].effect: unknown taint effect 'NoSchedule'; did you mean 'NO_SCHEDULE'?",
    ),
    ("not-utf8", "metadata: \udcff\n", "spec.yaml: file is not UTF-8 text (byte 10)"),
    # YAML 1.1 reads these as numbers nobody wrote: refused, saying what YAML read.
    (
        "sexagesimal-max",
        GOOD.replace("max: 3", "max: 1:00"),
        "spec.yaml:13:40: workers[0].scaling.max: 1:00 is read by YAML 1.1 as a base-60 (sexagesimal) number, 60; "
        "write 60, or '1:00' (quoted) for text",
    ),
    (
        "octal-disk-size",
        GOOD + "    diskSize: 020\n",
        "spec.yaml:14:15: workers[0].diskSize: 020 is read by YAML 1.1 as octal, 16; write 20 (no leading zero), "
        "or '020' (quoted) for text",
    ),
    (
        "underscore-disk-size",
        GOOD + "    diskSize: 2_0\n",
        "spec.yaml:14:15: workers[0].diskSize: 2_0 is read by YAML 1.1 as a number with its underscores dropped, 20; "
        "write 20, or '2_0' (quoted) for text",
    ),
    (
        "hex-az-count",
        GOOD.replace("azCount: 2", "azCount: 0x2"),
        "spec.yaml:9:42: masters.vpc.create.azCount: 0x2 is read by YAML 1.1 as hexadecimal, 2; write 2, or '0x2' (quoted) for text",
    ),
    (
        "binary-min",
        GOOD.replace("min: 1", "min: 0b1"),
        "spec.yaml:13:20: workers[0].scaling.min: 0b1 is read by YAML 1.1 as binary, 1; write 1, or '0b1' (quoted) for text",
    ),
    (
        "yaml12-octal-desired",
        GOOD.replace("desired: 2", "desired: 0o2"),
        "spec.yaml:13:32: workers[0].scaling.desired: expected a whole number, got the text '0o2': "
        "YAML 1.1 reads 0o2 as text (0o octal is YAML 1.2 only); write 2",
    ),
    (
        "infinite-max",
        GOOD.replace("max: 3", "max: .inf"),
        "spec.yaml:13:40: workers[0].scaling.max: .inf is read by YAML as infinity; write a finite number, "
        "or '.inf' (quoted) for text",
    ),
    (
        "sexagesimal-tag-value",
        GOOD.replace("region: us-east-1", "region: us-east-1\n  tags: {window: 1:30:00}"),
        "spec.yaml:6:18: metadata.tags.window: 1:30:00 is read by YAML 1.1 as a base-60 (sexagesimal) number, 5400; "
        "write 5400, or '1:30:00' (quoted) for text",
    ),
]


def test_plan_refuses_a_kubeconfig_path_outside_home_before_any_call(
    cli: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # No endpoint is configured: a call to AWS would fail differently (see the module docstring).
    monkeypatch.chdir(tmp_path)
    Path("spec.yaml").write_text(GOOD + "kubeconfig:\n  path: ../../../../etc/cron.d/evil\n", encoding="utf-8")
    r = cli("plan", "-f", "spec.yaml")
    assert r.code == 2, r
    assert r.err.startswith("error: spec.yaml:15:9: kubeconfig.path: '../../../../etc/cron.d/evil' is relative"), r.err
    assert not Path("/etc/cron.d/evil").exists()


def test_every_yaml11_number_in_a_file_is_reported(cli: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    text = GOOD.replace("max: 3", "max: 1:00").replace("min: 1", "min: 0_1") + "    diskSize: 1_000.5\n"
    Path("spec.yaml").write_text(text, encoding="utf-8")
    r = cli("validate", "-f", "spec.yaml")
    assert r.code == 2, r
    assert [line.split(": ")[2] for line in r.err.splitlines()] == [
        "workers[0].scaling.min",
        "workers[0].scaling.max",
        "workers[0].diskSize",
    ]


def test_quoted_and_plain_decimal_numbers_are_read_as_written(
    cli: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    text = GOOD.replace("region: us-east-1", "region: us-east-1\n  tags: {window: '1:30:00', code: \"020\"}")
    Path("spec.yaml").write_text(text + "    diskSize: 20\n", encoding="utf-8")
    r = cli("validate", "-f", "spec.yaml")
    assert r.code == 0, r


@pytest.mark.parametrize(("name", "text", "expected"), SPEC_CASES, ids=[c[0] for c in SPEC_CASES])
def test_bad_spec(cli: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, text: str, expected: str) -> None:
    monkeypatch.chdir(tmp_path)
    Path("spec.yaml").write_bytes(text.encode("utf-8", errors="surrogateescape"))
    r = cli("validate", "-f", "spec.yaml")
    assert r.code == 2, r
    assert r.out == ""
    lines = [line.removeprefix("error: ") for line in r.err.splitlines()]
    assert expected.replace("HOME", str(Path.home())) in lines, lines
    assert "Traceback" not in r.err


def test_ten_megabyte_file(cli: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    Path("big.yaml").write_text("# " + "x" * (10 * 1024 * 1024) + "\n", encoding="utf-8")
    r = cli("validate", "-f", "big.yaml")
    assert r.code == 2
    assert r.err.strip() == "error: big.yaml: file is 10485763 bytes, larger than 4096 KiB; refusing to parse it"


def test_missing_file(cli: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    r = cli("validate", "-f", "nope.yaml")
    assert (r.code, r.err.strip()) == (2, "error: nope.yaml: no such file")


def _spec(tmp_path: Path) -> str:
    p = tmp_path / "spec.yaml"
    p.write_text(GOOD, encoding="utf-8")
    return str(p)


def _playbook(tmp_path: Path, body: str) -> str:
    p = tmp_path / "pb.yaml"
    p.write_text(body, encoding="utf-8")
    return str(p)


PLAYBOOK_CASES = [
    (
        "unknown-action",
        "name: x\nsteps:\n  - id: a\n    action: eks.clustr\n",
        "pb.yaml:4:13: steps[0].action: unknown action 'eks.clustr'; did you mean 'eks.cluster'? Valid actions: "
        "ec2.internet_gateway, ec2.launch_template, ec2.route_table, ec2.security_group, ec2.subnets, ec2.vpc, "
        "eks.access_entry, eks.addon, eks.cluster, eks.nodegroup, iam.role, k8s.aws_auth, k8s.aws_node_env, k8s.eniconfig, "
        "kubeconfig.write",
    ),
    (
        "needs-cycle",
        "name: x\nsteps:\n  - id: a\n    action: ec2.vpc\n    needs: [b]\n    with: {cluster: x}\n"
        "  - id: b\n    action: ec2.vpc\n    needs: [a]\n    with: {cluster: x}\n",
        "pb.yaml:5:12: steps[0].needs: cycle in needs: a -> b -> a",
    ),
    (
        "undefined-variable",
        "name: x\nsteps:\n  - id: a\n    action: ec2.vpc\n    with: {cluster: '{{ specs.metadata.name }}'}\n",
        "pb.yaml:5:21: steps[0].with.cluster: undefined template variable 'specs.metadata.name'; did you mean 'spec'?",
    ),
    (
        "template-injection",
        "name: x\nsteps:\n  - id: a\n    action: ec2.vpc\n    with: {cluster: \"{{ ''.__class__ }}\"}\n",
        "pb.yaml:5:21: steps[0].with.cluster: unsupported template expression {{ ''.__class__ }}: only lookups like "
        "'spec.metadata.name', 'steps.<id>.<output>' or 'item.name' (optionally joined by ||) are allowed",
    ),
    (
        "yaml11-number-in-with",
        "name: x\nsteps:\n  - id: a\n    action: ec2.vpc\n    with: {cluster: x, cidr: 010}\n",
        "pb.yaml:5:30: steps[0].with.cidr: 010 is read by YAML 1.1 as octal, 8; write 10 (no leading zero), "
        "or '010' (quoted) for text",
    ),
]


@pytest.mark.parametrize(("name", "body", "expected"), PLAYBOOK_CASES, ids=[c[0] for c in PLAYBOOK_CASES])
def test_bad_playbook(cli: CliRunner, tmp_path: Path, name: str, body: str, expected: str) -> None:
    r = cli("plan", "-f", _spec(tmp_path), "--playbook", _playbook(tmp_path, body))
    assert r.code == 2
    assert r.err.strip().replace(str(tmp_path) + "/", "") == f"error: {expected}"


def test_unknown_playbook(cli: CliRunner, tmp_path: Path) -> None:
    r = cli("plan", "-f", _spec(tmp_path), "--playbook", "clustr")
    assert (r.code, r.err.strip()) == (
        2,
        "error: unknown playbook 'clustr'; did you mean 'cluster'? Built-in playbooks: cluster, cni, iam-mappings, kubeconfig, masters, teardown, workers",
    )


ARG_CASES = [
    (["apply", "-f", "SPEC", "--parallelism", "0"], "error: --parallelism must be at least 1"),
    (["apply", "-f", "SPEC", "--poll-max", "-1"], "error: --poll-max must be positive"),
    (["runs", "nosuchrun"], "error: no run 'nosuchrun' (see: eks-assist runs)"),
    (
        ["plan", "-f", "SPEC", "--profile", "nosuchprofile"],
        "error: --profile: AWS profile 'nosuchprofile' not found in your AWS config",
    ),
    (["resume", "nosuchrun"], "error: no run 'nosuchrun' (see: eks-assist runs)"),
]


@pytest.mark.parametrize(("argv", "expected"), ARG_CASES, ids=["parallelism", "poll-max", "runs", "profile", "resume"])
def test_bad_arguments(cli: CliRunner, tmp_path: Path, argv: list[str], expected: str) -> None:
    r = cli(*[_spec(tmp_path) if a == "SPEC" else a for a in argv])
    assert (r.code, r.err.strip()) == (2, expected)


def test_unknown_verb_is_usage_error(cli: CliRunner) -> None:
    r = cli("provision")
    assert r.code == 2
    assert "invalid choice: 'provision'" in r.err


# -- --region: checked against botocore's partition data on every verb (issue 11, item 3) -------

UNKNOWN_REGION = "--region: 'us-east-7' is not an AWS region; did you mean 'us-east-2'?"
REGION_ARGVS = {
    "validate": ["validate", "-f", "SPEC", "--preflight", "--region", "us-east-7"],
    "plan": ["plan", "-f", "SPEC", "--region", "us-east-7"],
    "apply": ["apply", "-f", "SPEC", "--region", "us-east-7"],
    "status": ["status", "demo", "--region", "us-east-7"],
    "access-check": [
        "access",
        "check",
        "--cluster",
        "demo",
        "--principal",
        "arn:aws:iam::111122223333:role/x",
        "--region",
        "us-east-7",
    ],
    "access-list": ["access", "list", "--cluster", "demo", "--region", "us-east-7"],
    "capacity": ["capacity", "-t", "m5.large", "--region", "us-east-7"],
    "token": ["token", "--cluster-name", "demo", "--region", "us-east-7"],
    "kubeconfig": ["kubeconfig", "--cluster", "demo", "--region", "us-east-7"],
    "locks-release": ["locks", "release", "demo", "--region", "us-east-7"],
}


@pytest.mark.parametrize("verb", list(REGION_ARGVS))
def test_unknown_region_flag_is_refused_before_any_call(cli: CliRunner, tmp_path: Path, verb: str) -> None:
    r = cli(*[_spec(tmp_path) if a == "SPEC" else a for a in REGION_ARGVS[verb]])
    assert r.code == 2, r
    assert UNKNOWN_REGION in r.err, r.err
    assert "Traceback" not in r.err


def test_region_flag_and_role_partition_must_agree(cli: CliRunner) -> None:
    r = cli("token", "--cluster-name", "demo", "--region", "cn-north-1", "--role-arn", "arn:aws:iam::111122223333:role/x")
    assert r.code == 2
    assert "--role-arn: the role is in partition 'aws' but region cn-north-1 is in 'aws-cn'" in r.err


def test_wizard_region_flag_is_checked_on_a_terminal(tmp_path: Path) -> None:
    # The wizard runs only on a terminal: give the real binary a pseudo-terminal. Were the flag
    # not checked, the wizard would start and wait for keys: it gets 60 s, then is stopped.
    import os
    import pty
    import select
    import subprocess
    import sys
    import time

    binary = Path(sys.executable).with_name("eks-assist")
    main_fd, child_fd = pty.openpty()
    proc = subprocess.Popen([str(binary), "--region", "us-east-7"], stdin=child_fd, stdout=child_fd, stderr=child_fd)
    os.close(child_fd)
    output = b""
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([main_fd], [], [], 0.5)
            if ready:
                try:
                    chunk = os.read(main_fd, 4096)
                except OSError:  # the child closed the terminal
                    break
                if not chunk:
                    break
                output += chunk
            elif proc.poll() is not None:
                break
        # The terminal closes as the process exits: give it a moment to finish exiting.
        try:
            code: int | None = proc.wait(timeout=max(1.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            code = None
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=30)
        os.close(main_fd)
    assert code == 2, output[-2000:]
    assert UNKNOWN_REGION in output.decode(errors="replace").replace("\r\n", "\n").replace("\n", " ")
