"""Safe access to files the stages read and write: bomb-safe zip packages (:mod:`.archive`).

The lowest layer beside :mod:`audit_kit.errors`: it knows nothing of audits, plans or
workbooks, so universe reading (``universe``) and returned workbooks (``workbook``) share it.
"""
