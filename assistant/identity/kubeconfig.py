"""Kubeconfig entries for an EKS cluster, merged into a file the way ``aws eks update-kubeconfig`` does.

The cluster and user are named by the cluster ARN, the context by the ARN or an alias; the
user runs an exec plugin (``aws eks get-token`` or ``eks-assist token``), so no credential or
token is ever written. Writes are atomic (temp file + ``os.replace``), under an exclusive
``flock`` (and kubectl's own ``<file>.lock`` while writing), mode 0600.

The merge is textual: only our own entries and ``current-context`` change, so every other
cluster, user and context stays byte-for-byte (comments and formatting included). Files in
shapes we do not edit textually (JSON, flow-style lists) are re-serialised as a fallback.
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import fcntl
import ipaddress
import os
import stat
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

import yaml

from assistant.clients.local_sandbox import LocalSandbox
from assistant.errors import InputError, Problem

ExecKind = Literal["aws", "builtin"]
EXEC_API_VERSION = "client.authentication.k8s.io/v1beta1"
SECTIONS = ("clusters", "users", "contexts")
_SINGULAR = {"clusters": "cluster", "users": "user", "contexts": "context"}


class KubeconfigError(InputError, ValueError):
    """The kubeconfig file cannot be read or merged (not YAML, not a mapping, ...); nothing was written.

    An :class:`~assistant.errors.InputError` (exit 2, located ``file:line:col``), and still a
    ``ValueError`` for callers that catch that.
    """


# A kubeconfig with a thousand clusters is about 3 MiB; a file past this is not one to edit.
MAX_BYTES = 8 * 1024 * 1024


@dataclass(frozen=True)
class ClusterInfo:
    """What DescribeCluster says about the cluster: enough for the kubeconfig entries."""

    name: str
    arn: str
    endpoint: str
    ca_data: str
    region: str


@dataclass(frozen=True)
class ExecOptions:
    """How the kubeconfig user gets its token."""

    kind: ExecKind = "builtin"
    profile: str | None = None
    role_arn: str | None = None
    sandbox: bool = False  # builtin: add --sandbox; aws: point the aws CLI at the sandbox endpoint
    sandbox_endpoint: str | None = None
    command: str | None = None  # the eks-assist executable; found when not given


@dataclass(frozen=True)
class WriteResult:
    """What :func:`write` did."""

    op: Literal["create", "update", "no-op"]
    path: Path
    context: str


def default_path() -> Path:
    """``$KUBECONFIG``'s first file, else ``~/.kube/config`` (as kubectl and the aws CLI pick)."""
    for part in os.environ.get("KUBECONFIG", "").split(os.pathsep):
        if part.strip():
            return Path(part).expanduser()
    return Path.home() / ".kube" / "config"


def resolve_path(path: str | os.PathLike[str] | None) -> Path:
    """The file to write: ``path`` if given, else :func:`default_path`."""
    return Path(path).expanduser() if path else default_path()


def eks_assist_command() -> str:
    """The absolute path of the running ``eks-assist`` script, else the one beside Python, else the bare name."""
    argv0 = Path(sys.argv[0]) if sys.argv and sys.argv[0] else None
    if argv0 is not None and argv0.name == "eks-assist" and argv0.exists():
        return str(argv0.resolve())
    beside = Path(sys.executable).with_name("eks-assist")
    if beside.exists():
        return str(beside)
    return "eks-assist"


def is_loopback(url: str | None) -> bool:
    """True for an ``http(s)://`` URL on 127.0.0.0/8, ::1 or localhost."""
    if not url:
        return False
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def is_sandbox_endpoint(url: str | None, sandbox: LocalSandbox | None) -> bool:
    """True when ``url`` is a loopback endpoint that ``sandbox`` (given by the entry point) serves."""
    return sandbox is not None and is_loopback(url) and sandbox.serves(url)


