"""Fuzz drill: the spec loader takes any text or YAML-ish data and answers a spec or a located InputError.

Three properties, run in one test so that the drill records its figure once:

- arbitrary text (random unicode, YAML-ish fragments, byte-level mutations of a valid spec)
  through :func:`assistant.spec.loads_spec`;
- valid specs with one to three structural mutations (wrong types, missing and unknown keys,
  unicode, huge numbers, NaN and infinities, nesting), dumped as YAML and loaded, and also
  validated as data with :func:`assistant.spec.parse_spec`;
- generated valid specs: they load, and their canonical form round-trips (dump, load, same
  canonical form and digest, whatever the YAML style).

Anything else than a :class:`~assistant.spec.LoadedSpec` or an :class:`~assistant.errors.InputError`
whose every problem names the file and a line or a field path is a failure.
"""

from __future__ import annotations

import copy
import math
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import example, given
from hypothesis import strategies as st

from assistant.errors import InputError
from assistant.spec import AMI_TYPES, LOG_TYPES, ClusterSpec, LoadedSpec, loads_spec, parse_spec
from assistant.spec.source import MAX_DEPTH, Locator

from ..conftest import EXAMPLES
from .fuzz_settings import TIMEOUT, Tally, fuzz, run_properties

FILE = "fuzz.yaml"
FULL_SPEC = Path(__file__).resolve().parent.parent / "reliability" / "full_spec.yaml"
BASES = [FULL_SPEC.read_text(encoding="utf-8"), *(p.read_text(encoding="utf-8") for p in sorted(EXAMPLES.glob("*.yaml")))]
BASE_DATA = [yaml.safe_load(text) for text in BASES]

# Problems about the file as a whole cannot point at a line.
WHOLE_FILE = ("file is empty", "file has no YAML document", "file is larger than")

TALLY = Tally("fuzz: spec loader", faults="arbitrary text, YAML fragments, mutated and generated specs")


def _field_names(model: Any, out: set[str]) -> set[str]:
    from pydantic import BaseModel

    for name, info in model.model_fields.items():
        out.add(info.alias or name)
        for tp in _types(info.annotation):
            if isinstance(tp, type) and issubclass(tp, BaseModel) and tp is not model:
                _field_names(tp, out)
    return out


def _types(tp: Any) -> list[Any]:
    from typing import get_args

    args = get_args(tp)
    return [tp] if not args else [t for a in args for t in _types(a)]


FIELD_NAMES = sorted(_field_names(ClusterSpec, set()))

# Values the validators have opinions about, near misses of valid ones, and plain trouble.
TRICKY = [
    "",
    " ",
    "1.30",
    "1.3",
    "٣.٣",
    "99999999999999999999999.1",
    "us-east-1",
    "us-east-1a",
    "10.0.0.0/16",
    "10.0.0.1/16",
    "10.0.0.0/255.255.0.0",
    "10.0.0.0/016",
    "::/0",
    "0.0.0.0/0",
    "m5.large",
    "\uff4d\uff15.large",  # fullwidth m5
    "AL2_x86_64",
    "CUSTOM",
    "NoSchedule",
    "ami-0123456789abcdef0",
    "subnet-0123456789abcdef0",
    "sg-0123456789abcdef0",
    "arn:aws:iam::123456789012:role/x",
    "arn:aws:iam::123456789012:role/a/b/c",
    "arn:aws:iam::123456789012:user/u",
    "arn:aws:kms:eu-west-1:111122223333:key/abc",
    "123456789012",
    "{{ spec.metadata.name }}",
    "{broken",
    "a: b",
    "- x",
    "\x00",
    "\u202e",
    "\ud800",
    "e\u0301",
    "x" * 300,
    "kubernetes.io/role",
    "aws:x",
    "eks-assist:owner",
]

SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=-(2**200), max_value=2**200),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
    st.sampled_from(TRICKY),
)
KEYS = st.one_of(st.sampled_from(FIELD_NAMES), st.text(max_size=12), st.sampled_from(["", "<<", "~", "null", "true", "1"]))
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(KEYS, inner, max_size=4),
    max_leaves=10,
)


