"""The life of a rubric version: uploaded, chosen for new rounds, compared with rounds on the one before."""

import csv
import io
import re

import pytest

from assessment import records
from assessment.answers import Answer, AnswerSet
from assessment.rubrics import stored_rubric

from .conftest import OUTSIDER, csv_text, text

NEW = "2.0.0"  # the version of the next_version_yaml fixture


@pytest.fixture
def newer(owner, db, next_version_yaml):
    """The next version of the default rubric, uploaded by the administrator."""
    response = owner.post("/admin/rubrics", data={"file": (io.BytesIO(next_version_yaml.encode()), "v2.yaml")},
                          content_type="multipart/form-data")
    assert response.status_code == 302, text(response)
    return stored_rubric(db, "sovereign-ai-readiness", NEW)


def _cells(page: str, row: str) -> list[str]:
    """The cells of the table row headed ``row``, as text."""
    found = re.search(rf"<th scope=\"row\">{re.escape(row)}.*?</tr>", page, re.S)
    assert found, f"no row {row!r}"
    return [re.sub(r"<[^>]+>|\s+", " ", cell).strip() for cell in re.findall(r"<td[^>]*>(.*?)</td>", found.group(0), re.S)]


def test_rounds_on_two_versions_show_what_one_version_lacks_never_as_a_drop(owner, db, people, finished, newer):
    old = records.answer_set(db, records.get_assessment(db, finished))
    same = {qid: answer for qid, answer in old.answers.items() if qid in newer.questions}
    later = records.create_assessment(db, people["workspace"], newer, "On 2.0.0", AnswerSet(
        answers=same | {"strategy.roadmap": Answer(3), "compute.q0": Answer(2)}))
    page = text(owner.get(f"/a/{later}/compare?with={finished}"))
    assert "(rubric 1.0.1) to this round (rubric 2.0.0)" in page
    assert "no change is given" in page and not re.search(r"Overall: [\d.]+ → [\d.]+\s*\(", page)
    assert _cells(page, "Compute and infrastructure") == ["not in 1.0.1", "50.0", "new in 2.0.0"]
    assert _cells(page, "Security and resilience")[2] == "not comparable: its questions or weights changed in 2.0.0"
    assert _cells(page, "Data sovereignty")[2] == "0.0"  # only the dimension's weight changed
    assert _cells(page, "Dedicated funding and resourcing") == [f"level {old.answers['strategy.funding'].value}", "removed in 2.0.0"]
    assert _cells(page, "Sovereign AI roadmap") == ["new in 2.0.0", "level 3"]
    assert "No answer has changed." in page


def _new_round(client, assessment_id, **data):
    response = client.post(f"/a/{assessment_id}/rounds", data=data)
    assert response.status_code == 302, text(response)
    return response.location.split("/")[2]


def test_a_new_round_may_move_to_a_later_version_and_the_earlier_round_keeps_its_own(owner, db, finished, newer,
                                                                                  default_rubric):
    records.save_answers(db, records.get_assessment(db, finished), default_rubric, {},
                         targets={"strategy.funding": 4, "data.residency": 4})
    page = text(owner.get(f"/a/{finished}/results"))
    assert '<option value="1.0.1" selected>1.0.1, this round&#39;s</option><option value="2.0.0">2.0.0</option>' in page
    later = _new_round(owner, finished, rubric_version=NEW)
    moved, parent = records.get_assessment(db, later), records.get_assessment(db, finished)
    assert (moved.rubric_version, moved.parent_id, parent.rubric_version) == (NEW, finished, "1.0.1")
    answers = records.answer_set(db, moved)
    before = records.answer_set(db, parent)
    assert set(answers.answers) == set(before.answers) - {"strategy.funding"}
    assert answers.answers["data.residency"] == before.answers["data.residency"]
    assert dict(answers.targets) == {"data.residency": 4}
    assert "cultural_alignment" not in answers.drivers and answers.barriers == ("ip_concerns", "compute_access")
    page = text(owner.get(f"/a/{later}/about"))
    assert ("on rubric 2.0.0 with the answers of the previous one. Questions of 1.0.1 not in 2.0.0: 1 (their "
            "answers stay with the previous round); new questions, unanswered: 4.") in page
    (started,) = db.query("SELECT detail FROM audit WHERE action = 'round.started'")
    assert started["detail"] == "continues Spring review; rubric 1.0.1 → 2.0.0; 47 answers"
    assert "removed in 2.0.0" in text(owner.get(f"/a/{later}/compare"))
    assert owner.get(f"/a/{finished}/results").status_code == 200


def test_a_new_round_stays_on_its_version_unless_another_is_chosen(owner, db, finished, newer):
    assert records.get_assessment(db, _new_round(owner, finished)).rubric_version == "1.0.1"
    assert records.get_assessment(db, _new_round(owner, finished, rubric_version="1.0.1")).rubric_version == "1.0.1"


@pytest.mark.parametrize("version", ["9.9.9", "1.0.0", ""])
def test_a_new_round_on_a_version_not_offered_is_refused(owner, db, finished, newer, version):
    before = db.table("assessments").count
    assert owner.post(f"/a/{finished}/rounds", data={"rubric_version": version}).status_code == 400
    assert db.table("assessments").count == before