def exec_config(cluster: ClusterInfo, options: ExecOptions) -> dict[str, Any]:
    """The ``user.exec`` block: a command, its args and environment; never a credential."""
    env: list[dict[str, str]] = []
    if options.profile:
        env.append({"name": "AWS_PROFILE", "value": options.profile})
    if options.kind == "aws":
        command = "aws"
        args = ["--region", cluster.region, "eks", "get-token", "--cluster-name", cluster.name, "--output", "json"]
        if options.role_arn:
            args += ["--role-arn", options.role_arn]
        if options.sandbox and options.sandbox_endpoint:
            # Where the sandbox listens is not a secret; its keys are never written.
            env.append({"name": "AWS_ENDPOINT_URL", "value": options.sandbox_endpoint})
    else:
        command = options.command or eks_assist_command()
        args = ["token", "--cluster-name", cluster.name, "--region", cluster.region]
        if options.role_arn:
            args += ["--role-arn", options.role_arn]
        if options.sandbox:
            args.append("--sandbox")
    block: dict[str, Any] = {"apiVersion": EXEC_API_VERSION, "args": args, "command": command}
    if env:
        block["env"] = env
    return block


def desired_entries(cluster: ClusterInfo, options: ExecOptions, alias: str | None = None) -> dict[str, dict[str, Any]]:
    """Our cluster, user and context entries, keyed by section."""
    context = alias or cluster.arn
    return {
        "clusters": {"cluster": {"certificate-authority-data": cluster.ca_data, "server": cluster.endpoint}, "name": cluster.arn},
        "users": {"name": cluster.arn, "user": {"exec": exec_config(cluster, options)}},
        "contexts": {"context": {"cluster": cluster.arn, "user": cluster.arn}, "name": context},
    }


def _problem(file: str, message: str, node: yaml.Node | yaml.Mark | None = None, path: str | None = None) -> KubeconfigError:
    mark = node.start_mark if isinstance(node, yaml.Node) else node
    line, col = (mark.line + 1, mark.column + 1) if mark is not None else (None, None)
    return KubeconfigError(Problem(message, file or None, line, col, path))


def _compose(text: str, file: str) -> yaml.Node | None:
    try:
        return yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        what = exc.problem or exc.context or "malformed YAML"
        raise _problem(file, f"not valid YAML: {what}", exc.problem_mark or exc.context_mark) from None
    except yaml.reader.ReaderError as exc:
        before = text[: exc.position]
        line, col = before.count("\n") + 1, exc.position - (before.rfind("\n") + 1) + 1
        what = f"U+{exc.character:04X}" if isinstance(exc.character, int) else "a character"
        raise KubeconfigError(Problem(f"not valid YAML: {what} is not allowed in YAML text", file or None, line, col)) from None
    except yaml.YAMLError as exc:
        raise _problem(file, f"not valid YAML: {exc}") from None
    except RecursionError:
        raise _problem(file, "not a kubeconfig: nested too deeply") from None


def _check_nodes(root: yaml.Node, file: str) -> None:
    """Refuse what a merge cannot keep faithfully: aliases (shared nodes) and duplicate keys."""
    seen: set[int] = set()
    stack: list[tuple[yaml.Node, str]] = [(root, "")]
    while stack:
        node, where = stack.pop()
        if id(node) in seen:
            # A billion-laughs file is small but expands exponentially once compared or rewritten.
            raise _problem(file, "uses YAML anchors and aliases (&, *), which eks-assist does not edit", node, where or None)
        seen.add(id(node))
        if isinstance(node, yaml.MappingNode):
            keys: set[Any] = set()
            for key, value in node.value:
                name = key.value if isinstance(key, yaml.ScalarNode) else None
                if name is not None and name in keys:
                    # yaml.safe_load keeps the last one silently; rewriting would drop the first.
                    raise _problem(file, f"duplicate key {name!r}", key, where or None)
                keys.add(name)
                stack.append((value, f"{where}.{name}" if where else str(name)))
        elif isinstance(node, yaml.SequenceNode):
            stack.extend((item, f"{where}[{i}]") for i, item in enumerate(node.value))


