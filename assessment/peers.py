"""The survey-peer dataset: published figures with their sources and confidence.

Two kinds load the same way. ``aggregates`` holds published percentages (the shipped report).
``respondents`` points at a CSV with one row per respondent, from which the percentages are
computed and against which percentiles are empirical rather than modelled.
"""

from __future__ import annotations

import csv
from pathlib import Path, PurePath
from typing import Literal

from pydantic import Field, PrivateAttr, field_validator

from .datafile import (
    FILE_ID,
    MAX_FILE_BYTES,
    SEMVER,
    DataFileError,
    DataModel,
    WebAddress,
    duplicates,
    os_errors,
    read_data,
    repeats,
    validate,
)

KNOWN = {"1": True, "0": False, "": None}


class Source(DataModel):
    title: str = Field(min_length=1)
    url: WebAddress | None = None


class Figure(DataModel):
    option: str = Field(min_length=1)
    statement: str = Field(min_length=1)
    overall_pct: float | None = Field(default=None, ge=0, le=100)
    region_pct: dict[str, float] = {}
    confidence: Literal["A", "B", "C"]
    sources: list[str] = Field(min_length=1)
    note: str | None = None
    base: str | None = None  # whom the percentage is of, when not known to be all respondents

    @field_validator("region_pct")
    @classmethod
    def _percent(cls, value: dict[str, float]) -> dict[str, float]:
        for region, pct in value.items():
            if not 0 <= pct <= 100:
                raise ValueError(f"{region}: must be within 0 to 100")
        return value

    def mark(self) -> str:
        """What is shown beside the figure wherever it appears: "A; S1, S2" (and its base if unusual)."""
        parts = [self.confidence, ", ".join(self.sources)] + ([f"base {self.base}"] if self.base else [])
        return "; ".join(parts)

    def cite(self, share: float) -> str:
        """A percentage with its mark: "93% (A; S1, S2)"."""
        return f"{share:g}% ({self.mark()})"

    def share(self, region: str | None) -> tuple[float, bool]:
        """The percentage for a region where given, else overall; and whether it is regional."""
        if region in self.region_pct:
            return self.region_pct[region], True
        return self.overall_pct, False


class Finding(DataModel):
    id: str = Field(min_length=1)
    question: str = Field(min_length=1)
    options: list[Figure] = Field(min_length=1)


class RespondentSample:
    """Respondent-level answers: for each respondent, a region and True/False/None per figure."""

    def __init__(self, regions: list[str | None], rows: list[dict[tuple[str, str], bool | None]]):
        self.regions = regions
        self.rows = rows

    def answered(self, key: tuple[str, str], region: str | None = None) -> int:
        """How many respondents (of ``region``, if given) answered this figure 1 or 0: the base of its
        share, which leaves blanks out."""
        return sum(row[key] is not None for row, r in zip(self.rows, self.regions, strict=True)
                   if region is None or r == region)


