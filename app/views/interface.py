"""The API's list interface (base-table counts, cheap deep pages) with three additions
the list screens need.

- ``eager``: relations loaded with the page, so a list of 25 policies does not run
  50 lazy loads for their client and insurer: a many-to-one relation (at most one
  row per row) is joined into the page's own SELECT (joinedload: no statement of
  its own), a collection comes in one extra query per page (selectinload); a dotted
  path (``policy.client``) loads a relation of a relation the same way.
- ``computed``: cell values built from the whole row (a premium with its
  currency), since FAB's formatters only see the column's own value.
- ``orders``: named orders over SQL expressions (the policies' work order), usable
  as a view's ``base_order``; FAB only sorts by one column. Ties are broken by the
  id so that pages neither repeat nor skip a row.

Its date filters read dates day-first and times in the reader's time zone
(app/views/date_filters.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from sqlalchemy import asc, desc
from sqlalchemy.orm import Query, joinedload, selectinload

from app.api.interface import ListQueryInterface
from app.views.date_filters import LocalDateFilterConverter


class ListInterface(ListQueryInterface):
    filter_converter_class = LocalDateFilterConverter

    def __init__(
        self,
        obj: type,
        *,
        eager: Iterable[str] = (),
        computed: dict[str, Callable[[Any], Any]] | None = None,
        orders: dict[str, Sequence[Any]] | None = None,
    ) -> None:
        super().__init__(obj)
        self.eager = tuple(eager)
        self.computed = dict(computed or {})
        self.orders = {name: tuple(keys) for name, keys in (orders or {}).items()}

    def orders_on_base_table(self, order_column: str) -> bool:
        return order_column in self.orders or super().orders_on_base_table(order_column)

    def apply_order_by(
        self,
        query: Query,
        order_column: str,
        order_direction: str,
        *args: Any,
        **kwargs: Any,
    ) -> Query:
        keys = self.orders.get(order_column)
        if keys is None:
            return super().apply_order_by(query, order_column, order_direction, *args, **kwargs)
        direction = desc if order_direction == "desc" else asc
        return query.order_by(*(direction(key) for key in keys), direction(self.get_pk()))

    def apply_all(self, query: Query, *args: Any, **kwargs: Any) -> Query:
        query = super().apply_all(query, *args, **kwargs)
        if self.eager:
            query = query.options(*(self._eager_load(path) for path in self.eager))
        return query

    def _eager_load(self, path: str) -> Any:
        model: Any = self.obj
        load: Any = None
        for name in path.split("."):
            attribute = getattr(model, name)
            # A LEFT OUTER JOIN of a many-to-one cannot add rows: the page's LIMIT holds.
            how = "selectinload" if attribute.property.uselist else "joinedload"
            if load is None:
                load = selectinload(attribute) if how == "selectinload" else joinedload(attribute)
            else:
                load = getattr(load, how)(attribute)
            model = attribute.property.mapper.class_
        return load

    def _get_attr_value(self, item: Any, col: str) -> Any:
        builder = self.computed.get(col)
        if builder is not None:
            return builder(item)
        return super()._get_attr_value(item, col)
