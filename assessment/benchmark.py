"""The survey-peer benchmark: where an organization stands among the report's respondents. Pure.

Item comparisons, drivers and barriers come straight from the published figures. The percentile
comes from a latent-trait model calibrated to them (``peermodel``) or, when the dataset holds
respondent-level data, from the respondents themselves.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from . import peermodel
from .answers import SCORING_LEVEL, AnswerSet
from .peers import Figure, PeerDataset
from .rubric import Question, Rubric, weighted_mean


@dataclass(frozen=True)
class ItemComparison:
    question: str
    dimension: str
    title: str
    finding: str
    option: str
    share: float | None
    overall_share: float | None
    region: str | None
    regional: bool
    confidence: str
    from_level: int
    level: int | None
    status: str  # "does", "does_not", "not_applicable" or "unanswered"
    sentence: str
    note: str
    table_stakes: bool
    survey_question: str  # the figure's question, in paraphrase: a practice reported or a view held
    sources: tuple[str, ...]
    cited: str  # the share with its confidence and sources, "93% (A; S1, S2)"; "" without a share
    base: str | None = None  # whom the share is of when the report does not say all respondents
    in_dataset: bool = True  # False: the linked figure is not in the peer dataset shipped now


@dataclass(frozen=True)
class DriverComparison:
    driver: str
    name: str
    importance: str | None
    share: float | None
    confidence: str | None
    sources: tuple[str, ...]
    cited: str  # "72% (A; S1, S2, S3)"; "" where the survey gives no figure
    in_dataset: bool = True


@dataclass(frozen=True)
class BarrierComparison:
    barrier: str
    name: str
    share: float | None
    confidence: str | None
    mitigation: str
    sources: tuple[str, ...]
    cited: str
    # What the figure measures, which may be another question than the barrier's own: "34% (A; S1,
    # S2) of respondents report IP concerns as a barrier to global AI collaboration."
    sentence: str
    region: str | None = None  # the region whose figure is used, as for items; None: the overall one


@dataclass(frozen=True)
class Percentile:
    value: float | None
    low: float | None
    high: float | None
    items: int
    note: str


@dataclass(frozen=True)
class PeerComparison:
    dataset: str
    dataset_version: str
    label: str
    range_label: str  # what each percentile's low to high spans
    region: str | None
    region_name: str | None
    region_note: str
    items: tuple[ItemComparison, ...]
    drivers: tuple[DriverComparison, ...]
    barriers: tuple[BarrierComparison, ...]
    overall: Percentile
    dimensions: dict[str, Percentile]
    regional: Percentile | None
    # Per dimension, on its linked questions only (those with a survey figure): the modelled median
    # peer's score, and this organization's on the same questions. Only the two compare like with
    # like; the dimension's score covers all its questions.
    reference: dict[str, float | None]
    linked_score: dict[str, float | None]

    @property
    def table_stakes(self) -> frozenset[str]:
        return frozenset(i.question for i in self.items if i.table_stakes)

    def item(self, question: str) -> ItemComparison:
        """The comparison of a linked question."""
        return next(i for i in self.items if i.question == question)

    def region_of(self, item: ItemComparison) -> str:
        """The name of the region whose share ``item`` uses; "" for all respondents' share."""
        return self.region_name if item.regional else ""

    def stakes_figure(self, question: str) -> str:
        """The survey figure that makes a gap table stakes, as shown beside the tag: some are views
        respondents hold rather than practices, and a reader must see which; a regional share names
        its region, or it would read as all respondents' figure."""
        item = self.item(question)
        region = self.region_of(item)  # which asks whether the share is regional: "" for all respondents'
        where = f" in {region}" if region else ""
        return f"survey: {item.survey_question}: {item.option}, {item.cited}{where}"

    @property
    def sources(self) -> frozenset[str]:
        """The ids of the sources that the figures shown (items, drivers, barriers) cite."""
        return frozenset(s for row in (*self.items, *self.drivers, *self.barriers) for s in row.sources)

    def as_dict(self) -> dict:
        """The JSON shape: ``items``, ``drivers``, ``barriers`` and ``percentile``."""
        return {
            "dataset": self.dataset, "dataset_version": self.dataset_version, "label": self.label,
            "region": self.region, "region_name": self.region_name, "region_note": self.region_note,
            "items": [asdict(i) for i in self.items],
            "drivers": [asdict(d) for d in self.drivers],
            "barriers": [asdict(b) for b in self.barriers],
            "percentile": {"label": self.label, "range": self.range_label, "overall": asdict(self.overall),
                           "dimensions": {k: asdict(v) for k, v in self.dimensions.items()},
                           "regional": asdict(self.regional) if self.regional else None},
            "reference": self.reference, "linked_score": self.linked_score,
        }


