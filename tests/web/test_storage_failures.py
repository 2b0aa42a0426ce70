"""The machine fails, not the person: a full disk or a database locked past the busy timeout while
someone saves. A real SQLite file made to refuse: ``PRAGMA max_page_count`` (SQLITE_FULL) on the
connection the requests use, or another connection holding the write lock (SQLITE_BUSY)."""

import contextlib
import html
import io
import logging
import re
import sqlite3
from contextlib import contextmanager
from pathlib import Path

from flask_wtf import FlaskForm
from wtforms import Form, PasswordField, StringField

from assessment import jobs, records, storage, workshops
from assessment.web import forms

from .conftest import OWNER, PASSWORD, text

NOTE = "Two of our three sites keep data in-country <as agreed>"


@contextmanager
def disk_full(db):
    """The database cannot grow by a page, and its pages are filled to the last few bytes: every
    write of more than that fails with SQLITE_FULL."""
    db.execute("CREATE TABLE filler (x BLOB)")
    db.conn.commit()
    db.execute(f"PRAGMA max_page_count = {db.execute('PRAGMA page_count').fetchone()[0]}")
    for size in (4096, 512, 64, 8):
        with contextlib.suppress(sqlite3.OperationalError):
            while True:
                with storage.write_transaction(db):
                    db.execute("INSERT INTO filler VALUES (zeroblob(?))", [size])
    try:
        yield
    finally:
        db.execute("PRAGMA max_page_count = 4294967294")
        with storage.write_transaction(db):
            db.execute("DROP TABLE filler")