def _load(text: str, file: str = "") -> dict[str, Any]:
    """The kubeconfig's data; KubeconfigError, located, for anything that is not a kubeconfig we can merge into."""
    if not text.strip():
        return {}
    root = _compose(text, file)
    if root is None:
        return {}
    _check_nodes(root, file)
    try:
        data = yaml.safe_load(text)
    except (yaml.YAMLError, ValueError, TypeError, OverflowError) as exc:
        raise _problem(file, f"not valid YAML: {exc}", root) from None
    if data is None:
        return {}
    if not isinstance(data, dict) or not isinstance(root, yaml.MappingNode):
        raise _problem(file, "not a kubeconfig: the top level is not a mapping", root)
    nodes = {k.value: v for k, v in root.value if isinstance(k, yaml.ScalarNode)}
    for section in SECTIONS:
        items = data.get(section)
        if items is None:
            continue
        if not isinstance(items, list):
            # Iterating a string or a mapping here would merge its characters or keys as entries.
            raise _problem(file, f"not a kubeconfig: {section} must be a list of entries", nodes.get(section), section)
        for i, item in enumerate(items):
            if not isinstance(item, dict) or not isinstance(item.get("name", ""), str):
                node = nodes[section].value[i] if isinstance(nodes.get(section), yaml.SequenceNode) else None
                raise _problem(file, "not a kubeconfig: each entry must be a mapping with a string name", node, f"{section}[{i}]")
    current = data.get("current-context")
    if current is not None and not isinstance(current, str):
        raise _problem(
            file, "not a kubeconfig: current-context must be a string", nodes.get("current-context"), "current-context"
        )
    return data


def read_text(path: Path) -> str | None:
    """The kubeconfig's text, or None when there is no file yet; KubeconfigError if it cannot be one."""
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise KubeconfigError(Problem(f"cannot read the kubeconfig: {exc.strerror}", str(path))) from None
    if stat.S_ISDIR(st.st_mode):
        raise KubeconfigError(Problem("is a directory, not a kubeconfig file", str(path)))
    if not stat.S_ISREG(st.st_mode):
        # /dev/zero never ends and a FIFO blocks: only a regular file is read (or replaced).
        raise KubeconfigError(Problem("is not a regular file (a device, pipe or socket)", str(path)))
    if st.st_size > MAX_BYTES:
        raise KubeconfigError(Problem(f"is {st.st_size} bytes, larger than {MAX_BYTES // (1024 * 1024)} MiB", str(path)))
    try:
        with path.open("rb") as fh:
            raw = fh.read(MAX_BYTES + 1)
    except OSError as exc:
        raise KubeconfigError(Problem(f"cannot read the kubeconfig: {exc.strerror}", str(path))) from None
    if len(raw) > MAX_BYTES:
        raise KubeconfigError(Problem(f"is larger than {MAX_BYTES // (1024 * 1024)} MiB", str(path)))
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise KubeconfigError(Problem(f"is not UTF-8 text (byte {exc.start})", str(path))) from None


def _named(data: dict[str, Any], file: str, names: dict[str, str]) -> dict[str, Any]:
    """Our entries by section; KubeconfigError when one of our names appears twice (which one to update?)."""
    found: dict[str, Any] = {}
    for section, name in names.items():
        matches = [i for i, item in enumerate(data.get(section) or []) if item.get("name") == name]
        if len(matches) > 1:
            where = ", ".join(f"{section}[{i}]" for i in matches)
            raise KubeconfigError(
                Problem(f"{section} has {len(matches)} entries named {name!r} ({where}); remove all but one", file or None)
            )
        if matches:
            found[section] = data[section][matches[0]]
    return found


