"""Rubric versions kept in the database, so every assessment is scored on the one it used."""

from __future__ import annotations

import tempfile
from pathlib import Path

import sqlite_utils

from . import storage
from .paths import RUBRIC_DIR
from .rubric import Rubric, load_rubric


def rubric_from_text(text: str, filename: str) -> Rubric:
    """Validate rubric text exactly as ``load_rubric`` does a file; raises DataFileError.

    The text is written beside the shipped peer datasets (linked in a temporary folder), so
    the findings it cites are checked against them and messages name ``filename``.
    """
    with tempfile.TemporaryDirectory() as folder:
        (Path(folder) / "peers").symlink_to(RUBRIC_DIR / "peers", target_is_directory=True)
        path = Path(folder) / (Path(filename).name or "rubric.yaml")
        path.write_text(text, encoding="utf-8")
        return load_rubric(path)


# Parsed rubrics by (id, version, sha256): stored texts never change, so parse each once per
# process. The hash is in the key so that two databases holding different texts under one
# version (possible in tests) never share an entry.
_parsed: dict[tuple[str, str, str], Rubric] = {}


def add_rubric(db: sqlite_utils.Database, text: str, filename: str) -> Rubric:
    """Validate and store a rubric version; DataFileError or ValueError say why it was refused."""
    rubric = rubric_from_text(text, filename)
    storage.register_rubric(db, rubric.id, rubric.version, text)
    return rubric


def stored_rubric(db: sqlite_utils.Database, rubric_id: str, version: str) -> Rubric:
    """A stored rubric version, parsed once per process; LookupError if it is not stored."""
    row = db.execute("SELECT sha256 FROM rubrics WHERE id = ? AND version = ?", [rubric_id, version]).fetchone()
    if row is None:
        raise LookupError(f"rubric {rubric_id} {version} is not stored")
    key = (rubric_id, version, row[0])
    if key not in _parsed:
        (text,) = db.execute("SELECT source FROM rubrics WHERE id = ? AND version = ?", [rubric_id, version]).fetchone()
        _parsed[key] = rubric_from_text(text, f"{rubric_id}-{version}.yaml")
    return _parsed[key]


def list_rubrics(db: sqlite_utils.Database) -> list[dict]:
    """Every stored rubric version, newest first within each rubric."""
    return list(db.query("SELECT id, version, added_at FROM rubrics ORDER BY id, added_at DESC, version DESC"))
