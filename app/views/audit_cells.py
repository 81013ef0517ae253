"""What the audit screens show of an entry: local time, who in words, the action's
label, the object's name linked to its page, the changes with field labels.

The raw values (UTC time, action code, object type and id, changes as JSON) stay
in the database, the API and the export's code columns (docs/operations.md, "Audit
trail"). Object names are read for the whole page at once
(app/services/audit_objects.py).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from typing import Any

from flask import current_app, url_for
from markupsafe import Markup

from app.extensions import db
from app.services.audit_objects import MAX_ID, NamedObject, name_objects, name_references
from app.services.scope import visible_organisation_id
from app.services.vocabulary import (
    action_label,
    actor_label,
    enum_label,
    object_label,
)
from app.views.audit_fields import FieldVocabulary, field_vocabulary, format_amount
from app.views.dates import format_iso_text, format_when
from app.views.interface import ListInterface
from app.views.labels import yes_no

# The screen showing one object of each type (its "show" route takes the id).
OBJECT_PAGES: dict[str, str] = {
    "Client": "ClientView",
    "Policy": "PolicyView",
    "Company": "CompanyView",
    "Document": "DocumentView",
    "Job": "JobView",
    "Template": "TemplateView",
    "Organisation": "OrganisationView",
    "User": "OrganisationUserView",
    "PurgeRun": "PurgeView",
}
EMPTY = "∅"


def actor_cell(entry: Any) -> str:
    return actor_label(entry.user_id, entry.username, entry.action)


def object_cell(entry: Any, named: dict[tuple[str, str], NamedObject]) -> Markup:
    """The object's name, linked to its page when it still exists and the reader may open it."""
    if not entry.object_type:
        return Markup("")
    found = named.get((entry.object_type, entry.object_id or ""))
    if found is None:
        return Markup("{}").format(object_label(entry.object_type))
    view = OBJECT_PAGES.get(found.object_type)
    if found.exists and view is not None and _may_open(view):
        href = url_for(f"{view}.show", pk=int(found.object_id))
        return Markup('<a href="{}">{}</a>').format(href, found.name)
    return Markup("{}").format(found.name)


def changes_cell(entry: Any, names: dict[tuple[str, str], str] | None = None) -> Markup:
    """The changed fields, one per line: label, value before → value after, in the words
    of the object's own screen (app/views/audit_fields.py); a key as the name of what it
    points at when ``names`` (referenced_names) has it."""
    changes = entry.changes if isinstance(entry.changes, dict) else {}
    if not changes:
        return Markup("")
    words = field_vocabulary(entry.object_type)
    names = names or {}
    lines = []
    for field, pair in changes.items():
        if isinstance(pair, list) and len(pair) == 2:
            text = Markup("{} → {}").format(
                _change_value(words, field, pair[0], names),
                _change_value(words, field, pair[1], names),
            )
        else:
            text = Markup("{}").format(_change_value(words, field, pair, names))
        lines.append(Markup("<li><strong>{}</strong> : {}</li>").format(words.label(field), text))
    return Markup('<ul class="list-unstyled">{}</ul>').format(Markup("").join(lines))


def referenced_names(entries: list[Any]) -> dict[tuple[str, str], str]:
    """The names of the objects the entries' changes point at, one query per type."""
    wanted: dict[str, set[int]] = defaultdict(set)
    for entry in entries:
        changes = entry.changes if isinstance(entry.changes, dict) else {}
        references = field_vocabulary(entry.object_type).references if changes else {}
        for field, pair in changes.items():
            object_type = references.get(field)
            if object_type is None:
                continue
            for value in pair if isinstance(pair, list) else [pair]:
                if isinstance(value, int) and not isinstance(value, bool) and 0 < value <= MAX_ID:
                    wanted[object_type].add(value)
    if not wanted:
        return {}
    return name_references(db.session, wanted, visible_organisation_id())


def _change_value(
    words: FieldVocabulary, field: str, value: Any, names: dict[tuple[str, str], str]
) -> str:
    if value is None:
        return EMPTY
    if isinstance(value, list):
        return ", ".join(_change_value(words, field, item, names) for item in value)
    if isinstance(value, bool):
        return yes_no(value)  # "Non", not Python's False
    pointed = words.references.get(field)
    if pointed is not None:
        # Another agency's object, or one gone: its number only, never its name.
        return names.get((pointed, str(value)), f"#{value}")
    enum_class = words.enums.get(field)
    if enum_class is not None and isinstance(value, str):
        try:
            return enum_label(value, enum_class)
        except (ValueError, KeyError):
            return value  # a value an older release wrote
    if field in words.decimals and isinstance(value, str):
        return format_amount(value)
    if not isinstance(value, str):
        return str(value)
    return format_iso_text(value)


def _may_open(view_name: str) -> bool:
    appbuilder = current_app.appbuilder
    view = next((v for v in appbuilder.baseviews if type(v).__name__ == view_name), None)
    if view is None:
        return False
    permission = (view.method_permission_name or {}).get("show", "show")
    # Asked once per object type and request (app/security.py remembers the answer).
    return bool(appbuilder.sm.has_access(f"can_{permission}", view.class_permission_name))


def entry_cells(
    entries: Iterable[Any], with_changes: bool = True
) -> Iterator[tuple[Any, dict[str, Any]]]:
    """Each entry with its screen cells, the object names read in one go (and the names
    its changes point at, unless the screen leaves the changes out)."""
    entries = list(entries)
    named = name_objects(db.session, entries, visible_organisation_id())
    pointed = referenced_names(entries) if with_changes else {}
    for entry in entries:
        yield (
            entry,
            {
                "created_at": format_when(entry.created_at),
                "username": actor_cell(entry),
                "action": action_label(entry.action),
                "object_type": object_label(entry.object_type),
                "object_id": object_cell(entry, named),
                "changes": changes_cell(entry, pointed),
                "ip": entry.ip or "",
                "user_agent": entry.user_agent or "",
                "request_id": entry.request_id or "",
            },
        )


class AuditListInterface(ListInterface):
    """The audit log's rows as the screens show them; exports read the raw values."""

    def get_values(self, lst: Iterable[Any], list_columns: list[str]) -> Iterator[dict[str, Any]]:
        for entry, cells in entry_cells(lst, with_changes="changes" in list_columns):
            yield {col: cells.get(col, self._get_attr_value(entry, col)) for col in list_columns}

    def get_values_item(self, item: Any, show_columns: list[str]) -> list[Any]:
        for _entry, cells in entry_cells([item], with_changes="changes" in show_columns):
            return [cells.get(col, self._get_attr_value(item, col)) for col in show_columns]
        return []
