"""The survey-peer dataset: published figures with their sources and confidence."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from .datafile import DataFileError, duplicates, read_yaml, validate

SEMVER = r"^\d+\.\d+\.\d+$"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class Source(_Model):
    title: str = Field(min_length=1)
    url: str | None = None


class Figure(_Model):
    option: str = Field(min_length=1)
    overall_pct: float = Field(ge=0, le=100)
    region_pct: dict[str, float] = {}
    confidence: Literal["A", "B", "C"]
    sources: list[str] = Field(min_length=1)
    note: str | None = None

    @field_validator("region_pct")
    @classmethod
    def _percent(cls, value: dict[str, float]) -> dict[str, float]:
        for region, pct in value.items():
            if not 0 <= pct <= 100:
                raise ValueError(f"{region}: must be within 0 to 100")
        return value


class Finding(_Model):
    id: str = Field(min_length=1)
    question: str = Field(min_length=1)
    options: list[Figure] = Field(min_length=1)


class PeerDataset(_Model):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9._-]*$")
    version: str = Field(pattern=SEMVER)
    kind: Literal["aggregates"]
    title: str
    authors: list[str] = Field(min_length=1)
    publisher: str
    date: str
    licence: str
    url: str | None = None
    respondents: int = Field(gt=0)
    citation: str
    notes: list[str] = []
    regions: dict[str, str]
    confidence_levels: dict[str, str]
    sources: dict[str, Source]
    findings: list[Finding] = Field(min_length=1)

    def figure(self, finding_id: str, option: str) -> Figure | None:
        """The figure for one option of one finding, or None."""
        for finding in self.findings:
            if finding.id == finding_id:
                return next((f for f in finding.options if f.option == option), None)
        return None

    @property
    def finding_ids(self) -> set[str]:
        return {finding.id for finding in self.findings}


def _reference_problems(data: PeerDataset) -> list[tuple[str, str]]:
    problems = duplicates(data.findings, "id", "findings")
    for i, finding in enumerate(data.findings):
        path = f"findings[{i}]"
        problems += duplicates(finding.options, "option", f"{path}.options")
        for j, figure in enumerate(finding.options):
            for region in figure.region_pct:
                if region not in data.regions:
                    problems.append((f"{path}.options[{j}].region_pct.{region}", f"unknown region {region!r}"))
            for source in figure.sources:
                if source not in data.sources:
                    problems.append((f"{path}.options[{j}].sources", f"unknown source {source!r}"))
    return problems


def load_peers(path: str | Path) -> PeerDataset:
    """Load and validate a peer dataset; raises DataFileError naming file, path and problem."""
    name = Path(path).name
    data = validate(PeerDataset, read_yaml(path), name)
    problems = _reference_problems(data)
    if problems:
        raise DataFileError(name, problems)
    return data
