"""One parser per kind of value found in universes and returned workbooks.

:mod:`audit_kit.values.codes`: code lists (ICD-10-CM/PCS, CPT/HCPCS with modifiers, DRG).
:mod:`audit_kit.values.counts`: the words for the audit's unit counts (units sampled, scored...).
"""
