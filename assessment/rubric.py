"""The rubric: questions, levels, drivers, barriers and stages, validated at load."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator

from .datafile import (
    FILE_ID,
    ID,
    SEMVER,
    DataFileError,
    DataModel,
    WebAddress,
    duplicates,
    parse_yaml,
    read_data,
    repeats,
    validate,
)
from .peers import PeerDataset, load_peers

LEVELS = range(5)
STEP_LEVELS = range(4)
Horizon = Literal["now", "next", "later"]
HORIZONS: tuple[Horizon, ...] = ("now", "next", "later")
# Weights and factors multiply and add up in scores and priorities; bounded, no sum can overflow a
# float (the shipped rubric uses 1 to 3 and 0.5 to 2).
MAX_WEIGHT = 1000


def weighted_mean(pairs: list[tuple[float, float]]) -> float | None:
    """Mean of (value, weight) pairs, or None when there is nothing to average: how question
    weights combine into dimension scores, and dimension weights into the index."""
    total = sum(weight for _, weight in pairs)
    return sum(value * weight for value, weight in pairs) / total if total else None


class NextStep(DataModel):
    action: str = Field(min_length=1)
    horizon: Horizon


class PeerLink(DataModel):
    """The survey figure a rubric item corresponds to, and the level from which it counts."""

    finding: str
    option: str
    from_level: int = Field(default=1, ge=1, le=4)


def _exact_keys(value: dict, expected: range, what: str) -> dict:
    missing = [k for k in expected if k not in value]
    extra = [k for k in value if k not in expected]
    if missing or extra:
        parts = [f"missing {', '.join(map(str, missing))}" if missing else "",
                 f"unexpected {', '.join(map(str, extra))}" if extra else ""]
        raise ValueError(f"must define {what} {expected.start} to {expected.stop - 1} "
                         f"({'; '.join(p for p in parts if p)})")
    return value


class Question(DataModel):
    id: str = Field(pattern=ID)
    title: str = Field(min_length=1)
    text: str = Field(min_length=1)
    help: str = ""
    weight: float = Field(gt=0, le=MAX_WEIGHT)
    critical: bool = False
    target: int | None = Field(default=None, ge=1, le=4)
    drivers: list[str] = []
    findings: list[str] = []
    peer_link: PeerLink | None = None
    levels: dict[int, str]
    next_steps: dict[int, NextStep]

    @field_validator("levels")
    @classmethod
    def _five_levels(cls, value: dict[int, str]) -> dict[int, str]:
        if any(not text.strip() for text in value.values()):
            raise ValueError("every level needs a description")
        return _exact_keys(value, LEVELS, "levels")

    @field_validator("next_steps")
    @classmethod
    def _four_steps(cls, value: dict[int, NextStep]) -> dict[int, NextStep]:
        return _exact_keys(value, STEP_LEVELS, "next steps for levels")


class Dimension(DataModel):
    id: str = Field(pattern=ID)
    title: str = Field(min_length=1)
    description: str = ""
    weight: float = Field(default=1.0, gt=0, le=MAX_WEIGHT)
    questions: list[Question] = Field(min_length=1)


class Option(DataModel):
    id: str = Field(pattern=ID)
    label: str = Field(min_length=1)


class ProfileField(DataModel):
    id: str = Field(pattern=ID)
    label: str = Field(min_length=1)
    help: str = ""
    options: list[Option] = Field(min_length=1)


class Driver(DataModel):
    id: str = Field(pattern=ID)
    name: str = Field(min_length=1)
    description: str = ""
    peer_link: PeerLink | None = None


class Barrier(DataModel):
    id: str = Field(pattern=ID)
    name: str = Field(min_length=1)
    description: str = ""
    mitigation: str = Field(min_length=1)
    dimensions: list[str] = []
    peer_link: PeerLink | None = None


class Importance(DataModel):
    id: str = Field(pattern=ID)
    label: str = Field(min_length=1)
    factor: float = Field(gt=0, le=MAX_WEIGHT)


class Stage(DataModel):
    id: str = Field(pattern=ID)
    name: str = Field(min_length=1)
    min_score: float = Field(ge=0, le=100)
    description: str = ""


class WeakestLink(DataModel):
    """A critical question at or below ``max_level`` caps the stage at ``cap_stage``."""

    max_level: int = Field(default=1, ge=0, le=3)
    cap_stage: str


class TableStakes(DataModel):
    """A gap on a question answered below its ``peer_link.from_level``, whose linked survey figure (the
    region's where given) is at least ``min_share`` %, has its priority multiplied by ``factor``. The
    figure may be a practice respondents report or a view they hold."""

    min_share: float = Field(default=60, ge=0, le=100)
    factor: float = Field(default=1.5, ge=1, le=MAX_WEIGHT)

    @property
    def note(self) -> str:
        """What table stakes means, in the words the CLI, the results page and the PDF all use."""
        # At or above the linked level the organization already does what those respondents
        # reported: a gap left to its target there is no table stake.
        return ("Table stakes: a gap on a question answered below the level linked to a survey figure of at "
                f"least {self.min_share:g}% (for the organization's region where the survey gives one), "
                "whether that figure is a practice respondents report or a view they hold (the survey "
                f"question is shown beside it). The gap's priority is multiplied by {self.factor:g}.")


class Citation(DataModel):
    citation: str = Field(min_length=1)
    licence: str = Field(min_length=1)
    url: WebAddress | None = None
    licence_url: WebAddress | None = None


class Rubric(DataModel):
    id: str = Field(pattern=FILE_ID)
    version: str = Field(pattern=SEMVER)
    title: str = Field(min_length=1)
    description: str = ""
    source: Citation
    peers: str | None = Field(default=None, pattern=FILE_ID)
    default_target: int = Field(default=3, ge=1, le=4)
    default_importance: str
    importance: list[Importance] = Field(min_length=1)
    stages: list[Stage] = Field(min_length=2)
    weakest_link: WeakestLink
    table_stakes: TableStakes = TableStakes()
    profile: list[ProfileField] = []
    drivers: list[Driver] = []
    dimensions: list[Dimension] = Field(min_length=1)
    barriers: list[Barrier] = []

    @cached_property
    def questions(self) -> dict[str, Question]:
        return {q.id: q for d in self.dimensions for q in d.questions}

    @cached_property
    def linked_questions(self) -> tuple[Question, ...]:
        return tuple(q for q in self.questions.values() if q.peer_link)

    @cached_property
    def unlinked_dimensions(self) -> tuple[Dimension, ...]:
        """Dimensions with no question linked to a survey figure: no percentile can be modelled for them."""
        return tuple(d for d in self.dimensions if not any(q.peer_link for q in d.questions))

    @cached_property
    def dimension_id(self) -> dict[str, str]:
        return {q.id: d.id for d in self.dimensions for q in d.questions}

    @cached_property
    def importance_factor(self) -> dict[str, float]:
        return {i.id: i.factor for i in self.importance}


def _id_problems(rubric: Rubric) -> list[tuple[str, str]]:
    problems = []
    for attr in ("importance", "stages", "profile", "drivers", "dimensions", "barriers"):
        problems += duplicates(getattr(rubric, attr), "id", attr)
    for i, field in enumerate(rubric.profile):
        problems += duplicates(field.options, "id", f"profile[{i}].options")
    first: dict[str, str] = {}
    for i, dim in enumerate(rubric.dimensions):
        for j, question in enumerate(dim.questions):
            path = f"dimensions[{i}].questions[{j}]"
            if question.id in first:
                problems.append((f"{path}.id", f"duplicate id {question.id!r} (first at {first[question.id]})"))
            first.setdefault(question.id, path)
    return problems


def _stage_problems(rubric: Rubric) -> list[tuple[str, str]]:
    problems = []
    if rubric.stages[0].min_score != 0:
        problems.append(("stages[0].min_score", "the first stage must start at 0"))
    for i in range(1, len(rubric.stages)):
        if rubric.stages[i].min_score <= rubric.stages[i - 1].min_score:
            problems.append((f"stages[{i}].min_score", "stages must be in increasing order of min_score"))
    if rubric.weakest_link.cap_stage not in {s.id for s in rubric.stages}:
        problems.append(("weakest_link.cap_stage", f"unknown stage {rubric.weakest_link.cap_stage!r}"))
    if rubric.default_importance not in rubric.importance_factor:
        problems.append(("default_importance", f"unknown importance {rubric.default_importance!r}"))
    return problems


def _link_problems(link: PeerLink | None, path: str, peers: PeerDataset | None,
                   figures: bool) -> list[tuple[str, str]]:
    if link is None:
        return []
    if peers is None:
        return [(path, "links to a survey figure but the rubric names no peer dataset")]
    if figures and peers.figure(link.finding, link.option) is None:
        return [(path, f"no figure {link.finding!r} / {link.option!r} in peer dataset {peers.id!r}")]
    return []


def _question_problems(rubric: Rubric, peers: PeerDataset | None, figures: bool) -> list[tuple[str, str]]:
    drivers = {d.id for d in rubric.drivers}
    findings = peers.finding_ids if peers else set()
    problems = []
    for i, dim in enumerate(rubric.dimensions):
        for j, q in enumerate(dim.questions):
            path = f"dimensions[{i}].questions[{j}]"
            problems += [(f"{path}.drivers", f"unknown driver {d!r}") for d in q.drivers if d not in drivers]
            problems += [(f"{path}.findings", f"unknown finding {f!r}")
                         for f in q.findings if figures and f not in findings]
            problems += repeats(q.drivers, f"{path}.drivers", "driver") + repeats(q.findings, f"{path}.findings",
                                                                                  "finding")
            problems += _link_problems(q.peer_link, f"{path}.peer_link", peers, figures)
    return problems


def _other_link_problems(rubric: Rubric, peers: PeerDataset | None, figures: bool) -> list[tuple[str, str]]:
    dimensions = {d.id for d in rubric.dimensions}
    problems = []
    for i, driver in enumerate(rubric.drivers):
        problems += _link_problems(driver.peer_link, f"drivers[{i}].peer_link", peers, figures)
    for i, barrier in enumerate(rubric.barriers):
        problems += _link_problems(barrier.peer_link, f"barriers[{i}].peer_link", peers, figures)
        problems += [(f"barriers[{i}].dimensions", f"unknown dimension {d!r}")
                     for d in barrier.dimensions if d not in dimensions]
        problems += repeats(barrier.dimensions, f"barriers[{i}].dimensions", "dimension")
    return problems


def check_rubric(rubric: Rubric, peers: PeerDataset | None, figures: bool = True) -> list[tuple[str, str]]:
    """Cross-reference problems that a single field's validation cannot see; with ``figures`` False,
    findings and figures that ``peers`` lacks are no problem (``missing_figures`` lists them)."""
    return (_id_problems(rubric) + _stage_problems(rubric)
            + _question_problems(rubric, peers, figures) + _other_link_problems(rubric, peers, figures))


def missing_figures(rubric: Rubric, peers: PeerDataset | None) -> list[str]:
    """The findings and figures ("finding / option") the rubric cites that ``peers`` lacks, sorted."""
    if peers is None:
        return []
    links = [item.peer_link for item in (*rubric.questions.values(), *rubric.drivers, *rubric.barriers)]
    missing = {f"{link.finding} / {link.option}" for link in links
               if link and peers.figure(link.finding, link.option) is None}
    missing |= {f for q in rubric.questions.values() for f in q.findings if f not in peers.finding_ids}
    return sorted(missing)


def peers_path(rubric_path: Path, dataset_id: str) -> Path:
    """Where a rubric's named peer dataset lives: ``peers/<id>.yaml`` beside the rubric."""
    return rubric_path.parent / "peers" / f"{dataset_id}.yaml"


def _named_peers(rubric: Rubric, filename: str, peers_dir: Path) -> PeerDataset:
    """The dataset the rubric names; a missing one is the rubric's problem, reported at its key."""
    path = peers_dir / f"{rubric.peers}.yaml"
    if not path.is_file():
        raise DataFileError(filename, [("peers", f"unknown peer dataset {rubric.peers!r} (no file peers/{path.name})")])
    return load_peers(path)


def _build(data, filename: str, peers: PeerDataset | None, peers_dir: Path, figures: bool = True) -> Rubric:
    rubric = validate(Rubric, data, filename)
    if peers is None and rubric.peers:
        peers = _named_peers(rubric, filename, peers_dir)
    problems = check_rubric(rubric, peers, figures)
    if problems:
        raise DataFileError(filename, problems)
    return rubric


def load_rubric(path: str | Path, peers: PeerDataset | None = None) -> Rubric:
    """Load and validate a rubric; raises DataFileError naming file, path and problem.

    The rubric's findings are checked against ``peers`` or, when not given, against the
    dataset the rubric names (``peers/<id>.yaml`` beside it).
    """
    path = Path(path)
    return _build(read_data(path), path.name, peers, path.parent / "peers")


def rubric_from_text(text: str, filename: str, peers_dir: Path, figures: bool = True) -> Rubric:
    """Validate rubric text (an upload, a stored version) as ``load_rubric`` does a file.

    Messages name ``filename``; the peer dataset the rubric names is read from ``peers_dir``. With
    ``figures`` False, links to findings and figures that dataset lacks are accepted (see ``check_rubric``).
    """
    return _build(parse_yaml(text, filename), filename, None, peers_dir, figures)