def _paths(data: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(data, dict):
        for k, v in data.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(data, list):
        for i, v in enumerate(data):
            out += _paths(v, (*prefix, i))
    return out


def _get(data: Any, path: tuple[Any, ...]) -> Any:
    for part in path:
        data = data[part]
    return data


@st.composite
def mutated_specs(draw: st.DrawFn) -> Any:
    """A valid spec's data after one to three mutations anywhere in it."""
    data = copy.deepcopy(draw(st.sampled_from(BASE_DATA)))
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(_paths(data)))
        op = draw(st.sampled_from(["replace", "delete", "add", "wrap", "nest", "null", "duplicate"]))
        target = _get(data, path)
        if not path:
            if op == "replace":
                data = draw(VALUES)
            elif op == "wrap":
                data = [data]
            continue
        parent, last = _get(data, path[:-1]), path[-1]
        if op == "replace":
            parent[last] = draw(VALUES)
        elif op == "delete":
            del parent[last]
        elif op == "add" and isinstance(target, dict):
            target[draw(KEYS)] = draw(VALUES)
        elif op == "add" and isinstance(target, list):
            target.append(draw(VALUES))
        elif op == "wrap":
            parent[last] = [target]
        elif op == "nest":
            deep: Any = target
            for _ in range(draw(st.integers(1, MAX_DEPTH + 5))):
                deep = {"x": deep} if draw(st.booleans()) else [deep]
            parent[last] = deep
        elif op == "null":
            parent[last] = None
        elif op == "duplicate" and isinstance(parent, list):
            parent.append(copy.deepcopy(target))
    return data


YAML_FRAGMENTS = [
    "apiVersion: eks-assist/v1\n",
    "kind: Cluster\n",
    "metadata:\n",
    "  name: x\n",
    "  region: us-east-1\n",
    "workers:\n",
    "  - name: a\n",
    "    instanceTypes: [m5.large]\n",
    "- ",
    ": ",
    "? ",
    "[",
    "]",
    "{",
    "}",
    ",",
    "&a ",
    "*a",
    "!!int ",
    "!!bool ",
    "!!binary ",
    "!!timestamp ",
    "!!python/object:os.system ",
    "!foo ",
    "2001-02-30",
    "2001-02-03",
    "9" * 5000,
    '"\\ud800"',
    '"\\x00"',
    "'",
    '"',
    "|\n",
    ">-\n",
    "#",
    "---\n",
    "...\n",
    "%YAML 1.1\n",
    "%TAG ! tag:x,2000:\n",
    "<<: ",
    ".nan",
    "-.inf",
    "0x1F",
    "0o17",
    "1_000",
    "~",
    "\t",
    "\n",
    "  ",
    "\u2028",
    "\ufeff",
    "é",
    "😀",
]
YAMLISH = st.lists(st.sampled_from(YAML_FRAGMENTS) | st.text(max_size=8), max_size=40).map("".join)


@st.composite
def mutated_text(draw: st.DrawFn) -> str:
    """A valid spec's text with characters inserted, deleted or replaced at random places."""
    text = draw(st.sampled_from(BASES))
    for _ in range(draw(st.integers(1, 6))):
        pos = draw(st.integers(0, len(text)))
        op = draw(st.sampled_from(["insert", "delete", "replace"]))
        piece = draw(st.sampled_from(YAML_FRAGMENTS) | st.text(min_size=1, max_size=3))
        if op == "insert":
            text = text[:pos] + piece + text[pos:]
        elif op == "delete":
            text = text[:pos] + text[pos + draw(st.integers(1, 20)) :]
        else:
            text = text[:pos] + piece + text[pos + len(piece) :]
    return text


# -- checks --------------------------------------------------------------------------------------


def check_located(exc: InputError, filename: str, *, has_source: bool = True) -> None:
    """Every problem names the file and a line or a field path, and its text can be printed.

    Data validated without its source text (``has_source=False``) has no lines, so a problem
    with the document as a whole (the top level, a missing top-level field) has no location.
    """
    assert exc.problems, "an InputError without problems"
    for p in exc.problems:
        assert p.message
        assert p.file == filename, p
        if has_source and not p.message.startswith(WHOLE_FILE):
            assert p.line is not None or p.path, f"unlocated problem: {p}"
        if p.line is not None:
            assert p.line >= 1 and (p.col is None or p.col >= 1), p
    str(exc).encode("utf-8")  # a lone surrogate in a message would crash printing it


