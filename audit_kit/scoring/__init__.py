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
* **record accuracy** = share of units without error. Exact limits: the hypergeometric rule of
  RAT-STATS with the group's universe count when the design fixes it (simple design, a stratum,
  or a group that is exactly one stratum, e.g. coders in a per-coder design), else
  Clopper-Pearson. The overall share of a stratified design is the stratified attribute
  appraisal (normal approximation with z, as RAT-STATS). DRG and financial accuracy likewise;
* **code accuracy** = sum correct / sum (correct + weighted errors), the ratio estimator with
  units as clusters (``stats.ratio_interval``; Cochran 1977 ch. 6); with a stratified design
  each unit carries its weight N_h/n_h (the variance then ignores the stratification, an
  approximation the method string states);
* the **verdict** compares the code accuracy interval with the target: meets (lower >= target),
  below (upper < target), inconclusive; record accuracy's verdict is given beside it;
* **extrapolation** (overall and per stratum): the differences, netted as the plan says
  (``net``: examined - audited; ``overpayments_only``: underpayments entered as 0;
  ``gross``: absolute differences), appraised per stratum with N_h from sampling.json
  (``stats.appraise_variable`` for a simple design, ``appraise_variable_stratified`` otherwise),
  with the demand rule applied and its reason (methods.md 3.4), and the attribute appraisal of the
  rate of units with a payment error. ``financial.extrapolate: false`` (probe) skips it.
* **CIA discovery** (``scoring.error_threshold``): net error rate = net overpayment / amount
  examined in the sample; at or above the threshold, the full-sample size from the discovery
  sample's overpayments (underpayments as 0) at 90% confidence and 25% precision.
"""

from __future__ import annotations

from audit_kit.scoring._extrapolation import Extrapolation, extrapolate, netted
from audit_kit.scoring._results import score_audit, score_frames
from audit_kit.scoring._units import STATUSES, ScoredUnit

__all__ = [
    "STATUSES",
    "Extrapolation",
    "ScoredUnit",
    "extrapolate",
    "netted",
    "score",
    "score_audit",
    "score_frames",
]

# The library name of the command (`audit-kit score`).
score = score_audit
