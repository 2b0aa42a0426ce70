"""Rubric versions: an administrator uploads one; new assessments may use it, old ones keep theirs."""

import io
import re

import pytest
import yaml

from assessment import records
from assessment.paths import DEFAULT_RUBRIC
from assessment.rubrics import stored_rubric

from .conftest import flashes, text
from .fuzzing import snapshot


def _rubric_yaml(edit=None) -> bytes:
    data = yaml.safe_load(DEFAULT_RUBRIC.read_text(encoding="utf-8"))
    if edit:
        edit(data)
    return yaml.safe_dump(data, sort_keys=False).encode()


def _upload(client, content: bytes, name="my-rubric.yaml"):
    return client.post("/admin/rubrics", data={"file": (io.BytesIO(content), name)},
                       content_type="multipart/form-data")


def _version(number, title=None):
    def edit(data):
        data["version"] = number
        data["dimensions"][0]["title"] = title or data["dimensions"][0]["title"]
    return edit


def test_an_uploaded_version_is_offered_to_new_assessments_and_old_ones_keep_theirs(owner, finished, people, db):
    response = _upload(owner, _rubric_yaml(_version("1.1.0", "Strategy and mandate")))
    assert response.status_code == 302
    assert "sovereign-ai-readiness 1.1.0 is available" in text(owner.get(response.location))
    assert 'value="sovereign-ai-readiness@1.1.0"' in text(owner.get(f"/w/{people['workspace']}/assessments/new"))
    response = owner.post(f"/w/{people['workspace']}/assessments/new",
                          data={"title": "On 1.1", "rubric": "sovereign-ai-readiness@1.1.0"})
    newer = response.location.split("/")[2]
    assert records.get_assessment(db, newer).rubric_version == "1.1.0"
    assert "Strategy and mandate" in text(owner.get(f"/a/{newer}/review"))
    assert records.get_assessment(db, finished).rubric_version == "1.0.1"
    assert "Strategy and mandate" not in text(owner.get(f"/a/{finished}/review"))
    assert stored_rubric(db, "sovereign-ai-readiness", "1.1.0").dimensions[0].title == "Strategy and mandate"


def _break_weight(data):
    data["dimensions"][2]["questions"][4]["weight"] = 0
    data["version"] = "one"


@pytest.mark.parametrize("content, messages", [
    (_rubric_yaml(_break_weight), ["dimensions[2].questions[4].weight</code>: must be &gt; 0", "version</code>:"]),
    (b"id: [unclosed\n", ["invalid YAML"]),
    (_rubric_yaml(_version("1.0.1", "Changed")), ["already stored with different content; raise its version"]),
])
def test_a_broken_rubric_is_refused_with_the_loaders_messages(owner, db, content, messages):
    response = _upload(owner, content)
    assert response.status_code == 200
    assert "my-rubric.yaml cannot be used" in text(response)
    (field,) = re.findall(r'<input[^>]*type="file"[^>]*>', text(response))
    assert "problems" in field and 'aria-invalid="true"' in field  # tied to the problems listed
    for message in messages:
        assert message in text(response)
    assert db.table("rubrics").count == 1


def test_a_rubric_saved_with_a_byte_order_mark_is_added_without_it(owner, db):
    # Stored with the mark, the rubric was "other content" than the same file saved without it.
    response = _upload(owner, b"\xef\xbb\xbf" + _rubric_yaml(_version("1.2.0")))
    assert response.status_code == 302, text(response)
    assert stored_rubric(db, "sovereign-ai-readiness", "1.2.0").version == "1.2.0"
    (source,) = [row[0] for row in db.execute("SELECT source FROM rubrics WHERE version = '1.2.0'")]
    assert not source.startswith("\ufeff")


def test_uploading_the_same_version_again_changes_nothing_and_says_so(owner, db):
    before = snapshot(db)
    response = _upload(owner, DEFAULT_RUBRIC.read_bytes())
    assert response.status_code == 302 and snapshot(db) == before
    assert flashes(owner.get(response.location)) == [
        "Rubric sovereign-ai-readiness 1.0.1 is already stored with this content: nothing changed."]


def test_only_administrators_upload_rubrics(editor):
    assert editor.get("/admin/rubrics").status_code == 403
    assert _upload(editor, _rubric_yaml(_version("2.0.0"))).status_code == 403


def test_administrators_are_told_which_workspaces_disabling_leaves_without_an_owner(owner, people, db):
    asking = text(owner.get(f"/admin/users/{people['outsider']}/disable"))
    assert "They are the last enabled owner of Other Org" in asking
    assert "last enabled owner" not in text(owner.get(f"/admin/users/{people['viewer']}/disable"))
    assert "Workspaces without an enabled owner" not in text(owner.get("/admin/users"))
    owner.post(f"/admin/users/{people['outsider']}/disable")
    assert "Appoint an owner<span class=\"visually-hidden\"> for Other Org</span>" in text(owner.get("/admin/users"))