def load_text(text: str, filename: str = FILE) -> LoadedSpec | None:
    """loads_spec, where an InputError must be located; the spec must hash when valid."""
    try:
        loaded = loads_spec(text, filename)
    except InputError as exc:
        check_located(exc, filename)
        return None
    loaded.spec.digest()
    return loaded


def check_round_trip(loaded: LoadedSpec) -> None:
    """Canonical form → YAML (block and flow style) → load: the same canonical form and digest."""
    canonical, digest = loaded.spec.canonical(), loaded.spec.digest()
    for flow in (False, True):
        text = yaml.safe_dump(canonical, default_flow_style=flow, allow_unicode=flow, sort_keys=not flow)
        again = loads_spec(text, "canonical.yaml")
        assert again.spec.canonical() == canonical
        assert again.spec.digest() == digest
    assert loads_spec(loaded.source or yaml.safe_dump(canonical), FILE).spec.digest() == digest


def _has_surrogate(data: Any) -> bool:
    if isinstance(data, str):
        return any("\ud800" <= ch <= "\udfff" for ch in data)
    if isinstance(data, dict):
        return any(_has_surrogate(k) or _has_surrogate(v) for k, v in data.items())
    if isinstance(data, list):
        return any(_has_surrogate(v) for v in data)
    return False


# -- properties ------------------------------------------------------------------------------------


@fuzz(150, offset=700)
@given(st.one_of(st.text(max_size=200), YAMLISH, mutated_text()))
@example("[" * 5000)  # PyYAML's composer recursed into a RecursionError
@example("a: b\n  c: \x07d")  # a ReaderError (non-printable character) had no line
@example("!!int")  # an empty !!int raised IndexError (found by the long profile)
@example("a: 2001-02-30\n")  # the timestamp constructor raised ValueError
@example("a: " + "9" * 5000 + "\n")  # int() past Python's 4300-digit limit raised ValueError
@example("a: !!bool maybe\nb: !!timestamp x\n")  # constructors raised KeyError / AttributeError
def arbitrary_text(text: str) -> None:
    with TALLY.example():
        loaded = load_text(text)
        TALLY.count("text valid" if loaded else "text refused")


@fuzz(150, offset=701)
@given(mutated_specs())
def mutated_data(data: Any) -> None:
    with TALLY.example():
        # Escaped, not allow_unicode: PyYAML writes a raw NEL (U+0085) that reads back as a space.
        text = yaml.safe_dump(data, sort_keys=False)
        loaded = load_text(text)
        if loaded is not None:
            check_round_trip(loaded)
        if not _has_surrogate(data):  # yamlsrc refuses those; parse_spec takes data it already checked
            try:
                direct = parse_spec(data, Locator("data"))
            except InputError as exc:
                check_located(exc, "data", has_source=False)
                assert loaded is None, "the text loads but the same data does not validate"
            else:
                assert loaded is not None and direct.spec.digest() == loaded.spec.digest()
        TALLY.count("mutation valid" if loaded else "mutation refused")


NAME = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9_-]{0,40}", fullmatch=True)
REGIONS = ["us-east-1", "eu-west-2", "ap-southeast-1", "us-gov-west-1", "cn-north-1", "eusc-de-east-1"]
# ARNs name the region's partition (botocore's partitions.json).
PARTITIONS = {"us-gov-west-1": "aws-us-gov", "cn-north-1": "aws-cn", "eusc-de-east-1": "aws-eusc"}
KMS_KEY_ID = st.uuids().map(str)
TAG_TEXT = st.text(st.characters(categories=["L", "N", "Zs"], include_characters="_.:/=+-@"), max_size=30)
LABEL = st.from_regex(r"[A-Za-z0-9]([-A-Za-z0-9_.]{0,20}[A-Za-z0-9])?", fullmatch=True)
# Free text a person can read (usernames, groups, context names): printable, 1-30 characters.
# (Printable also keeps out NEL, U+0085, which yaml.safe_dump(allow_unicode=True) writes raw in a
# quoted scalar, where reading it back folds it into a space: a PyYAML emitter bug.)
FREE_TEXT = st.text(st.characters(categories=["L", "M", "N", "P", "S"], include_characters=" "), min_size=1, max_size=30)
RESERVED = ("system:", "eks:", "aws:", "amazon:", "iam:")
CNI = [{}, {"prefixDelegation": True, "warmPrefixTarget": 1}, {"warmIpTarget": 2, "minimumIpTarget": 5}, {"externalSnat": True}]