def current_entries(path: Path, names: dict[str, str]) -> dict[str, Any] | None:
    """Our entries as the file has them now (``names``: section → entry name); None if none exist."""
    text = read_text(path)
    if text is None:
        return None
    data = _load(text, str(path))
    found = _named(data, str(path), names)
    if not found:
        return None
    found["current-context"] = data.get("current-context")
    return found


def _merged_data(data: dict[str, Any], entries: dict[str, dict[str, Any]], current: str | None) -> dict[str, Any]:
    """The merge on parsed data: what the text merge must be equal to."""
    out = copy.deepcopy(data)
    out.setdefault("apiVersion", "v1")
    out.setdefault("kind", "Config")
    for section, entry in entries.items():
        items = [i for i in (out.get(section) or [])]
        index = next((n for n, i in enumerate(items) if isinstance(i, dict) and i.get("name") == entry["name"]), None)
        if index is None:
            items.append(entry)
        else:
            items[index] = entry
        out[section] = items
    if current is not None:
        out["current-context"] = current
    return out


def _dump_items(items: list[dict[str, Any]], indent: int) -> str:
    # A huge width: CA data and ARNs stay on one line, as kubectl writes them.
    text = yaml.safe_dump(items, default_flow_style=False, sort_keys=False, width=1 << 20)
    pad = " " * indent
    return "".join(pad + line if line.strip() else line for line in text.splitlines(keepends=True))


def _dump_scalar(value: str) -> str:
    return yaml.safe_dump({"v": value}, width=1 << 20)[3:].rstrip("\n")


def _line_start(text: str, index: int) -> int:
    return text.rfind("\n", 0, index) + 1


def _line_end(text: str, index: int) -> int:
    end = text.find("\n", index)
    return len(text) if end < 0 else end + 1


def _item_span(text: str, node: yaml.Node) -> tuple[int, int, int]:
    """``(start, end, dash column)`` of one block-sequence item, whole lines, trailing comments excluded."""
    j = node.start_mark.index - 1
    while j >= 0 and text[j] in " \t\r\n":
        j -= 1
    if j < 0 or text[j] != "-":
        raise KubeconfigError("unexpected sequence layout")
    start = _line_start(text, j)
    # A block mapping ends where the next token starts: in an indented list that is after the
    # next item's indentation, so the item ends at that line's start, not at its end.
    tail = _line_start(text, node.end_mark.index)
    ends_mid_line = bool(text[tail : node.end_mark.index].strip())
    end = _line_end(text, max(node.start_mark.index, node.end_mark.index - 1)) if ends_mid_line else tail
    lines = text[start:end].splitlines(keepends=True)
    while len(lines) > 1 and (not lines[-1].strip() or lines[-1].lstrip().startswith("#")):
        lines.pop()
    if node.end_mark.index <= node.start_mark.index:
        lines = lines[:1]
    return start, start + sum(len(line) for line in lines), j - start


