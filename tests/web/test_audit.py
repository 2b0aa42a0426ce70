"""The audit log: who changed which answer, consensus or setting, and when; for owners, and as CSV."""

import csv
import io
import re

import pytest

from assessment import accounts, audit, storage, workshops
from assessment.paths import EXAMPLES

from .conftest import EDITOR, PASSWORD, csv_text, stored_form, text

UTC_TIME = re.compile(r'<time datetime="\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00">')


def _entries(db, action=None) -> list[dict]:
    rows = db.query("SELECT * FROM audit ORDER BY id")
    return [row for row in rows if action is None or row["action"] == action]


def _log(client, workspace_id, **args) -> str:
    response = client.get(f"/w/{workspace_id}/audit", query_string=args)
    assert response.status_code == 200
    return text(response)


def _row_of(page: str, needle: str) -> str:
    """The table row of the page that contains ``needle``."""
    return next(row for row in re.findall(r"<tr>.*?</tr>", page, re.S) if needle in row)


def test_an_editors_answer_change_is_shown_to_the_owner_with_a_utc_time(editor, owner, people, empty, db):
    editor.post(f"/a/{empty}/dimensions/data", data={"data.residency-value": "1"})
    editor.post(f"/a/{empty}/dimensions/data", data={"data.residency-value": "3", "data.residency-basis": "evidenced"})
    page = _log(owner, people["workspace"])
    row = _row_of(page, "1 → 3")
    assert 'Editor &lt;<span class="address">editor@example.org</span>&gt;' in row
    assert "answer.changed" in row and "data.residency" in row
    assert "basis: self_assessed → evidenced" in row and "Autumn review" in row
    assert UTC_TIME.search(row)
    assert "— → 1" in page  # the first answer, from unanswered
    assert [e["user_id"] for e in _entries(db, "answer.changed")] == [people["editor"]] * 2


def test_saving_a_page_unchanged_writes_nothing(editor, finished, db):
    data = stored_form(db, finished, "data")
    before = len(_entries(db))
    assert editor.post(f"/a/{finished}/dimensions/data", data=data).status_code == 302
    about = {"title": "Spring review", "organization": "Nordwind Insurance Group (example)", "org_type":
             "large_enterprise", "region": "europe", "size": "s1000_9999", "sector": "finance", "role": "ai_lead"}
    assert editor.post(f"/a/{finished}/about", data=about).status_code == 302
    assert editor.post(f"/a/{finished}/barriers", data={"barriers": ["vendor_lock_in", "compute_access",
                                                                    "ip_concerns"]}).status_code == 302
    assert len(_entries(db)) == before


def test_organization_drivers_and_barriers_changes_name_the_fields(editor, empty, db):
    editor.post(f"/a/{empty}/about", data={"title": "Renamed", "region": "europe"})
    editor.post(f"/a/{empty}/barriers", data={"barriers": ["vendor_lock_in"]})
    (profile,) = _entries(db, "profile.changed")
    assert "title: Autumn review → Renamed" in profile["detail"] and "region: — → europe" in profile["detail"]
    assert _entries(db, "barriers.changed")[0]["detail"] == "added vendor_lock_in"


def test_a_note_is_logged_as_changed_never_its_text(editor, empty, db):
    editor.post(f"/a/{empty}/dimensions/data", data={"data.residency-value": "2",
                                                     "data.residency-note": "Secret site in Tallinn"})
    (entry,) = _entries(db, "answer.changed")
    assert entry["detail"] == "— → 2; note changed"


def test_consensus_is_logged_with_the_facilitator(editor, owner, people, finished, db):
    workshop = workshops.create_workshop(db, finished, ["data"], people["editor"])
    editor.post(f"/workshops/{workshop}/consensus/data.residency", data={"level": "4", "rationale": "Board minutes"})
    (entry,) = _entries(db, "consensus.recorded")
    assert (entry["user_id"], entry["actor"]) == (people["editor"], "Editor <editor@example.org>")
    assert entry["detail"] == "data.residency: level — → 4; rationale changed"
    assert entry["assessment_id"] == finished and entry["subject"] == workshop
    # The answer it became is logged too, in the same transaction, by the same person.
    assert [e["detail"] for e in _entries(db, "answer.changed")] == ["2 → 4; note changed"]  # the basis stays
    editor.post(f"/workshops/{workshop}/reveal")
    editor.post(f"/workshops/{workshop}/reveal")  # already revealed: no second entry
    editor.post(f"/workshops/{workshop}/close")
    assert [e["action"] for e in _entries(db)][-2:] == ["workshop.revealed", "workshop.closed"]
    assert "consensus.recorded" in _log(owner, people["workspace"])


