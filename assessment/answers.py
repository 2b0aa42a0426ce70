"""An organization's answers to a rubric, and reading them from an answers file."""

from __future__ import annotations

import reprlib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field

from .datafile import DataFileError, DataModel, read_data, repeats, validate
from .rubric import LEVELS, Rubric

NOT_APPLICABLE = "not_applicable"
DONT_KNOW = "dont_know"
BASES = ("self_assessed", "evidenced")
NOTE_MAX = 2000  # characters of an evidence note: what the answer pages accept, so imports too
NAME_MAX = 200  # characters of a title or an organization's name, likewise
# The level each valid answer value is scored at: don't know counts as 0, not applicable as nothing.
SCORING_LEVEL: dict[int | str, int | None] = {**{level: level for level in LEVELS},
                                              NOT_APPLICABLE: None, DONT_KNOW: 0}
_ALIASES = {"n/a": NOT_APPLICABLE, "na": NOT_APPLICABLE, "not applicable": NOT_APPLICABLE,
            NOT_APPLICABLE: NOT_APPLICABLE, "don't know": DONT_KNOW, "dont know": DONT_KNOW,
            DONT_KNOW: DONT_KNOW}
# One ASCII digit is a level (5 to 9 then refused as out of range); a dictionary, as every stored
# answer read goes through here (a 1,000-agency round: 43,000), and a regular expression was half of it.
_DIGITS = {str(digit): digit for digit in range(10)}


@dataclass(frozen=True, slots=True)
class Answer:
    """One answer: a level 0 to 4, NOT_APPLICABLE or DONT_KNOW, with optional evidence."""

    value: int | str
    note: str = ""
    basis: str = "self_assessed"

    @property
    def level(self) -> int | None:
        """The level used for scoring: don't know counts as 0, not applicable as nothing."""
        return SCORING_LEVEL[self.value]


@dataclass(frozen=True)
class AnswerSet:
    """Everything an organization says about itself for one rubric."""

    answers: Mapping[str, Answer]
    rubric: str = ""
    rubric_version: str | None = None
    title: str = ""  # the assessment's, so that an export brings it back on import
    organization: str = ""
    profile: Mapping[str, str] = field(default_factory=dict)
    drivers: Mapping[str, str] = field(default_factory=dict)
    barriers: tuple[str, ...] = ()
    targets: Mapping[str, int] = field(default_factory=dict)


def valid_value(value: Any) -> bool:
    """Whether a value is a level 0 to 4, NOT_APPLICABLE or DONT_KNOW (not True, not 2.0)."""
    return type(value) in (int, str) and value in SCORING_LEVEL


def answer_problem(answer: Any) -> str | None:
    """Why an answer is invalid, or None when it is valid."""
    if not isinstance(answer, Answer):
        return "must be an Answer"
    if not valid_value(answer.value):
        # reprlib: a value may be a list of a million items, which must not become a page of them.
        return f"invalid answer {reprlib.repr(answer.value)}: use a level 0 to 4, 'n/a' or 'dont_know'"
    if answer.basis not in BASES:
        return f"invalid basis {answer.basis!r}: use one of {', '.join(BASES)}"
    return None


def normalize_value(raw: Any) -> int | str:
    """Accept the spellings people write in answers files ('n/a', "don't know", 3)."""
    if isinstance(raw, str):
        key = raw.strip().lower()
        if key in _ALIASES:
            return _ALIASES[key]
        if key in _DIGITS:  # not isdigit(): "²", "٣" and "３" are digits too
            return _DIGITS[key]
    return raw


class _LongAnswer(DataModel):
    # Any value: answer_problem checks it, for both forms, at the answer's own path and in the words
    # a level out of range gets; typed as a union, pydantic reported one line per member instead.
    level: Any
    note: str = Field("", max_length=NOTE_MAX)
    basis: Literal["self_assessed", "evidenced"] = "self_assessed"


def _long_form(raw: Any) -> Any:
    """A short answer (``2``, ``n/a``) as the long form's level: one model reads both forms."""
    return raw if isinstance(raw, dict) else {"level": raw}


class AnswersFile(DataModel):
    rubric: str = Field(min_length=1)
    rubric_version: str | None = None
    title: str = Field("", max_length=NAME_MAX)
    organization: str = Field("", max_length=NAME_MAX)
    profile: dict[str, str] = {}
    drivers: dict[str, str] = {}
    barriers: list[str] = []
    # Any value, normalized like a level ("3" is 3) and checked by _target_problems at its own path.
    targets: dict[str, Any] = {}
    answers: dict[str, Annotated[_LongAnswer, BeforeValidator(_long_form)]] = {}


