"""Small text helpers shared by the CLI, the pages and the PDF."""

import pytest

from assessment.textreport import in_words


@pytest.mark.parametrize(("names", "sentence"), [
    ([], ""), (["Talent"], "Talent"), (["Talent", "Security"], "Talent and Security"),
    (["Data", "Talent", "Security"], "Data, Talent and Security"),
])
def test_names_are_listed_as_a_sentence_lists_them(names, sentence):
    assert in_words(names) == sentence
