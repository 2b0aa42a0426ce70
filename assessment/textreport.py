"""The plain-text rendering of a scoring result, for people at a terminal."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from .benchmark import NO_FIGURE, PeerComparison, Percentile
from .peers import PeerDataset, Source
from .rubric import Rubric
from .scoring import Result

HORIZON_NAMES = {"now": "Now (within 3 months)", "next": "Next (3 to 12 months)",
                 "later": "Later (beyond 12 months)"}
BAR_WIDTH = 20


def figure(value: float) -> str:
    """A score or statistic as the pages, charts, PDF and command line write it: to one decimal,
    half up (42.25 is 42.3, never 42.2 as rounding half to even made it), with its ".0", so that
    a column of scores reads alike ("55.0" beside "51.8")."""
    return str(Decimal(repr(value)).quantize(Decimal("0.1"), ROUND_HALF_UP))


def priority_figure(value: float) -> str:
    """A gap's priority as the pages and PDF write it: to two decimals at most, as in the gaps CSV
    ("0.75", "18"); one decimal made 0.75 "0.8" in the PDF."""
    return f"{round(value, 2):g}"


def _number(value: float | None) -> str:
    return "n/a" if value is None else figure(value)


def _bar(value: float | None) -> str:
    filled = round((value or 0) / 100 * BAR_WIDTH)
    return "#" * filled + "." * (BAR_WIDTH - filled)


def _headline(rubric: Rubric, result: Result, organization: str) -> list[str]:
    names = {s.id: s.name for s in rubric.stages}
    lines = [f"{organization or 'Organization'}: rubric {rubric.id} {rubric.version}",
             f"Overall readiness: {_number(result.overall)} / 100, stage {names.get(result.stage, 'n/a')}"]
    if result.capped_by:
        lines.append(f"  Capped at {names[result.stage]} (from {names[result.uncapped_stage]}) by critical "
                     f"questions at a low level: {', '.join(result.capped_by)}")
    return lines


def _dimensions(result: Result) -> list[str]:
    width = max(len(d.title) for d in result.dimensions)
    lines = ["", "Dimensions:"]
    for d in result.dimensions:
        lines.append(f"  {d.title:<{width}}  {_number(d.score):>5}  {_bar(d.score)}  "
                     f"{d.answered}/{d.total} answered")
    return lines


def _roadmap(result: Result) -> list[str]:
    lines = []
    for horizon, gaps in result.roadmap().items():
        if not gaps:
            continue
        lines += ["", f"{HORIZON_NAMES[horizon]}:"]
        for gap in gaps:
            stakes = f" [table stakes; {result.peers.stakes_figure(gap.question)}]" if gap.table_stakes else ""
            flag = (" [critical]" if gap.critical else "") + stakes
            lines.append(f"  - {gap.title} ({gap.question}, level {gap.current} -> {gap.target}, "
                         f"priority {priority_figure(gap.priority)}){flag}")
            lines.append(f"    {gap.next_step}")
    return lines


def render_text(rubric: Rubric, result: Result, organization: str = "", dataset: PeerDataset | None = None) -> str:
    """The result as text: headline, dimension bars, roadmap, evidence gaps; with ``dataset`` (the
    peer dataset ``result`` was compared with), the survey peers and their citation."""
    lines = _headline(rubric, result, organization) + _dimensions(result)
    lines += _roadmap(result) or ["", "No gaps: every answered question meets its target."]
    if result.evidence_gaps:
        lines += ["", f"Evidence gaps (answered don't know): {', '.join(result.evidence_gaps)}"]
    if result.unanswered:
        lines += ["", f"Unanswered questions: {len(result.unanswered)} of {len(rubric.questions)}"]
    if result.peers:
        lines += _peer_lines(rubric, result.peers, dataset)
        lines += _citation(dataset, result.peers.sources) if dataset else []
    return "\n".join(lines)


def ordinal(value: float | None) -> str:
    """1st, 2nd, 3rd, 4th, 11th, 22nd ... for a rounded percentile; "n/a" for none."""
    if value is None:
        return "n/a"
    n = round(value)
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def in_words(names: list[str]) -> str:
    """"A", "A and B", "A, B and C": names as a sentence lists them."""
    return " and ".join(filter(None, (", ".join(names[:-1]), *names[-1:])))


def cannot_say(dataset: PeerDataset) -> list[str]:
    """What the survey-peer percentile cannot say, in sentences: one wording for the results page,
    the command line and the PDF's methodology."""
    modelled = dataset.kind == "aggregates"
    sentences = ["It is modelled from the published shares, not counted among respondents: the survey "
                 "does not publish who gave which answers."] if modelled else []
    sentences.append("It ranks the organization on the linked survey figures only, and several of them are "
                     "views respondents hold (such as seeing global collaboration as essential) rather than "
                     "practices they report, so the percentile partly measures agreement with those views.")
    if dataset.sampling_error:
        standard, margin = dataset.sampling_error
        sentences.append(f"It does not include the sampling error of a survey of {dataset.respondents} (a share "
                         f"near one half has a standard error of about {standard:.1f} points and a 95% margin of "
                         f"about ±{margin:.1f} points; more in regional subgroups).")
    if modelled:
        sentences.append("The respondents come from the Linux Foundation's community, who are likely more "
                         "engaged with open source than organizations at large.")
    return sentences


