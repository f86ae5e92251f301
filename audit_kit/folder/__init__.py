"""The audit folder: manifest ``audit.json``, hash-checked artifacts, event log and transactions.

:mod:`audit_kit.folder.manifest` holds :class:`AuditFolder` (create, open, transaction, verify).
"""
