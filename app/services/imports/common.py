"""What every step of an import shares: the limits, the refusal and the per-row error."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from flask_babel import gettext as _

from app.services.errors import InvalidRequestError

KINDS = ("clients", "policies")


class ImportRefusedError(InvalidRequestError):
    """The file as a whole cannot be imported (type, size, encoding, layout); nothing was read."""


@dataclass(frozen=True)
class Limits:
    max_bytes: int = 5 * 1024 * 1024
    max_rows: int = 10_000
    max_cell_chars: int = 1_000
    # Sum of the uncompressed sizes of an XLSX's parts: a zip bomb is refused before it is opened.
    max_uncompressed_bytes: int = 64 * 1024 * 1024

    @classmethod
    def from_config(cls, config: Any) -> Limits:
        return cls(
            max_bytes=int(config.get("IMPORT_MAX_BYTES", cls.max_bytes)),
            max_rows=int(config.get("IMPORT_MAX_ROWS", cls.max_rows)),
            max_cell_chars=int(config.get("IMPORT_MAX_CELL_CHARS", cls.max_cell_chars)),
            max_uncompressed_bytes=int(
                config.get("IMPORT_MAX_UNCOMPRESSED_BYTES", cls.max_uncompressed_bytes)
            ),
        )


@dataclass
class Table:
    """A sheet as read: the header row and the data rows with their spreadsheet row numbers."""

    headers: list[str]
    rows: list[tuple[int, list[Any]]] = field(default_factory=list)


@dataclass(frozen=True)
class RowError:
    row: int  # as the spreadsheet shows it: the header is row 1
    column: str  # the file's header, or "" when the error concerns the whole row
    message: str


def collect_rows(rows: Iterable[tuple[int, list[Any]]], limits: Limits) -> Table:
    """Header first, then data rows; blank rows are skipped but keep their numbers."""
    table: Table | None = None
    for number, cells in rows:
        for index, cell in enumerate(cells):
            if isinstance(cell, str) and len(cell) > limits.max_cell_chars:
                raise ImportRefusedError(
                    _(
                        "Row %(row)d, column %(column)d: a cell holds more than %(n)d characters.",
                        row=number,
                        column=index + 1,
                        n=limits.max_cell_chars,
                    )
                )
        if table is None:
            if any(_filled(cell) for cell in cells):
                table = Table(headers=[str(cell or "").strip() for cell in cells])
            continue
        if not any(_filled(cell) for cell in cells):
            continue
        if len(table.rows) >= limits.max_rows:
            raise ImportRefusedError(
                _("The file has more than %(n)d data rows: split it.", n=limits.max_rows)
            )
        table.rows.append((number, list(cells)))
    return table or Table(headers=[])


def _filled(cell: Any) -> bool:
    return cell is not None and not (isinstance(cell, str) and not cell.strip())
