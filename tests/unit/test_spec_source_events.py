"""The event-driven spec loader reads every input exactly as the node-tree loader it replaced.

``reference_loads`` below is the loader as it was before (assistant/spec/source.py at fd4b86b):
libyaml's token scan for anchors and depth, ``yaml.compose_all`` into a node tree, and a
recursive builder; it is kept here only, as the yardstick. For a corpus of inputs (every YAML
file in the repository, generated specs, the bad-input cases, hand-written tricky YAML, nesting
around :data:`MAX_DEPTH` in every style, and generated YAML-ish text), both must give the same
data (same types), the same ``marks`` and ``key_marks``, or the same problems, messages,
files, lines, columns and paths, in the same order; with libyaml and without it.
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

from assistant.errors import InputError, Problem
from assistant.spec import source
from assistant.spec.source import MAX_DEPTH, SPEC_MAX_BYTES, Locator, PathT, format_path, number_problem

REPO = Path(__file__).resolve().parents[2]

# -- the loader before (fd4b86b), verbatim but for names ----------------------------------------

_SURROGATE = re.compile(r"[\ud800-\udfff]")
_STR_TAG = "tag:yaml.org,2002:str"


def _mark(node: Any) -> tuple[int, int]:
    return (node.start_mark.line + 1, node.start_mark.column + 1)


def _clip(text: Any, limit: int = 40) -> str:
    text = str(text)
    return repr(text if len(text) <= limit else text[:limit] + "...")


class _Builder:
    """Turns a composed node tree into plain data, recording positions as it goes."""

    def __init__(self, locator: Locator) -> None:
        self.loc = locator
        self.constructor = yaml.SafeLoader("")  # only used for scalar resolution
        self.number_problems: list[Problem] = []

    def build(self, node: yaml.Node, path: PathT, depth: int) -> Any:
        if depth > MAX_DEPTH:
            raise InputError(self.loc.problem(path, f"nested deeper than {MAX_DEPTH} levels"))
        self.loc.marks[path] = _mark(node)
        if isinstance(node, yaml.MappingNode):
            out: dict[str, Any] = {}
            for key_node, value_node in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    raise InputError(Problem("YAML merge keys (<<) are not supported", self.loc.file, *_mark(key_node)))
                key = self._construct(key_node, path)
                if not isinstance(key, str):
                    line, col = _mark(key_node)
                    raise InputError(
                        Problem(
                            f"mapping keys must be strings, got {type(key).__name__} {key!r}",
                            self.loc.file,
                            line,
                            col,
                            format_path(path) or None,
                        )
                    )
                if key in out:
                    line, col = _mark(key_node)
                    raise InputError(Problem(f"duplicate key {key!r}", self.loc.file, line, col, format_path(path) or None))
                self.loc.key_marks[(*path, key)] = _mark(key_node)
                out[key] = self.build(value_node, (*path, key), depth + 1)
            return out
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, (*path, i), depth + 1) for i, item in enumerate(node.value)]
        value = self._construct(node, path)
        if not isinstance(value, str | int | float | bool | type(None)):
            value = node.value
        if isinstance(node, yaml.ScalarNode) and not node.style:
            problem = number_problem(str(node.value), str(node.tag), value)
            if problem:
                self.number_problems.append(Problem(problem, self.loc.file, *_mark(node), format_path(path) or None))
        return value

    def _construct(self, node: yaml.Node, path: PathT) -> Any:
        if isinstance(node, yaml.ScalarNode) and node.tag == _STR_TAG:
            value: Any = node.value
        else:
            value = self._construct_other(node, path)
        bad = _SURROGATE.search(value) if isinstance(value, str) and not value.isascii() else None
        if bad:
            message = f"contains an unpaired surrogate \\u{ord(bad.group()):04x}, which is not valid Unicode text"
            raise InputError(Problem(message, self.loc.file, *_mark(node), format_path(path) or None))
        return value

    def _construct_other(self, node: yaml.Node, path: PathT) -> Any:
        try:
            return self.constructor.construct_object(node, deep=True)
        except yaml.MarkedYAMLError as exc:
            what = exc.problem or exc.context or "cannot read this value"
            raise InputError(Problem(f"invalid YAML: {what}", self.loc.file, *_mark(node), format_path(path) or None)) from None
        except (yaml.YAMLError, ValueError, LookupError, AttributeError, TypeError, ArithmeticError):
            if node.tag == "tag:yaml.org,2002:timestamp":
                return node.value
            tag = str(node.tag).replace("tag:yaml.org,2002:", "!!")
            too_big = tag == "!!int" and re.fullmatch(r"[-+]?[0-9_]+", str(node.value))
            what = "a number too large to read" if too_big else f"not a valid {tag} value"
            problem = Problem(
                f"invalid YAML: {_clip(node.value)} is {what}", self.loc.file, *_mark(node), format_path(path) or None
            )
            raise InputError(problem) from None


_OPEN = yaml.BlockSequenceStartToken | yaml.BlockMappingStartToken | yaml.FlowSequenceStartToken | yaml.FlowMappingStartToken
_CLOSE = yaml.BlockEndToken | yaml.FlowSequenceEndToken | yaml.FlowMappingEndToken


def _check_tokens(text: str, filename: str, loader: Any) -> None:
    depth = 0
    for token in yaml.scan(text, Loader=loader):
        if isinstance(token, yaml.AliasToken | yaml.AnchorToken):
            line, col = _mark(token)
            raise InputError(Problem("YAML anchors and aliases (&, *) are not allowed", filename, line, col))
        if isinstance(token, _OPEN):
            depth += 1
            if depth > MAX_DEPTH:
                line, col = _mark(token)
                raise InputError(Problem(f"nested deeper than {MAX_DEPTH} levels", filename, line, col))
        elif isinstance(token, _CLOSE):
            depth -= 1


def _compose(text: str, filename: str, fast: Any) -> list[yaml.Node]:
    try:
        _check_tokens(text, filename, fast)
        return list(yaml.compose_all(text, Loader=fast))
    except yaml.YAMLError:
        if fast is yaml.SafeLoader:
            raise
    _check_tokens(text, filename, yaml.SafeLoader)
    return list(yaml.compose_all(text, Loader=yaml.SafeLoader))


def reference_loads(text: str, filename: str, max_bytes: int, fast: Any) -> tuple[Any, Locator]:
    locator = Locator(filename)
    if len(text.encode("utf-8", errors="replace")) > max_bytes:
        raise InputError(Problem(f"file is larger than {max_bytes // 1024} KiB; refusing to parse it", filename))
    if not text.strip():
        raise InputError(Problem("file is empty", filename))
    try:
        nodes = _compose(text, filename, fast)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        col = mark.column + 1 if mark else None
        what = exc.problem or exc.context or "malformed YAML"
        raise InputError(Problem(f"invalid YAML: {what}", filename, line, col)) from None
    except yaml.reader.ReaderError as exc:
        before = text[: exc.position]
        line, col = before.count("\n") + 1, exc.position - (before.rfind("\n") + 1) + 1
        what = (
            f"the character {chr(exc.character)!r} (U+{exc.character:04X})" if isinstance(exc.character, int) else "a character"
        )
        raise InputError(Problem(f"invalid YAML: {what} is not allowed in YAML text", filename, line, col)) from None
    except yaml.YAMLError as exc:
        raise InputError(Problem(f"invalid YAML: {exc}", filename)) from None
    nodes = [n for n in nodes if n is not None]
    if not nodes:
        raise InputError(Problem("file has no YAML document (only comments or blank lines)", filename))
    if len(nodes) > 1:
        line, col = _mark(nodes[1])
        raise InputError(Problem("expected one YAML document, found more than one (---)", filename, line, col))
    builder = _Builder(locator)
    data = builder.build(nodes[0], (), 0)
    if builder.number_problems:
        raise InputError(builder.number_problems)
    return data, locator


# -- comparing ----------------------------------------------------------------------------------

FILE = "spec.yaml"
LOADERS = [pytest.param(yaml.SafeLoader, id="pure-python")]
if source.FAST_LOADER is not yaml.SafeLoader:
    LOADERS.insert(0, pytest.param(source.FAST_LOADER, id="libyaml"))


def _outcome(load: Any, text: str) -> tuple[Any, ...]:
    try:
        data, locator = load(text)
    except InputError as exc:
        return ("refused", [(p.message, p.file, p.line, p.col, p.path) for p in exc.problems])
    except Exception as exc:  # the same crash, if any: e.g. a lone surrogate in the str itself
        return ("raised", type(exc).__name__, str(exc))
    # repr tells 1 from 1.0 from True, keeps the keys' order and shows NaN as nan.
    return ("loaded", repr(data), locator.file, locator.marks, locator.key_marks)


def both(text: str, fast: Any, monkeypatch: pytest.MonkeyPatch) -> tuple[tuple[Any, ...], tuple[Any, ...]]:
    monkeypatch.setattr(source, "FAST_LOADER", fast)
    before = _outcome(lambda t: reference_loads(t, FILE, SPEC_MAX_BYTES, fast), text)
    after = _outcome(lambda t: source.loads(t, FILE, SPEC_MAX_BYTES), text)
    return before, after


# -- the corpus ---------------------------------------------------------------------------------


def _spec_text() -> Any:
    spec = importlib.util.spec_from_file_location("spec_load_benchmark", REPO / "benchmarks" / "spec_load.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.spec_text


def _nested(n: int) -> dict[str, str]:
    """``n`` levels deep, in each style the parsers count differently (``indentless`` is two collections a level)."""
    indentless = "".join(f"{'  ' * i}k{i}:\n{'  ' * i}- " + ("leaf\n" if i == n - 1 else "\n") for i in range(n))
    return {
        "block-map": "".join(f"{'  ' * i}k{i}:" + (" x\n" if i == n - 1 else "\n") for i in range(n)),
        "block-seq": "".join(f"{'  ' * i}-" + (" x\n" if i == n - 1 else "\n") for i in range(n)),
        "indentless": indentless,  # a "- " list under a key at its indentation has no token
        "flow-seq": "[" * n + "x" + "]" * n,
        "flow-map": "{a: " * n + "x" + "}" * n,
        "flow-pair": "[a: " * n + "x" + "]" * n,  # single-pair mappings have no token either
        "empty-seq": "[" * n + "]" * n,
        "empty-map": "[" * (n - 1) + "{}" + "]" * (n - 1),
        "under-key": "a: " + "[" * n + "x" + "]" * n + "\n",
        "in-complex-key": "? " + "[" * n + "x" + "]" * n + "\n: x\n",
        "pair-under-key": "a:\n  " + "[a: " * n + "x" + "]" * n + "\n",
        "with-anchor": "a: &x " + "[" * n + "x" + "]" * n + "\n",
        "then-document": "[" * n + "x" + "]" * n + "\n--- b\n",
        "after-duplicate": "a: 1\na: 2\nb: " + "[" * n + "x" + "]" * n + "\n",
        "indentless-then-anchor": indentless + "z: &a 1\n",
        "tagged": "!!seq " + "[" * n + "x" + "]" * n,
        "indentless-in-list": "- " + indentless.replace("\n", "\n  "),
    }


TRICKY = [
    # styles
    "a: plain\nb: 'single'\nc: \"double \\u00e9 \\x41\"\nd: |\n  literal\n  text\n\ne: >-\n  folded\n  text\nf: |+\n  keep\n\n",
    "a: [b, 'c', \"d\", {e: f, g: [h, i]}, [j, [k]]]\nl: {m: [], n: {}, o: ''}\n",
    "- a\n- - b\n  - c\n- d: e\n  f: g\n- {h: i}\n- []\n",
    "a:\n- b\n- c: d\n  e:\n  - f\n",
    "[a: b, ? c : d, {e: f}, ? g, h: ]\n",
    "{a, b: , ? c}\n",
    "? a\n: b\n? c\n",
    "'key: with colon': 1\n\"k#2\": 2\nk3 #c: 3\nurl: http://x:80/a#b\n",
    # tags
    "a: !!str 12\nb: !!int '12'\nc: !!float 1\nd: !!bool yes\ne: !!null ''\nf: !!str\ng: ! 12\nh: ! x\n",
    "a: !!map {b: 1}\nc: !!seq [1]\nd: !!set {e, f}\ng: !!omap [h: 1]\ni: !foo {j: 1}\nk: !!str [x]\n",
    "%TAG !e! tag:example.com,2000:\n---\na: !e!x y\n",
    "%TAG !! tag:example.com,2000:\n---\na: !!int 1\n",
    "a: !<tag:yaml.org,2002:str> 1\nb: !<tag:yaml.org,2002:int> 2\n",
    "!!str 12: x\n!!int '3': y\n",
    # nulls, empties, booleans
    "a:\nb: ~\nc: null\nd: Null\ne: NULL\nf: ''\ng: \"\"\nh: -\n",
    "a: yes\nb: No\nc: on\nd: OFF\ne: true\nf: False\ng: y\nh: n\n",
    "~: a\n",
    "null: a\n",
    ": a\n",
    "? \n: a\n",
    "true: a\n",
    # numbers: YAML 1.1 forms, YAML 1.2 forms, quoted
    "a: 020\nb: 0x1A\nc: 0b101\nd: 1:00\ne: 1:30:00.5\nf: 2_000\ng: .inf\nh: -.Inf\ni: .NaN\nj: 1_0.5\nk: 0o17\nl: 1e3\nm: 08\n",
    "a: 20\nb: -3\nc: +4\nd: 0.5\ne: 1.5e+3\nf: -0\ng: 0\nh: .5\ni: 5.\nj: -0.0\nk: '020'\nl: \"0x1A\"\nm: +.inf\n",
    "a: !!int 020\nb: !!float 1_0\nc: !!int '0x10'\nd: !!int 1:00\n",
    "a: " + "9" * 5000 + "\n",
    "a: !!int " + "9" * 5000 + "\n",
    "020: a\n",
    "1.5: a\n",
    "- 020\n- 1:00\n- 0x1A\n",
    # timestamps, binary, odd constructors
    "a: 2001-12-14\nb: 2001-12-14t21:59:43.10-05:00\nc: 2001-02-30\nd: !!timestamp x\ne: !!timestamp 2001-01-01\n",
    'a: !!binary aGVsbG8=\nb: !!binary a\nc: !!binary "\\u00e9"\n',
    "a: !!bool maybe\n",
    "a: !!int\n",
    "a: !foo x\n",
    "a: =\n",
    "a: !!python/object/apply:os.system [x]\n",
    "2001-01-01: a\n",
    "2001-02-30: a\n",
    "? !!binary aGVsbG8=\n: a\n",
    # keys that are not text
    "? [a, b]\n: x\n",
    "? {a: 1}\n: x\n",
    "? {[a]: 1}\n: x\n",
    "? !foo [a]\n: x\n",
    "[a]: x\n",
    "1: x\n",
    "a:\n  b:\n    3: x\n",
    # merge keys
    "a: {b: 1}\nc:\n  <<: {d: 1}\n",
    "{<<: {a: 1}}",
    "? !!merge [a]\n: b\n",
    "!!merge x: y\n",
    "'<<': quoted is text\n",
    # duplicates
    "a: 1\na: 2\n",
    "a: 1\n'a': 2\n",
    "a:\n  b: 1\n  b: 2\n",
    "- {a: 1, a: 2}\n",
    "a: 1\na: 2\nb: 020\n",
    "x: 020\na: 1\na: 2\n",
    # anchors and aliases, also after other problems
    "a: &x 1\nb: *x\n",
    "a: &x [1, 2]\nb: *x\n",
    "*x\n",
    "&x a\n",
    "a: !!str &x b\n",
    "a: 1\na: 2\nb: &x 3\n",
    "a: [b\nc: &x 1",
    "- a\nb: &x c\n",
    "a: 1\n---\nb: &x 2\n",
    "a: 020\nb: &x 1\n",
    # surrogates and unicode
    'a: ["\\ud800"]\n',
    '"\\udc00": 1\n',
    'a: "\\ud83d\\ude00"\n',
    "a: é\nü: b\n日本: 語\n😀: 😀\n",
    "a: \ud800\n",
    "\ufeffa: bom\n",
    "a: b\u2028c\n",
    "a: \x85b\n",
    # documents
    "a: 1\n---\nb: 2\n",
    "--- a\n--- b\n",
    "---\n...\n",
    "---\n---\n",
    "a: 1\n...\n",
    "a: 1\n... # end\n---\nb: 1\n",
    "%YAML 1.1\n---\na: 1\n",
    "%YAML 1.2\n---\na: 1\n",
    "# only a comment\n",
    "...\n",
    "---\n# nothing\n",
    "",
    "   \n\n",
    "a: 1\n--- [\n",
    "a: 1\n--- &x b\n",
    "a: 1\na: 2\n--- b\n",
    # syntax errors (PyYAML's own words)
    "a: b: c\n",
    "a: 'x\n",
    'a: "x\n',
    "a: [b\n",
    "a: {b\n",
    "a:\n  - b\n c: d\n",
    "- a\nb: c\n",
    "a: b\n  c: \x07d",
    "\t- a\n",
    "a: |\n x\n  y\n",
    "]\n",
    "%FOO\n",
    "a: !<> x\n",
    "a: @x\n",
    "a: `x\n",
    "? a\n? b\n: c\n: d\n",
    "a: b\n---\n]\n",
    "a: 1\na: 2\nb: [\n",
]


def _repository_yaml() -> dict[str, str]:
    roots = ["examples", "playbooks", "tests", "benchmarks", "slackbot"]
    files = sorted(p for root in roots for p in (REPO / root).rglob("*.yaml"))
    assert len(files) >= 10, files
    return {str(p.relative_to(REPO)): p.read_text(encoding="utf-8") for p in files}


def _bad_input_cases() -> dict[str, str]:
    from tests.cli.test_bad_input import SPEC_CASES as CLI_CASES
    from tests.security.test_bad_input_corpus import SPEC_CASES as CORPUS_CASES

    out = {f"cli-{name}": text for name, text, _ in CLI_CASES}
    out |= {f"corpus-{case.id}": case.data for case in CORPUS_CASES if isinstance(case.data, str)}
    return out


def _corpus() -> dict[str, str]:
    spec_text = _spec_text()
    out = _repository_yaml()
    out |= {f"generated-{ng}-{m}": spec_text(ng, m) for ng, m in [(1, 1), (3, 40), (20, 300)]}
    out |= _bad_input_cases()
    out |= {f"tricky-{i}": text for i, text in enumerate(TRICKY)}
    half = MAX_DEPTH // 2
    for n in (half, half + 1, MAX_DEPTH - 2, MAX_DEPTH - 1, MAX_DEPTH, MAX_DEPTH + 1, MAX_DEPTH + 2, 2 * MAX_DEPTH + 1, 5000):
        out |= {f"depth-{n}-{style}": text for style, text in _nested(n).items()}
    return out


CORPUS = _corpus()


@pytest.mark.parametrize("fast", LOADERS)
def test_every_corpus_input_reads_as_before(fast: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    differences = []
    seen: set[str] = set()
    for name, text in CORPUS.items():
        if fast is yaml.SafeLoader and len(text) > 100_000:
            continue  # 8 s in pure Python; libyaml compares it
        before, after = both(text, fast, monkeypatch)
        if before != after:
            differences.append(f"{name}:\n  before: {str(before)[:600]}\n  after:  {str(after)[:600]}")
        seen.add(before[0] if before[0] != "refused" else before[1][0][0].split(":")[0][:28])
    assert not differences, "\n".join(differences)
    # The corpus reaches every outcome it is meant to compare.
    expected = ["raised"] if fast is not yaml.SafeLoader else []  # libyaml cannot take a lone surrogate in the str
    for outcome in [
        *expected,
        "loaded",
        "file is empty",
        "file has no YAML document (on",
        "invalid YAML",
        "YAML anchors and aliases (&, ",
        "nested deeper than 64 levels",
        "expected one YAML document, f",
        "YAML merge keys (<<) are not ",
        "duplicate key 'a'",
        "mapping keys must be strings,",
        "contains an unpaired surroga",
        "020 is read by YAML 1.1 as oc",
    ]:
        assert outcome[:28] in seen, (outcome, sorted(seen))


def test_nesting_near_the_limit_is_refused_by_both_rules() -> None:
    """The token rule (no path) and the builder's rule (a path, placed at the parent) both fire in the corpus."""
    with pytest.raises(InputError) as by_tokens:
        source.loads(_nested(MAX_DEPTH + 1)["flow-seq"], FILE)
    with pytest.raises(InputError) as by_data:
        source.loads(_nested(MAX_DEPTH)["indentless"], FILE)
    ((tokens,), (data,)) = by_tokens.value.problems, by_data.value.problems
    assert (tokens.line, tokens.col, tokens.path) == (1, MAX_DEPTH + 1, None)
    assert data.path == format_path(tuple(part for i in range(MAX_DEPTH // 2) for part in (f"k{i}", 0))) + f".k{MAX_DEPTH // 2}"
    assert (data.line, data.col) == (MAX_DEPTH + 1, MAX_DEPTH + 1)  # the parent's position: the node has none yet
    source.loads(_nested(MAX_DEPTH // 2)["indentless"], FILE)  # its leaf is MAX_DEPTH deep
    with pytest.raises(InputError, match=f"nested deeper than {MAX_DEPTH} levels"):
        source.loads(_nested(MAX_DEPTH // 2 + 1)["indentless"], FILE)
    source.loads(_nested(MAX_DEPTH)["flow-seq"], FILE)


def test_very_deep_nesting_costs_no_recursion() -> None:
    for text in ("[" * 200_000, "- " * 100_000 + "x\n", "a:\n" + "".join(f"{' ' * i}- \n" for i in range(1, 2000))):
        with pytest.raises(InputError, match="nested deeper than 64 levels"):
            source.loads(text, FILE, SPEC_MAX_BYTES)


FRAGMENTS = [
    *("? ", ": ", "- ", "[", "]", "{", "}", ", ", "\n", "\n  ", "\n    ", "\n- ", "\n  - ", "#c\n", "---\n", "...\n", "--- "),
    *("!!str ", "!!int ", "!!float ", "!!null ", "!!bool ", "!!map ", "!!seq ", "!!set ", "!!binary ", "!!timestamp "),
    *("! ", "!x "),
    *("!!merge ", "<<", "&a ", "*a", "=", "~", "null", "yes", "No", "0o17", "017", "0x1f", "0b11", "1:20", "1_000", "1.5e3"),
    *(".NaN", "-.inf", "+1", "-0", "2001-12-14", "2001-02-30", "'q'", '"d\\x41"', '"\\ud800"', "|-\n  a\n", ">\n  b\n"),
    *("a", "b", "k: ", "é", "key with: colon", "'a: b'", "\t", "\x07", "%YAML 1.1\n", "9" * 50),
]
YAMLISH = st.lists(st.sampled_from(FRAGMENTS) | st.text(max_size=3), max_size=40).map("".join)


@st.composite
def _mutated(draw: st.DrawFn) -> str:
    text = draw(st.sampled_from(sorted(_repository_yaml().items())))[1]
    for _ in range(draw(st.integers(1, 4))):
        pos = draw(st.integers(0, len(text)))
        piece = draw(st.sampled_from(FRAGMENTS))
        text = text[:pos] + piece + text[pos + draw(st.integers(0, 3)) :]
    return text


@seed(20261206)
@settings(max_examples=400, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(st.one_of(YAMLISH, _mutated()))
def test_generated_yaml_reads_as_before(text: str) -> None:
    with pytest.MonkeyPatch.context() as monkeypatch:
        before, after = both(text, source.FAST_LOADER, monkeypatch)
    assert before == after, text
