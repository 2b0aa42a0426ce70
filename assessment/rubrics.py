"""Rubric versions kept in the database, so every assessment is scored on the one it used."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import sqlite_utils

from . import audit, storage
from .paths import RUBRIC_DIR
from .peers import PeerDataset, load_peers
from .rubric import Rubric, missing_figures, rubric_from_text

PEERS_DIR = RUBRIC_DIR / "peers"


def parse_rubric(text: str, filename: str, figures: bool = True) -> Rubric:
    """Validate rubric text against the shipped peer datasets; raises DataFileError. ``figures``:
    whether every finding and figure it links to must be in them (see ``stored_rubric``)."""
    return rubric_from_text(text, Path(filename).name or "rubric.yaml", PEERS_DIR, figures)


@lru_cache(maxsize=8)
def peer_dataset(dataset_id: str) -> PeerDataset:
    """A shipped peer dataset, loaded once per process."""
    return load_peers(PEERS_DIR / f"{dataset_id}.yaml")


def peers_for(rubric: Rubric) -> PeerDataset | None:
    """The peer dataset a rubric names, or None for a rubric without survey peers."""
    return peer_dataset(rubric.peers) if rubric.peers else None


# Parsed rubrics by (id, version, sha256): stored texts never change, so parse each once per
# process. The hash is in the key so that two databases holding different texts under one
# version (possible in tests) never share an entry.
_parsed: dict[tuple[str, str, str], Rubric] = {}


def add_rubric(db: sqlite_utils.Database, text: str, filename: str, *,
               by: int | None = None) -> tuple[Rubric, bool]:
    """Validate and store a rubric version; DataFileError or ValueError say why it was refused.
    Returns the rubric and whether it is new (False: this very text was stored already).

    A new version is logged instance-wide (administrators see it): it concerns every workspace.
    """
    rubric = parse_rubric(text, filename)
    with storage.write_transaction(db):
        added = storage.insert_rubric(db, rubric.id, rubric.version, text)
        if added:
            audit.record(db, None, by, "rubric.uploaded", f"{rubric.id} {rubric.version}", filename)
    return rubric, added


def stored_rubric(db: sqlite_utils.Database, rubric_id: str, version: str) -> Rubric:
    """A stored rubric version, parsed once per process; LookupError if it is not stored.

    Its links to survey figures are not required to be in the dataset shipped now: a release that
    renamed or removed one would otherwise make every assessment on the version fail to load. The
    comparison says which are gone (``benchmark``); ``versions_missing_figures`` lists them.
    """
    row = db.execute("SELECT sha256 FROM rubrics WHERE id = ? AND version = ?", [rubric_id, version]).fetchone()
    if row is None:
        raise LookupError(f"rubric {rubric_id} {version} is not stored")
    key = (rubric_id, version, row[0])
    if key not in _parsed:
        (text,) = db.execute("SELECT source FROM rubrics WHERE id = ? AND version = ?", [rubric_id, version]).fetchone()
        _parsed[key] = parse_rubric(text, f"{rubric_id}-{version}.yaml", figures=False)
    return _parsed[key]


def versions_missing_figures(db: sqlite_utils.Database) -> list[tuple[str, str, list[str]]]:
    """(id, version, missing ids) for each stored version that links to figures no longer shipped."""
    rubrics = [stored_rubric(db, row["id"], row["version"]) for row in list_rubrics(db)]
    found = [(rubric.id, rubric.version, missing_figures(rubric, peers_for(rubric))) for rubric in rubrics]
    return [entry for entry in found if entry[2]]


def list_rubrics(db: sqlite_utils.Database) -> list[dict]:
    """Every stored rubric version, newest first within each rubric."""
    return list(db.query("SELECT id, version, added_at FROM rubrics ORDER BY id, added_at DESC, version DESC"))


def version_key(version: str) -> tuple[int, ...]:
    """A MAJOR.MINOR.PATCH version as numbers, for ordering: 1.10.0 comes after 1.9.0."""
    return tuple(int(part) for part in version.split("."))


def later_versions(db: sqlite_utils.Database, rubric: Rubric) -> list[str]:
    """The stored versions of ``rubric`` above its own, newest first: what a new round may move to."""
    versions = [row[0] for row in db.execute("SELECT version FROM rubrics WHERE id = ?", [rubric.id])]
    return sorted((v for v in versions if version_key(v) > version_key(rubric.version)), key=version_key, reverse=True)