def test_role_changes_and_invitations_are_logged(owner, people, db):
    workspace = people["workspace"]
    owner.post(f"/w/{workspace}/members/{people['editor']}/role", data={"role": "viewer"})
    owner.post(f"/w/{workspace}/members/{people['editor']}/role", data={"role": "viewer"})  # no change
    owner.post(f"/w/{workspace}/members", data={"role": "editor"})
    (invite,) = accounts.pending_invites(db, workspace)
    owner.post(f"/w/{workspace}/invites/{invite['id']}/revoke")
    owner.post(f"/w/{workspace}/members/{people['viewer']}/remove")
    (role,) = _entries(db, "member.role")
    assert role["detail"] == "Editor <editor@example.org>: editor → viewer" and role["user_id"] == people["owner"]
    assert [e["detail"] for e in _entries(db, "invite.created")][-1] == "role: editor"
    assert _entries(db, "invite.revoked")[0]["subject"] == f"invite {invite['id']}"
    assert _entries(db, "member.removed")[0]["detail"] == "Viewer <viewer@example.org> (was viewer)"
    page = _log(owner, workspace)
    assert "member.role" in page and "invite.revoked" in page and "member.removed" in page


def test_an_import_and_a_new_round_are_logged(editor, owner, people, finished, db):
    content = (EXAMPLES / "mid-enterprise.yaml").read_bytes()
    editor.post(f"/w/{people['workspace']}/import", data={"file": (io.BytesIO(content), "mid.yaml"), "title": ""},
                content_type="multipart/form-data")
    (imported,) = _entries(db, "assessment.imported")
    assert imported["detail"].startswith("from mid.yaml; ") and imported["user_id"] == people["editor"]
    editor.post(f"/a/{finished}/rounds")
    (started,) = _entries(db, "round.started")
    assert started["detail"].startswith("continues Spring review")
    assert "assessment.imported" in _log(owner, people["workspace"])


def test_a_deleted_assessment_keeps_its_history(owner, people, finished, db):
    owner.post(f"/a/{finished}/delete")
    assert [e["action"] for e in _entries(db) if e["assessment_id"] == finished][-1] == "assessment.deleted"
    page = _log(owner, people["workspace"], assessment=finished)
    assert "assessment.deleted" in page and "Deleted assessment" in page


def test_refused_forms_write_nothing(editor, owner, people, empty, db):
    before = len(_entries(db))
    assert editor.post(f"/a/{empty}/dimensions/data", data={"data.residency-value": "7"}).status_code == 200
    assert editor.post(f"/a/{empty}/about", data={"title": ""}).status_code == 200
    assert owner.post(f"/w/{people['workspace']}/members/{people['editor']}/role",
                      data={"role": "emperor"}).status_code == 400
    assert owner.post(f"/w/{people['workspace']}/members/{people['owner']}/role",
                      data={"role": "viewer"}).status_code == 302  # the last owner stays
    assert len(_entries(db)) == before


def test_no_note_rationale_password_or_token_is_stored(app, editor, owner, people, empty, db):
    editor.post(f"/a/{empty}/dimensions/data", data={"data.residency-value": "2", "data.residency-note": "NOTE-XYZ"})
    workshop = workshops.create_workshop(db, empty, ["data"], people["editor"])
    editor.post(f"/workshops/{workshop}/consensus/data.quality", data={"level": "1", "rationale": "WHY-XYZ"})
    link = re.search(r'value="(http[^"]+/invite/([^"]+))"', text(owner.post(f"/w/{people['workspace']}/members",
                                                                                data={"role": "viewer"})))
    app.test_client().post(f"/invite/{link[2]}", data={"email": "new@example.org", "name": "New",
                                                       "password": PASSWORD, "confirm": PASSWORD})
    dump = "\n".join(str(row) for row in _entries(db))
    assert "invite.accepted" in dump
    for secret in ("NOTE-XYZ", "WHY-XYZ", PASSWORD, link[2]):
        assert secret not in dump


@pytest.mark.parametrize("who, status", [("viewer", 403), ("editor", 403), ("outsider", 404)])
@pytest.mark.parametrize("path", ["audit", "audit.csv"])
def test_only_owners_see_the_log(request, people, who, status, path):
    client = request.getfixturevalue(who)
    assert client.get(f"/w/{people['workspace']}/{path}").status_code == status


def test_anonymous_visitors_are_sent_to_log_in(client, people):
    assert "/login" in client.get(f"/w/{people['workspace']}/audit").location