@st.composite
def valid_specs(draw: st.DrawFn) -> dict[str, Any]:
    """A spec that should validate: every field chosen within the documented rules."""
    region = draw(st.sampled_from(REGIONS))
    tags = draw(
        st.dictionaries(
            TAG_TEXT.filter(
                lambda k: 1 <= len(k) <= 128 and not k.lower().startswith("aws:") and not k.startswith("eks-assist:")
            ),
            TAG_TEXT,
            max_size=4,
        ).filter(lambda d: len({k.lower() for k in d}) == len(d))  # IAM: tag keys are case-insensitive
    )
    version = draw(st.sampled_from(["1.30", "1.31", "1.32", "1.33"]))
    mode = draw(st.sampled_from(["CONFIG_MAP", "API_AND_CONFIG_MAP", "API"]))
    if draw(st.booleans()):
        vpc: dict[str, Any] = {
            "create": {"cidr": draw(st.sampled_from(["10.0.0.0/16", "10.1.0.0/20"])), "azCount": draw(st.integers(2, 3))}
        }
        service = draw(st.sampled_from([None, "172.20.0.0/16", "192.168.0.0/24"]))
    else:
        ids = draw(st.lists(st.from_regex(r"[0-9a-f]{8}|[0-9a-f]{17}", fullmatch=True), min_size=2, max_size=3, unique=True))
        vpc = {"existing": {"subnetIds": [f"subnet-{i}" for i in ids]}}
        service = draw(st.sampled_from([None, "10.100.0.0/16"]))
    public = draw(st.booleans())
    endpoint: dict[str, Any] = {"publicAccess": public, "privateAccess": not public or draw(st.booleans())}
    if public and draw(st.booleans()):
        endpoint["publicCidrs"] = draw(
            st.lists(st.sampled_from(["0.0.0.0/0", "203.0.113.0/24", "198.51.100.7/32"]), min_size=1, unique=True)
        )
    masters: dict[str, Any] = {"version": version, "vpc": vpc, "endpoint": endpoint, "authenticationMode": mode}
    masters["logging"] = draw(st.lists(st.sampled_from(LOG_TYPES), unique=True, max_size=3))
    if service:
        masters["serviceCidr"] = service
    if draw(st.booleans()):
        partition = PARTITIONS.get(region, "aws")
        masters["secretsEncryption"] = {"kmsKeyArn": f"arn:{partition}:kms:{region}:111122223333:key/{draw(KMS_KEY_ID)}"}
    amis = [a for a in AMI_TYPES if a != "CUSTOM" and (version <= "1.32" or not a.startswith("AL2_"))]
    workers = []
    for name in draw(st.lists(NAME, max_size=3, unique_by=str.lower)):
        lo = draw(st.integers(0, 5))
        hi = draw(st.integers(max(lo, 1), 1000))
        ng: dict[str, Any] = {
            "name": name,
            "instanceTypes": draw(
                st.lists(st.sampled_from(["m5.large", "t3.medium", "c7g.xlarge", "p5.48xlarge"]), min_size=1, unique=True)
            ),
            "amiType": draw(st.sampled_from(amis)),
            "capacityType": draw(st.sampled_from(["ON_DEMAND", "SPOT"])),
            "scaling": {"min": lo, "desired": draw(st.integers(lo, hi)), "max": hi},
            "diskSize": draw(st.integers(1, 16384)),
            # EKS takes label values of 1-63 characters: no empty ones.
            "labels": draw(st.dictionaries(LABEL, LABEL, max_size=3)),
            "taints": [
                {"key": k, "value": draw(LABEL), "effect": e}
                for k, e in draw(
                    st.lists(st.tuples(LABEL, st.sampled_from(["NO_SCHEDULE", "NO_EXECUTE"])), unique=True, max_size=2)
                )
            ],
        }
        workers.append(ng)
    mappings = []
    vias = {
        "CONFIG_MAP": ["auto", "aws-auth"],
        "API": ["auto", "access-entry"],
        "API_AND_CONFIG_MAP": ["auto", "aws-auth", "access-entry"],
    }[mode]
    for i, kind in enumerate(draw(st.lists(st.sampled_from(["role", "user", "account"]), max_size=3))):
        via = draw(st.sampled_from([v for v in vias if not (kind == "account" and v == "access-entry")]))
        partition = PARTITIONS.get(region, "aws")
        arn = f"{100000000000 + i}" if kind == "account" else f"arn:{partition}:iam::123456789012:{kind}/{draw(NAME)}-{i}"
        # Access entries (via auto may become one) refuse EKS's reserved prefixes.
        text = FREE_TEXT.filter(lambda t: not t.startswith(RESERVED))
        m: dict[str, Any] = {"arn": arn, "kind": kind, "via": via, "groups": draw(st.lists(text, max_size=3, unique=True))}
        if draw(st.booleans()):
            m["username"] = draw(text)
        mappings.append(m)
    return {
        "apiVersion": "eks-assist/v1",
        "kind": "Cluster",
        "metadata": {"name": draw(NAME), "region": region, "tags": tags},
        "masters": masters,
        "workers": workers,
        "cni": draw(st.sampled_from(CNI)),
        "iamMappings": mappings,
        "kubeconfig": {
            "alias": draw(FREE_TEXT),
            "write": draw(st.booleans()),
            "exec": draw(st.sampled_from(["aws", "builtin"])),
        },
    }


