"""A latent-trait model of the survey's respondents, calibrated to published shares.

Published aggregates say, for each linked practice, what share of respondents report it; they
say nothing about who reports which combination. To place an organization among those peers we
assume a single latent trait, "sovereignty practice", spread over respondents, and a graded
response model for each rubric question linked to a figure:

    P(level >= k | theta) = logistic(a * (theta - b - (k - from_level) * spacing)),  k = 1..4

``b`` is calibrated so that the modelled share at ``from_level`` equals the published share.
The organization's trait is its expected a posteriori (EAP) estimate given its levels, and its
percentile is the share of modelled peers below that estimate. ``a`` (discrimination), the
spacing between levels and the shape of the trait distribution are assumptions: the percentile
is reported under a central choice with the band it spans over all plausible choices.
docs/methodology.md explains the model and its limits in plain words.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

GRID = tuple(-6 + i * 0.1 for i in range(121))
LOGISTIC_SCALE = math.sqrt(3) / math.pi  # a logistic distribution with unit variance
SHARE_LIMITS = (0.005, 0.995)  # a share of 0 or 100% has no finite threshold


@dataclass(frozen=True)
class Assumptions:
    discrimination: float
    spacing: float
    distribution: str  # "normal" or "logistic", both with mean 0 and variance 1


CENTRAL = Assumptions(1.7, 1.0, "normal")
VARIANTS = tuple(Assumptions(a, s, d) for a in (1.0, 1.7, 2.5) for s in (0.5, 1.0, 1.5)
                 for d in ("normal", "logistic"))


@dataclass(frozen=True)
class Item:
    """One linked rubric question: its key, the published share (0 to 100) and from_level."""

    key: str
    share: float
    from_level: int


def _sigmoid(x: float) -> float:
    # No guard against overflow: exp() overflows below x = -709, and on GRID, with shares held
    # within SHARE_LIMITS and the assumptions of VARIANTS, x stays above -35.
    return 1.0 / (1.0 + math.exp(-x))


def cdf(distribution: str, theta: float) -> float:
    """Share of the trait distribution below ``theta``."""
    if distribution == "logistic":
        return _sigmoid(theta / LOGISTIC_SCALE)
    return 0.5 * (1 + math.erf(theta / math.sqrt(2)))


@lru_cache(maxsize=4)
def grid_weights(distribution: str) -> tuple[float, ...]:
    """Quadrature weights of the trait distribution over GRID (summing to 1)."""
    step = GRID[1] - GRID[0]
    edges = [cdf(distribution, t + step / 2) - cdf(distribution, t - step / 2) for t in GRID]
    total = sum(edges)
    return tuple(e / total for e in edges)


def _marginal(b: float, a: float, weights: tuple[float, ...]) -> tuple[float, float]:
    """The modelled share at threshold b, and its derivative with respect to b."""
    share = slope = 0.0
    for t, w in zip(GRID, weights, strict=True):
        p = _sigmoid(a * (t - b))
        share += w * p
        slope -= w * a * p * (1 - p)
    return share, slope


@lru_cache(maxsize=1024)
def calibrate(share: float, a: float, distribution: str) -> float:
    """The threshold b whose modelled share equals ``share`` (a percentage), by Newton's method.

    The modelled share falls steadily as b rises, so the iteration converges from b = 0; steps
    are clamped so that an extreme share cannot overshoot.
    """
    target = min(max(share / 100, SHARE_LIMITS[0]), SHARE_LIMITS[1])
    weights, b = grid_weights(distribution), 0.0
    for _ in range(50):
        modelled, slope = _marginal(b, a, weights)
        step = max(-2.0, min(2.0, (modelled - target) / slope))
        b -= step
        if abs(step) < 1e-10:
            break
    return b


def _at_least(item: Item, assumptions: Assumptions, level: int, theta: float) -> float:
    """P(level >= ``level`` | theta) for a calibrated item."""
    if level <= 0:
        return 1.0
    if level > 4:
        return 0.0
    b = calibrate(item.share, assumptions.discrimination, assumptions.distribution)
    offset = (level - item.from_level) * assumptions.spacing
    return _sigmoid(assumptions.discrimination * (theta - b - offset))


@lru_cache(maxsize=2048)
def level_table(item: Item, assumptions: Assumptions) -> tuple[tuple[float, ...], ...]:
    """P(level = k | theta) over GRID, for k = 0..4: one calibrated item's likelihoods."""
    return tuple(tuple(_at_least(item, assumptions, k, t) - _at_least(item, assumptions, k + 1, t) for t in GRID)
                 for k in range(5))


class Model:
    """Calibrated items under one set of assumptions."""

    def __init__(self, items: tuple[Item, ...], assumptions: Assumptions):
        self.assumptions = assumptions
        self.weights = grid_weights(assumptions.distribution)
        self.items = {i.key: i for i in items}

    def modelled_share(self, key: str) -> float:
        """The model's share (percentage) of peers at or above the item's from_level."""
        item = self.items[key]
        return 100 * sum(w * _at_least(item, self.assumptions, item.from_level, t)
                         for t, w in zip(GRID, self.weights, strict=True))

    def percentile(self, levels: dict[str, int]) -> float:
        """Percentile of the EAP trait estimate for these levels (keys of calibrated items)."""
        posterior = list(self.weights)
        for key, level in levels.items():
            row = level_table(self.items[key], self.assumptions)[level]
            posterior = [p * r for p, r in zip(posterior, row, strict=True)]
        total = sum(posterior)
        theta = sum(t * p for t, p in zip(GRID, posterior, strict=True)) / total
        return 100 * cdf(self.assumptions.distribution, theta)

    def expected_level(self, key: str, theta: float = 0.0) -> float:
        """The expected level of a peer with trait ``theta`` (0 = the median peer)."""
        return sum(_at_least(self.items[key], self.assumptions, k, theta) for k in range(1, 5))


def model(items: tuple[Item, ...], assumptions: Assumptions) -> Model:
    """A model of these items; calibrations and likelihoods are cached per item."""
    return Model(items, assumptions)


def percentile_band(items: tuple[Item, ...], levels: dict[str, int]) -> tuple[float, float, float]:
    """The central percentile and the lowest and highest over all variant assumptions."""
    return _band(items, tuple(sorted(levels.items())))


@lru_cache(maxsize=4096)
def _band(items: tuple[Item, ...], levels: tuple[tuple[str, int], ...]) -> tuple[float, float, float]:
    # 19 posterior computations per call: cached, since a results page is viewed many times.
    given = dict(levels)
    central = model(items, CENTRAL).percentile(given)
    spread = [model(items, variant).percentile(given) for variant in VARIANTS]
    return central, min(spread), max(spread)
