"""Long value lists cut into IN (...) lists a database accepts."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TypeVar

T = TypeVar("T")
IN_LIST_MAX = 500  # values per IN (...) list: far below every database's parameter limit


def in_lists(values: Sequence[T]) -> Iterator[Sequence[T]]:
    """``values`` in slices of IN_LIST_MAX, one IN (...) list each."""
    for start in range(0, len(values), IN_LIST_MAX):
        yield values[start : start + IN_LIST_MAX]
