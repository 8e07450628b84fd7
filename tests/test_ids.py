import pytest

from domain.ids import handoff_workflow_id, normalise_salesforce_id, onboarding_workflow_id, post_check_workflow_id

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("short", "full"),
    [
        ("001A0000006Vm9r", "001A0000006Vm9rIAC"),
        ("0065g00000XyZab", "0065g00000XyZabAAF"),
    ],
)
def test_salesforce_15_to_18(short, full):
    assert normalise_salesforce_id(short) == full
    assert normalise_salesforce_id(full) == full
    assert normalise_salesforce_id(full.lower()[:15] + full[15:].lower()) != full  # case matters in the body


@pytest.mark.parametrize("bad", ["", "123", "001A0000006Vm9r!", "001A0000006Vm9rIACX"])
def test_salesforce_rejects_non_ids(bad):
    with pytest.raises(ValueError, match="Salesforce id"):
        normalise_salesforce_id(bad)


def test_workflow_ids():
    parent = handoff_workflow_id("hubspot", "12345")
    assert parent == "baton-hubspot-12345"
    assert onboarding_workflow_id(parent) == "baton-hubspot-12345-onboarding"
    assert post_check_workflow_id(parent) == "baton-hubspot-12345-post-check"


@pytest.mark.parametrize(("crm", "deal_id"), [("HubSpot", "1"), ("hubspot", "a b"), ("hubspot", ""), ("", "1")])
def test_workflow_id_rejects_unsafe_parts(crm, deal_id):
    with pytest.raises(ValueError):
        handoff_workflow_id(crm, deal_id)
