"""FAB's SQLAlchemy data interface, with list counts and deep pages that scale.

Two of FAB's list queries cost far more than the answer needs (docs/benchmarks.md):

- The count wraps the whole page query, LEFT JOINs and every selected column
  included, in ``SELECT count(*) FROM (...)``. SQLite keeps the joins and looks
  up every row's relations; PostgreSQL loses its index-only scan. A LEFT JOIN
  to a many-to-one relation on the related primary key matches at most one row,
  so it cannot change the number of rows: counting the base table with the same
  WHERE gives the same number.
- A deep page (``OFFSET 40000``) joins every skipped row to its relations
  before throwing it away. Choosing the page's ids on the base table first,
  then joining only those rows (a "deferred join"), returns the same rows in the
  same order.

Both shortcuts apply only when they are provably equivalent: every filter is on
a column of the base table, and every related column in the list comes through
a plain many-to-one relation. Anything else goes to FAB's own code.

The joins FAB adds for related columns (``client.last_name``) are also built
once per relation instead of once per request: FAB makes a new alias of the
related model each time, and setting up its columns was a third of a short
list request's time. The SQL is the same, alias names included.
"""

from __future__ import annotations

import copy
from decimal import Decimal, InvalidOperation
from typing import Any

from flask_appbuilder.models.filters import Filters
from flask_appbuilder.models.sqla.interface import SQLAInterface
from sqlalchemy import func, inspect
from sqlalchemy.orm import Query, RelationshipProperty, aliased
from sqlalchemy.orm.util import AliasedClass
from sqlalchemy.sql.elements import BinaryExpression


def _decimal_values(value: Any) -> Any:
    if isinstance(value, list):
        return [_decimal_values(item) for item in value]
    if not isinstance(value, str):
        return value
    # As typed on a French screen: "1 250,40".
    text = value.strip().replace("\u202f", "").replace("\xa0", "").replace(" ", "")
    try:
        return Decimal(text.replace(",", "."))
    except InvalidOperation:
        return value


# (model or alias to join, ON clause, is it FAB's alias named after the relation?)
RelationJoin = tuple[Any, Any, bool]


class ListQueryInterface(SQLAInterface):
    """SQLAInterface whose list count and deep pages read the base table alone when safe."""

    def apply_filters(self, query: Query, filters: Filters | None) -> Query:
        return super().apply_filters(query, self._typed_numbers(filters))

    def _typed_numbers(self, filters: Filters | None) -> Filters | None:
        """Filter values on Numeric (Decimal) columns as Decimal.

        FAB types the values of integer, float and date filters but leaves a
        Numeric column's as text, which PostgreSQL refuses to compare
        (``numeric > character varying``): a premium filter typed on a list
        screen answered 400 there. Text that is not a number stays text, and
        the database's refusal becomes the usual 400.
        """
        if not filters or not any(self.is_numeric(flt.column_name) for flt in filters.filters):
            return filters
        typed = copy.copy(filters)  # the view's own Filters may be shared between requests
        typed.values = [
            _decimal_values(value) if self.is_numeric(flt.column_name) else value
            for flt, value in zip(filters.filters, filters.values, strict=False)
        ]
        return typed

    def __init__(self, obj: type, session: Any = None) -> None:
        super().__init__(obj, session)
        self._relation_joins: dict[str, list[RelationJoin]] = {}

    def query_count(
        self,
        query: Query,
        filters: Filters | None = None,
        select_columns: list[str] | None = None,
    ) -> int:
        # FAB's only caller, query(), passes session.query(self.obj): a plain base query.
        if not self._base_table_suffices(filters, select_columns):
            return super().query_count(query, filters, select_columns)
        count_query = self.session.query(func.count()).select_from(self.obj)
        return self.apply_filters(count_query, filters).scalar()

    def apply_all(
        self,
        query: Query,
        filters: Filters | None = None,
        order_column: str = "",
        order_direction: str = "",
        page: int | None = None,
        page_size: int | None = None,
        select_columns: list[str] | None = None,
        outer_default_load: bool = False,
    ) -> Query:
        deferred = (
            page
            and page_size
            and self.orders_on_base_table(order_column)
            and self.get_pk() is not None  # one-column primary key
            and self._base_table_suffices(filters, select_columns)
        )
        if not deferred:
            return super().apply_all(
                query,
                filters,
                order_column,
                order_direction,
                page,
                page_size,
                select_columns,
                outer_default_load,
            )
        # The page's ids, chosen on the base table with FAB's filters, order and tie-break.
        pk = self.get_pk()
        ids = self.apply_filters(self.session.query(pk), filters)
        ids = self.apply_order_by(ids, order_column, order_direction, add_pk=True)
        page_ids = self.apply_pagination(ids, page, page_size).subquery("page_ids")
        # FAB's own page query without filters or pagination, joined to those ids only.
        # Filtering it again would let the database walk the whole scope in index order.
        rows = super().apply_all(
            query,
            None,
            order_column,
            order_direction,
            None,
            None,
            select_columns,
            outer_default_load,
        )
        return rows.join(page_ids, pk == page_ids.c[pk.key])

    def orders_on_base_table(self, order_column: str) -> bool:
        """Does this order read the base table alone (so a page's ids can be chosen there)?"""
        return order_column in self.list_columns  # a column of the base table, not dotted

    def _query_join_relation(
        self,
        query: Query,
        root_relation: str,
        aliases_mapping: dict[str, AliasedClass] | None = None,
    ) -> Query:
        """FAB's LEFT JOIN(s) for a related column, with the alias built once."""
        joins = self._relation_joins.get(root_relation)
        if joins is None:
            joins = self._relation_joins[root_relation] = self._build_joins(root_relation)
        for target, on_clause, is_alias in joins:
            if is_alias and aliases_mapping is not None:
                aliases_mapping[root_relation] = target
            query = query.join(target, on_clause, isouter=True)
        return query

    def _build_joins(self, root_relation: str) -> list[RelationJoin]:
        """What FAB's _query_join_relation joins, as reusable (immutable) SQL objects."""
        joins: list[RelationJoin] = []
        for model, on_clause in self.get_related_model_and_join(root_relation):
            if hasattr(on_clause, "clauses"):  # a composite join condition: FAB keeps it as is
                joins.append((model, on_clause, False))
                continue
            alias = aliased(model, name=root_relation)
            related_pk = self.get_pk(alias)
            local = on_clause.left if on_clause.left.foreign_keys else on_clause.right
            joins.append((alias, BinaryExpression(local, related_pk, on_clause.operator), True))
        return joins

    def _base_table_suffices(
        self, filters: Filters | None, select_columns: list[str] | None
    ) -> bool:
        """True when joins FAB adds cannot change which rows the list holds."""
        if filters and any("." in flt.column_name for flt in filters.filters):
            return False
        for column in select_columns or []:
            if "." in column and not self._joins_at_most_one_row(column.split(".", 1)[0]):
                return False
        return True

    def _joins_at_most_one_row(self, relation_name: str) -> bool:
        """A many-to-one relation joined on the whole primary key of the related table."""
        prop = self.list_properties.get(relation_name)
        if not isinstance(prop, RelationshipProperty):
            return False
        if prop.direction.name != "MANYTOONE" or prop.secondary is not None:
            return False
        remote = {(column.table.name, column.name) for _local, column in prop.local_remote_pairs}
        primary_key = inspect(prop.mapper.class_).primary_key
        return remote == {(column.table.name, column.name) for column in primary_key}
