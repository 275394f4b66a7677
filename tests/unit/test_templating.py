"""Safe templating: lookups only, unknowns propagate, injection stays inert."""

from __future__ import annotations

import pytest

from assistant.planning.plan import Unknown
from assistant.playbook.templating import TemplateError, references, render

CTX = {
    "spec": {"metadata": {"name": "demo", "tags": {"team": "x"}}, "workers": [{"name": "a"}, {"name": "b"}], "empty": []},
    "steps": {"role": {"arn": "arn:aws:iam::1:role/r"}, "vpc": {"id": Unknown("steps.vpc.id")}},
    "item": {"name": "general", "evil": "{{ spec.metadata.name }}"},
}


def test_whole_template_keeps_type() -> None:
    assert render("{{ spec.workers }}", CTX) == [{"name": "a"}, {"name": "b"}]
    assert render("{{ spec.workers[1].name }}", CTX) == "b"


def test_interpolation() -> None:
    assert render("{{ spec.metadata.name }}-cluster-role", CTX) == "demo-cluster-role"
    assert render({"a": ["x-{{ item.name }}"]}, CTX) == {"a": ["x-general"]}


def test_fallbacks_skip_undefined_null_and_empty() -> None:
    assert render("{{ steps.nope.ids || spec.empty || spec.metadata.name }}", CTX) == "demo"
    assert render("{{ spec.missing || null }}", CTX) is None
    assert render("{{ spec.missing || [] }}", CTX) == []
    assert render("{{ spec.missing || false }}", CTX) is False


def test_unknown_propagates() -> None:
    assert render("{{ steps.vpc.id }}", CTX) == Unknown("steps.vpc.id")
    value = render("prefix-{{ steps.vpc.id }}", CTX)
    assert isinstance(value, Unknown)


def test_undefined_variable_message_with_hint() -> None:
    with pytest.raises(TemplateError) as exc:
        render("{{ spec.metadata.nmae }}", CTX)
    assert (
        exc.value.message == "undefined template variable 'spec.metadata.nmae' (no 'nmae' in spec.metadata; did you mean 'name'?)"
    )


@pytest.mark.parametrize(
    "expr",
    [
        "{{ ''.__class__ }}",
        "{{ spec.__class__.__mro__ }}",
        "{{ spec.metadata.name() }}",
        "{{ spec['metadata'] }}",
        "{{ 1 + 1 }}",
        "{{ spec.metadata.name | upper }}",
        "{{ __import__('os') }}",
    ],
)
def test_no_python_object_access(expr: str) -> None:
    with pytest.raises(TemplateError) as exc:
        render(expr, CTX)
    assert "unsupported template expression" in exc.value.message


def test_data_that_looks_like_a_template_is_inert() -> None:
    # a value that came from the spec is never rendered again
    assert render("{{ item.evil }}", CTX) == "{{ spec.metadata.name }}"


def test_literal_only_last() -> None:
    with pytest.raises(TemplateError, match="only be the last alternative"):
        render("{{ null || spec.metadata.name }}", CTX)


def test_references() -> None:
    assert references({"a": "{{ steps.role.arn }}", "b": ["{{ steps.vpc.id || spec.x }}"]}) == {"role", "vpc"}