def _region_note(peers: PeerDataset, region: str | None) -> str:
    if region is None:
        return "No region given: compared with all respondents."
    if region not in peers.regions:
        return f"The survey publishes no figures for this region ({region}): compared with all respondents."
    return (f"Compared with respondents in {peers.regions[region]} where the survey gives a regional "
            "figure, and with all respondents elsewhere.")


def _status(question: Question, answers: AnswerSet) -> tuple[int | None, str]:
    answer = answers.answers.get(question.id)
    if answer is None:
        return None, "unanswered"
    level = SCORING_LEVEL[answer.value]
    if level is None:
        return None, "not_applicable"
    return level, "does" if level >= question.peer_link.from_level else "does_not"


NO_FIGURE = "No published survey figure."
NOT_IN_DATASET = "not in the current peer dataset"


def _gone(link, peers: PeerDataset) -> str:
    """What is said, and all that is said, of a linked figure that a later dataset renamed or removed."""
    return (f"The linked survey figure ({link.finding} / {link.option}) is {NOT_IN_DATASET} "
            f"({peers.id} {peers.version}): not compared.")


def _cited(figure: Figure | None, share: float | None) -> str:
    return figure.cite(share) if figure is not None and share is not None else ""


def _whom(figure: Figure, region_name: str = "") -> str:
    """Whom a share is of: respondents, unless the report does not say (then "those asked")."""
    who = "those asked" if figure.base else "respondents"
    return f"{who} in {region_name}" if region_name else who


def _sentence(status: str, share: float | None, figure: Figure, regional: bool, region_name: str) -> str:
    # Only the published share is stated. Its complement is no figure: the questions were most
    # likely multiple choice, so not picking an option is not the opposite view, and the
    # complement would also count those who did not answer.
    who = _whom(figure, region_name if regional else "")
    if share is None:
        return f"The survey gives no figure for {who} who {figure.statement}."
    if status == "does":
        return f"With the {figure.cite(share)} of {who} who {figure.statement}."
    stated = f"{figure.cite(share)} of {who} {figure.statement}"
    if status == "does_not":
        return f"{stated}; this organization's answer is below the linked level."
    return f"{stated}; not compared ({status.replace('_', ' ')})."


def _item(rubric: Rubric, peers: PeerDataset, question: Question, answers: AnswerSet,
          region: str | None) -> ItemComparison:
    link = question.peer_link
    figure = peers.figure(link.finding, link.option)
    if figure is None:
        return _missing_item(rubric, peers, question, answers)
    share, regional = figure.share(region)
    level, status = _status(question, answers)
    stakes = status == "does_not" and share is not None and share >= rubric.table_stakes.min_share
    sentence = _sentence(status, share, figure, regional, peers.regions.get(region, ""))
    fallback = region in peers.regions and not regional
    note = f"No figure for {peers.regions[region]}: compared with all respondents." if fallback else ""
    return ItemComparison(question.id, rubric.dimension_id[question.id], question.title, link.finding,
                          link.option, share, figure.overall_pct, region if regional else None, regional,
                          figure.confidence, link.from_level, level, status, sentence, note, stakes,
                          peers.finding(link.finding).question, tuple(figure.sources), _cited(figure, share),
                          figure.base)


def _missing_item(rubric: Rubric, peers: PeerDataset, question: Question, answers: AnswerSet) -> ItemComparison:
    """A question linked to a figure the dataset no longer has: no share, so it is neither scored
    against the peers nor table stakes."""
    link = question.peer_link
    level, status = _status(question, answers)
    finding = peers.finding(link.finding)
    return ItemComparison(question.id, rubric.dimension_id[question.id], question.title, link.finding,
                          link.option, None, None, None, False, "", link.from_level, level, status,
                          _gone(link, peers), "", False, finding.question if finding else link.finding, (), "",
                          in_dataset=False)


def _drivers(rubric: Rubric, peers: PeerDataset, answers: AnswerSet) -> tuple[DriverComparison, ...]:
    rows = []
    for driver in rubric.drivers:
        figure = peers.figure(driver.peer_link.finding, driver.peer_link.option) if driver.peer_link else None
        share = figure.overall_pct if figure else None
        rows.append(DriverComparison(driver.id, driver.name, answers.drivers.get(driver.id), share,
                                     figure.confidence if figure else None, tuple(figure.sources) if figure else (),
                                     _cited(figure, share), in_dataset=figure is not None or not driver.peer_link))
    return tuple(rows)


