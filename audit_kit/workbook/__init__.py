"""Write auditor workbooks (openpyxl) and read returned ones back (fastexcel/calamine).

The package's modules: ``_layout`` (headers, allowed values, the recorded layout, row digests,
a unit's codes), ``_assign`` (original columns, units to auditors, double review), ``_write``
(rendering and recording the workbooks), ``_read`` (a returned workbook's cells as text).

Layout of a workbook (docs/auditor-guide.md, docs/architecture.md "Workbooks"):

``Instructions``  how to fill it, allowed values, contact, audit and workbook id
``Sample``        one row per unit: the plan's ``workbook.columns`` under the universe's column
                  names (locked), a ``Spare`` marker when the workbook holds spares (locked),
                  then the finding columns :data:`FINDING_HEADERS` (unlocked). The audited code
                  columns are pre-filled with the original codes; ``Review status`` starts empty.
``Lists``         allowed values for the drop-downs (hidden, protected)
``_audit``        audit id, workbook id, unit ids, SHA-256 of each row's original data, tool
                  version (very hidden, protected)

Beside each workbook the audit folder records ``workbooks/<id>.json``: the columns, the units
with their row hashes and roles (``primary`` or ``second`` for the double-review subsample).
Collection trusts that record, not the returned file: the ``_audit`` sheet only says which
workbook a returned file claims to be.

Every text value is written as a string cell with Excel's quote prefix, so ``=cmd|...``, ``+1``,
``-2``, ``@x``, a leading tab or CR arrive in Excel as the same text and never as a formula.
Characters XML 1.0 cannot carry are written with Excel's ``_xHHHH_`` escapes, and CR as ``&#13;``,
so every string round-trips exactly.
"""

from __future__ import annotations

from audit_kit.folder.workbook_record import (
    WORKBOOK_FORMAT,
    OriginalColumn,
    WorkbookLayout,
)
from audit_kit.folder.workbook_record import (
    ColumnKind as ColumnKind,
)
from audit_kit.workbook._layout import (
    CELL_SEPARATOR as CELL_SEPARATOR,
)
from audit_kit.workbook._layout import (
    CODER_RESPONSES,
    ERROR_CATEGORIES,
    FINDING_HEADERS,
    STATUSES,
    UnitCodes,
    canonical_value,
    code_reader,
    load_audit,
    load_layouts,
    row_digest,
    row_digests,
    unit_codes,
)
from audit_kit.workbook._layout import (
    SHEET_AUDIT as SHEET_AUDIT,
)
from audit_kit.workbook._layout import (
    SHEET_INSTRUCTIONS as SHEET_INSTRUCTIONS,
)
from audit_kit.workbook._layout import (
    SHEET_LISTS as SHEET_LISTS,
)
from audit_kit.workbook._layout import (
    SHEET_SAMPLE as SHEET_SAMPLE,
)
from audit_kit.workbook._layout import (
    SPARE_HEADER as SPARE_HEADER,
)
from audit_kit.workbook._layout import (
    SPARE_MARK as SPARE_MARK,
)
from audit_kit.workbook._layout import (
    prefilled as prefilled,
)
from audit_kit.workbook._read import ReturnedSheet, read_returned
from audit_kit.workbook._write import write_workbooks

__all__ = [
    "workbooks",
    "CODER_RESPONSES",
    "ERROR_CATEGORIES",
    "FINDING_HEADERS",
    "STATUSES",
    "WORKBOOK_FORMAT",
    "OriginalColumn",
    "ReturnedSheet",
    "UnitCodes",
    "WorkbookLayout",
    "canonical_value",
    "code_reader",
    "load_audit",
    "load_layouts",
    "read_returned",
    "row_digest",
    "row_digests",
    "unit_codes",
    "write_workbooks",
]


# The library name of the command (`audit-kit workbooks`).
workbooks = write_workbooks
