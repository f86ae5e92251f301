"""The demo: synthetic example data, simulated auditors, and the whole audit cycle on them.

:mod:`~audit_kit.demo.example_data` (the synthetic universe), :mod:`~audit_kit.demo.simulation`
(simulated auditors filling workbooks), :mod:`~audit_kit.demo.cycle` (``audit-kit demo``),
:mod:`~audit_kit.demo.program` (the later quarters and their trend).
"""
