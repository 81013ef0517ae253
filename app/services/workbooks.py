"""Write-only openpyxl workbooks that leave nothing behind when writing fails.

openpyxl's write-only sheets stream their rows into temporary files that it only
deletes when the workbook is saved or the process exits. A long-lived worker whose
exports, reports or renders fail would otherwise fill the temporary folder.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any


@contextlib.contextmanager
def write_only_workbook() -> Iterator[Any]:
    """A write-only Workbook whose temporary files are deleted if the block fails."""
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    try:
        yield workbook
    except BaseException:
        discard(workbook)
        raise


def discard(workbook: Any) -> None:
    """Close and delete the temporary files of a workbook that will not be saved."""
    for worksheet in workbook._sheets:
        writer = getattr(worksheet, "_writer", None)
        if writer is None:
            continue
        with contextlib.suppress(Exception):
            if worksheet._rows is not None:
                worksheet._rows.close()
        with contextlib.suppress(Exception):
            writer.close()
        with contextlib.suppress(Exception):
            writer.cleanup()
