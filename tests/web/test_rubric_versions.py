"""The life of a rubric version: uploaded, chosen for new rounds, compared with rounds on the one before."""

import io
import re

import pytest

from assessment import records
from assessment.answers import Answer, AnswerSet
from assessment.rubrics import stored_rubric

from .conftest import text

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
    assert "no change is given" in page and not re.search(r"Overall: \d+ → \d+\s*\(", page)
    assert _cells(page, "Compute and infrastructure") == ["not in 1.0.1", "50", "new in 2.0.0"]
    assert _cells(page, "Security and resilience")[2] == "not comparable: its questions or weights changed in 2.0.0"
    assert _cells(page, "Data sovereignty")[2] == "+0.0"  # only the dimension's weight changed
    assert _cells(page, "Dedicated funding and resourcing") == [f"level {old.answers['strategy.funding'].value}", "removed in 2.0.0"]
    assert _cells(page, "Sovereign AI roadmap") == ["new in 2.0.0", "level 3"]
    assert "No answer has changed." in page
