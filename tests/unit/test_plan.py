"""Plans: canonical form, stable hash, round trip, rendering."""

from __future__ import annotations

from assistant.planning.plan import Change, Op, Plan, Unknown, render_text


def _plan(**kw: object) -> Plan:
    base = dict(
        playbook="cluster",
        playbook_digest="d" * 64,
        account="123456789012",
        region="us-east-1",
        inputs={"metadata": {"name": "demo"}},
        changes=[
            Change("vpc", "ec2.vpc", Op.CREATE, "VPC demo-vpc", after={"cidr": "10.0.0.0/16"}),
            Change("subnets", "ec2.subnets", Op.CREATE, "subnets", after={"vpcId": Unknown("steps.vpc.id")}),
            Change("role", "iam.role", Op.NOOP, "IAM role r"),
        ],
    )
    base.update(kw)
    return Plan(**base)  # type: ignore[arg-type]


def test_hash_is_stable_and_sensitive() -> None:
    assert _plan().hash == _plan().hash
    assert len(_plan().hash) == 64
    assert _plan(region="eu-west-1").hash != _plan().hash
    assert _plan(account="210987654321").hash != _plan().hash
    assert _plan(playbook_digest="e" * 64).hash != _plan().hash
    assert _plan(inputs={"metadata": {"name": "other"}}).hash != _plan().hash


def test_hash_ignores_display_order_field() -> None:
    assert _plan(order=[["vpc"], ["subnets"]]).hash == _plan().hash


def test_round_trip_keeps_hash_and_unknowns() -> None:
    p = _plan()
    again = Plan.from_canonical(p.canonical())
    assert again.hash == p.hash
    assert again.change("subnets").after == {"vpcId": Unknown("steps.vpc.id")}  # type: ignore[union-attr]


def test_render_text() -> None:
    text = render_text(_plan())
    assert "+ VPC demo-vpc  [ec2.vpc, step vpc]" in text
    assert "+ vpcId: (known after apply)" in text
    assert "Plan: 2 to create, 0 to update, 0 to replace, 0 to delete, 1 unchanged." in text
    assert text.endswith(f"Plan hash: {_plan().hash}")
    empty = _plan(changes=[Change("role", "iam.role", Op.NOOP, "IAM role r")])
    assert "No changes. 1 resources are up to date." in render_text(empty)


def test_unknowns_inside_lists_and_maps_render_as_known_after_apply() -> None:
    from assistant.planning.plan import format_value

    assert format_value([Unknown("steps.a.id"), "x"]) == '[(known after apply), "x"]'
    assert format_value({"k": Unknown("steps.a.id")}) == '{"k": (known after apply)}'
    assert "\\u0000" not in format_value({"k": [Unknown("steps.a.id")]})
