"""What an answer submission reuses between requests to be fast, and that the reuse changes nothing:
the form's fields are what WTForms would bind, and no request's input or errors reach another's."""

from datetime import UTC, datetime
from uuid import UUID

import pytest
from flask.sessions import session_json_serializer
from markupsafe import Markup
from werkzeug.datastructures import MultiDict
from wtforms import Form
from wtforms.fields.core import Flags, Label, UnboundField

from assessment import workshops
from assessment.web import auth, forms

from .conftest import DIMENSIONS

# A page's input with a refused choice, a note without an answer, a target and a note to keep.
INPUT = MultiDict({"data.residency-value": "3", "data.residency-basis": "evidenced",
                   "data.residency-note": "EU regions only", "data.residency-target": "4",
                   "data.quality-value": "9", "data.inventory-note": "a note without an answer"})


def _state(field) -> dict:
    """Everything a bound field holds, its labels and flags as their values, its sub-form as its fields'."""
    state = {}
    for name, value in vars(field).items():
        if name in ("_form", "meta", "csrf_impl"):
            value = type(value)  # the form it is bound to, or its CSRF check: each build has its own
        elif isinstance(value, Label | Flags):
            value = vars(value)
        elif isinstance(value, Form):
            value = {sub.name: _state(sub) for sub in value}
        state[name] = value
    return state


def _built(form_class, formdata: MultiDict) -> dict:
    form = form_class(formdata=formdata)
    form.validate()
    return {field.name: _state(field) for field in form}


@pytest.mark.parametrize("targets", [True, False])  # an organization's page, a participant's
def test_a_dimension_forms_fields_are_those_wtforms_would_bind(app, default_rubric, monkeypatch, targets):
    with app.test_request_context(method="POST"):
        form_class = forms.dimension_form(default_rubric, "data", targets)
        copied = [_built(form_class, INPUT) for _ in range(2)]  # the first binds, the second copies
        monkeypatch.setattr(forms._Copied, "bind", UnboundField.bind)  # WTForms' own: the constructor each time
        bound = _built(form_class, INPUT)
    assert copied[0] == bound and copied[1] == bound
    assert bound["data.quality"]["form"]["data.quality-value"]["errors"] == ["Not a valid choice."]


def test_no_request_sees_another_ones_input_or_errors(app, default_rubric):
    with app.test_request_context(method="POST"):
        form_class = forms.dimension_form(default_rubric, "data")
        first = form_class(formdata=INPUT, meta={"csrf": False})
        first.validate()
        second = form_class(formdata=MultiDict({"data.quality-value": "2"}), meta={"csrf": False})
        assert second.validate()
    assert first["data.quality"].value.errors == ["Not a valid choice."]
    assert first["data.residency"].note.data == "EU regions only"
    assert second["data.quality"].value.errors == [] and second["data.residency"].note.data is None
    assert second["data.quality"].value.data == "2" and first["data.quality"].value.data == "9"
    assert second["data.quality"].value is not first["data.quality"].value
    assert second["data.quality"].value._form is second["data.quality"].form


SESSIONS = [
    {"_permanent": True, "sid": "abc", "csrf_token": "f00", "_flashes": [("saved", "/a/x/dimensions/data"),
                                                                         ("message", "Your answers are saved.")]},
    {"workshops": {"w1": "token"}, "visited": {"w1": 1_790_000_000}, "_fresh": False, "n": None, "x": 1.5},
    # What the tags are for: each must still be tagged, and a string that looks like a tag is only a string.
    {"tuple": (1, "a"), "bytes": b"\x00", "markup": Markup("<b>"), "uuid": UUID(int=7),
     "when": datetime(2026, 11, 27, tzinfo=UTC), "tag": {" t": ["a"]}, "list": [(" t",), {" di": 1}], " t": " t"},
]


@pytest.mark.parametrize("data", SESSIONS)
def test_a_session_is_written_and_read_as_flasks_serializer_does(app, data):
    with app.app_context():  # the JSON is the app's (sorted keys)
        written = auth.SessionSerializer().dumps(data)
        assert written == session_json_serializer.dumps(data)
        assert auth.SessionSerializer().loads(written) == session_json_serializer.loads(written) == data


def test_a_participants_save_reads_without_savepoints_and_is_stored(app, db, workshop, default_rubric):
    from .test_scale import counted
    from .test_workshops import _answer, _join, _question_ids

    client = _join(app, db, workshop)
    given = dict.fromkeys(_question_ids(default_rubric, DIMENSIONS[0]), "2")
    with counted(db) as statements:
        assert _answer(client, workshop, DIMENSIONS[0], given).status_code == 302
    # sqlite-utils' query() wraps each read in a savepoint and its release: three statements for one.
    assert [s for s in statements if s.startswith(("SAVEPOINT", "RELEASE"))] == []
    participant = workshops.participants(db, workshop)[0]
    assert workshops.participant_answers(db, participant["id"]) == given