def _text_merge(text: str, entries: dict[str, dict[str, Any]], current: str | None) -> str:
    """Splice our entries into ``text``; KubeconfigError when its shape is not one we edit textually."""
    if not text.strip():
        return yaml.safe_dump(_merged_data({}, entries, current), default_flow_style=False, sort_keys=False, width=1 << 20)
    root = yaml.compose(text, Loader=yaml.SafeLoader)
    if not isinstance(root, yaml.MappingNode) or root.flow_style:
        raise KubeconfigError("top level is not a block mapping")
    edits: list[tuple[int, int, str]] = []
    appended: list[str] = []
    by_key = {k.value: (k, v) for k, v in root.value if isinstance(k, yaml.ScalarNode)}
    for section, entry in entries.items():
        pair = by_key.get(section)
        if pair is None:
            appended.append(f"{section}:\n{_dump_items([entry], 0)}")
            continue
        key, value = pair
        if isinstance(value, yaml.SequenceNode) and not value.flow_style and value.value:
            spans = [_item_span(text, item) for item in value.value]
            names = [_scalar_name(item) for item in value.value]
            if entry["name"] in names:
                start, end, col = spans[names.index(entry["name"])]
                edits.append((start, end, _dump_items([entry], col)))
            else:
                _start, end, col = spans[-1]
                edits.append((end, end, _dump_items([entry], col)))
        elif (isinstance(value, yaml.ScalarNode) and value.tag == "tag:yaml.org,2002:null") or (
            isinstance(value, yaml.SequenceNode) and not value.value
        ):
            start = _line_start(text, key.start_mark.index)
            if start != key.start_mark.index:
                raise KubeconfigError("indented top-level key")
            end = _line_end(text, max(key.end_mark.index, value.end_mark.index - 1))
            edits.append((start, end, f"{section}:\n{_dump_items([entry], 0)}"))
        else:
            raise KubeconfigError(f"{section} is not a block list")
    if current is not None:
        pair = by_key.get("current-context")
        if pair is None:
            appended.append(f"current-context: {_dump_scalar(current)}\n")
        elif isinstance(pair[1], yaml.ScalarNode) and pair[1].tag != "tag:yaml.org,2002:null":
            edits.append((pair[1].start_mark.index, pair[1].end_mark.index, _dump_scalar(current)))
        else:
            start = _line_start(text, pair[0].start_mark.index)
            end = _line_end(text, max(pair[0].end_mark.index, pair[1].end_mark.index - 1))
            edits.append((start, end, f"current-context: {_dump_scalar(current)}\n"))
    for start, end, replacement in sorted(edits, key=lambda e: e[0], reverse=True):
        text = text[:start] + replacement + text[end:]
    if appended:
        text = text + ("" if text.endswith("\n") else "\n") + "".join(appended)
    return text


def _scalar_name(item: yaml.Node) -> str | None:
    if isinstance(item, yaml.MappingNode):
        for k, v in item.value:
            if isinstance(k, yaml.ScalarNode) and k.value == "name" and isinstance(v, yaml.ScalarNode):
                return str(v.value)
    return None


def merge(text: str, entries: dict[str, dict[str, Any]], current: str | None, file: str = "") -> str:
    """The new file text: ``text`` with our entries added or replaced and ``current-context`` set."""
    data = _load(text, file)
    _named(data, file, {section: entry["name"] for section, entry in entries.items()})
    want = _merged_data(data, entries, current)
    try:
        merged = _text_merge(text, entries, current)
        if _load(merged) == want:
            return merged
    except (KubeconfigError, yaml.YAMLError):
        pass
    # A shape we do not splice into (JSON, flow lists): correct, but reformatted.
    return yaml.safe_dump(want, default_flow_style=False, sort_keys=False, width=1 << 20)


# kubectl's own lock is ``<file>.lock`` created with O_EXCL and removed afterwards: a lock
# file left behind would make every later ``kubectl config ...`` fail, so ours is named apart.
KUBECTL_LOCK_WAIT = 10.0
# What eks-assist's copy of kubectl's lock file holds (kubectl's own is empty; kubectl only
# checks that it exists). A writer SIGKILLed while holding it leaves it behind; this marks it
# as ours, so the next eks-assist writer can take it over instead of failing for good.
OUR_KUBECTL_LOCK = b"eks-assist\n"


def _take_kubectl_lock(lock: Path) -> None:
    """Create ``lock`` with our marker in one step (FileExistsError if it exists)."""
    # Written aside and hard-linked into place: the lock never exists without the marker, so a
    # kill between creating and writing it cannot leave an empty one that looks like kubectl's.
    fd, tmp = tempfile.mkstemp(dir=lock.parent, prefix=f".{lock.name}.", suffix=".tmp")
    try:
        os.write(fd, OUR_KUBECTL_LOCK)
        os.close(fd)
        os.link(tmp, lock)
    finally:
        with contextlib.suppress(OSError):
            os.unlink(tmp)


