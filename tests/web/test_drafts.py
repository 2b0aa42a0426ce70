"""What the server tells app.js about drafts: input typed on a journey page, kept in the browser tab
when its form is sent, so that it survives a session that ended meanwhile (docs/web.md, *Drafts*)."""

import re

from .conftest import EDITOR, text


def _saved_marks(response) -> list[str]:
    return re.findall(r'<meta name="draft-saved" content="([^"]*)">', text(response))


def test_the_page_after_a_save_says_which_page_was_saved(owner, finished):
    page = f"/a/{finished}/dimensions/data"
    for go in ("stay", "next", "back"):
        saved = owner.post(page, data={"data.residency-value": "4", "go": go}, follow_redirects=True)
        assert _saved_marks(saved) == [page]
        assert page not in re.findall(r'<p class="flash[^"]*">(.*?)</p>', text(saved))  # for app.js, not shown
    assert _saved_marks(owner.get(page)) == []  # said once


def test_a_refused_save_says_nothing_was_saved(owner, finished):
    page = f"/a/{finished}/about"
    refused = owner.post(page, data={"title": "", "go": "stay"})
    assert refused.status_code == 200 and _saved_marks(refused) == []
    assert 'data-draft="shown"' in text(refused)  # the input is on the page already: no offer to restore it


def test_journey_forms_offer_their_drafts_to_who_may_write(owner, viewer, finished):
    for step in ("about", "drivers", "dimensions/data", "barriers"):
        assert 'data-draft="offer"' in text(owner.get(f"/a/{finished}/{step}")), step
        assert "data-draft=" not in text(viewer.get(f"/a/{finished}/{step}")), step


def test_pages_name_their_viewer_so_that_drafts_stay_with_whoever_typed_them(owner, people, client):
    page = text(owner.get("/account"))
    assert f'<meta name="draft-user" content="account:{people["owner"]}">' in page
    assert '<form method="post" action="/logout" data-forget-drafts>' in page  # logging out forgets them
    assert "draft-user" not in text(client.get("/login"))


def test_after_the_session_ended_log_in_leads_back_to_the_page_and_says_its_input_is_kept(app, db, owner, finished):
    page = f"/a/{finished}/dimensions/data"
    token = owner.csrf_token()
    db.execute("UPDATE sessions SET expires_at = '2000-01-01T00:00:00Z'")
    db.conn.commit()
    response = owner.post(page, data={"csrf_token": token, "data.residency-value": "4", "go": "stay"})
    login = text(owner.get(response.location))
    assert f'<p class="notice" data-draft-for="{page}" hidden>' in login  # shown by app.js if it kept a draft
    # Once the cookie has expired too, the error page's way to log in leads back to the page as well.
    refused = app.test_client().post(page, data={"csrf_token": token, "data.residency-value": "4"})
    assert f'<a href="/login?next={page}">Log in</a>' in text(refused)
    assert f'<p class="notice" data-draft-for="{page}" hidden>' in text(refused)
    assert "data-draft-for" not in text(app.test_client().get("/login"))


def test_the_log_in_page_names_the_draft_of_whatever_next_says_as_text(app, people):
    """``next`` is the visitor's to write: in the note it is an attribute's escaped text, a key app.js
    looks up and never a link (log-in follows it only to a path on this site: test_auth)."""
    page = text(app.test_client().get('/login?next="><script>alert(1)</script>?x=1'))
    assert '<p class="notice" data-draft-for="&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;" hidden>' in page


def test_the_new_assessment_form_keeps_a_draft_as_journey_pages_do(owner, people):
    """It kept none: a title and organization typed after the session ended were lost, while every
    journey page's input was offered back."""
    page = f"/w/{people['workspace']}/assessments/new"
    assert 'data-draft="offer"' in text(owner.get(page))
    refused = owner.post(page, data={"title": "", "organization": "Acme", "rubric": "sovereign-ai-readiness@1.0.1"})
    assert refused.status_code == 200 and 'data-draft="shown"' in text(refused) and _saved_marks(refused) == []
    started = owner.post(page, data={"title": "Kept", "rubric": "sovereign-ai-readiness@1.0.1"}, follow_redirects=True)
    assert started.request.path.endswith("/about") and _saved_marks(started) == [page]


def test_a_consensus_sent_after_the_session_ended_is_kept_and_log_in_leads_back_to_its_question(
        app, db, editor, workshop, default_rubric):
    """Its log-in's ``next`` was the address the form is sent to, which took only POST: 405 after logging in."""
    question = next(q.id for d in default_rubric.dimensions if d.id == "data" for q in d.questions)
    dashboard, sent_to = f"/workshops/{workshop}", f"/workshops/{workshop}/consensus/{question}"
    assert text(editor.get(dashboard)).count('class="consensus" novalidate data-draft="offer"') > 1
    token = editor.csrf_token()
    db.execute("UPDATE sessions SET expires_at = '2000-01-01T00:00:00Z'")
    db.conn.commit()
    response = editor.post(sent_to, data={"csrf_token": token, "level": "2", "rationale": "Agreed"})
    assert response.location == f"/login?next={sent_to}"
    assert f'<p class="notice" data-draft-for="{sent_to}" hidden>' in text(editor.get(response.location))
    editor.login(EDITOR)
    back = editor.get(sent_to)
    assert back.status_code == 302 and back.location == f"{dashboard}#q-{question}"
    recorded = editor.post(sent_to, data={"level": "2", "rationale": "Agreed"}, follow_redirects=True)
    assert _saved_marks(recorded) == [sent_to]  # app.js forgets the draft
