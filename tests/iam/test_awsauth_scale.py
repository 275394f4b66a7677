"""The aws-auth model at scale, counted rather than timed: YAML parses per section, entry visits per merge."""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

import pytest
import yaml.composer

from assistant.actions.k8s import aws_auth as action
from assistant.identity import awsauth as aa

ACCOUNT = "111122223333"


def _role(i: int) -> str:
    return f"arn:aws:iam::{ACCOUNT}:role/team-{i}"


def _roles(n: int) -> str:
    """``n`` hand-written role mappings, a comment above every tenth."""
    return "".join(
        (f"# team {i}\n" if i % 10 == 0 else "") + f"- rolearn: {_role(i)}\n  username: team-{i}\n  groups:\n  - team-{i}\n"
        for i in range(n)
    )


@pytest.fixture
def parses(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """A one-element counter of YAML documents composed (every PyYAML loader composes through here)."""
    count = [0]
    original = yaml.composer.Composer.get_single_node

    def counting(self: Any) -> Any:
        count[0] += 1
        return original(self)

    monkeypatch.setattr(yaml.composer.Composer, "get_single_node", counting)
    return count


class CountingList(list[aa.Entry]):
    """A list of entries that counts how many elements are visited by iteration."""

    visits = 0

    def __iter__(self) -> Iterator[aa.Entry]:
        for e in super().__iter__():
            CountingList.visits += 1
            yield e


def test_one_yaml_parse_per_section(parses: list[int]) -> None:
    users = "".join(f"- userarn: arn:aws:iam::{ACCOUNT}:user/u{i}\n  username: u{i}\n" for i in range(200))
    data = {"mapRoles": _roles(1000), "mapUsers": users}
    doc = aa.AwsAuth.parse(data)
    assert parses[0] == 2, "one parse each for mapRoles and mapUsers (mapAccounts is absent)"
    ours = {_role(i): {"rolearn": _role(i), "username": "x", "groups": []} for i in range(990, 1010)}
    assert aa.apply_delta(doc, {"mapRoles": ours}, {})
    out = doc.render(data)
    assert parses[0] == 2, "merging and rendering parse nothing"
    # The per-item split was kept: every hand-written block is in the output as it was.
    assert out["mapRoles"].startswith(_roles(990))
    assert out["mapUsers"] == users


def test_upserting_n_entries_visits_each_entry_a_bounded_number_of_times() -> None:
    n = 2000
    doc = aa.AwsAuth.parse({"mapRoles": _roles(n)})
    section = doc.sections["mapRoles"]
    section.entries = CountingList(section.entries)
    CountingList.visits = 0
    upserts = {_role(i): {"rolearn": _role(i), "username": f"team-{i}", "groups": [f"team-{i}"]} for i in range(n)}
    upserts.update({_role(i): {"rolearn": _role(i), "username": "new", "groups": []} for i in range(n, n + 100)})
    assert aa.apply_delta(doc, {"mapRoles": upserts}, {"mapRoles": [_role(i) for i in range(0, n, 2)]})
    # A linear scan per lookup visited about n * n / 2 entries (two million here); now the index
    # is built in one pass and the removals take another.
    assert CountingList.visits <= 3 * n, CountingList.visits
    keys = list(doc.entries("mapRoles"))
    assert keys == [_role(i) for i in range(1, n, 2)] + [_role(i) for i in range(n, n + 100)]


@pytest.mark.parametrize(
    "text",
    [
        # '#' lines at the end of a block scalar are the scalar's, not comments above the next item.
        "- rolearn: arn:aws:iam::111122223333:role/a\n  note: |\n    text\n    # part of the note\n"
        "- rolearn: arn:aws:iam::111122223333:role/b\n",
        # An alias may point into another item: each block alone would not mean the same.
        "- rolearn: arn:aws:iam::111122223333:role/a\n  groups: &g [x]\n- rolearn: arn:aws:iam::111122223333:role/b\n  groups: *g\n",
        # A multi-line quoted scalar with a line that looks like an item.
        '- rolearn: arn:aws:iam::111122223333:role/a\n  note: "one\n- two"\n- rolearn: arn:aws:iam::111122223333:role/b\n',
    ],
    ids=["hash-lines-in-block-scalar", "alias-across-items", "dash-line-in-quoted-scalar"],
)
def test_documents_the_tokens_cannot_prove_split_keep_their_values(text: str) -> None:
    data = {"mapRoles": text}
    before = aa.AwsAuth.parse(data).entries("mapRoles")
    doc = aa.AwsAuth.parse(data)
    ours = "arn:aws:iam::111122223333:role/ours"
    aa.apply_delta(doc, {"mapRoles": {ours: {"rolearn": ours, "username": "o", "groups": []}}}, {})
    after = aa.AwsAuth.parse(doc.render(data)).entries("mapRoles")
    assert {k: v for k, v in after.items() if k != ours} == before
    assert ours in after


def test_section_cache_parses_only_changed_sections(parses: list[int]) -> None:
    cache = aa.SectionCache()
    data = {"mapRoles": _roles(50), "mapUsers": f"- userarn: arn:aws:iam::{ACCOUNT}:user/u\n  username: u\n"}
    first = aa.AwsAuth.parse(data, cache=cache)
    assert parses[0] == 2
    ours = {_role(99): {"rolearn": _role(99), "username": "o", "groups": []}}
    aa.apply_delta(first, {"mapRoles": ours}, {"mapUsers": [f"arn:aws:iam::{ACCOUNT}:user/u"]})
    # A retry reads the ConfigMap again: mapRoles changed, mapUsers did not.
    fresh = {**data, "mapRoles": data["mapRoles"] + f"- rolearn: {_role(77)}\n  username: x\n"}
    second = aa.AwsAuth.parse(fresh, cache=cache)
    assert parses[0] == 3
    # Edits to the first copy did not reach the cache.
    assert _role(99) not in second.entries("mapRoles") and list(second.entries("mapUsers")) == [f"arn:aws:iam::{ACCOUNT}:user/u"]
    assert second.render(fresh) == fresh


def test_backoff_is_jittered_exponential_and_capped() -> None:
    rng = random.Random(7)
    for conflicts in range(1, 12):
        limit = min(action.BACKOFF_CAP, action.BACKOFF_BASE * 2 ** (conflicts - 1))
        draws = [action.backoff(conflicts, rng) for _ in range(200)]
        assert all(0.0 <= d <= limit for d in draws)
        assert max(draws) > 0.8 * limit and len(set(draws)) > 150, "spread over the whole window"
