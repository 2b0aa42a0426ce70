"""Backup and restore of a database of N assessments with all their answers (default 100,000).

Seeds a real SQLite file (assessments, 48 answers each, scores), then times ``backup`` and
``restore`` from assessment/backup.py, the same functions as ``sovready backup`` and
``sovready restore``. Target: each under 5 s for 100,000 assessments.

    .venv/bin/python -m bench.backup [N]
"""

import tempfile
import time
from pathlib import Path

from assessment import storage
from assessment.backup import backup, restore
from assessment.paths import DEFAULT_RUBRIC
from assessment.rubrics import add_rubric
from bench import arguments
from bench.cohorts import seed


def add_answers(db, rubric) -> None:
    questions = list(rubric.questions)
    ids = [row[0] for row in db.execute("SELECT id FROM assessments")]
    with storage.write_transaction(db):
        db.conn.executemany("INSERT INTO answers (assessment_id, question_id, value, updated_at) VALUES (?, ?, ?, ?)",
                            ((aid, q, str(i % 5), "2026-01-01T00:00:00+00:00")
                             for aid in ids for i, q in enumerate(questions)))


def main():
    (count,) = arguments(__doc__, 100_000)
    with tempfile.TemporaryDirectory() as folder:
        database = Path(folder) / "sovready.db"
        db = storage.init(database)
        rubric, _ = add_rubric(db, DEFAULT_RUBRIC.read_text(encoding="utf-8"), DEFAULT_RUBRIC.name)
        seed(db, rubric, count)
        add_answers(db, rubric)
        db.close()
        size = database.stat().st_size / 2**20
        start = time.perf_counter()
        backup(database, Path(folder) / "backup.db")
        backed = time.perf_counter() - start
        start = time.perf_counter()
        summary = restore(Path(folder) / "backup.db", database)
        restored = time.perf_counter() - start
        print(f"{count} assessments with {count * len(rubric.questions)} answers, {size:.0f} MiB")
        print(f"backup {backed:.2f} s, restore (check and install) {restored:.2f} s (target < 5 s each); {summary}")


if __name__ == "__main__":
    main()
