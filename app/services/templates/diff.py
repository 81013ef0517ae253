"""Two versions of a template side by side, line by line.

``diff_rows`` gives every line (the API's answer); ``diff_hunks`` gives only the
changed lines with a few lines of context around them, each changed line split
into words marked changed or not (the screen's answer).
"""

from __future__ import annotations

import difflib
import re
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
    left, right = _bodies(template, a, b)
    return side_by_side(left, right)


def _bodies(template: Template, a: int, b: int) -> tuple[list[str], list[str]]:
    bodies = {version.number: version.body for version in template.versions}
    errors = {
        field: _("This template has no version %(number)s.", number=number)
        for field, number in (("a", a), ("b", b))
        if isinstance(number, bool) or number not in bodies
    }
    if errors:
        raise ModelValidationError(errors)
    return bodies[a].splitlines(), bodies[b].splitlines()


Opcode = tuple[str, int, int, int, int]


def side_by_side(left: list[str], right: list[str]) -> list[DiffRow]:
    matcher = difflib.SequenceMatcher(a=left, b=right, autojunk=False)
    return _rows(left, right, matcher.get_opcodes())


def _rows(left: list[str], right: list[str], opcodes: list[Opcode]) -> list[DiffRow]:
    rows: list[DiffRow] = []
    for tag, i1, i2, j1, j2 in opcodes:
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


# --- hunks: what the screen shows --------------------------------------------------

CONTEXT_LINES = 3
# Tag openings ("<p", "</td"), Jinja delimiters, words, runs of spaces, or single
# other characters: "{{ policy.number }}" splits into "{{", " ", "policy", ".",
# "number", ... so a changed name is marked alone, and an added tag whole.
TOKEN = re.compile(r"</?\w+|\{[{%#]-?|-?[}%#]\}|\w+|\s+|[^\w\s]")
# SequenceMatcher is quadratic in the worst case: a minified line of thousands of
# tokens is marked changed as a whole rather than compared word by word.
MAX_WORD_DIFF_TOKENS = 2000


@dataclass(frozen=True)
class Piece:
    """A run of a line's text; ``changed`` pieces are the words that differ."""

    text: str
    changed: bool


@dataclass(frozen=True)
class HunkRow:
    """A DiffRow whose texts are split into pieces (None for a side without a line)."""

    tag: str
    left_number: int | None
    left: list[Piece] | None
    right_number: int | None
    right: list[Piece] | None


@dataclass(frozen=True)
class Hunk:
    """Changed lines with their context. ``number`` counts from 1 (the anchor);
    ``hidden_before``: unchanged lines not shown between the previous hunk and this one."""

    number: int
    hidden_before: int
    rows: list[HunkRow]

    @property
    def first_change(self) -> HunkRow:
        return next(row for row in self.rows if row.tag != "equal")

    @property
    def line(self) -> int:
        """Where the change is, in the new version (the old one for a pure deletion)."""
        row = self.first_change
        return row.right_number or row.left_number or 0


@dataclass(frozen=True)
class HunkDiff:
    hunks: list[Hunk]
    hidden_after: int  # unchanged lines after the last hunk

    @property
    def identical(self) -> bool:
        return not self.hunks


def diff_hunks(template: Template, a: int, b: int, context: int = CONTEXT_LINES) -> HunkDiff:
    """The changes from version ``a`` to version ``b``, ``context`` lines around each."""
    left, right = _bodies(template, a, b)
    return hunks_of(left, right, context)


def hunks_of(left: list[str], right: list[str], context: int = CONTEXT_LINES) -> HunkDiff:
    matcher = difflib.SequenceMatcher(a=left, b=right, autojunk=False)
    if all(tag == "equal" for tag, *_ in matcher.get_opcodes()):
        return HunkDiff(hunks=[], hidden_after=0)
    hunks: list[Hunk] = []
    shown_until = 0  # index in ``left`` after the previous hunk
    for number, group in enumerate(matcher.get_grouped_opcodes(context), start=1):
        rows = [_split_words(row) for row in _rows(left, right, group)]
        hunks.append(Hunk(number=number, hidden_before=group[0][1] - shown_until, rows=rows))
        shown_until = group[-1][2]
    return HunkDiff(hunks=hunks, hidden_after=len(left) - shown_until)


def _split_words(row: DiffRow) -> HunkRow:
    if row.tag == "replace" and row.left_text is not None and row.right_text is not None:
        left, right = word_diff(row.left_text, row.right_text)
    else:
        # Equal, inserted or deleted lines: the row's colour says it all.
        left = None if row.left_text is None else [Piece(row.left_text, False)]
        right = None if row.right_text is None else [Piece(row.right_text, False)]
    return HunkRow(row.tag, row.left_number, left, row.right_number, right)


def word_diff(old: str, new: str) -> tuple[list[Piece], list[Piece]]:
    """Both lines cut into pieces, the words that differ marked ``changed``."""
    old_tokens, new_tokens = TOKEN.findall(old), TOKEN.findall(new)
    if max(len(old_tokens), len(new_tokens)) > MAX_WORD_DIFF_TOKENS:
        return [Piece(old, True)], [Piece(new, True)]
    matcher = difflib.SequenceMatcher(a=old_tokens, b=new_tokens, autojunk=False)
    left: list[Piece] = []
    right: list[Piece] = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        changed = tag != "equal"
        _append(left, "".join(old_tokens[i1:i2]), changed)
        _append(right, "".join(new_tokens[j1:j2]), changed)
    return left, right


def _append(pieces: list[Piece], text: str, changed: bool) -> None:
    """Add a run, merged with the previous one when both are (un)changed alike."""
    if not text:
        return
    if pieces and pieces[-1].changed == changed:
        pieces[-1] = Piece(pieces[-1].text + text, changed)
    else:
        pieces.append(Piece(text, changed))