def _barriers(rubric: Rubric, peers: PeerDataset, answers: AnswerSet,
              region: str | None) -> tuple[BarrierComparison, ...]:
    rows = []
    for barrier in rubric.barriers:
        if barrier.id not in answers.barriers:
            continue
        figure = peers.figure(barrier.peer_link.finding, barrier.peer_link.option) if barrier.peer_link else None
        share, regional = figure.share(region) if figure else (None, False)
        cited = _cited(figure, share)
        who = _whom(figure, peers.regions[region] if regional else "") if figure else ""
        rows.append(BarrierComparison(barrier.id, barrier.name, share, figure.confidence if figure else None,
                                      barrier.mitigation, tuple(figure.sources) if figure else (), cited,
                                      _barrier_sentence(barrier, figure, cited, who, peers),
                                      region if regional else None))
    return tuple(rows)


def _barrier_sentence(barrier, figure: Figure | None, cited: str, who: str, peers: PeerDataset) -> str:
    if cited:
        return f"{cited} of {who} {figure.statement}."
    return _gone(barrier.peer_link, peers) if barrier.peer_link and figure is None else NO_FIGURE


def compare(rubric: Rubric, peers: PeerDataset, answers: AnswerSet) -> PeerComparison:
    """Compare validated answers with the survey peers."""
    region = answers.profile.get("region")
    items = tuple(_item(rubric, peers, q, answers, region) for q in rubric.linked_questions)
    scored = _scored(items)
    percentiles = _percentiles(rubric, peers, scored, region)
    return PeerComparison(peers.id, peers.version, peers.label, peers.range_label, region, peers.regions.get(region),
                          _region_note(peers, region), items,
                          _drivers(rubric, peers, answers), _barriers(rubric, peers, answers, region), *percentiles,
                          _reference(rubric, items), _linked_score(rubric, scored))


def linked_scores(rubric: Rubric, linked: tuple[Question, ...], answers: AnswerSet) -> dict[str, float | None]:
    """Per dimension, the organization's score on ``linked``, the questions the peer reference covers
    (``with_overall_share``), as ``compare(...).linked_score`` gives it, without modelling a percentile
    (a portfolio needs one per agency, and finds ``linked`` once for them all)."""
    levels = {q.id: level for q in linked if (level := _status(q, answers)[0]) is not None}
    return _dimension_means(rubric, {qid: level * 25 for qid, level in levels.items()})


def with_overall_share(rubric: Rubric, peers: PeerDataset) -> tuple[Question, ...]:
    """The linked questions whose figure has an overall share: those ``_scored`` keeps once answered.
    A portfolio's summary takes them for each of a thousand agencies, and building each agency's
    full comparison (sentences, sources) for them was half its time."""
    figures = ((q, peers.figure(q.peer_link.finding, q.peer_link.option)) for q in rubric.linked_questions)
    return tuple(q for q, figure in figures if figure is not None and figure.overall_pct is not None)


def linked_sources(rubric: Rubric, peers: PeerDataset) -> frozenset[str]:
    """The ids of the sources cited by the figures linked to the rubric's questions (those behind
    the modelled median peer)."""
    figures = [peers.figure(q.peer_link.finding, q.peer_link.option) for q in rubric.linked_questions]
    return frozenset(s for figure in figures if figure for s in figure.sources)


def _scored(items) -> list[ItemComparison]:
    """The answered (not "not applicable") linked questions whose figure has an overall share."""
    return [i for i in items if i.level is not None and i.overall_share is not None]


# Percentiles --------------------------------------------------------------------------------

NO_ITEMS = "No answered question of this scope is linked to a survey figure."
NO_FIGURES = "The survey gives no figure linked to this dimension's questions: no percentile."


def _modelled(items: list[ItemComparison], shares: dict[str, float], note: str) -> Percentile:
    if not items:
        return Percentile(None, None, None, 0, NO_ITEMS)
    model_items = tuple(peermodel.Item(i.question, shares[i.question], i.from_level) for i in items)
    value, low, high = peermodel.percentile_band(model_items, {i.question: i.level for i in items})
    return Percentile(round(value, 1), round(low, 1), round(high, 1), len(items), note)


