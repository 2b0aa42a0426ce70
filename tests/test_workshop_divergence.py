"""The workshop's divergence statistics: pure functions of answer values."""

import pytest

from assessment.divergence import divergence, spread_of
from assessment.workshops import normalize_code


@pytest.mark.parametrize("values, counts, other, median, spread, flagged", [
    ([], (0, 0, 0, 0, 0), 0, None, None, False),
    (["2", "2", "3"], (0, 0, 2, 1, 0), 0, 2, 1, False),
    (["0", "4", "dont_know"], (1, 0, 0, 0, 1), 1, 0, 4, True),
    (["1", "3", "not_applicable", "3"], (0, 1, 0, 2, 0), 1, 3, 2, True),
    (["not_applicable"], (0, 0, 0, 0, 0), 1, None, None, False),
])
def test_spread_of_one_question(values, counts, other, median, spread, flagged):
    s = spread_of("q", values)
    assert (s.counts, s.other, s.median, s.spread, s.flagged) == (counts, other, median, spread, flagged)
    assert s.answered == len(values)


def test_most_divergent_first_then_in_the_order_given():
    answers = {"a": ["2", "2"], "b": ["0", "3"], "c": ["1", "2"], "d": ["0", "3"]}
    assert [s.question_id for s in divergence(["a", "b", "c", "d", "e"], answers)] == ["b", "d", "c", "a", "e"]


def test_join_codes_are_read_as_typed():
    assert normalize_code(" abcd-efgh ") == "ABCDEFGH"
