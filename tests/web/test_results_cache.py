"""The results page's parts are scored and rendered once per content and cached: never stale,
never shared between assessments or viewers."""

import re
import threading
import time

from assessment.web.contentcache import ContentCache

from .conftest import text


def _index(page: str) -> str:
    return re.search(r'<span class="number">([\d.]+)</span>', page).group(1)


def test_a_change_shows_at_once_even_within_the_same_second(owner, finished):
    assert _index(text(owner.get(f"/a/{finished}/results"))) == "45.3"
    form = {f"data.{q}-value": "4" for q in ("residency", "inventory", "quality", "access", "open_data", "portability")}
    assert owner.post(f"/a/{finished}/dimensions/data", data={**form, "go": "stay"}).status_code == 302
    assert _index(text(owner.get(f"/a/{finished}/results"))) != "45.3"


def test_a_viewer_filling_the_cache_does_not_change_what_an_owner_may_do(viewer, owner, finished):
    assert "Start a new round" not in text(viewer.get(f"/a/{finished}/results"))
    page = text(owner.get(f"/a/{finished}/results"))
    assert "Start a new round" in page and "Delete this assessment" in page


def test_two_assessments_with_the_same_answers_keep_their_own_links(owner, finished, db, default_rubric):
    from assessment import records

    twin = records.start_round(db, records.get_assessment(db, finished), default_rubric, "Twin", None)
    owner.get(f"/a/{finished}/results")
    page = text(owner.get(f"/a/{twin}/results"))
    assert f"/a/{twin}/dimensions/" in page and f"/a/{finished}/" not in page.replace(f"/a/{finished}/compare", "")


def test_the_cache_keeps_the_most_recently_used_entries_only():
    cache = ContentCache(size=2)
    cache.put("a", 1)
    cache.put("b", 2)
    assert cache.get("a") == 1  # a is now the most recent
    cache.put("c", 3)
    assert (cache.get("a"), cache.get("b"), cache.get("c")) == (1, None, 3)


def test_requests_missing_the_same_entry_at_once_make_it_once():
    cache, made, started = ContentCache(), [], threading.Event()

    def make():
        made.append(1)
        started.set()
        time.sleep(0.2)  # the others arrive while this one is making it
        return "parts"

    first = threading.Thread(target=lambda: results.append(cache.get_or_make("k", make)))
    results = []
    first.start()
    started.wait()
    others = [threading.Thread(target=lambda: results.append(cache.get_or_make("k", make))) for _ in range(4)]
    for thread in others:
        thread.start()
    for thread in [first, *others]:
        thread.join()
    assert results == ["parts"] * 5 and len(made) == 1


def _fieldset(page: str, question: str) -> str:
    return re.search(rf'<fieldset class="question[^"]*" id="q-{re.escape(question)}".*?</fieldset>', page, re.S).group(0)


def test_a_question_shows_each_assessments_own_answer_and_each_viewers_rights(owner, viewer, finished, empty):
    answered = _fieldset(text(owner.get(f"/a/{finished}/dimensions/data")), "data.residency")
    unanswered = _fieldset(text(owner.get(f"/a/{empty}/dimensions/data")), "data.residency")
    assert " checked" in answered and " checked" not in unanswered.replace('value="self_assessed" checked', "")
    assert " disabled" not in answered
    assert " disabled" in _fieldset(text(viewer.get(f"/a/{finished}/dimensions/data")), "data.residency")


def test_a_question_with_an_error_shows_it_though_its_state_was_rendered_before(owner, empty):
    owner.get(f"/a/{empty}/dimensions/data")
    page = text(owner.post(f"/a/{empty}/dimensions/data", data={"data.residency-value": "9"}))
    assert "has-error" in _fieldset(page, "data.residency")
    assert "has-error" not in text(owner.get(f"/a/{empty}/dimensions/data"))
