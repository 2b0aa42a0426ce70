"""Where the shipped data files and templates live (beside the package in a checkout)."""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RUBRIC_DIR = ROOT / "rubric"
DEFAULT_RUBRIC = RUBRIC_DIR / "sovereign-ai-readiness.yaml"
TEMPLATES = ROOT / "templates"
EXAMPLES = ROOT / "examples"
# The font the PDF draws charts in, whose letters' widths size the charts' label room (charts.char_width).
CHART_FONT = ROOT / "assessment" / "web" / "static" / "fonts" / "DejaVuSans.ttf"
