"""GRADE summary of findings: absolute effects, NNT/NNH, certainty of evidence, statements.

Numbers only, in typed frozen results; prose comes from ``text_templates/grade/`` through
:mod:`evtreport.text` (autoescaped). Sources of the rules:

- Absolute effects from a relative effect and an assumed control risk (ACR): Cochrane
  Handbook 5.1 §12.5.4.2-12.5.4.3 (RR: ``ACR·RR``; OR: ``OR·ACR/(1 − ACR + OR·ACR)``),
  CI limits from the limits of the relative effect (Altman, BMJ 1998;317:1309).
- NNT = 1/|risk difference|, rounded up (Handbook 5.1 §12.5.4.1); a CI that includes no
  effect reads "NNTB a to ∞ to NNTH b" (Altman 1998).
- Starting level: randomized trials High, observational studies Low, case series Very low
  (Handbook 5.1 Table 12.2.a; Balshem et al., J Clin Epidemiol 2011;64:401, GRADE 3).
- Inconsistency: I² ≥ 50% "substantial", ≥ 75% "considerable" (Handbook 5.1 §9.5.2 rough
  guide, quoted by GRADE guidelines 7, Guyatt et al., J Clin Epidemiol 2011;64:1294), trials'
  CIs with no overlap, estimates on both sides of no effect (GRADE 7).
- Imprecision: the CI of the absolute effect against the minimally important difference
  (default RR 0.75 / 1.25, GRADE guidelines 6, Guyatt et al., J Clin Epidemiol
  2011;64:1283), one level per threshold crossed (GRADE guidance 34, Zeng et al.,
  J Clin Epidemiol 2022;150:216); optimal information size as a two-arm sample size with
  α 0.05, power 0.8 and a 25% relative risk reduction (GRADE 6).
- Publication bias: not assessable with fewer than 10 studies (Handbook 5.1 §10.4.3.1;
  Sterne et al., BMJ 2011;343:d4002).
- Statements: Santesso et al., J Clin Epidemiol 2020;119:126 (GRADE guidelines 26).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Iterable, Mapping

import numpy as np
from markupsafe import Markup
from scipy import special

from . import text

__all__ = [
    "MEASURES", "DOMAINS", "DOMAIN_LABELS", "DESIGNS", "LEVELS", "SYMBOLS",
    "I2_SUBSTANTIAL", "I2_CONSIDERABLE", "MID_RR", "OIS_RRR", "OIS_ALPHA", "OIS_POWER",
    "PUBLICATION_BIAS_MIN_STUDIES",
    "AbsoluteEffect", "NNT", "MID", "Source", "Judgement", "Certainty",
    "corresponding_risk", "absolute_effect", "absolute_from_pool", "nnt", "format_per1000",
    "mid_from_rr", "optimal_information_size", "effect_direction",
    "inconsistency", "inconsistency_from_pool", "imprecision", "publication_bias", "judged",
    "rate_certainty", "reason_text", "footnotes", "statement",
]

MEASURES = ("RR", "OR", "RD")
DOMAINS = ("risk_of_bias", "inconsistency", "indirectness", "imprecision", "publication_bias")
DOMAIN_LABELS = {"risk_of_bias": "Risk of bias", "inconsistency": "Inconsistency",
                 "indirectness": "Indirectness", "imprecision": "Imprecision",
                 "publication_bias": "Publication bias"}
DESIGNS = {"randomized": 4, "observational": 2, "case_series": 1}
LEVELS = {4: "High", 3: "Moderate", 2: "Low", 1: "Very low"}
SYMBOLS = {4: "⊕⊕⊕⊕", 3: "⊕⊕⊕◯", 2: "⊕⊕◯◯", 1: "⊕◯◯◯"}

I2_SUBSTANTIAL = 50.0
I2_CONSIDERABLE = 75.0
MID_RR = (0.75, 1.25)
OIS_RRR = 0.25
OIS_ALPHA = 0.05
OIS_POWER = 0.80
PUBLICATION_BIAS_MIN_STUDIES = 10


# --------------------------------------------------------------------------- validation
def _number(x, name: str, low: float = -math.inf, high: float = math.inf) -> float:
    try:
        v = float(x)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number; got {x!r}.") from None
    if not (math.isfinite(v) and low <= v <= high):
        raise ValueError(f"{name} must be a finite number in [{low}, {high}]; got {x!r}.")
    return v


def _measure(measure: str) -> str:
    if measure not in MEASURES:
        raise ValueError(f"Unknown measure {measure!r}; expected one of {', '.join(MEASURES)}.")
    return measure


def _r(x: float) -> float:
    """Per-1000 values compared with thresholds at 9 decimals (0.4·1.25 − 0.4 is 0.0999…)."""
    return round(x, 9)


def _clamp01(p: float) -> float:
    return min(1.0, max(0.0, p))


# --------------------------------------------------------------------------- absolute effects
@dataclass(frozen=True)
class AbsoluteEffect:
    """Assumed and corresponding risks (proportions) and their difference.

    ``difference = risk_evt − risk_control``; its CI comes from the corresponding risks at the
    limits of the relative effect (the CI ignores uncertainty in the control risk, as in
    GRADE's summary of findings). Corresponding risks are clamped to [0, 1] (``clamped``).
    ``*_per1000`` give the same in events per 1000 patients.
    """

    measure: str
    relative: float
    relative_low: float
    relative_high: float
    risk_control: float
    risk_evt: float
    risk_evt_low: float
    risk_evt_high: float
    clamped: bool

    @property
    def difference(self) -> float:
        return self.risk_evt - self.risk_control

    @property
    def difference_low(self) -> float:
        return self.risk_evt_low - self.risk_control

    @property
    def difference_high(self) -> float:
        return self.risk_evt_high - self.risk_control

    @property
    def control_per1000(self) -> float:
        return 1000 * self.risk_control

    @property
    def evt_per1000(self) -> float:
        return 1000 * self.risk_evt

    @property
    def difference_per1000(self) -> tuple[float, float, float]:
        """(estimate, ci_low, ci_high) of the difference in events per 1000."""
        return 1000 * self.difference, 1000 * self.difference_low, 1000 * self.difference_high


def corresponding_risk(measure: str, effect: float, risk_control: float) -> tuple[float, bool]:
    """Risk with EVT for assumed control risk ``ACR``, clamped to [0, 1]; returns (risk, clamped).

    RR: ``ACR·RR``; OR: ``OR·ACR / (1 − ACR + OR·ACR)``; RD: ``ACR + RD``.
    """
    acr = risk_control
    if measure == "RR":
        risk = acr * effect
    elif measure == "OR":
        risk = effect * acr / (1 - acr + effect * acr)
    else:
        risk = acr + effect
    return _clamp01(risk), not 0.0 <= risk <= 1.0


def _check_relative(measure, estimate, ci_low, ci_high) -> tuple[float, float, float]:
    low_bound = -1.0 if measure == "RD" else 0.0
    high_bound = 1.0 if measure == "RD" else math.inf
    vals = tuple(_number(v, f"{name} ({measure})", low_bound, high_bound)
                 for v, name in ((estimate, "estimate"), (ci_low, "ci_low"), (ci_high, "ci_high")))
    if measure != "RD" and min(vals) <= 0:
        raise ValueError(f"The {measure} and its CI must be > 0; got {vals}.")
    if not vals[1] <= vals[0] <= vals[2]:
        raise ValueError(f"Expected ci_low <= estimate <= ci_high; got {vals}.")
    return vals


def absolute_effect(measure: str, estimate: float, ci_low: float, ci_high: float, *,
                    risk_control: float) -> AbsoluteEffect:
    """GRADE's absolute effect of a relative effect (RR, OR or RD, with CI) at ``risk_control``.

    The corresponding risk is increasing in the relative effect for all three measures, so the
    CI limits map to the CI limits of the corresponding risk and of the difference.
    """
    measure = _measure(measure)
    est, low, high = _check_relative(measure, estimate, ci_low, ci_high)
    acr = _number(risk_control, "risk_control (a proportion)", 0.0, 1.0)
    (r, c0), (rl, c1), (rh, c2) = (corresponding_risk(measure, v, acr) for v in (est, low, high))
    return AbsoluteEffect(measure, est, low, high, acr, r, rl, rh, c0 or c1 or c2)


def absolute_from_pool(pool: Any, *, risk_control: float) -> AbsoluteEffect:
    """:func:`absolute_effect` of a two-arm :class:`evtreport.meta.PoolResult`."""
    return absolute_effect(pool.measure, pool.estimate, pool.ci_low, pool.ci_high,
                           risk_control=risk_control)


def format_per1000(x: float) -> str:
    """A difference per 1000 as words: -61.7 -> "62 fewer", 40.2 -> "40 more", 0.3 -> "0".

    Rounded half away from zero (so the text does not depend on banker's rounding).
    """
    n = math.floor(abs(x) + 0.5)
    return "0" if n == 0 else f"{n} {'fewer' if x < 0 else 'more'}"


# --------------------------------------------------------------------------- NNT / NNH
def _ceil(x: float) -> int | float:
    """NNTs are rounded up (Handbook 5.1 §12.5.4.1); 9 decimals absorb float noise (1/0.05)."""
    return x if math.isinf(x) else math.ceil(round(x, 9))


def _inv(b: float) -> float:
    return math.inf if b == 0 else 1.0 / abs(b)


@dataclass(frozen=True)
class NNT:
    """Number needed to treat for one more patient to benefit (NNTB) or be harmed (NNTH).

    ``benefit`` is the risk difference oriented so that > 0 favours EVT (``risk_evt −
    risk_control`` for a desirable outcome, its negative for an undesirable one), with CI
    ``benefit_low`` to ``benefit_high``. ``value = 1/|benefit|`` (∞ for no difference).
    ``nntb`` / ``nnth``: the NNTB and NNTH ranges inside the CI (None when the CI holds no
    benefit / no harm); when the CI includes no effect both run to ∞ (Altman 1998).
    """

    benefit: float
    benefit_low: float
    benefit_high: float

    @property
    def kind(self) -> str:
        return "NNTB" if self.benefit > 0 else "NNTH" if self.benefit < 0 else "none"

    @property
    def value(self) -> float:
        return _inv(self.benefit)

    @property
    def crosses_null(self) -> bool:
        return self.benefit_low <= 0 <= self.benefit_high

    @property
    def nntb(self) -> tuple[float, float] | None:
        """(smallest, largest) NNTB in the CI: ``1/b_high`` to ``1/b_low`` (∞ if ``b_low <= 0``)."""
        if self.benefit_high <= 0:
            return None
        return _inv(self.benefit_high), _inv(max(self.benefit_low, 0.0))

    @property
    def nnth(self) -> tuple[float, float] | None:
        """(smallest, largest) NNTH in the CI: ``1/|b_low|`` to ``1/|b_high|`` (∞ if ``b_high >= 0``)."""
        if self.benefit_low >= 0:
            return None
        return _inv(self.benefit_low), _inv(min(self.benefit_high, 0.0))

    def text(self, ci_label: str = "95% CI") -> str:
        """E.g. "NNTB 9 (95% CI 6 to 20)" or Altman's "NNTB 10 (95% CI NNTB 4 to ∞ to NNTH 20)"."""
        head = "NNT ∞" if self.kind == "none" else f"{self.kind} {_nnt_str(self.value)}"
        b, h = self.nntb, self.nnth
        if b and h:
            ci = f"NNTB {_nnt_str(b[0])} to ∞ to NNTH {_nnt_str(h[0])}"
        elif b or h:
            side = "NNTB" if b else "NNTH"
            lo, hi = b or h
            ci = f"{'' if side == self.kind else side + ' '}{_nnt_str(lo)} to {_nnt_str(hi)}"
        else:
            ci = "∞"
        return f"{head} ({ci_label} {ci})"


def _nnt_str(v: float) -> str:
    return "∞" if math.isinf(v) else str(_ceil(v))


def nnt(effect: AbsoluteEffect, *, desirable: bool) -> NNT:
    """NNTB/NNTH of an absolute effect; ``desirable`` says whether the outcome is good
    (favourable functional outcome) or bad (death, sICH)."""
    d, lo, hi = effect.difference, effect.difference_low, effect.difference_high
    return NNT(d, lo, hi) if desirable else NNT(-d, -hi, -lo)


# --------------------------------------------------------------------------- MID and OIS
@dataclass(frozen=True)
class MID:
    """Minimally important difference on the absolute scale, in events per 1000.

    A change of at least ``reduction`` fewer or ``increase`` more per 1000 is important.
    ``rr_low``/``rr_high`` record a MID derived from relative thresholds (GRADE's default RR
    0.75 / 1.25); ``source`` cites a MID stated elsewhere (data string).
    """

    reduction: float
    increase: float
    rr_low: float = math.nan
    rr_high: float = math.nan
    source: str = ""

    def __post_init__(self):
        for name in ("reduction", "increase"):
            _number(getattr(self, name), f"MID {name} (events per 1000, > 0)", 1e-12, 1000)


def mid_from_rr(risk_control: float, rr_low: float = MID_RR[0], rr_high: float = MID_RR[1]) -> MID:
    """MID from relative thresholds at control risk ACR: ``1000·ACR·(1 − rr_low)`` fewer and
    ``1000·ACR·(rr_high − 1)`` more per 1000 (GRADE 6's rough guide RR 0.75 / 1.25)."""
    acr = _number(risk_control, "risk_control (a proportion, > 0)", 1e-12, 1.0)
    _number(rr_low, "rr_low (between 0 and 1)", 1e-12, 1 - 1e-12)
    _number(rr_high, "rr_high (> 1)", 1 + 1e-12)
    return MID(1000 * acr * (1 - rr_low), 1000 * acr * (rr_high - 1), rr_low=rr_low, rr_high=rr_high)


def optimal_information_size(risk_control: float, *, rrr: float = OIS_RRR, alpha: float = OIS_ALPHA,
                             power: float = OIS_POWER) -> int:
    """Participants (both arms) of one trial powered to detect a relative risk reduction ``rrr``.

    ``p1 = ACR``, ``p2 = ACR·(1 − rrr)``, ``p̄ = (p1 + p2)/2``, per arm
    ``n = [z_{1−α/2}·√(2p̄(1−p̄)) + z_{power}·√(p1(1−p1) + p2(1−p2))]² / (p1 − p2)²``
    (the normal approximation of R's ``power.prop.test``); OIS = 2·⌈n⌉.
    """
    p1 = _number(risk_control, "risk_control (a proportion strictly between 0 and 1)", 1e-12, 1 - 1e-12)
    _number(rrr, "rrr (relative risk reduction strictly between 0 and 1)", 1e-12, 1 - 1e-12)
    p2 = p1 * (1 - rrr)
    za, zb = special.ndtri(1 - alpha / 2), special.ndtri(power)
    pbar = (p1 + p2) / 2
    n = (za * math.sqrt(2 * pbar * (1 - pbar)) + zb * math.sqrt(p1 * (1 - p1) + p2 * (1 - p2))) ** 2
    return 2 * math.ceil(round(n / (p1 - p2) ** 2, 9))


def effect_direction(effect: AbsoluteEffect, mid: MID) -> str:
    """"increase" / "reduction" when the point estimate reaches the MID, else "little_or_no"."""
    d = _r(1000 * effect.difference)
    return "increase" if d >= mid.increase else "reduction" if d <= -mid.reduction else "little_or_no"


# --------------------------------------------------------------------------- judgements
@dataclass(frozen=True)
class Source:
    """Where a judgement is read: a verbatim quote and its location (document, page/table)."""

    quote: str
    location: str

    def __post_init__(self):
        for name in ("quote", "location"):
            if not str(getattr(self, name)).strip():
                raise ValueError(f"Source {name} must be non-empty text; got {getattr(self, name)!r}.")


@dataclass(frozen=True)
class Judgement:
    """One GRADE domain: levels rated down (0-2) and why.

    ``basis`` is a machine key for the rule that decided (``"judged"`` for judgements read
    from data); ``facts`` the numbers that rule used; ``reason`` and ``sources`` the
    curators' text and quotes for judged domains. Prose: :func:`reason_text`.
    """

    domain: str
    downgrade: int
    basis: str
    facts: Mapping[str, Any] = field(default_factory=dict, hash=False)
    reason: str = ""
    sources: tuple[Source, ...] = ()

    def __post_init__(self):
        if self.domain not in DOMAINS:
            raise ValueError(f"Unknown GRADE domain {self.domain!r}; expected one of {', '.join(DOMAINS)}.")
        if self.downgrade not in (0, 1, 2) or isinstance(self.downgrade, bool):
            raise ValueError(f"downgrade for {self.domain} must be 0, 1 or 2; got {self.downgrade!r}.")
        object.__setattr__(self, "facts", MappingProxyType(dict(self.facts)))


def judged(domain: str, downgrade: int, reason: str,
           sources: Iterable[Source | tuple[str, str]]) -> Judgement:
    """A judgement read from data (risk of bias, indirectness, ...): reason and at least one
    quote with its location are required."""
    srcs = tuple(s if isinstance(s, Source) else Source(*s) for s in sources)
    if not str(reason).strip():
        raise ValueError(f"A judged {domain} needs a reason; got {reason!r}.")
    if not srcs:
        raise ValueError(f"A judged {domain} needs at least one source (quote, location).")
    return Judgement(domain, int(downgrade), "judged", reason=str(reason), sources=srcs)


def inconsistency(*, i2: float, k: int, estimates: Iterable[float], ci_low: Iterable[float],
                  ci_high: Iterable[float], null: float, labels: Iterable[str] | None = None,
                  pi: tuple[float, float] = (math.nan, math.nan)) -> Judgement:
    """Inconsistency from I² (percent), the trials' CIs and the side of no effect (``null``).

    k = 1: not assessable (0). Otherwise one level if I² ≥ 50% or two trials' CIs do not
    overlap (``max(ci_low) > min(ci_high)``); two levels if I² ≥ 75% and the trials' point
    estimates lie on both sides of ``null``. The prediction interval ``pi`` is reported only.
    """
    est, lo, hi = (np.asarray(list(v), dtype=float) for v in (estimates, ci_low, ci_high))
    k = int(k)
    if not (est.size == lo.size == hi.size == k):
        raise ValueError(f"estimates, ci_low and ci_high need one value per trial (k = {k}); "
                         f"got {est.size}, {lo.size}, {hi.size}.")
    if k == 1:
        return Judgement("inconsistency", 0, "single_study", {"k": 1})
    i2 = _number(i2, "i2 (percent)", 0.0, 100.0)
    names = list(labels) if labels is not None else [f"Study {i + 1}" for i in range(k)]
    apart = bool(lo.max() > hi.min())
    opposite = bool((est > null).any() and (est < null).any())
    level = 2 if i2 >= I2_CONSIDERABLE and opposite else 1 if (i2 >= I2_SUBSTANTIAL or apart) else 0
    facts = {"k": k, "i2": i2, "apart": apart, "opposite": opposite,
             "apart_pair": (names[int(lo.argmax())], names[int(hi.argmin())]) if apart else (),
             "pi_low": float(pi[0]), "pi_high": float(pi[1]), "null": null,
             "has_pi": bool(np.isfinite(pi).all()), "pi_includes_null": bool(pi[0] <= null <= pi[1])}
    basis = ("i2_considerable_opposite" if level == 2 else "i2_considerable" if i2 >= I2_CONSIDERABLE
             else "i2_substantial" if i2 >= I2_SUBSTANTIAL else "cis_apart" if apart else "consistent")
    return Judgement("inconsistency", level, basis, facts)


def inconsistency_from_pool(pool: Any) -> Judgement:
    """:func:`inconsistency` of a two-arm :class:`evtreport.meta.PoolResult`, with the I² the
    report prints (``pool.i2``) and the per-study Wald CIs of ``pool.studies``."""
    s = pool.studies
    return inconsistency(i2=pool.i2, k=pool.k, estimates=s["estimate"],
                         ci_low=s["ci_low"], ci_high=s["ci_high"], labels=s["label"],
                         null=0.0 if pool.measure == "RD" else 1.0, pi=(pool.pi_low, pool.pi_high))


def imprecision(effect: AbsoluteEffect, *, mid: MID, participants: int, rrr: float = OIS_RRR) -> Judgement:
    """Imprecision of the absolute effect against the MID thresholds −reduction and +increase.

    One level for each threshold strictly inside the CI (L, U) of the difference per 1000
    (both: the CI holds an important reduction and an important increase). If the CI crosses
    none, one level when ``participants`` < OIS at the control risk (GRADE 6: a precise-looking
    CI from a small body of evidence is fragile).
    """
    d, low, high = (_r(v) for v in effect.difference_per1000)
    n = int(_number(participants, "participants (total in both arms)", 1))
    crossed = tuple(name for name, t in (("reduction", -mid.reduction), ("increase", mid.increase))
                    if low < t < high)
    ois = optimal_information_size(effect.risk_control, rrr=rrr) if 0 < effect.risk_control < 1 else None
    level = len(crossed) or int(ois is not None and n < ois)
    basis = ("ci_crosses_both_mids" if len(crossed) == 2 else "ci_crosses_mid" if crossed
             else "ois_not_met" if level else "precise")
    facts = {"estimate": d, "ci_low": low, "ci_high": high, "mid_reduction": mid.reduction,
             "mid_increase": mid.increase, "rr_low": mid.rr_low, "rr_high": mid.rr_high,
             "mid_source": mid.source, "crossed": crossed, "includes_null": low <= 0 <= high,
             "participants": n, "ois": ois, "rrr": rrr, "direction": effect_direction(effect, mid)}
    return Judgement("imprecision", level, basis, facts)


def publication_bias(k: int, judgement: Judgement | None = None) -> Judgement:
    """Fewer than 10 studies: not assessable (0 levels, said so). Otherwise the judgement
    passed in (e.g. from a funnel plot read by the curators) is required."""
    k = int(_number(k, "k (number of studies)", 1))
    if k < PUBLICATION_BIAS_MIN_STUDIES:
        return Judgement("publication_bias", 0, "not_assessable",
                         {"k": k, "min_k": PUBLICATION_BIAS_MIN_STUDIES})
    if judgement is None or judgement.domain != "publication_bias":
        raise ValueError(f"With {k} studies publication bias must be judged; pass a "
                         f"judged('publication_bias', ...) judgement.")
    return judgement


# --------------------------------------------------------------------------- certainty
@dataclass(frozen=True)
class Certainty:
    """Certainty of a body of evidence for one outcome: start level by design, minus the
    levels rated down over the five domains, floored at Very low (1)."""

    design: str
    judgements: tuple[Judgement, ...]

    @property
    def start(self) -> int:
        return DESIGNS[self.design]

    @property
    def downgrades(self) -> dict[str, int]:
        return {j.domain: j.downgrade for j in self.judgements}

    @property
    def rating(self) -> int:
        """``max(1, start − Σ downgrades)``: 4 High, 3 Moderate, 2 Low, 1 Very low."""
        return max(1, self.start - sum(j.downgrade for j in self.judgements))

    @property
    def label(self) -> str:
        return LEVELS[self.rating]

    @property
    def symbols(self) -> str:
        return SYMBOLS[self.rating]

    def judgement(self, domain: str) -> Judgement:
        return next(j for j in self.judgements if j.domain == domain)


def rate_certainty(design: str, judgements: Iterable[Judgement]) -> Certainty:
    """A :class:`Certainty` from exactly one judgement per domain (kept in ``DOMAINS`` order)."""
    if design not in DESIGNS:
        raise ValueError(f"Unknown study design {design!r}; expected one of {', '.join(DESIGNS)}.")
    by_domain: dict[str, Judgement] = {}
    for j in judgements:
        if j.domain in by_domain:
            raise ValueError(f"Two judgements for the GRADE domain {j.domain!r}.")
        by_domain[j.domain] = j
    missing = [d for d in DOMAINS if d not in by_domain]
    if missing:
        raise ValueError(f"Missing GRADE domain judgement(s): {', '.join(missing)}.")
    return Certainty(design, tuple(by_domain[d] for d in DOMAINS))


# --------------------------------------------------------------------------- prose
def _fmt_facts(j: Judgement) -> dict[str, Any]:
    f = dict(j.facts)
    for key in ("estimate", "ci_low", "ci_high"):
        if key in f:
            f[key + "_text"] = format_per1000(f[key])
    for key in ("mid_reduction", "mid_increase"):
        if key in f:
            f[key + "_text"] = str(math.floor(f[key] + 0.5))
    return f


def reason_text(j: Judgement) -> Markup:
    """The reason for one domain's judgement, from ``grade/reasons/<domain>.md.j2``."""
    name = "judged" if j.basis == "judged" else j.domain
    return text.render(f"grade/reasons/{name}.md.j2", j=j, f=_fmt_facts(j))


_NOT_ASSESSABLE = ("not_assessable", "single_study")


def footnotes(certainty: Certainty) -> tuple[Markup, ...]:
    """One footnote per domain rated down, and per domain that could not be assessed."""
    return tuple(text.render("grade/footnote.md.j2", label=DOMAIN_LABELS[j.domain],
                             downgrade=j.downgrade, reason=reason_text(j))
                 for j in certainty.judgements if j.downgrade or j.basis in _NOT_ASSESSABLE)


def statement(certainty: Certainty | int, direction: str, *, outcome: str, intervention: str = "EVT",
              comparator: str | None = None) -> Markup:
    """GRADE's informative statement (Santesso 2020) for a certainty rating and a direction
    ("increase", "reduction" or "little_or_no", see :func:`effect_direction`)."""
    rating = certainty.rating if isinstance(certainty, Certainty) else int(certainty)
    if rating not in LEVELS:
        raise ValueError(f"certainty rating must be 1-4; got {rating!r}.")
    if direction not in ("increase", "reduction", "little_or_no"):
        raise ValueError(f"direction must be 'increase', 'reduction' or 'little_or_no'; got {direction!r}.")
    return text.render("grade/statement.md.j2", rating=rating, direction=direction, outcome=outcome,
                       intervention=intervention, comparator=comparator)