def _left_by_us(lock: Path) -> bool:
    try:
        return lock.read_bytes() == OUR_KUBECTL_LOCK
    except OSError:
        return False


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """Exclusive: an ``flock`` among eks-assist writers, and kubectl's lock file while we hold it."""
    import time

    fd = os.open(path.with_name(f".{path.name}.eks-assist.lock"), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        kubectl_lock = path.with_name(path.name + ".lock")
        deadline = time.monotonic() + KUBECTL_LOCK_WAIT
        while True:
            try:
                _take_kubectl_lock(kubectl_lock)
                break
            except FileExistsError:
                # Every eks-assist writer holds the flock while it holds the lock file, and we hold
                # the flock now: a lock file of ours is one a killed writer left behind.
                if _left_by_us(kubectl_lock):
                    with contextlib.suppress(FileNotFoundError):
                        kubectl_lock.unlink()
                    continue
                if time.monotonic() > deadline:
                    raise KubeconfigError(
                        f"{kubectl_lock} exists: another kubectl is writing the file (remove it if none is)"
                    ) from None
                time.sleep(0.05)
        try:
            yield
        finally:
            with contextlib.suppress(FileNotFoundError):
                kubectl_lock.unlink()
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def _atomic_write(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def plan_op(path: Path, entries: dict[str, dict[str, Any]], current_name: str) -> tuple[str, dict[str, Any] | None]:
    """``(create|update|no-op, our entries as they are now)`` for writing ``entries`` into ``path``."""
    names = {section: entry["name"] for section, entry in entries.items()}
    before = current_entries(path, names)
    if before is None:
        return "create", None
    same = all(before.get(section) == entry for section, entry in entries.items())
    if same and before.get("current-context") == current_name:
        return "no-op", before
    return "update", before


def _through_link(exc: KubeconfigError, given: Path, target: Path) -> KubeconfigError:
    """``exc`` naming the path the user gave, and where its symlink leads, instead of the target alone."""
    if given == target:
        return exc
    shown = f"{given} (a link to {target})"
    return KubeconfigError([dataclasses.replace(p, file=shown) if p.file == str(target) else p for p in exc.problems])


def write(
    cluster: ClusterInfo,
    options: ExecOptions,
    path: str | os.PathLike[str] | None = None,
    alias: str | None = None,
    sandbox: LocalSandbox | None = None,
) -> WriteResult:
    """Merge our entries into the kubeconfig at ``path`` (default :func:`default_path`) and make ours current.

    ``sandbox``, from the entry point, records a sandbox cluster's context so the sandbox removes it when it stops.
    """
    # Write through a symlinked kubeconfig to its target, as kubectl does.
    given = resolve_path(path)
    target = Path(os.path.realpath(given))
    entries = desired_entries(cluster, options, alias)
    context = entries["contexts"]["name"]
    try:
        # Checked once before anything is created (the directory, the lock files), so a file we
        # cannot merge into is refused with it and its directory exactly as they were.
        plan_op(target, entries, context)
        target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    except KubeconfigError as exc:
        raise _through_link(exc, given, target) from None
    except OSError as exc:
        raise KubeconfigError(Problem(f"cannot create the kubeconfig's directory: {exc.strerror}", str(target.parent))) from None
    with _locked(target):
        op, _before = plan_op(target, entries, context)
        if op == "no-op":
            if (target.stat().st_mode & 0o777) != 0o600:
                os.chmod(target, 0o600)
        else:
            text = read_text(target) or ""
            _atomic_write(target, merge(text, entries, context, str(target)))
    _record_for_sandbox(cluster, options, target, context, sandbox)
    return WriteResult("no-op" if op == "no-op" else "create" if op == "create" else "update", target, context)


def _record_for_sandbox(
    cluster: ClusterInfo, options: ExecOptions, path: Path, context: str, sandbox: LocalSandbox | None
) -> None:
    """A context for a cluster of the sandbox is recorded, so that the sandbox removes it when it stops."""
    if not options.sandbox or sandbox is None:
        return
    sandbox.record_context(str(path), cluster.arn, cluster.name, context, cluster.endpoint, options.sandbox_endpoint or "")


# -- removal (destroy, and a sandbox that stops) ---------------------------------------------


@dataclass(frozen=True)
class RemoveResult:
    """What :func:`remove` took out of the file (section → entry names); empty when nothing was ours."""

    path: Path
    removed: dict[str, list[str]]
    cleared_current: bool = False

    @property
    def contexts(self) -> list[str]:
        """The context names removed."""
        return self.removed.get("contexts", [])


def _flag(args: list[str], name: str) -> str | None:
    """The value after ``name`` in an argument list (``--cluster-name demo``), or None."""
    for i, arg in enumerate(args[:-1]):
        if arg == name:
            return args[i + 1]
    return None


def is_our_exec(user: Any, cluster_name: str) -> bool:
    """True when a kubeconfig user entry runs one of the token plugins we write, for ``cluster_name``.

    That is ``eks-assist token --cluster-name NAME ...`` or ``aws ... eks get-token --cluster-name NAME``
    (the shape ``aws eks update-kubeconfig`` writes too). A static token, a client certificate
    or any other plugin is never ours.
    """
    exec_ = ((user or {}).get("user") or {}).get("exec") if isinstance(user, dict) else None
    if not isinstance(exec_, dict):
        return False
    command = Path(str(exec_.get("command") or "")).name
    args = [str(a) for a in exec_.get("args") or []]
    if _flag(args, "--cluster-name") != cluster_name:
        return False
    if command == "eks-assist":
        return args[:1] == ["token"]
    if command == "aws":
        return "eks" in args and "get-token" in args
    return False


def ours_for(data: dict[str, Any], arn: str, cluster_name: str, server: str | None = None) -> dict[str, list[str]]:
    """The entries in ``data`` that eks-assist wrote for this cluster, by section; empty if none.

    Ours means: the user named by the cluster ARN runs our token plugin for ``cluster_name``;
    the contexts that pair that user with the cluster entry named by the ARN; and that cluster
    entry, unless a context we keep still uses it. ``server`` (a sandbox cluster's endpoint, as
    written) also requires the cluster entry to point exactly there still.
    """
    users = [u for u in data.get("users") or [] if isinstance(u, dict) and u.get("name") == arn]
    if len(users) != 1 or not is_our_exec(users[0], cluster_name):
        return {}
    clusters = [c for c in data.get("clusters") or [] if isinstance(c, dict) and c.get("name") == arn]
    if server is not None:
        written = ((clusters[0].get("cluster") or {}) if len(clusters) == 1 else {}).get("server")
        if written != server:
            return {}
    contexts: list[dict[str, Any]] = []
    kept: list[dict[str, Any]] = []
    for c in data.get("contexts") or []:
        if not isinstance(c, dict):
            continue
        ref = c.get("context") or {}
        pair = (ref.get("cluster"), ref.get("user")) if isinstance(ref, dict) else (None, None)
        (contexts if pair == (arn, arn) else kept).append(c)
    found: dict[str, list[str]] = {"users": [arn], "contexts": [str(c.get("name")) for c in contexts]}
    still_used = any(isinstance(c.get("context"), dict) and c["context"].get("cluster") == arn for c in kept)
    if len(clusters) == 1 and not still_used:
        found["clusters"] = [arn]
    return {section: names for section, names in found.items() if names}


def planned_removal(
    path: str | os.PathLike[str] | None, arn: str, cluster_name: str, server: str | None = None
) -> dict[str, Any] | None:
    """What :func:`remove` would take out of the file (read-only), with ``current-context``; None if nothing."""
    target = Path(os.path.realpath(resolve_path(path)))
    text = read_text(target)
    if text is None:
        return None
    data = _load(text, str(target))
    found = ours_for(data, arn, cluster_name, server)
    if not found:
        return None
    return {"path": str(target), "removed": found, "current-context": data.get("current-context")}


def _without(data: dict[str, Any], removed: dict[str, list[str]], clear_current: bool) -> dict[str, Any]:
    """The removal on parsed data: what the text edit must be equal to."""
    out = copy.deepcopy(data)
    for section, names in removed.items():
        out[section] = [i for i in out.get(section) or [] if not (isinstance(i, dict) and i.get("name") in names)]
    if clear_current:
        out["current-context"] = ""
    return out


def _text_remove(text: str, removed: dict[str, list[str]], clear_current: bool) -> str:
    """Cut our entries out of ``text``; KubeconfigError when its shape is not one we edit textually."""
    root = yaml.compose(text, Loader=yaml.SafeLoader)
    if not isinstance(root, yaml.MappingNode) or root.flow_style:
        raise KubeconfigError("top level is not a block mapping")
    by_key = {k.value: (k, v) for k, v in root.value if isinstance(k, yaml.ScalarNode)}
    edits: list[tuple[int, int, str]] = []
    for section, names in removed.items():
        key, value = by_key[section]
        if not isinstance(value, yaml.SequenceNode) or value.flow_style:
            raise KubeconfigError(f"{section} is not a block list")
        gone = [i for i, item in enumerate(value.value) if _scalar_name(item) in names]
        if len(gone) == len(value.value):
            # Every entry goes: the key stays, as an empty list (kubectl writes `contexts: []` too).
            start = _line_start(text, key.start_mark.index)
            if start != key.start_mark.index:
                raise KubeconfigError("indented top-level key")
            end = _item_span(text, value.value[-1])[1]
            edits.append((start, end, f"{section}: []\n"))
            continue
        for i in gone:
            start, end, _col = _item_span(text, value.value[i])
            edits.append((start, end, ""))
    if clear_current:
        _key, value = by_key["current-context"]
        if not isinstance(value, yaml.ScalarNode):
            raise KubeconfigError("current-context is not a scalar")
        edits.append((value.start_mark.index, value.end_mark.index, '""'))
    for start, end, replacement in sorted(edits, key=lambda e: e[0], reverse=True):
        text = text[:start] + replacement + text[end:]
    return text


def remove(path: str | os.PathLike[str] | None, arn: str, cluster_name: str, server: str | None = None) -> RemoveResult:
    """Take our entries for the cluster out of the kubeconfig at ``path`` (atomic, locked like :func:`write`).

    Only what :func:`ours_for` names goes; every other entry stays byte-for-byte. If the
    current context was one of ours, ``current-context`` becomes ``""``, as eksctl and kubectl
    leave it. A missing file, or one with nothing of ours, is left untouched.
    """
    given = resolve_path(path)
    target = Path(os.path.realpath(given))
    try:
        if planned_removal(target, arn, cluster_name, server) is None:
            return RemoveResult(target, {})
    except KubeconfigError as exc:
        raise _through_link(exc, given, target) from None
    with _locked(target):
        text = read_text(target)
        if text is None:
            return RemoveResult(target, {})
        data = _load(text, str(target))
        found = ours_for(data, arn, cluster_name, server)
        if not found:
            return RemoveResult(target, {})
        clear = data.get("current-context") in found.get("contexts", [])
        want = _without(data, found, clear)
        try:
            edited = _text_remove(text, found, clear)
            if _load(edited) != want:
                raise KubeconfigError("the text edit does not match")
        except (KubeconfigError, yaml.YAMLError):
            # A shape we do not cut from (JSON, flow lists): correct, but reformatted.
            edited = yaml.safe_dump(want, default_flow_style=False, sort_keys=False, width=1 << 20)
        _atomic_write(target, edited)
    return RemoveResult(target, found, clear)
