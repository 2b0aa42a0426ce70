"""Where the shipped data files and templates live (beside the package in a checkout)."""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RUBRIC_DIR = ROOT / "rubric"
DEFAULT_RUBRIC = RUBRIC_DIR / "sovereign-ai-readiness.yaml"
TEMPLATES = ROOT / "templates"
EXAMPLES = ROOT / "examples"
