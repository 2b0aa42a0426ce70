"""An administrator appoints an owner for a workspace that has no enabled one (admin.appoint_owner)."""

import re

import pytest

from assessment import accounts

from .conftest import EDITOR, OUTSIDER, VIEWER, flashes, text


@pytest.fixture
def ownerless(db, people):
    """Other Org with its only owner (the outsider) disabled; the editor is its viewer."""
    token = accounts.create_invite(db, people["other_workspace"], "viewer", people["outsider"], 1)
    accounts.accept_invite(db, token, people["editor"])
    accounts.set_disabled(db, people["outsider"], True)
    return people["other_workspace"]


@pytest.fixture
def memberless(db, people):
    """Other Org with its only member, its owner, disabled."""
    accounts.set_disabled(db, people["outsider"], True)
    return people["other_workspace"]


def _url(workspace_id) -> str:
    return f"/admin/workspaces/{workspace_id}/owner"


def _appointments(db) -> list[dict]:
    return list(db.query("SELECT * FROM audit WHERE action IN ('workspace.owner_appointed', 'member.role')"))


def test_accounts_links_each_workspace_without_an_enabled_owner_to_its_page(owner, ownerless):
    assert f'href="{_url(ownerless)}">Appoint an owner' in text(owner.get("/admin/users"))


def test_an_enabled_member_is_made_owner_after_being_asked(owner, people, ownerless, db, caplog):
    caplog.set_level("INFO", logger="sovready.security")
    page = text(owner.get(_url(ownerless)))
    assert "<h1>An owner for Other Org</h1>" in page and EDITOR in page
    asking = owner.post(_url(ownerless), data={"email": EDITOR})
    assert asking.status_code == 200 and "<h1>Make Editor an owner of Other Org?</h1>" in text(asking)
    assert f'name="email" value="{EDITOR}"' in text(asking) and 'name="confirmed" value="yes"' in text(asking)
    assert accounts.membership(db, ownerless, people["editor"])["role"] == "viewer"  # asking changes nothing
    done = owner.post(_url(ownerless), data={"email": EDITOR, "confirmed": "yes"}, follow_redirects=True)
    assert flashes(done) == ["Editor is now an owner of Other Org."]
    assert accounts.membership(db, ownerless, people["editor"])["role"] == "owner"
    assert accounts.ownerless_workspaces(db) == []
    instance, workspace = sorted(_appointments(db), key=lambda entry: entry["workspace_id"] is not None)
    assert (instance["workspace_id"], instance["user_id"], instance["subject"]) == (
        None, people["owner"], f"workspace {ownerless}")
    assert instance["detail"] == "Other Org; Editor <editor@example.org>: viewer → owner"
    assert (workspace["workspace_id"], workspace["detail"]) == (ownerless, "Editor <editor@example.org>: viewer → owner")
    assert "Owner appointed" in text(owner.get("/admin/audit"))
    events = [r.getMessage() for r in caplog.records if r.name == "sovready.security" and "owner-appointed" in r.getMessage()]
    assert len(events) == 1 and f"workspace={ownerless} owner={people['editor']}" in events[0]


@pytest.mark.parametrize("email, confirmed, message", [
    (VIEWER, "", "Viewer is not a member of Other Org: choose one of its members."),
    (VIEWER, "yes", "Viewer is not a member of Other Org: choose one of its members."),
    (OUTSIDER, "yes", "The account of Oscar Outsider is disabled: enable it on Accounts first, or choose another."),
    ("nobody@example.org", "", "No account has this email address."),
    ("", "", "This field is required."),
])
def test_an_account_that_cannot_be_owner_is_refused_beside_the_field(owner, ownerless, db, email, confirmed,
                                                                      message):
    response = owner.post(_url(ownerless), data={"email": email, "confirmed": confirmed})
    assert response.status_code == 200
    assert re.search(r'id="email-errors">((?!</ul>).)*' + re.escape(message), text(response), re.S)
    assert f'value="{email}"' in text(response)  # what was typed stays
    assert accounts.ownerless_workspaces(db) == [{"id": ownerless, "name": "Other Org"}]
    assert _appointments(db) == []


def test_without_an_enabled_member_any_enabled_account_may_be_made_owner(owner, people, memberless, db):
    page = text(owner.get(_url(memberless)))
    assert "None of its members has an enabled account" in page
    asking = text(owner.post(_url(memberless), data={"email": VIEWER}))
    assert "Viewer (viewer@example.org) is not a member of Other Org: as its owner they will see and change all of " \
        "its assessments" in asking
    owner.post(_url(memberless), data={"email": VIEWER, "confirmed": "yes"})
    assert accounts.membership(db, memberless, people["viewer"])["role"] == "owner"
    (instance,) = [entry for entry in _appointments(db) if entry["workspace_id"] is None]
    assert instance["detail"] == "Other Org; Viewer <viewer@example.org>: — → owner"


def test_a_workspace_with_an_enabled_owner_is_left_to_its_owners(owner, people, db):
    url = _url(people["other_workspace"])
    refused = "Other Org has an owner with an enabled account: its owners manage its members."
    assert flashes(owner.get(url, follow_redirects=True)) == [refused]
    response = owner.post(url, data={"email": EDITOR, "confirmed": "yes"}, follow_redirects=True)
    assert flashes(response) == [refused]
    assert accounts.membership(db, people["other_workspace"], people["editor"]) is None


def test_only_administrators_appoint_owners(editor, ownerless, db, people):
    assert editor.get(_url(ownerless)).status_code == 403
    assert editor.post(_url(ownerless), data={"email": EDITOR, "confirmed": "yes"}).status_code == 403
    assert accounts.membership(db, ownerless, people["editor"])["role"] == "viewer"


def test_an_unknown_workspace_is_not_found(owner, people):
    assert owner.get(_url(12345)).status_code == 404
    assert owner.post(_url(12345), data={"email": EDITOR, "confirmed": "yes"}).status_code == 404


def test_without_a_csrf_token_nobody_is_appointed(owner, ownerless, db, people):
    response = owner.post(_url(ownerless), data={"email": EDITOR, "confirmed": "yes"}, csrf=False)
    assert response.status_code == 400
    assert accounts.membership(db, ownerless, people["editor"])["role"] == "viewer"