class PeerDataset(DataModel):
    id: str = Field(pattern=FILE_ID)
    version: str = Field(pattern=SEMVER)
    kind: Literal["aggregates", "respondents"]
    title: str
    authors: list[str] = Field(min_length=1)
    publisher: str
    date: str
    licence: str
    url: WebAddress | None = None
    respondents: int | None = Field(default=None, gt=0)
    respondent_file: str | None = None
    citation: str
    notes: list[str] = []
    regions: dict[str, str]
    confidence_levels: dict[str, str]
    sources: dict[str, Source]
    findings: list[Finding] = Field(min_length=1)
    _sample: RespondentSample | None = PrivateAttr(default=None)

    @field_validator("respondent_file")
    @classmethod
    def _inside_folder(cls, value: str | None) -> str | None:
        # Otherwise a dataset could read any file the process can (its first line would be echoed as
        # unknown columns): the file is the dataset's, so it lives in the dataset's folder.
        path = PurePath(value or "")
        if path.is_absolute() or ".." in path.parts:
            raise ValueError("must be a relative path inside the dataset's folder, such as respondents.csv")
        return value

    @property
    def sample(self) -> RespondentSample | None:
        """Respondent-level data, when the dataset has it."""
        return self._sample

    def finding(self, finding_id: str) -> Finding | None:
        """One finding (the question, in paraphrase, and its figures), or None."""
        return next((finding for finding in self.findings if finding.id == finding_id), None)

    def figure(self, finding_id: str, option: str) -> Figure | None:
        """The figure for one option of one finding, or None."""
        finding = self.finding(finding_id)
        return next((f for f in finding.options if f.option == option), None) if finding else None

    def figures(self) -> list[tuple[Finding, Figure]]:
        return [(finding, figure) for finding in self.findings for figure in finding.options]

    @property
    def finding_ids(self) -> set[str]:
        return {finding.id for finding in self.findings}

    @property
    def sampling_error(self) -> tuple[float, float] | None:
        """A share near one half's standard error and 95% margin, in percentage points, or None
        without a sample size: the error the modelled percentile leaves out."""
        if self.respondents is None:
            return None
        standard = 100 * (0.25 / self.respondents) ** 0.5
        return standard, 1.96 * standard

    @property
    def label(self) -> str:
        """How percentiles against this dataset must always be labelled."""
        if self.kind == "respondents":
            return f"empirical, from respondent-level data (n = {self.respondents})"
        return f"modelled from published aggregates (n = {self.respondents})"

    @property
    def range_label(self) -> str:
        """What a percentile's range spans: the model's assumptions, or the respondents tied with it."""
        if self.kind == "respondents":
            return "range over the respondents tied with it"
        return "range under the model's assumptions"


def _figure_problems(data: PeerDataset, figure: Figure, where: str) -> list[tuple[str, str]]:
    """A figure's references to the regions, sources and confidence levels the dataset declares."""
    problems = [(f"{where}.region_pct.{r}", f"unknown region {r!r}")
                for r in figure.region_pct if r not in data.regions]
    problems += [(f"{where}.sources", f"unknown source {s!r}") for s in figure.sources if s not in data.sources]
    problems += repeats(figure.sources, f"{where}.sources", "source")
    if figure.confidence not in data.confidence_levels:  # its mark would be shown, never explained
        problems.append((f"{where}.confidence", f"unknown confidence {figure.confidence!r}"))
    if data.kind == "aggregates" and figure.overall_pct is None:
        problems.append((f"{where}.overall_pct", "is required for published aggregates"))
    return problems


def _finding_problems(data: PeerDataset) -> list[tuple[str, str]]:
    problems = duplicates(data.findings, "id", "findings")
    for i, finding in enumerate(data.findings):
        path = f"findings[{i}]"
        problems += duplicates(finding.options, "option", f"{path}.options")
        for j, figure in enumerate(finding.options):
            problems += _figure_problems(data, figure, f"{path}.options[{j}]")
    return problems


def _kind_problems(data: PeerDataset) -> list[tuple[str, str]]:
    if data.kind == "aggregates" and data.respondents is None:
        return [("respondents", "is required for published aggregates (the survey's sample size)")]
    if data.kind == "respondents" and not data.respondent_file:
        return [("respondent_file", "is required for respondent-level data")]
    return []


def load_peers(path: str | Path) -> PeerDataset:
    """Load and validate a peer dataset; raises DataFileError naming file, path and problem."""
    path = Path(path)
    data = validate(PeerDataset, read_data(path), path.name)
    problems = _finding_problems(data) + _kind_problems(data)
    if problems:
        raise DataFileError(path.name, problems)
    if data.kind == "respondents":
        return _with_sample(data, _respondent_path(path, data.respondent_file))
    return data


def _respondent_path(path: Path, name: str) -> Path:
    """The respondent file, refused if a symbolic link leads it out of the dataset's folder (the
    field's own check sees only the path's text)."""
    csv_path = path.parent / name
    if not csv_path.resolve().is_relative_to(path.parent.resolve()):
        raise DataFileError(path.name, [("respondent_file", "leads outside the dataset's folder "
                                         "through a symbolic link")])
    return csv_path