def _shares_answered(rows: list[dict], keys: list[tuple[str, str]]) -> list[float]:
    """Each respondent's share of ``keys`` they do, of those they answered: a blank is unknown, as
    in the dataset's percentages, not a "does not"; who answered none of them is left out."""
    shares = []
    for row in rows:
        answered = [row[k] for k in keys if row[k] is not None]
        if answered:
            shares.append(sum(answered) / len(answered))
    return shares


def _empirical(peers: PeerDataset, items: list[ItemComparison], region: str | None, note: str) -> Percentile:
    sample = peers.sample
    rows = [row for row, r in zip(sample.rows, sample.regions, strict=True) if region is None or r == region]
    if not items or not rows:
        return Percentile(None, None, None, len(items), NO_ITEMS if not items else "No respondents in this region.")
    own = sum(i.status == "does" for i in items) / len(items)
    theirs = _shares_answered(rows, [(i.finding, i.option) for i in items])
    if not theirs:
        return Percentile(None, None, None, len(items), "No respondent answered these survey questions.")
    below, ties = sum(t < own for t in theirs), sum(t == own for t in theirs)
    n = len(theirs)
    return Percentile(round(100 * (below + ties / 2) / n, 1), round(100 * below / n, 1),
                      round(100 * (below + ties) / n, 1), len(items), note)


def _percentile(peers: PeerDataset, items: list[ItemComparison], region: str | None, note: str) -> Percentile:
    if peers.sample is not None:
        return _empirical(peers, items, region, note)
    figures = {i.question: peers.figure(i.finding, i.option) for i in items}
    shares = {q: (f.share(region)[0] if region else f.overall_pct) for q, f in figures.items()}
    return _modelled(items, shares, note)


def _regional(peers: PeerDataset, items: list[ItemComparison], region: str | None) -> Percentile | None:
    if region not in peers.regions:
        return None
    regional = sum(i.regional for i in items)
    if peers.sample is None and not regional:
        return None
    note = (f"Respondents in {peers.regions[region]}: regional figures for {regional} of {len(items)} linked "
            "survey figures, the overall figure for the rest." if peers.sample is None
            else f"Respondents in {peers.regions[region]}.")
    return _percentile(peers, items, region, f"{note} {_regional_noise(peers)}")


def _regional_noise(peers: PeerDataset) -> str:
    """Why a regional percentile a few points from the overall one shows no difference."""
    error = peers.sampling_error
    margin = f" (more than ±{error[1]:.1f} points on a share near one half)" if error else ""
    return ("A difference of a few points from the overall percentile is within the survey's noise: a regional "
            f"subgroup is smaller than the whole sample, so its sampling error is larger{margin}.")


def _percentiles(rubric: Rubric, peers: PeerDataset, items: list[ItemComparison], region: str | None):
    overall = _percentile(peers, items, None, f"All respondents; {len(items)} linked survey figures.")
    linked = {rubric.dimension_id[q.id] for q in rubric.linked_questions}
    dimensions = {d.id: _percentile(peers, [i for i in items if i.dimension == d.id], None,
                                    "All respondents; linked survey figures of this dimension.")
                  if d.id in linked else Percentile(None, None, None, 0, NO_FIGURES)
                  for d in rubric.dimensions}
    return overall, dimensions, _regional(peers, items, region)


def _dimension_means(rubric: Rubric, values: dict[str, float]) -> dict[str, float | None]:
    """Per dimension, the weighted mean of these question values (level × 25, as the scores are),
    rounded to one decimal; None where the dimension has none."""
    means = {}
    for dimension in rubric.dimensions:
        mean = weighted_mean([(values[q.id], q.weight) for q in dimension.questions if q.id in values])
        means[dimension.id] = None if mean is None else round(mean, 1)
    return means


def _reference(rubric: Rubric, items) -> dict[str, float | None]:
    """Per dimension, the modelled median peer's score on the dimension's linked questions."""
    shared = [i for i in items if i.overall_share is not None]
    if not shared:
        return {d.id: None for d in rubric.dimensions}
    model = peermodel.model(tuple(peermodel.Item(i.question, i.overall_share, i.from_level) for i in shared),
                            peermodel.CENTRAL)
    return _dimension_means(rubric, {i.question: model.expected_level(i.question) * 25 for i in shared})


def _linked_score(rubric: Rubric, scored: list[ItemComparison]) -> dict[str, float | None]:
    """Per dimension, the organization's score on the reference's questions that it answered."""
    return _dimension_means(rubric, {i.question: i.level * 25 for i in scored})
