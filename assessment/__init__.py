"""sovready: measure an organization's readiness for sovereign AI.

The package root holds the pure core (rubric, answers, scoring, peers); ``assessment.web``
and ``assessment.storage`` are the thin layers around it.
"""

__version__ = "0.1.0"
