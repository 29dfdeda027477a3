"""The knobs of an index computation, and the figures estimated from the data.

``IndexParams`` is what a caller may choose; ``Hyper`` is what the build estimates (variance
components, prior strength per grain). Both are stored with every point (``params`` JSON) so
a figure can be reproduced, and a change of ``IndexParams`` forces a full rebuild.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any, Literal

from relwatch.core.errors import InputError

__all__ = ["DEFAULT_WEIGHTING", "GRAINS", "Hyper", "IndexParams"]

GRAINS: tuple[str, ...] = ("day", "week", "month")

#: Per-sentence weighting: TextRank importance. Chosen on the demo corpus with
#: ``bench/index_weighting.py`` (split-half reliability by article, within pairs, 40 splits,
#: two seeds): TextRank weights are 8–10% more reliable at day grain, the index's main one,
#: and 1–2% less at week grain, where volumes are large enough for either. Central sentences
#: carry the story's relation; side remarks that name two countries in passing carry less.
DEFAULT_WEIGHTING: Literal["equal", "textrank"] = "textrank"


@dataclass(frozen=True)
class IndexParams:
    """How the index is computed; every field is recorded with the points it produced.

    weighting: ``equal`` (every sentence counts once) or ``textrank`` (weight = the
        sentence's TextRank importance, floored at ``min_weight``); see ``DEFAULT_WEIGHTING``.
    level: coverage of the interval (0.90 = 90%).
    prior_days: length of the trailing window that sets a pair's prior level.
    prior_pseudo: weight of the grand mean blended into the trailing level, so a pair with
        little or no history is pulled toward the typical tone of all pairs.
    moderation_df: prior degrees of freedom of the pooled variance mixed into the
        cluster-robust one (0 = pure cluster-robust; keeps few-article days sane).
    smooth_days: window of the smoothed day series.
    by_publisher: also compute rows per publisher country (``seen_from``); None (default)
        decides on the data at each full build: split when the predictions come from two or
        more publisher countries (one country's rows would repeat the all-publisher ones).
    alert_z: |z| a day (or window) must reach against its trailing baseline.
    alert_window_days: days pooled into the tested window (1 = the day alone).
    alert_min_volume / alert_min_articles: the window needs this many sentences/articles.
    alert_min_baseline: the baseline needs this many sentences.
    alert_cooldown_days: no new alert in the same direction within this many days of a
        flagged day, so one shift gives one alert while the trailing baseline catches up
        (its z decays over ``prior_days``; half of that covers the flags it still raises).
    alert_evidence: prediction ids kept per alert.
    """

    weighting: Literal["equal", "textrank"] = DEFAULT_WEIGHTING
    min_weight: float = 0.05
    level: float = 0.90
    prior_days: int = 30
    prior_pseudo: float = 5.0
    moderation_df: float = 4.0
    smooth_days: int = 7
    by_publisher: bool | None = None
    # Chosen on shuffled dates (bench/index_alerts.py): a few-article day has heavier tails
    # than the variance model, so 3.5 raised 5-8 false alarms per 1,000 shuffled pair-days
    # (0.47 nominal); 4.0 cut that to 1.6-3.7 and kept every real alert of the demo.
    alert_z: float = 4.0
    alert_window_days: int = 1
    alert_min_volume: int = 5
    alert_min_articles: int = 2
    alert_min_baseline: int = 10
    alert_cooldown_days: int = 14
    alert_evidence: int = 20

    def __post_init__(self) -> None:
        if self.weighting not in ("equal", "textrank"):
            raise InputError(f"weighting must be 'equal' or 'textrank', not {self.weighting!r}")
        if not 0.5 <= self.level < 1.0:
            raise InputError(f"level must be in [0.5, 1), not {self.level}")
        for name in ("prior_days", "smooth_days", "alert_window_days"):
            if int(getattr(self, name)) < 1:
                raise InputError(f"{name} must be at least 1")
        for name in ("prior_pseudo", "moderation_df", "min_weight", "alert_z"):
            value = float(getattr(self, name))
            if not math.isfinite(value) or value < 0:
                raise InputError(f"{name} must be a non-negative number")

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> IndexParams:
        """Parameters from a mapping; unknown names are refused rather than ignored."""
        data = dict(data or {})
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - names)
        if unknown:
            raise InputError(f"unknown index parameter(s): {', '.join(unknown)}")
        try:
            return cls(**data)
        except TypeError as exc:  # pragma: no cover - defensive, dataclass signature
            raise InputError(f"bad index parameters: {exc}") from None

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def resolved(self, hyper: Hyper) -> IndexParams:
        """These params with ``by_publisher=None`` decided by the data ``hyper`` describes."""
        if self.by_publisher is not None:
            return self
        return dataclasses.replace(self, by_publisher=hyper.publisher_countries >= 2)

    @property
    def reach_days(self) -> int:
        """How far ahead a day's data can change other days (prior, smoothing, alerts)."""
        return (
            max(self.prior_days, self.smooth_days)
            + self.alert_window_days
            + self.alert_cooldown_days
        )


@dataclass
class Hyper:
    """Figures estimated from the data and frozen between full builds.

    sigma_e2: within-article sentence variance; tau_u2: between-article variance within a
    pair-day (their sum ``sigma2`` is the per-sentence within-day variance); tau2[grain]:
    variance of a period's true tone around the pair's trailing level (mean-based: includes
    real shifts, as the shrinkage prior must); tau2_alert: the ordinary day-to-day variance,
    from differences of near days on the median (the alerts' yardstick, which the shifts they
    look for must not inflate); tau_pair2:
    variance of pair levels around the grand mean; k[grain] = sigma2 / tau2[grain], the prior
    strength in sentences (weight of the data = n_eff / (n_eff + k)).
    """

    grand_mean: float = 0.0
    sigma_e2: float = 0.2
    tau_u2: float = 0.05
    tau2: dict[str, float] = field(default_factory=lambda: dict.fromkeys(GRAINS, 0.02))
    tau_pair2: float = 0.05
    tau2_alert: float = 0.02
    n_units: int = 0
    publisher_countries: int = 0

    def rounded(self, digits: int = 6) -> Hyper:
        """The same figures to ``digits`` significant digits: what is stored is what is used."""

        def r(x: float) -> float:
            return float(f"{x:.{digits}g}")

        return Hyper(
            grand_mean=r(self.grand_mean),
            sigma_e2=r(self.sigma_e2),
            tau_u2=r(self.tau_u2),
            tau2={g: r(v) for g, v in self.tau2.items()},
            tau_pair2=r(self.tau_pair2),
            tau2_alert=r(self.tau2_alert),
            n_units=self.n_units,
            publisher_countries=self.publisher_countries,
        )

    @property
    def sigma2(self) -> float:
        return self.sigma_e2 + self.tau_u2

    @property
    def k(self) -> dict[str, float]:
        return {g: self.sigma2 / self.tau2[g] for g in GRAINS}

    def to_dict(self) -> dict[str, Any]:
        return {
            "grand_mean": self.grand_mean,
            "sigma_e2": self.sigma_e2,
            "tau_u2": self.tau_u2,
            "sigma2": float(f"{self.sigma2:.6g}"),
            "tau2": dict(self.tau2),
            "tau_pair2": self.tau_pair2,
            "tau2_alert": self.tau2_alert,
            "k": {g: float(f"{v:.4g}") for g, v in self.k.items()},
            "n_units": self.n_units,
            "publisher_countries": self.publisher_countries,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Hyper:
        return cls(
            grand_mean=float(data["grand_mean"]),
            sigma_e2=float(data["sigma_e2"]),
            tau_u2=float(data["tau_u2"]),
            tau2={g: float(data["tau2"][g]) for g in GRAINS},
            tau_pair2=float(data["tau_pair2"]),
            tau2_alert=float(data.get("tau2_alert", data["tau2"]["day"])),
            n_units=int(data.get("n_units", 0)),
            publisher_countries=int(data.get("publisher_countries", 0)),
        )
