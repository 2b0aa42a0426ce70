"""Property-based fuzzing of the journey's forms, the answers import and every route's URL parameters:
no input yields a 500, and a refused request says why and changes nothing already stored
(tests/web/fuzzing.py). The other blueprints' forms are fuzzed in test_fuzz_*.py."""

import io
import json
import re
from urllib.parse import quote

from hypothesis import given
from hypothesis import strategies as st

from .conftest import text
from .fuzzing import FIELD_NAMES, FUZZ, VALUES, send
from .test_routes import _rules

FIELDS = ["data.residency-value", "data.residency-target", "data.residency-note", "data.residency-basis", "data.quality-value",
          "title", "organization", "region", "data_control", "barriers", "go", "rubric"]
FORMS = st.dictionaries(st.one_of(st.sampled_from(FIELDS), FIELD_NAMES), VALUES, max_size=8)
PAGES = st.sampled_from(["dimensions/data", "about", "drivers", "barriers"])


@FUZZ
@given(page=PAGES, data=FORMS)
def test_journey_forms_never_fail_and_refusals_change_nothing(owner, finished, db, page, data):
    response, refused = send(owner, db, "POST", f"/a/{finished}/{page}", data=data)
    assert response.status_code in (200, 302), text(response)[:300]
    assert (response.status_code == 200) == (refused is not None)  # a page shown again is a refusal


@FUZZ
@given(data=FORMS, rubric=st.one_of(st.just(None), VALUES, st.sampled_from(["sovereign-ai-readiness@1.0.1",
                                                                             "sovereign-ai-readiness@9"])))
def test_new_assessment_form(owner, people, db, data, rubric):
    form = data if rubric is None else {**data, "rubric": rubric}
    response, refused = send(owner, db, "POST", f"/w/{people['workspace']}/assessments/new", data=form)
    assert (response.status_code == 200) == (refused is not None)


DOCUMENTS = st.recursive(st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=30)),
                         lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                 st.dictionaries(st.text(max_size=15), inner, max_size=4)),
                         max_leaves=20)
# Documents shaped like an export, with any value where its fields go.
EXPORTS = st.fixed_dictionaries({"rubric": st.one_of(st.just("sovereign-ai-readiness"), DOCUMENTS)},
                                optional={"rubric_version": DOCUMENTS, "profile": DOCUMENTS, "targets": DOCUMENTS,
                                          "answers": st.dictionaries(st.one_of(st.text(max_size=20),
                                                                               st.sampled_from(FIELDS)),
                                                                     DOCUMENTS, max_size=4)})


@FUZZ
@given(document=st.one_of(DOCUMENTS, EXPORTS), raw=st.one_of(st.none(), st.binary(max_size=200)))
def test_import_never_fails_and_a_refused_file_creates_nothing(owner, people, db, document, raw):
    content = json.dumps(document).encode() if raw is None else raw
    response, refused = send(owner, db, "POST", f"/w/{people['workspace']}/import",
                             data={"file": (io.BytesIO(content), "answers.json")}, content_type="multipart/form-data")
    assert response.status_code in (200, 302), text(response)[:300]
    assert (response.status_code == 200) == (refused is not None)


ROUTES = [(endpoint, method) for endpoint, method in _rules() if endpoint != "static"]
SEGMENTS = st.one_of(st.text(max_size=30), st.integers(min_value=0, max_value=2**70).map(str),
                     st.sampled_from(["1", "2", "0", "data", "data.residency", "disable", "enable", "..", "%"]))


@FUZZ
@given(route=st.sampled_from(ROUTES), values=st.lists(SEGMENTS, min_size=4, max_size=4),
       query=st.dictionaries(st.sampled_from(["with", "round", "type", "size", "next", "auto"]), VALUES, max_size=3))
def test_any_url_parameter_and_query_answers_without_error(app, owner, finished, db, route, values, query):
    """Every route with made-up ids, codes, tokens and query values: a page or a 4xx, never a 500."""
    endpoint, method = route
    (rule,) = app.url_map.iter_rules(endpoint)
    segments = iter(values)
    url = re.sub(r"<[^>]+>", lambda _: quote(next(segments), safe="") or "x", rule.rule)
    send(owner, db, method, url, query_string=query, **({"data": {}} if method == "POST" else {}))


@FUZZ
@given(page=st.sampled_from(["results", "compare", "review", "report", "export.json", "answers.csv", "gaps.csv"]),
       query=st.dictionaries(st.sampled_from(["region", "org_type", "size", "with", "other"]),
                             st.one_of(VALUES, st.sampled_from(["europe", "enterprise", "large"])), max_size=3))
def test_result_filters_and_comparisons(owner, finished, db, page, query):
    """The results' peer filters and the round comparison's ?with=, with anything in them."""
    response, _ = send(owner, db, "GET", f"/a/{finished}/{page}", query_string=query)
    assert response.status_code in (200, 404)
