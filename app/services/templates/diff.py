"""Two versions of a template side by side, line by line."""

from __future__ import annotations

import difflib
from dataclasses import asdict, dataclass
from typing import Any

from flask_babel import gettext as _

from app.models import Template
from app.models.base import ModelValidationError


@dataclass(frozen=True)
class DiffRow:
    """One row of a side-by-side diff; a side without a line has None for both its fields.

    ``tag``: equal, replace (a line changed), delete (only on the left) or insert
    (only on the right). Line numbers start at 1.
    """

    tag: str
    left_number: int | None
    left_text: str | None
    right_number: int | None
    right_text: str | None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def diff_rows(template: Template, a: int, b: int) -> list[DiffRow]:
    """Rows comparing version ``a`` (left) with version ``b`` (right) of ``template``."""
    bodies = {version.number: version.body for version in template.versions}
    errors = {
        field: _("This template has no version %(number)s.", number=number)
        for field, number in (("a", a), ("b", b))
        if isinstance(number, bool) or number not in bodies
    }
    if errors:
        raise ModelValidationError(errors)
    return side_by_side(bodies[a].splitlines(), bodies[b].splitlines())


def side_by_side(left: list[str], right: list[str]) -> list[DiffRow]:
    rows: list[DiffRow] = []
    matcher = difflib.SequenceMatcher(a=left, b=right, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        # A replaced block pairs its lines; the longer side's extra lines stand alone.
        for offset in range(max(i2 - i1, j2 - j1)):
            i, j = i1 + offset, j1 + offset
            has_left, has_right = i < i2, j < j2
            if tag == "equal":
                row_tag = "equal"
            elif has_left and has_right:
                row_tag = "replace"
            else:
                row_tag = "delete" if has_left else "insert"
            rows.append(
                DiffRow(
                    tag=row_tag,
                    left_number=i + 1 if has_left else None,
                    left_text=left[i] if has_left else None,
                    right_number=j + 1 if has_right else None,
                    right_text=right[j] if has_right else None,
                )
            )
    return rows
