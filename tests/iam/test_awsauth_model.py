"""The pure aws-auth model: parse → edit → render keeps what we do not manage."""

from __future__ import annotations

import pytest

from assistant.identity import awsauth as aa

HAND_WRITTEN = """\
# platform team: break-glass admin
- rolearn: arn:aws:iam::111122223333:role/admin
  username: admin   # keep this name
  groups: [system:masters]

# nodes
- groups:
  - system:bootstrappers
  - system:nodes
  rolearn: arn:aws:iam::111122223333:role/node
  username: system:node:{{EC2PrivateDNSName}}
# trailing comment
"""
OURS = "arn:aws:iam::111122223333:role/ci"


def _ci() -> dict[str, object]:
    return {"rolearn": OURS, "username": "ci", "groups": ["deployers"]}


def test_untouched_document_renders_byte_for_byte() -> None:
    data = {"mapRoles": HAND_WRITTEN, "mapUsers": "[]\n", "other": "kept"}
    assert aa.AwsAuth.parse(data).render(data) == data


def test_adding_keeps_unmanaged_entries_order_and_comments() -> None:
    doc = aa.AwsAuth.parse({"mapRoles": HAND_WRITTEN})
    assert aa.apply_delta(doc, {"mapRoles": {OURS: _ci()}}, {})
    text = doc.render()["mapRoles"]
    assert text == HAND_WRITTEN.replace(
        "# trailing comment\n",
        "- rolearn: arn:aws:iam::111122223333:role/ci\n  username: ci\n  groups:\n  - deployers\n# trailing comment\n",
    )
    assert list(aa.AwsAuth.parse({"mapRoles": text}).entries("mapRoles")) == [
        "arn:aws:iam::111122223333:role/admin",
        "arn:aws:iam::111122223333:role/node",
        OURS,
    ]
    assert doc.managed == {f"mapRoles:{OURS}"}


def test_changing_and_removing_ours_leaves_the_rest_alone() -> None:
    doc = aa.AwsAuth.parse({"mapRoles": HAND_WRITTEN})
    aa.apply_delta(doc, {"mapRoles": {OURS: _ci()}}, {})
    changed = {**_ci(), "groups": ["deployers", "viewers"]}
    again = aa.AwsAuth.parse(doc.render(), {aa.MANAGED_ANNOTATION: doc.managed_annotation()})
    assert aa.apply_delta(again, {"mapRoles": {OURS: changed}}, {})
    assert again.entries("mapRoles")[OURS] == changed
    assert not aa.apply_delta(again, {"mapRoles": {OURS: changed}}, {}), "same delta twice changes nothing"
    aa.apply_delta(again, {}, {"mapRoles": [OURS]})
    assert again.render()["mapRoles"] == HAND_WRITTEN
    assert again.managed == set()


def test_flow_style_and_accounts() -> None:
    data = {"mapRoles": '[{"rolearn": "arn:aws:iam::111122223333:role/a", "username": "a"}]', "mapAccounts": "- '111122223333'\n"}
    doc = aa.AwsAuth.parse(data)
    assert doc.render(data) == data
    aa.apply_delta(doc, {"mapAccounts": {"444455556666": "444455556666"}}, {})
    assert doc.render()["mapAccounts"] == "- '111122223333'\n- '444455556666'\n"
    assert doc.render()["mapRoles"] == data["mapRoles"], "untouched sections stay as written"


def test_not_a_list_is_refused() -> None:
    with pytest.raises(aa.AwsAuthError, match="mapRoles must be a YAML list, got dict"):
        aa.AwsAuth.parse({"mapRoles": "rolearn: x\n"})


def test_role_paths() -> None:
    assert aa.role_without_path("arn:aws:iam::1:role/team/x") == "arn:aws:iam::1:role/team/x"  # not a real account
    assert aa.role_without_path("arn:aws:iam::111122223333:role/team/a/x") == "arn:aws:iam::111122223333:role/x"
    assert aa.role_path("arn:aws:iam::111122223333:role/team/x") == "team/"
    assert aa.node_entry("arn:aws:iam::111122223333:role/p/n") == {
        "rolearn": "arn:aws:iam::111122223333:role/n",
        "username": "system:node:{{EC2PrivateDNSName}}",
        "groups": ["system:bootstrappers", "system:nodes"],
    }
