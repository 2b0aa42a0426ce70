"""The workshop bench at reduced size: 20 participants join at once and answer every question
against the production server; what is stored equals what was sent, none lost or duplicated.

It runs the bench as make bench does (``python -m bench.workshop``), in a process of its own.
"""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parents[1]


def test_twenty_participants_answer_at_once_and_nothing_is_lost():
    run = subprocess.run([sys.executable, "-m", "bench.workshop", "20", "1"], cwd=ROOT, capture_output=True,
                         text=True, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "verified: 20 participants, 960 stored answers equal those sent, no request failed" in run.stdout