@fuzz(100, offset=702)
@given(valid_specs(), st.booleans())
def generated_specs_round_trip(data: dict[str, Any], flow: bool) -> None:
    with TALLY.example():
        text = yaml.safe_dump(data, allow_unicode=True, default_flow_style=flow, sort_keys=False)
        try:
            loaded = loads_spec(text, FILE)
        except InputError as exc:
            raise AssertionError(f"a generated valid spec was refused:\n{exc}\n{text}") from None
        check_round_trip(loaded)
        assert parse_spec(data, Locator("data")).spec.digest() == loaded.spec.digest()
        TALLY.count("round trips")


@pytest.mark.slow
@TIMEOUT
def test_fuzz_spec_loader() -> None:
    """Arbitrary and mutated specs load or fail with located problems; valid ones round-trip."""
    run_properties(TALLY, [arbitrary_text, mutated_data, generated_specs_round_trip])


# -- regressions found by this drill ------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "where", "message"),
    [
        ("[" * 5000, (1, 65), "nested deeper than 64 levels"),
        ("a: b\n  c: \x07d", (2, 6), "the character '\\x07' (U+0007) is not allowed"),
        ("a:\n  b: " + "9" * 5000 + "\n", (2, 6), "is a number too large to read"),
        ("a: !!bool maybe\n", (1, 4), "'maybe' is not a valid !!bool value"),
        ("a: !!int\n", (1, 4), "'' is not a valid !!int value"),
        ("a: !!binary a\n", (1, 4), "failed to decode base64 data"),
        ("a: !foo x\n", (1, 4), "could not determine a constructor for the tag '!foo'"),
        ('a: ["\\ud800"]\n', (1, 5), "unpaired surrogate \\ud800"),
        ('"\\udc00": 1\n', (1, 1), "unpaired surrogate \\udc00"),
    ],
)
def test_odd_yaml_is_a_located_input_error(text: str, where: tuple[int, int], message: str) -> None:
    with pytest.raises(InputError) as exc:
        loads_spec(text, FILE)
    (problem,) = exc.value.problems
    assert (problem.file, problem.line, problem.col) == (FILE, *where)
    assert message in problem.message


def test_an_impossible_date_stays_text_like_any_timestamp() -> None:
    text = BASES[0].replace("tags: {team: platform, purpose: drill}", "tags: {team: platform, since: 2001-02-30, at: 2001-02-03}")
    tags = loads_spec(text, FILE).spec.metadata.tags
    assert tags["since"] == "2001-02-30" and tags["at"] == "2001-02-03"


def test_nan_and_infinity_are_refused_where_numbers_are_whole() -> None:
    for value in (".nan", ".inf", "-.inf", "1.0e+400"):
        text = BASES[0].replace("scaling: {min: 1, desired: 2, max: 3}", f"scaling: {{min: 1, desired: {value}, max: 3}}")
        with pytest.raises(InputError, match=r"is read by YAML as (infinity|minus infinity|not a number \(NaN\))"):
            loads_spec(text, FILE)
    assert math.isinf(yaml.safe_load("1.0e+400"))  # what YAML reads it as
