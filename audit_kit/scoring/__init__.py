"""Score an audit: accuracy per group with confidence limits, financial impact, extrapolation.

``score_audit(audit_dir)`` reads ``plan.yaml``, ``sampling.json``, ``sample.csv`` and
``findings.csv`` through the audit folder (hash-checked), and writes ``results.json`` (structure
in docs/architecture.md) and ``results.xlsx`` in one transaction with a ``score`` event.

What is scored (docs/methods.md section 7):

* units with status ``reviewed`` or ``record missing``; ``not reviewed`` units are excluded and
  counted; sampled units not yet returned count as outstanding in ``progress``;
* a unit **has an error** when the record is missing, a scored code change carries weight
  (:mod:`audit_kit.scoring.comparison`), the DRG changed (unless observe-only), the payment
  changed, or
  the auditor gave an error category;
* every estimate goes through the sampling design (docs/methods.md section 4): the overall
  figure is the stratified ratio estimator, a group that cuts across strata (providers,
  auditors, settings, coders of a design not stratified by coder) a domain of the design
  (``stats.design_accuracy``), with the Korn-Graubard beta interval at the design effective
  sample size; every accuracy block carries ``se``, ``one_sided_lower`` and ``one_sided_upper``
  (one-sided at the scoring confidence = the two-sided 2C - 1 limits);
* **record accuracy** = share of units without error. RAT-STATS' rules where RAT-STATS has one:
  the exact hypergeometric limits for a simple design's overall share or one whole stratum (e.g.
  a coder in a per-coder design), the stratified attribute appraisal (normal approximation with
  z) for the overall share of a stratified design; any other group is a domain. DRG and
  financial accuracy likewise;
* **code accuracy** = sum correct / sum (correct + weighted errors), units as clusters;
* the **verdict** compares the one-sided bounds with the target: meets (``one_sided_lower`` >=
  target), below (``one_sided_upper`` < target), inconclusive; record accuracy's verdict is
  given beside it;
* **extrapolation** (overall and per stratum): the differences, netted as the plan says
  (``net``: examined - audited; ``overpayments_only``: underpayments entered as 0;
  ``gross``: absolute differences), appraised per stratum with N_h from sampling.json
  (``stats.appraise_variable`` for a simple design, ``appraise_variable_stratified`` otherwise),
  with the demand rule applied and its reason (methods.md 3.4), and the attribute appraisal of the
  rate of units with a payment error. ``financial.extrapolate: false`` (probe) skips it.
  ``financial.robust_bound`` adds a Kaplan-Wald or minimum-sum lower bound on the overpayments
  beside the t limit, which the demand then uses (``demand_bound``).
* **CIA discovery** (``scoring.error_threshold``): net error rate = net overpayment / amount
  examined in the sample; at or above the threshold, the full-sample size from the discovery
  sample's overpayments (underpayments as 0) at 90% confidence and 25% precision.
"""

from __future__ import annotations

from audit_kit.scoring._extrapolation import Extrapolation, extrapolate, netted
from audit_kit.scoring._results import score_audit, score_audit_frames, score_frames
from audit_kit.scoring._units import STATUSES, ScoredUnit

__all__ = [
    "STATUSES",
    "Extrapolation",
    "ScoredUnit",
    "extrapolate",
    "netted",
    "score",
    "score_audit",
    "score_audit_frames",
    "score_frames",
]

# The library name of the command (`audit-kit score`).
score = score_audit
