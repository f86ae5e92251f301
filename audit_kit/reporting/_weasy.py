"""Import WeasyPrint in one place.

WeasyPrint 70 emits a DeprecationWarning at import when the system lacks the HarfBuzz subsetting
library (Debian: ``libharfbuzz-subset0``); it then subsets fonts with fontTools, slower but
correct. The warning is about the machine, not about anything a user of audit-kit can act on
in a report, so it is silenced here, for that message only. :data:`HARFBUZZ_SUBSET` says whether
WeasyPrint found the library (reporting/pdf.py embeds small fonts whole when it did not).
"""

from __future__ import annotations

import warnings

with warnings.catch_warnings():
    warnings.filterwarnings(
        "ignore", message="HarfBuzz-Subset will be required", category=DeprecationWarning
    )
    import weasyprint
    from weasyprint.text import ffi as _ffi
    from weasyprint.text.fonts import FontConfiguration
    from weasyprint.urls import URLFetcher, URLFetcherResponse

#: True when WeasyPrint subsets fonts with HarfBuzz (C, fast), False when with fontTools.
HARFBUZZ_SUBSET: bool = getattr(_ffi, "harfbuzz_subset", None) is not None

__all__ = ["HARFBUZZ_SUBSET", "FontConfiguration", "URLFetcher", "URLFetcherResponse", "weasyprint"]