def _to_answer(raw: _LongAnswer) -> Answer:
    return Answer(normalize_value(raw.level), raw.note, raw.basis)


def _profile_problems(data: AnswersFile, rubric: Rubric) -> list[tuple[str, str]]:
    fields = {f.id: {o.id for o in f.options} for f in rubric.profile}
    problems = []
    for key, value in data.profile.items():
        if key not in fields:
            problems.append((f"profile.{key}", "unknown profile field"))
        elif value not in fields[key]:
            choices = ", ".join(sorted(fields[key]))
            problems.append((f"profile.{key}", f"unknown option {value!r}: use one of {choices}"))
    return problems


def _driver_problems(data: AnswersFile, rubric: Rubric) -> list[tuple[str, str]]:
    drivers = {d.id for d in rubric.drivers}
    barriers = {b.id for b in rubric.barriers}
    problems = []
    for key, value in data.drivers.items():
        if key not in drivers:
            problems.append((f"drivers.{key}", "unknown driver"))
        elif value not in rubric.importance_factor:
            choices = ", ".join(rubric.importance_factor)
            problems.append((f"drivers.{key}", f"unknown importance {value!r}: use one of {choices}"))
    problems += [(f"barriers[{i}]", f"unknown barrier {b!r}") for i, b in enumerate(data.barriers) if b not in barriers]
    return problems + repeats(data.barriers, "barriers", "barrier")


def _answer_problems(answers: dict[str, Answer], rubric: Rubric) -> list[tuple[str, str]]:
    problems = []
    for qid, answer in answers.items():
        problem = "unknown question" if qid not in rubric.questions else answer_problem(answer)
        if problem:
            problems.append((f"answers.{qid}", problem))
    return problems


def _target_problems(targets: dict[str, Any], rubric: Rubric) -> list[tuple[str, str]]:
    problems = []
    for qid, raw in targets.items():
        level = normalize_value(raw)
        if qid not in rubric.questions:
            problems.append((f"targets.{qid}", "unknown question"))
        elif type(level) is not int or level not in range(1, 5):
            problems.append((f"targets.{qid}", f"invalid target {reprlib.repr(raw)}: use a level 1 to 4"))
    return problems


def answers_from_data(data: Any, rubric: Rubric, filename: str) -> AnswerSet:
    """Validate parsed answers against the rubric; raises DataFileError listing every problem."""
    parsed = validate(AnswersFile, data, filename)
    if parsed.rubric != rubric.id:
        raise DataFileError(filename, [("rubric", f"answers are for rubric {parsed.rubric!r}, not {rubric.id!r}")])
    answers = {qid: _to_answer(raw) for qid, raw in parsed.answers.items()}
    problems = (_profile_problems(parsed, rubric) + _driver_problems(parsed, rubric)
                + _answer_problems(answers, rubric) + _target_problems(parsed.targets, rubric))
    if problems:
        raise DataFileError(filename, problems)
    return AnswerSet(answers=answers, rubric=parsed.rubric, rubric_version=parsed.rubric_version, title=parsed.title,
                     organization=parsed.organization, profile=parsed.profile, drivers=parsed.drivers,
                     barriers=tuple(parsed.barriers),
                     targets={qid: normalize_value(level) for qid, level in parsed.targets.items()})


def kept_for(answers: AnswerSet, rubric: Rubric) -> AnswerSet:
    """``answers`` without what ``rubric`` does not ask (questions, profile options, drivers,
    importances, barriers): what a new round on another rubric version carries over."""
    fields = {f.id: {o.id for o in f.options} for f in rubric.profile}
    drivers, barriers = {d.id for d in rubric.drivers}, {b.id for b in rubric.barriers}
    return replace(
        answers, rubric=rubric.id, rubric_version=rubric.version,
        answers={qid: a for qid, a in answers.answers.items() if qid in rubric.questions},
        targets={qid: level for qid, level in answers.targets.items() if qid in rubric.questions},
        profile={key: value for key, value in answers.profile.items() if value in fields.get(key, ())},
        drivers={key: value for key, value in answers.drivers.items()
                 if key in drivers and value in rubric.importance_factor},
        barriers=tuple(b for b in answers.barriers if b in barriers))


def load_answers(path: str | Path, rubric: Rubric) -> AnswerSet:
    """Read and validate an answers file for ``rubric``."""
    return answers_from_data(read_data(path), rubric, Path(path).name)
