"""A list page read with SQLAlchemy Core, for the APIs whose list allows it (issue 19 goal 1).

FAB answers ``GET /api/v1/<resource>/`` by building an ORM query per request
(load options per column, ``Filters`` objects converted from the base filters,
joins), loading ORM objects for the page and their related rows, then assembling
the response's labels and descriptions through five merge decorators, each
translating every label again. On the policy list that was most of the app's CPU
per request next to a bare Flask + SQLAlchemy endpoint (docs/benchmarks.md, "The
API next to a bare Flask app").

Here the same SQL is built from SQLAlchemy Core objects made once per API class
(the columns, the LEFT JOINs of many-to-one relations on the related primary key,
the page's deferred join), the rows come back as tuples, and the body is written
by the API's own list schema from plain dicts: the same marshmallow fields, so the
same JSON. The response's fixed keys (labels, descriptions, titles, columns) are
made by FAB's own code once per language and kept: they are the API's declared
text, not data.

What every request still does, as before: FAB's ``protect`` (the permission set of
the Public role and of the user, read from the database), the token's session
check, the organisation scope of the caller (``visible_organisation_id``), the
rate limiter's count. The path is taken only when it gives FAB's answer:

- the API scopes by organisation only (``ORGANISATION_BASE_FILTERS``), selects its
  list columns (no other ``list_select_columns``) and declares no ``pre_get_list``;
- every list column is a column of the base table or a column of a many-to-one
  relation joined on the related table's whole primary key (a LEFT JOIN that
  matches at most one row, as app/api/interface.py requires for its shortcuts);
- the request asks for pages and an order on a base-table column only: no
  ``filters``, ``columns`` or ``keys`` (those go to FAB's code).

``tests/test_api_core_list.py`` compares the two paths' bodies on pages, orders,
ties, both scopes and an empty relation.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask_appbuilder.api import ModelRestApi
from flask_appbuilder.const import API_SELECT_COLUMNS_RIS_KEY
from flask_appbuilder.exceptions import InvalidOrderByColumnFABException
from flask_babel import get_locale
from marshmallow import Schema, fields
from marshmallow.decorators import POST_DUMP, PRE_DUMP
from sqlalchemy import Select, and_, asc, desc, func, inspect, select
from sqlalchemy.orm import RelationshipProperty
from werkzeug.wrappers import Response

from app.services.scope import ORGANISATION_BASE_FILTERS, visible_organisation_id

# The q keys this path answers; any other (filters, columns, keys) goes to FAB's code.
PAGE_KEYS = frozenset({"page", "page_size", "order_column", "order_direction"})
# The list's response keys made from the API's declarations alone (never from the user).
FIXED_KEYS = frozenset(
    {"order_columns", "label_columns", "description_columns", "list_columns", "list_title"}
)


class CoreList:
    """An API's list query in Core, built once; ``answer`` serves one request or declines."""

    def __init__(
        self,
        api: ModelRestApi,
        table: Any,
        columns: list[Any],
        joined: Any,
        relations: dict[str, tuple[list[str], list[str]]],
    ) -> None:
        self.api = api
        self.table = table
        self.pk = table.primary_key.columns.values()[0]
        self.columns = columns
        self.joined = joined
        # relation -> (its list column leaves, the local foreign-key labels telling "no row")
        self.relations = relations
        self.plain = [name for name in api.list_columns if "." not in name]
        self._metadata: dict[str, dict[str, Any]] = {}
        self._writers: tuple[list[Writer] | None] | None = None

    @classmethod
    def for_api(cls, api: ModelRestApi) -> CoreList | None:
        """The plan for this API's list, or None when FAB's own code must answer it."""
        model = api.datamodel.obj
        if (
            api.base_filters != ORGANISATION_BASE_FILTERS
            or list(api.list_select_columns or api.list_columns) != list(api.list_columns)
            or api.list_outer_default_load
            or type(api).pre_get_list is not ModelRestApi.pre_get_list
            or "organisation_id" not in model.__table__.c
            or set(getattr(api.get_list, "_response_key_func_mappings", {})) - FIXED_KEYS
        ):
            return None
        mapper = inspect(model)
        table = model.__table__
        if len(table.primary_key.columns) != 1:
            return None
        columns: list[Any] = []
        joined = table
        relations: dict[str, tuple[list[str], list[str]]] = {}
        aliases: dict[str, Any] = {}
        for name in api.list_columns:
            if "." not in name:
                if name not in table.c or name not in mapper.columns:
                    return None
                columns.append(table.c[name])
                continue
            relation, leaf = name.split(".", 1)
            if "." in leaf or not api.datamodel._joins_at_most_one_row(relation):
                return None
            prop: RelationshipProperty = mapper.relationships[relation]
            if relation not in aliases:
                # Named after the relation, as FAB's alias: the SQL reads the same.
                alias = prop.mapper.local_table.alias(relation)
                aliases[relation] = alias
                on = [local == alias.c[remote.key] for local, remote in prop.local_remote_pairs]
                joined = joined.outerjoin(alias, and_(*on))
                keys = [f"{relation}__fk{index}" for index in range(len(on))]
                columns += [
                    local.label(key)
                    for (local, _remote), key in zip(prop.local_remote_pairs, keys, strict=True)
                ]
                relations[relation] = ([], keys)
            alias = aliases[relation]
            if leaf not in alias.c:
                return None
            columns.append(alias.c[leaf].label(f"{relation}__{leaf}"))
            relations[relation][0].append(leaf)
        return cls(api, table, columns, joined, relations)

    def answer(self, args: dict[str, Any]) -> Response | None:
        """The list's response, or None when this request needs FAB's code."""
        if set(args) - PAGE_KEYS:
            return None
        api = self.api
        try:
            order_column, order_direction = api._handle_order_args(args)
        except InvalidOrderByColumnFABException:
            return None  # FAB's code answers its 400
        if order_column not in self.plain:
            return None  # no order, or an order on a related column: FAB's code
        page, page_size = api._sanitize_page_args(args.get("page"), args.get("page_size"))
        conditions = []
        organisation_id = visible_organisation_id()
        if organisation_id is not None:
            conditions.append(self.table.c.organisation_id == organisation_id)
        direction = asc if order_direction == "asc" else desc
        column = self.table.c[order_column]
        ordering = [direction(column)] + ([direction(self.pk)] if column is not self.pk else [])
        session = api.datamodel.session
        count = session.execute(
            select(func.count()).select_from(self.table).where(*conditions)
        ).scalar()
        rows = session.execute(self._page(conditions, ordering, page, page_size)).all()
        items = [self._item(row) for row in rows]
        response = dict(self._fixed_keys())
        writers = self.writers()
        if writers is not None:
            response["result"] = [_write(writers, item) for item in items]
        else:
            response["result"] = api.list_model_schema.dump(items, many=True)
        response["ids"] = [item[self.pk.key] for item in items]
        response["count"] = count
        return api.response(200, **response)

    def _page(self, conditions: list[Any], ordering: list[Any], page: int, size: int) -> Select:
        """FAB's page; past the first, its ids chosen on the base table, then joined
        (the deferred join of app/api/interface.py, same SQL)."""
        if not page:
            return (
                select(*self.columns)
                .select_from(self.joined)
                .where(*conditions)
                .order_by(*ordering)
                .limit(size)
            )
        ids = (
            select(self.pk)
            .where(*conditions)
            .order_by(*ordering)
            .limit(size)
            .offset(page * size)
            .subquery("page_ids")
        )
        return (
            select(*self.columns)
            .select_from(self.joined.join(ids, ids.c[self.pk.key] == self.pk))
            .order_by(*ordering)
        )

    def _item(self, row: Any) -> dict[str, Any]:
        """The row as the list schema reads an object: related columns nested, None when
        the relation holds no row (as FAB's Nested field answers for a missing object)."""
        mapping = row._mapping
        item = {name: mapping[name] for name in self.plain}
        for relation, (leaves, keys) in self.relations.items():
            if any(mapping[key] is None for key in keys):
                item[relation] = None
            else:
                item[relation] = {leaf: mapping[f"{relation}__{leaf}"] for leaf in leaves}
        return item

    def writers(self) -> list[Writer] | None:
        """The list schema's own fields, called without marshmallow's per-value attribute
        lookups; None when a field needs the object (then the schema dumps the rows).
        Made on first use: FAB sets the API's schemas after its constructor."""
        if self._writers is None:
            names = set(self.plain) | set(self.relations)
            self._writers = (_writers(self.api.list_model_schema, names),)
        return self._writers[0]

    def _fixed_keys(self) -> dict[str, Any]:
        """FAB's list metadata (labels, descriptions, title, columns), made by FAB's own
        merge functions once per language: the API's declared text, not data."""
        language = str(get_locale())
        keys = self._metadata.get(language)
        if keys is None:
            keys = {}
            self.api.set_response_key_mappings(
                keys, self.api.get_list, {}, **{API_SELECT_COLUMNS_RIS_KEY: []}
            )
            self._metadata[language] = keys
        return keys


