"""Mutations of the shipped rubric, as an administrator's edit might make them (a key dropped, a
value of another type, an item repeated, a reference broken): each is refused with messages that
name file and path, or it loads and scores to finite numbers. Never a traceback."""

import copy
import json

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assessment.answers import SCORING_LEVEL, Answer, AnswerSet
from assessment.datafile import DataFileError
from assessment.paths import DEFAULT_RUBRIC, RUBRIC_DIR
from assessment.rubric import rubric_from_text
from assessment.scoring import score

SHIPPED = yaml.safe_load(DEFAULT_RUBRIC.read_text(encoding="utf-8"))
VALUES = st.one_of(st.none(), st.booleans(), st.integers(-5, 10**6), st.floats(), st.text(max_size=5),
                   st.lists(st.integers(0, 4), max_size=3), st.dictionaries(st.integers(0, 5), st.text(max_size=3)))


def _places(node, path=()):
    """The path of every key and list item in the rubric."""
    if isinstance(node, dict):
        items = node.items()
    elif isinstance(node, list):
        items = enumerate(node)
    else:
        return
    for key, value in items:
        yield (*path, key)
        yield from _places(value, (*path, key))


PLACES = list(_places(SHIPPED))
# Ids others refer to: set one to another's, a reference breaks or an id repeats.
IDS = st.sampled_from(sorted({place for place in PLACES if place[-1] in ("id", "cap_stage", "default_importance")}))
EDITS = st.one_of(st.tuples(st.sampled_from(PLACES), st.sampled_from(["drop", "repeat"]), st.none()),
                  st.tuples(st.sampled_from(PLACES), st.just("set"), VALUES),
                  st.tuples(IDS, st.just("set"), IDS.map(lambda place: _at(SHIPPED, place))))


def _at(data, place):
    for key in place:
        data = data[key]
    return data


def _mutated(edits) -> str:
    data = copy.deepcopy(SHIPPED)
    for place, kind, value in edits:
        try:
            parent, key = _at(data, place[:-1]), place[-1]
            if kind == "drop":
                del parent[key]
            elif kind == "repeat" and isinstance(parent, list):
                parent.append(copy.deepcopy(parent[key]))
            elif kind == "set":
                parent[key] = value
        except (KeyError, IndexError, TypeError):  # an earlier edit removed the place
            pass
    return yaml.dump(data, Dumper=yaml.CSafeDumper, sort_keys=False)  # libyaml's: ten times the pure one's speed


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(edits=st.lists(EDITS, min_size=1, max_size=3), levels=st.lists(st.sampled_from(list(SCORING_LEVEL))))
def test_a_mutated_rubric_is_refused_by_path_or_scores_to_finite_numbers(edits, levels):
    try:
        rubric = rubric_from_text(_mutated(edits), "rubric.yaml", RUBRIC_DIR / "peers")
    except DataFileError as error:
        assert error.problems and all(message.strip() for _, message in error.problems)
        assert str(error).startswith("rubric.yaml: ")
        assert "[key]" not in str(error) and "Traceback" not in str(error)
        return
    answers = {qid: Answer(level) for qid, level in zip(rubric.questions, levels, strict=False)}
    result = score(rubric, AnswerSet(answers=answers, rubric=rubric.id), None)
    json.dumps(result.as_dict(), allow_nan=False)  # no NaN or infinity from a sum of weights
