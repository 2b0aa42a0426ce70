"""Small text helpers shared by the CLI, the pages and the PDF."""

import pytest

from assessment.textreport import figure, in_words


@pytest.mark.parametrize(("names", "sentence"), [
    ([], ""), (["Talent"], "Talent"), (["Talent", "Security"], "Talent and Security"),
    (["Data", "Talent", "Security"], "Data, Talent and Security"),
])
def test_names_are_listed_as_a_sentence_lists_them(names, sentence):
    assert in_words(names) == sentence


@pytest.mark.parametrize(("value", "shown"), [
    (50.0, "50.0"), (45.32051282051282, "45.3"), (66.66666666666667, "66.7"), (42.5, "42.5"), (42.25, "42.3"),
    (15.625, "15.6"), (0.04, "0.0"), (99.96, "100.0"),
])
def test_a_score_is_written_to_one_decimal_half_up(value, shown):
    assert figure(value) == shown