def test_the_csv_export_parses_back_and_neutralizes_formulas(editor, owner, people, db, default_rubric):
    db.execute("UPDATE users SET name = '=HYPERLINK(\"http://evil\")' WHERE email = ?", [EDITOR])
    db.conn.commit()
    editor.post(f"/w/{people['workspace']}/assessments/new", data={"title": "=SUM(A1:A9)",
                "rubric": f"{default_rubric.id}@{default_rubric.version}"})
    response = owner.get(f"/w/{people['workspace']}/audit.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.headers["Cache-Control"] == "no-store"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(csv_text(response))))
    created = next(r for r in rows if r["action"] == "assessment.created")
    assert created["actor"] == "'=HYPERLINK(\"http://evil\") <editor@example.org>"
    assert created["subject"] == created["assessment"] == "'=SUM(A1:A9)"
    assert rows[0]["at"] >= rows[-1]["at"]  # newest first
    assert set(rows[0]) == set(("at", "actor", "user_id", "action", "assessment_id", "assessment", "subject",
                                "detail"))


def test_the_log_pages_by_a_hundred_and_filters_by_assessment(owner, people, finished, empty, db):
    with storage.write_transaction(db):
        for n in range(150):
            audit.record(db, people["workspace"], people["owner"], "answer.changed", f"q{n}", "1 → 2",
                         assessment_id=empty)
    first = _log(owner, people["workspace"])
    assert first.count("answer.changed") == audit.PAGE_SIZE and "Older entries" in first
    assert ">q149<" in first and ">q49<" not in first  # newest first
    second = _log(owner, people["workspace"], page=2)
    assert ">q49<" in second and "Newer entries" in second
    only = _log(owner, people["workspace"], assessment=finished)
    assert "answer.changed" not in only and "assessment.created" in only
    assert "Nothing recorded for this assessment" in _log(owner, people["workspace"], assessment="nope")


def test_an_empty_log_says_so(outsider, people, db):
    db.execute("DELETE FROM audit")
    db.conn.commit()
    assert "Nothing recorded yet" in _log(outsider, people["other_workspace"])


def test_the_dashboard_links_the_log_for_owners_only(owner, editor, people):
    link = f'href="/w/{people["workspace"]}/audit"'
    assert link in text(owner.get(f"/w/{people['workspace']}"))
    assert link not in text(editor.get(f"/w/{people['workspace']}"))


def test_instance_wide_changes_are_in_the_administrators_log(owner, editor, people, db):
    owner.post(f"/admin/users/{people['viewer']}/disable")
    (entry,) = _entries(db, "user.disabled")
    assert entry["workspace_id"] is None and entry["detail"] == "Viewer <viewer@example.org>"
    assert "user.disabled" in text(owner.get("/admin/audit"))
    assert "user.disabled" not in _log(owner, people["workspace"])
    assert editor.get("/admin/audit").status_code == 403


def test_a_password_change_is_in_the_administrators_log_without_the_password(owner, people, db):
    new = "a brand new long password"
    owner.post("/account", data={"current": PASSWORD, "password": new, "confirm": new})
    (entry,) = _entries(db, "user.password_changed")
    assert entry["workspace_id"] is None and entry["user_id"] == people["owner"]
    assert entry["subject"] == f"user {people['owner']}" and entry["detail"] == "Olga Owner <owner@example.org>"
    assert "Password changed" in text(owner.get("/admin/audit")) and new not in text(owner.get("/admin/audit.csv"))


def test_an_entry_outside_a_write_transaction_is_refused(db, people):
    with pytest.raises(RuntimeError):
        audit.record(db, people["workspace"], None, "answer.changed")


def test_owners_reach_an_assessments_history_from_its_results(owner, editor, finished, people):
    link = f"/w/{people['workspace']}/audit?assessment={finished}"
    assert link in text(owner.get(f"/a/{finished}/results"))
    assert "Change history" not in text(editor.get(f"/a/{finished}/results"))  # the log is for owners
    assert owner.get(link).status_code == 200


def test_the_log_reads_as_words_with_the_ids_kept_in_title_attributes(editor, owner, people, finished, db,
                                                                       default_rubric):
    question = default_rubric.questions["data.residency"].title
    workshop = workshops.create_workshop(db, finished, ["data"], people["editor"])
    editor.post(f"/workshops/{workshop}/consensus/data.residency", data={"level": "4", "rationale": "Minutes"})
    page = _log(owner, people["workspace"])
    row = _row_of(page, "Answer changed")
    assert '<td title="answer.changed">Answer changed</td>' in row
    assert f'<td title="data.residency">{question}</td>' in row
    row = _row_of(page, "Workshop consensus recorded")
    assert f"<td>{question}: level — → 4; rationale changed</td>" in row
    assert ">answer.changed<" not in page and ">data.residency<" not in page
    csv_text = owner.get(f"/w/{people['workspace']}/audit.csv").get_data(as_text=True)
    assert "answer.changed" in csv_text and "data.residency" in csv_text  # the export keeps the ids



def test_an_action_without_words_of_its_own_is_spelled_out():
    assert audit.action_label("member.role") == "Member's role changed"
    assert audit.action_label("portfolio.archived_now") == "Portfolio archived now"


def test_addresses_are_marked_to_stay_whole_and_everything_else_is_escaped(owner, people, db):
    """app.css keeps a marked address on one line where there is room (tests/browser/ measures it)."""
    with storage.write_transaction(db):
        audit.record(db, people["workspace"], None, "member.removed", "user 9",
                     "<b>Eve</b> <eve.long-name@example.org>; <script>x</script>", actor="Ann <ann@x.org>")
    page = text(owner.get(f"/w/{people['workspace']}/audit"))
    assert '<td>Ann &lt;<span class="address">ann@x.org</span>&gt;</td>' in page
    assert ('<td>&lt;b&gt;Eve&lt;/b&gt; &lt;<span class="address">eve.long-name@example.org</span>&gt;; '
            "&lt;script&gt;x&lt;/script&gt;</td>") in page