def _read_rows(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    """The header's columns and the rows; a row's missing cells are None, its extra cells under None."""
    try:
        with os_errors(path.name):
            if path.stat().st_size > MAX_FILE_BYTES * 8:
                raise DataFileError(path.name, [("", "file is larger than 16 MiB")])
            # utf-8-sig: Excel's "CSV UTF-8" begins with a byte order mark, else read into the first column's name.
            with path.open(encoding="utf-8-sig", newline="") as file:
                reader = csv.DictReader(file)
                return list(reader.fieldnames or []), list(reader)
    except (UnicodeDecodeError, csv.Error) as error:
        raise DataFileError(path.name, [("", f"is not a readable UTF-8 CSV file ({error})")]) from None


def _column_problems(data: PeerDataset, columns: list[str]) -> list[tuple[str, str]]:
    known = {f"{finding.id}:{figure.option}" for finding, figure in data.figures()}
    problems = [("header", f"unknown column {c!r}: expected respondent, region or finding_id:option")
                for c in columns if c not in known | {"respondent", "region"}]
    if "respondent" not in columns:
        problems.append(("header", "a 'respondent' column is required"))
    # csv.DictReader would keep the last of two same-named columns and drop the other silently.
    problems += [("header", f"duplicate column {c!r}") for c in sorted({c for c in columns if columns.count(c) > 1})]
    return problems


def _row_problems(rows: list[dict[str, str]]) -> list[tuple[str, str]]:
    """Rows with fewer or more cells than the header (a file cut short, a stray quote), and blank or
    repeated respondents."""
    problems, first = [], {}
    for line, row in enumerate(rows, start=2):
        if None in row.values():
            problems.append((f"line {line}", "has fewer cells than the header (is the file cut short?)"))
        if None in row:
            problems.append((f"line {line}", "has more cells than the header"))
        respondent = (row.get("respondent") or "").strip()
        if "respondent" in row and not respondent:  # without an id, a row counted twice could not be found
            problems.append((f"line {line}.respondent", "is blank: every row needs a respondent id"))
        elif respondent and respondent in first:  # counted twice, every share would be skewed
            problems.append((f"line {line}.respondent",
                             f"duplicate respondent {respondent!r} (first on line {first[respondent]})"))
        first.setdefault(respondent, line)
    return problems


def _parse_row(data: PeerDataset, line: int, row: dict[str, str]) -> tuple[str | None, dict, list]:
    region = (row.get("region") or "").strip() or None
    known = region is None or region in data.regions
    problems = [] if known else [(f"line {line}.region", f"unknown region {region!r}")]
    values = {}
    for finding, figure in data.figures():
        raw = (row.get(f"{finding.id}:{figure.option}") or "").strip()
        if raw not in KNOWN:
            problems.append((f"line {line}.{finding.id}:{figure.option}", f"must be 1, 0 or blank, not {raw!r}"))
        values[(finding.id, figure.option)] = KNOWN.get(raw)
    return region, values, problems


def _pct(values: list[bool | None]) -> float | None:
    known = [v for v in values if v is not None]
    return round(100 * sum(known) / len(known), 1) if known else None


def _with_sample(data: PeerDataset, csv_path: Path) -> PeerDataset:
    columns, rows = _read_rows(csv_path)
    problems = _column_problems(data, columns if rows else ["respondent"]) + _row_problems(rows)
    parsed = [_parse_row(data, line, row) for line, row in enumerate(rows, start=2)]
    problems += [p for _, _, row_problems in parsed for p in row_problems]
    if not rows:
        problems.append(("", "has no respondents"))
    if problems:
        raise DataFileError(csv_path.name, problems)
    sample = RespondentSample([r for r, _, _ in parsed], [v for _, v, _ in parsed])
    findings = [finding.model_copy(update={"options": [_computed(figure, finding.id, sample, data.regions)
                                                       for figure in finding.options]})
                for finding in data.findings]
    result = data.model_copy(update={"findings": findings, "respondents": len(rows)})
    result._sample = sample
    return result


def _computed(figure: Figure, finding_id: str, sample: RespondentSample, regions: dict[str, str]) -> Figure:
    key = (finding_id, figure.option)
    by_region = {r: _pct([row[key] for row, rr in zip(sample.rows, sample.regions, strict=True) if rr == r])
                 for r in regions}
    return figure.model_copy(update={"overall_pct": _pct([row[key] for row in sample.rows]),
                                     "region_pct": {r: p for r, p in by_region.items() if p is not None}})