# (attribute, output key, the field's own _serialize or a nested writer list)
Writer = tuple[str, str, Callable[[Any], Any]]


def _writers(schema: Schema | None, names: set[str] | None = None) -> list[Writer] | None:
    """Each dumped field's own ``_serialize``, when ``schema.dump`` of a dict would do
    exactly that: no dump hooks, no ``attribute`` or method fields, nested schemas alike.
    ``Field.serialize`` reads the value, then calls ``_serialize(value, attr, obj)``;
    on a dict holding every key the value read is the key's."""
    if schema is None or schema._hooks[PRE_DUMP] or schema._hooks[POST_DUMP] or schema.many:
        return None
    if names is not None and set(schema.dump_fields) != names:
        return None
    writers: list[Writer] = []
    for attr, field in schema.dump_fields.items():
        key = field.data_key if field.data_key is not None else attr
        if field.attribute is not None or not field._CHECK_ATTRIBUTE:
            return None
        if isinstance(field, fields.Nested):
            if field.many or type(field)._serialize is not fields.Nested._serialize:
                return None
            nested = _writers(field.schema)
            if nested is None:
                return None
            writers.append((attr, key, _nested(nested)))
        elif type(field).serialize is fields.Field.serialize:
            writers.append((attr, key, _own(field, attr)))
        else:
            return None
    return writers


def _own(field: fields.Field, attr: str) -> Callable[[Any], Any]:
    serialize = field._serialize
    return lambda value: serialize(value, attr, None)


def _nested(writers: list[Writer]) -> Callable[[Any], Any]:
    return lambda value: None if value is None else _write(writers, value)


def _write(writers: list[Writer], item: dict[str, Any]) -> dict[str, Any]:
    return {key: write(item[attr]) for attr, key, write in writers}
