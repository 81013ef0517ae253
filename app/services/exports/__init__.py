"""List exports (CSV and XLSX) of the list screens, with their filters, order and scope.

- cells: what a cell holds (ISO dates, numbers, translated enums) and formula neutralising;
- writers: the CSV stream and the XLSX spooled file;
- listing: the list arguments replayed through FAB's filters, the query, the audit row;
- jobs: beyond ``EXPORT_SYNC_MAX_ROWS`` rows, the same export as a tabular job.

The screens' door is app/views/exports.py.
"""

from app.services.exports.cells import ExportColumn
from app.services.exports.listing import (
    ExportPlan,
    ListExport,
    list_args,
    plan_export,
    plan_rows,
    record_export,
)

__all__ = [
    "ExportColumn",
    "ExportPlan",
    "ListExport",
    "list_args",
    "plan_export",
    "plan_rows",
    "record_export",
]
