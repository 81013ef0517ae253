"""How an audit entry's changed fields read: each field with the label its object's own
screen gives it, each enum value with the label of the enum its column holds.

An entry stores the model's column names and raw values (app/services/audit.py). One
global field map cannot name them: a claim's ``number`` is not a contract's, a
claim's ``status`` is not a PolicyStatus. So the words come from the object's model
and the ModelView registered for it, read once per application (the labels are lazy:
one map serves every language) rather than once per row.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from babel.numbers import format_decimal
from flask import Flask, current_app
from flask_appbuilder import Model
from flask_babel import lazy_gettext as _
from sqlalchemy import Enum as SqlEnum
from sqlalchemy import Numeric
from sqlalchemy import inspect as sa_inspect

from app.services.audit import object_type_name
from app.services.vocabulary import OBJECT_LABELS
from app.views.audit_words import SCREEN_WORDS
from app.views.dates import reader_language
from app.views.labels import COLUMN_LABELS

# Details some use cases record beside the columns (the template screens, app/services/templates)
# and the details of the events no flush records (files, counts, e-mails…).
DETAIL_LABELS: dict[str, Any] = {
    "shared": _("Shared"),
    "version": _("Version"),
    "file": _("File"),
    "file_name": _("File"),
    "size": _("Size"),
    "count": _("Number"),
    "reason": _("Reason"),
    "error": _("Error"),
    "attempts": _("Attempts"),
    "to": _("To"),
    "subject": _("Subject"),
    "total": _("Total"),
    "format": _("Format"),
    "template_id": _("Template"),
    "template_version": _("Version"),
    "document_id": _("Document"),
}
CACHE_KEY = "audit_field_vocabulary"


@dataclass(frozen=True)
class FieldVocabulary:
    """The words for one object type's fields: labels (lazy) and the enums columns hold."""

    labels: dict[str, Any] = field(default_factory=dict)
    enums: dict[str, type[enum.Enum]] = field(default_factory=dict)
    decimals: frozenset[str] = frozenset()
    # Foreign keys by the type of the object they point at ("policy_id" -> "Policy").
    references: dict[str, str] = field(default_factory=dict)

    def label(self, name: str) -> str:
        label = self.labels.get(name)
        if label is None:
            label = COLUMN_LABELS.get(name) or DETAIL_LABELS.get(name)
        # A field no screen names (a detail an older release recorded): its words, not its
        # code. tests/test_audit_fields.py keeps every audited column named.
        return str(label) if label is not None else name.replace("_", " ").capitalize()


def field_vocabulary(object_type: str | None) -> FieldVocabulary:
    """The vocabulary of ``object_type`` (an audit entry's type), built once per application."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    cache: dict[str, FieldVocabulary] = app.extensions.setdefault(CACHE_KEY, {})
    key = object_type or ""
    found = cache.get(key)
    if found is None:
        found = cache[key] = _build(app, _models().get(key), SCREEN_WORDS.get(key, {}))
    return found


def format_amount(value: str) -> str:
    """A decimal recorded as text ("1250.50"), in the reader's style (1 250,50)."""
    try:
        number = Decimal(value)
    except (InvalidOperation, ValueError):
        return value
    return format_decimal(number, "#,##0.00##", locale=reader_language())


def _models() -> dict[str, type]:
    """Every mapped class by the type name audit entries give it ("User" for AppUser)."""
    models: dict[str, type] = {}
    # Ours and FAB's (users, roles) share FAB's declarative base; of FAB's User and our
    # AppUser, both "User", the subclass is the one the entries describe.
    for mapper in Model.registry.mappers:
        name = object_type_name(mapper.class_)
        known = models.get(name)
        if known is None or issubclass(mapper.class_, known):
            models[name] = mapper.class_
    return models


def _build(app: Flask, model: type | None, words: dict[str, Any]) -> FieldVocabulary:
    if model is None:
        return FieldVocabulary(dict(words))
    mapper = sa_inspect(model)
    # What the object's screens call the field: a ModelView's labels, else the words of
    # its templates (app/views/audit_words.py).
    screen = {**words, **_screen_labels(app, model)}
    labels: dict[str, Any] = {}
    enums: dict[str, type[enum.Enum]] = {}
    decimals: set[str] = set()
    # A foreign key reads as what it points at: the screen's label of the relationship
    # ("policy" → "Contrat"), else the label of the referenced object's type.
    references: dict[str, tuple[str, type]] = {}
    for relationship in mapper.relationships:
        for column in relationship.local_columns:
            if column.foreign_keys and column.key not in references:
                references[column.key] = (relationship.key, relationship.mapper.class_)
    tables = {mapped.local_table: mapped.class_ for mapped in mapper.registry.mappers}
    for column in mapper.columns:  # a key with no relationship (organisation_id on most rows)
        for key in column.foreign_keys:
            target = tables.get(key.column.table)
            if target is not None and column.key not in references:
                references[column.key] = (column.key.removesuffix("_id"), target)
    for attr in mapper.column_attrs:
        name = attr.key
        column_type = attr.columns[0].type
        if isinstance(column_type, SqlEnum) and column_type.enum_class is not None:
            enums[name] = column_type.enum_class
        elif isinstance(column_type, Numeric) and column_type.asdecimal:
            decimals.add(name)
        label = screen.get(name) or COLUMN_LABELS.get(name)
        if label is None and name in references:
            relation, target = references[name]
            label = (
                screen.get(relation)
                or COLUMN_LABELS.get(relation)
                or OBJECT_LABELS.get(object_type_name(target))
            )
        if label is not None:
            labels[name] = label
    for relationship in mapper.relationships:  # the collections the audit records (roles)
        label = screen.get(relationship.key) or COLUMN_LABELS.get(relationship.key)
        if label is not None:
            labels.setdefault(relationship.key, label)
    pointed = {name: object_type_name(target) for name, (_rel, target) in references.items()}
    return FieldVocabulary(labels, enums, frozenset(decimals), pointed)


def _screen_labels(app: Flask, model: type) -> dict[str, Any]:
    """The labels the model's screens declare, its own screen ("ClaimView") first.

    FAB fills the labels a view leaves out with the column's name in English title
    case ("Occurred On"): only the translated (lazy) ones are the screen's words."""
    views = [
        view
        for view in app.appbuilder.baseviews
        if getattr(getattr(view, "datamodel", None), "obj", None) is model
    ]
    views.sort(key=lambda view: type(view).__name__ != f"{model.__name__}View")
    labels: dict[str, Any] = {}
    for view in views:
        for name, label in (getattr(view, "label_columns", None) or {}).items():
            if not isinstance(label, str) and label is not None:
                labels.setdefault(name, label)
    return labels