@contextmanager
def database_locked(app, db):
    """Another program (the sqlite3 shell, say) holds the write lock past the requests' busy timeout."""
    db.execute("PRAGMA busy_timeout = 50")  # the requests' connection: this thread's (web.get_db)
    other = sqlite3.connect(app.config["DATABASE"], isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")
    try:
        yield
    finally:
        other.execute("ROLLBACK")
        other.close()


def _dimension_form(rubric, dimension="data") -> dict:
    """A dimension page's every answer, each with a note too long to fit in the database's last page."""
    questions = next(d for d in rubric.dimensions if d.id == dimension).questions
    form = {f"{q.id}-{name}": value for q in questions
            for name, value in (("value", "3"), ("basis", "evidenced"), ("note", f"{NOTE} {'x' * 1500}"))}
    return form | {"go": "stay"}


def _resent(page: str) -> tuple[str, dict]:
    """The *Try again* form of an error page: where it posts and what it sends (the CSRF token aside)."""
    action, body = re.search(r'<form method="post" action="([^"]+)">(.*?)</form>', page, re.S).groups()
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', body))
    assert fields.pop("csrf_token")
    return html.unescape(action), {name: html.unescape(value) for name, value in fields.items()}


def test_a_dimension_page_saved_on_a_full_disk_says_so_and_keeps_what_was_typed(app, db, owner, empty,
                                                                              default_rubric, caplog):
    form = _dimension_form(default_rubric)
    with disk_full(db), caplog.at_level(logging.ERROR):
        response = owner.post(f"/a/{empty}/dimensions/data", data=form)
    assert response.status_code == 503 and response.headers["Retry-After"] == "10"
    page = text(response)
    assert "The server could not save: its disk is full. Nothing was saved." in page
    assert "What you sent is kept below: try again in a moment." in page
    assert "Something went wrong" not in page
    assert records.answer_set(db, records.get_assessment(db, empty)).answers == {}
    assert f"could not use the database (its disk is full): POST /a/{empty}/dimensions/data" in caplog.text
    # The page's draft in the browser tab stays, and its page offers it (app.js, docs/web.md *Drafts*).
    assert f'data-draft-for="/a/{empty}/dimensions/data"' in page
    action, sent = _resent(page)
    assert (action, sent) == (f"/a/{empty}/dimensions/data", form)  # "Save" pressed: it stays on the page
    response = owner.post(action, data=sent)  # once there is room again
    assert response.status_code == 302 and response.headers["Location"].endswith("/dimensions/data#main")
    answers = records.answer_set(db, records.get_assessment(db, empty)).answers
    assert answers["data.residency"].note.startswith(NOTE)


def test_a_dimension_page_saved_while_the_database_is_locked_says_it_is_busy(app, db, owner, empty,
                                                                             default_rubric):
    with database_locked(app, db):
        response = owner.post(f"/a/{empty}/dimensions/data", data=_dimension_form(default_rubric))
    assert response.status_code == 503
    assert "The server could not save: the database is busy. Nothing was saved." in text(response)
    assert html.escape(NOTE) in text(response)


def test_a_consensus_recorded_while_the_database_is_locked_is_kept_to_send_again(app, db, editor, workshop):
    rationale = f"{NOTE}, as the room agreed"
    with database_locked(app, db):
        response = editor.post(f"/workshops/{workshop}/consensus/data.residency",
                               data={"level": "2", "rationale": rationale})
    assert response.status_code == 503
    assert "The server could not save: the database is busy." in text(response)
    assert workshops.consensus(db, workshop) == {}
    action, sent = _resent(text(response))
    assert sent == {"level": "2", "rationale": rationale}
    assert editor.post(action, data=sent).status_code == 302
    assert workshops.consensus(db, workshop)["data.residency"]["rationale"] == rationale


def test_a_participants_answers_sent_while_the_database_is_locked_are_kept(app, db, workshop):
    participant = app.test_client()
    code = workshops.get_workshop(db, workshop).join_code
    assert participant.post(f"/join/{code}", data={"display_name": "Pat"}).status_code == 302
    with database_locked(app, db):
        response = participant.post(f"/p/{workshop}/data", data={"data.residency-value": "4"})
    assert response.status_code == 503
    assert "The server could not save: the database is busy." in text(response)
    action, sent = _resent(text(response))
    assert sent == {"data.residency-value": "4"}
    assert participant.post(action, data=sent).status_code == 302
    (pat,) = workshops.participants(db, workshop)
    assert workshops.participant_answers(db, pat["id"]) == {"data.residency": "4"}


def test_an_import_on_a_full_disk_asks_for_the_file_again(app, db, owner, people, finished):
    document = owner.get(f"/a/{finished}/export.json").data
    with disk_full(db):
        response = owner.post(f"/w/{people['workspace']}/import",
                              data={"file": (io.BytesIO(document), "spring.json"), "title": ""})
    assert response.status_code == 503
    page = text(response)
    assert "The server could not save: its disk is full. Nothing was saved. Choose the file again" in page
    assert "Try again</button>" not in page  # a file cannot be sent back from the page
    assert f'href="/w/{people["workspace"]}/import">Back to the form' in page
    assert db.execute("SELECT count(*) FROM assessments").fetchone()[0] == 1  # the exported one


def test_a_password_is_never_written_back_into_the_page(app, db, people, client):
    with database_locked(app, db):
        response = client.post("/login", data={"email": OWNER, "password": PASSWORD})
    assert response.status_code == 503
    assert PASSWORD not in text(response) and "Try again</button>" not in text(response)


def test_a_database_error_of_the_codes_making_is_still_a_500(app, db, owner, empty, monkeypatch):
    def broken(*args, **kwargs):
        raise sqlite3.OperationalError("no such column: oops")
    monkeypatch.setattr(records, "save_answers", broken)
    app.testing = False  # the page a person gets, not the traceback tests see
    response = owner.post(f"/a/{empty}/dimensions/data", data={"go": "stay"})
    assert response.status_code == 500 and "Something went wrong on our side" in text(response)


def test_a_report_asked_for_when_its_queue_cannot_be_written_leaves_no_job_behind(app, db, owner, finished):
    """The job was recorded, then its task could not be queued: the page said the report was queued,
    for the five minutes until it was known lost, and asking again did nothing meanwhile."""
    tasks = Path(app.instance_path) / "tasks.db"
    tasks.mkdir()  # what SQLite cannot open as the queue
    response = owner.post(f"/a/{finished}/report")
    assert response.status_code == 503
    assert "The server could not save: it could not open its database. Nothing was saved." in text(response)
    assert db.execute("SELECT count(*) FROM report_jobs").fetchone()[0] == 0
    tasks.rmdir()
    jobs.queue.cache_clear()
    action, sent = _resent(text(response))
    assert owner.post(action, data=sent).status_code == 302
    assert jobs.run_pending(app.instance_path) == 1
    assert "is ready" in text(owner.get(f"/a/{finished}/report"))


class FutureForm(FlaskForm):
    """A form added later, whose secret is named as none before it: a password all the same."""
    api_token = PasswordField("API token")
    label = StringField("Label")


def _form_classes(rubric) -> list[type[Form]]:
    """Every form class the app defines, with those it builds from a rubric, and FutureForm."""
    for build in (forms.about_form, forms.drivers_form, forms.barriers_form, forms.workshop_form):
        build(rubric)
    for dimension in rubric.dimensions:
        forms.dimension_form(rubric, dimension.id)
        forms.dimension_form(rubric, dimension.id, False)  # a workshop participant's
    found, todo = [], [Form]
    while todo:
        found.extend(subclasses := todo.pop().__subclasses__())
        todo.extend(subclasses)
    return [cls for cls in found if cls.__module__.startswith("assessment.") or cls is FutureForm]


def _password_fields(form) -> list[str]:
    """The names, as posted, of a form's fields that the browser shows as passwords, nested ones too."""
    names = []
    for field in form:
        if field.type == "FormField":
            names += _password_fields(field.form)
        elif getattr(field.widget, "input_type", None) == "password":
            names.append(field.name)
    return names


def test_no_password_of_any_form_is_written_back_into_the_page(app, db, owner, empty, default_rubric):
    """Whatever it is named: the rule follows the fields' types, not a list of names. Each sent, with
    an ordinary field, to a page that saves on a full disk."""
    with app.test_request_context():
        classes = _form_classes(default_rubric)
        secrets = {name for cls in classes for name in _password_fields(cls(meta={"csrf": False}))}
    assert {"password", "confirm", "current", "api_token"} <= secrets
    assert {forms.SetupForm, forms.JoinCodeForm, FutureForm} <= set(classes)
    form = _dimension_form(default_rubric)
    with disk_full(db):
        for name in [*secrets, "code"]:  # the setup code and a workshop's join code are secrets too
            response = owner.post(f"/a/{empty}/dimensions/data", data=form | {name: "hunter2-typed"})
            assert response.status_code == 503
            assert "hunter2-typed" not in text(response) and "Try again</button>" not in text(response), name
        response = owner.post(f"/a/{empty}/dimensions/data", data=form)
    assert response.status_code == 503 and _resent(text(response))[1] == form  # no secret: all of it resent


AGENCIES_CSV = b"name,type,size,contact\n" + "".join(f"Agency {n} {'x' * 150},,,\n" for n in range(20)).encode()


def test_a_file_sent_to_an_address_with_no_page_leads_back_to_the_page_it_came_from(app, db, owner, portfolio):
    """The agencies' CSV goes to /agencies/upload, which only takes a POST: *Back to the form* there
    was a 405, *This address does not take that kind of request*."""
    agencies = f"/portfolios/{portfolio}/agencies"
    with disk_full(db):
        response = owner.post(f"{agencies}/upload", content_type="multipart/form-data",
                              data={"file": (io.BytesIO(AGENCIES_CSV), "agencies.csv")},
                              headers={"Referer": f"http://localhost{agencies}?round=1"})
    assert response.status_code == 503 and "Choose the file again" in text(response)
    back = html.unescape(re.search(r'<a href="([^"]+)">Back to the form', text(response))[1])
    assert back == f"{agencies}?round=1"
    assert owner.get(back).status_code == 200
    # Without a referrer (a browser may send none), the start: never an address that refuses a visit.
    with disk_full(db):
        response = owner.post(f"{agencies}/upload", content_type="multipart/form-data",
                              data={"file": (io.BytesIO(AGENCIES_CSV), "agencies.csv")})
    assert "Back to the form" not in text(response) and 'href="/">Back to the start' in text(response)
    # A referrer of this host whose path would leave the site ("//elsewhere") is no way back either.
    with disk_full(db):
        response = owner.post(f"{agencies}/upload", content_type="multipart/form-data",
                              data={"file": (io.BytesIO(AGENCIES_CSV), "agencies.csv")},
                              headers={"Referer": "http://localhost//evil.example/agencies"})
    assert "evil.example" not in text(response) and 'href="/">Back to the start' in text(response)