def test_a_version_uploaded_after_the_results_were_seen_is_offered_at_once(owner, finished, next_version_yaml):
    assert "rubric_version" not in text(owner.get(f"/a/{finished}/results"))
    owner.post("/admin/rubrics", data={"file": (io.BytesIO(next_version_yaml.encode()), "v2.yaml")},
               content_type="multipart/form-data")
    assert '<option value="2.0.0">' in text(owner.get(f"/a/{finished}/results"))


def test_a_new_version_is_not_offered_to_a_round_on_the_newest(owner, db, people, newer):
    later = records.create_assessment(db, people["workspace"], newer, "On 2.0.0")
    assert "rubric_version" not in text(owner.get(f"/a/{later}/results"))


@pytest.mark.parametrize("page", ["about", "dimensions/data", "review", "results"])
def test_every_page_of_an_assessment_names_and_links_its_rubric_version(owner, db, people, finished, newer, page):
    later = records.create_assessment(db, people["workspace"], newer, "On 2.0.0")
    link = 'Rubric: <a href="/rubric/sovereign-ai-readiness/{0}">Sovereign AI Readiness {0}</a>'
    assert link.format("1.0.1") in text(owner.get(f"/a/{finished}/{page}"))
    assert link.format("2.0.0") in text(owner.get(f"/a/{later}/{page}"))


def test_the_dashboard_names_the_versions_once_there_are_two(owner, db, people, finished, newer):
    dashboard = f"/w/{people['workspace']}"
    assert "rubric 1.0.1" not in text(owner.get(dashboard))
    records.create_assessment(db, people["workspace"], newer, "On 2.0.0")
    page = text(owner.get(dashboard))
    assert "rubric 1.0.1" in page and "rubric 2.0.0" in page


def test_a_new_dimension_without_a_linked_figure_has_no_survey_figure_rather_than_an_invented_one(
        owner, db, people, newer):
    answers = AnswerSet(answers={qid: Answer(2) for qid in newer.questions})
    later = records.create_assessment(db, people["workspace"], newer, "On 2.0.0", answers)
    page = text(owner.get(f"/a/{later}/results"))
    summary = page.split('<h2 id="peers-title">')[0]
    assert _cells(summary, "Compute and infrastructure") == ["50.0", "3 of 3", "no survey figure", "no survey figure"]
    peers = page.split('<h2 id="peers-title">')[1]
    assert "The survey gives no figure linked to this dimension" in _cells(peers, "Compute and infrastructure")[0]


def test_the_rubric_page_shows_a_stored_version_and_lists_every_one(owner, newer):
    page = text(owner.get("/rubric/sovereign-ai-readiness/2.0.0"))
    assert "Rubric sovereign-ai-readiness version 2.0.0" in page and "Compute and infrastructure" in page
    default = text(owner.get("/rubric"))
    assert "Rubric sovereign-ai-readiness version 1.0.1" in default and "Compute and infrastructure" not in default
    assert '<a href="/rubric/sovereign-ai-readiness/1.0.1">sovereign-ai-readiness 1.0.1</a>, the default' in page
    assert "<strong>sovereign-ai-readiness 2.0.0</strong> (shown)" in page
    assert '<a href="/rubric/sovereign-ai-readiness/2.0.0">sovereign-ai-readiness 2.0.0</a>' in default


def test_any_signed_in_user_may_read_any_stored_version(client, people, newer):
    """Versions are the instance's, as the choice of rubric for a new assessment is: no workspace owns one."""
    client.login(OUTSIDER)
    assert "version 2.0.0" in text(client.get("/rubric/sovereign-ai-readiness/2.0.0"))


@pytest.mark.parametrize("path", ["sovereign-ai-readiness/9.9.9", "no-such-rubric/1.0.1", "sovereign-ai-readiness/1.0",
                                  "sovereign-ai-readiness/1.0.1%00", "%2E%2E/1.0.1"])
def test_a_version_not_stored_is_not_found(owner, path):
    assert owner.get(f"/rubric/{path}").status_code == 404


def test_the_survey_sources_link_leads_to_the_assessments_version(owner, finished, newer):
    assert 'href="/rubric/sovereign-ai-readiness/1.0.1#sources"' in text(owner.get(f"/a/{finished}/results"))


@pytest.mark.parametrize("export", ["answers.csv", "gaps.csv"])
def test_the_csv_rows_of_two_rounds_on_two_versions_say_which_version_each_is(owner, db, people, finished, newer,
                                                                              export):
    later = records.create_assessment(db, people["workspace"], newer, "On 2.0.0",
                                      AnswerSet(answers={qid: Answer(1) for qid in newer.questions}))
    for assessment_id, version in ((finished, "1.0.1"), (later, "2.0.0")):
        rows = list(csv.DictReader(io.StringIO(csv_text(owner.get(f"/a/{assessment_id}/{export}")))))
        assert rows and {(r["rubric"], r["rubric_version"]) for r in rows} == {("sovereign-ai-readiness", version)}