def _percentile(p: Percentile) -> str:
    if p.value is None:
        return p.note
    figures = "figure" if p.items == 1 else "figures"
    return (f"{ordinal(p.value)} percentile (range {ordinal(p.low)} to {ordinal(p.high)}; "
            f"{p.items} linked survey {figures})")


def _peer_lines(rubric: Rubric, peers: PeerComparison, dataset: PeerDataset | None) -> list[str]:
    lines = ["", f"Survey peers ({peers.dataset} {peers.dataset_version}), percentiles {peers.label}, "
             f"each with its {peers.range_label}:", f"  Overall: {_percentile(peers.overall)}"]
    if peers.regional:
        lines.append(f"  Region: {_percentile(peers.regional)}. {peers.regional.note}")
    lines += [f"  {d.title}: {_percentile(peers.dimensions[d.id])}" for d in rubric.dimensions]
    lines += ["  What the percentile cannot say: " + " ".join(cannot_say(dataset))] if dataset else []
    lines += ["", f"  {peers.region_note}"]
    lines += [f"  - {i.title}: {i.sentence}" + (f" {i.note}" if i.note else "")
              + (" Table stakes." if i.table_stakes else "") + f"\n    Survey question: {i.survey_question}."
              for i in peers.items]
    if peers.table_stakes:
        lines += ["", f"  {rubric.table_stakes.note}"]
    lines += ["", "Drivers (your rating; share of respondents citing it, with confidence and sources):"]
    lines += [f"  - {d.name}: {d.importance or 'not rated'}; {d.cited or NO_FIGURE}" for d in peers.drivers]
    if peers.barriers:
        lines += ["", "Barriers you marked (what the survey measured, if anything), and mitigation:"]
        for b in peers.barriers:
            lines += [f"  - {b.name}: {b.sentence}", f"    {b.mitigation}"]
    return lines


def render_peers(dataset: PeerDataset) -> str:
    """Every figure of a peer dataset, one line each, with confidence and sources, after the citation
    and licence (the report asks to be cited wherever its data are used)."""
    lines = [dataset.citation] + ([dataset.url] if dataset.url else []) + [
        f"Licence: {dataset.licence}.", f"Percentiles against these figures are {dataset.label}.", ""]
    for finding, figure in dataset.figures():
        regions = ", ".join(f"{dataset.regions[r]} {p:g}%" for r, p in figure.region_pct.items())
        overall = "unknown" if figure.overall_pct is None else f"{figure.overall_pct:g}%"
        lines.append(f"{finding.id} | {finding.question} | {figure.option}: {overall}"
                     + (f" ({regions})" if regions else "")
                     + f" ({figure.mark()})" + (f"\n    Note: {figure.note}" if figure.note else ""))
    lines += ["", "Confidence: " + " ".join(f"{k} = {v}" for k, v in dataset.confidence_levels.items())]
    lines += ["Sources:"] + [_source(k, s) for k, s in dataset.sources.items()]
    return "\n".join(lines)


def _source(key: str, source: Source) -> str:
    return f"  {key}: {source.title}" + (f" <{source.url}>" if source.url else " (no address recorded)")


def _citation(dataset: PeerDataset, ids: frozenset[str]) -> list[str]:
    """The survey's citation and licence (it asks to be cited wherever its data are used), and the
    sources that the figures shown cite."""
    lines = ["", f"Survey figures ({dataset.id} {dataset.version}): {dataset.citation}"]
    lines += [f"  {dataset.url}"] if dataset.url else []
    lines += [f"  Licence: {dataset.licence}.", "Sources of the survey figures shown:"]
    return lines + [_source(k, s) for k, s in dataset.sources.items() if k in ids]
