"""Form fields of our screens.

- LookupSelectField: a foreign id chosen through a remote-search select (select2
  + /lookup/<kind>); the page only ever holds the current choice, never a table.
- EnumSelectField: an enum shown with translated labels.
- LocalizedDecimalField: accepts "1 234,56" as typed in French as well as "1234.56".
- LocalizedDateField / DateInputWidget: the browser's own date input (no script, so
  it works under our Content-Security-Policy), shown in the reader's format, posting
  ISO; ``use_date_inputs`` puts them in place of FAB's script date pickers.
"""

from __future__ import annotations

import datetime as dt
import enum
import re
from typing import Any

from babel.numbers import format_decimal
from flask import request, url_for
from flask_appbuilder.fields import QuerySelectField
from flask_appbuilder.fieldwidgets import (
    BS3TextFieldWidget,
    DatePickerWidget,
    DateTimePickerWidget,
    Select2Widget,
)
from flask_babel import get_locale
from flask_babel import lazy_gettext as _
from markupsafe import Markup
from wtforms import DateField, DateTimeLocalField, DecimalField, Field, SelectField
from wtforms.fields.core import UnboundField
from wtforms.validators import StopValidation
from wtforms.widgets import html_params

from app.extensions import db
from app.services.scope import visible_organisation_id
from app.views import lookup_sources
from app.views.labels import enum_choices

# Ids are positive 63-bit integers; "²".isdigit() is True, so use an ASCII pattern.
ID_PATTERN = re.compile(r"^[1-9][0-9]{0,18}$")
MAX_ID = 2**63 - 1

UNKNOWN_CHOICE = {
    "client": _("This client does not exist."),
    "company": _("This insurer does not exist."),
    "policy": _("This policy does not exist."),
    "claim": _("This claim does not exist."),
}


def parse_id(raw: Any, maximum: int = MAX_ID) -> int | None:
    text = str(raw).strip()
    if not ID_PATTERN.match(text):
        return None
    value = int(text)
    return value if value <= maximum else None


# Most tables' ids are SQL INTEGER: PostgreSQL refuses a larger one (a 500, not a 404).
MAX_INTEGER_ID = 2**31 - 1


class LookupSelectWidget:
    """A <select> holding only the current choice; lookup-select.js makes it searchable."""

    def __call__(self, field: LookupSelectField, **kwargs: Any) -> Markup:
        # FAB's search form renames filter inputs through ``name_``.
        name = kwargs.pop("name_", None) or field.name
        attributes = {
            "id": kwargs.pop("id", field.id),
            "name": name,
            "class": "form-control lookup-select",
            "data-lookup-url": url_for("LookupView.search", kind=field.kind),
            "data-placeholder": str(_("Type to search…")),
            "data-allow-clear": "false" if field.flags.required else "true",
            "data-text-searching": str(_("Searching…")),
            "data-text-no-results": str(_("No match")),
            "data-text-loading-more": str(_("Loading more results…")),
            "data-text-error": str(_("The results could not be loaded.")),
        }
        # Markup.format escapes every value: names and texts come from the database.
        params = Markup(" ").join(
            Markup('{}="{}"').format(key, value) for key, value in attributes.items()
        )
        options = [Markup('<option value=""></option>')]
        for row_id, text in field.current_choices():
            options.append(Markup('<option value="{}" selected>{}</option>').format(row_id, text))
        return Markup("<select {}>{}</select>").format(params, Markup("").join(options))


class LookupSelectField(Field):
    """An optional or required id of a row of ``kind``, visible to the current user."""

    widget = LookupSelectWidget()

    def __init__(self, label: Any = None, validators: Any = None, *, kind: str, **kwargs: Any):
        super().__init__(label, validators, **kwargs)
        if kind not in lookup_sources.SOURCES:
            raise ValueError(f"no lookup source named {kind!r}")
        self.kind = kind
        self._labels: dict[int, str | None] = {}

    def process_formdata(self, valuelist: list[str]) -> None:
        raw = valuelist[0].strip() if valuelist else ""
        self.data = parse_id(raw) if raw else None
        self.malformed = bool(raw) and self.data is None

    def pre_validate(self, form: Any) -> None:
        # StopValidation: a value was sent, so "required" must not replace this message.
        if getattr(self, "malformed", False):
            raise StopValidation(str(UNKNOWN_CHOICE[self.kind]))
        if self.data is not None and self._label(self.data) is None:
            raise StopValidation(str(UNKNOWN_CHOICE[self.kind]))

    def _label(self, row_id: int) -> str | None:
        if row_id not in self._labels:
            self._labels[row_id] = lookup_sources.label(
                db.session, self.kind, row_id, visible_organisation_id()
            )
        return self._labels[row_id]

    def _value(self) -> str:
        return "" if self.data is None else str(self.data)

    def current_choices(self) -> list[tuple[int, str]]:
        """The selected row(s) with their text: the form's value, or active list filters."""
        wanted = [self.data] if isinstance(self.data, int) else self._filtered_ids()
        choices = []
        for row_id in wanted:
            text = self._label(row_id)
            # An id the user typed but may not see is echoed as a number, never named.
            choices.append((row_id, text if text is not None else f"#{row_id}"))
        return choices

    def _filtered_ids(self) -> list[int]:
        # In the list's search form the value comes from _flt_<n>_<name> arguments.
        pattern = re.compile(rf"^_flt_\d+_{re.escape(self.name)}$")
        ids = []
        for key in request.args:
            if pattern.match(key):
                ids.extend(i for i in map(parse_id, request.args.getlist(key)) if i is not None)
        return ids[:5]


class EnumSelectField(SelectField):
    """A select over an enum, showing translated labels and storing the member."""

    def __init__(
        self,
        label: Any = None,
        validators: Any = None,
        *,
        enum_class: type[enum.Enum],
        members: Any = None,
        **kw: Any,
    ):
        def coerce(value: Any) -> Any:
            if value is None or isinstance(value, enum_class):
                return value
            return enum_class(value)

        kw.setdefault("widget", Select2Widget())
        super().__init__(
            label, validators, coerce=coerce, choices=enum_choices(enum_class, members), **kw
        )


class LocalizedDecimalField(DecimalField):
    """A text input (not type=number, which refuses "1 250,40") shown in the reader's style."""

    widget = BS3TextFieldWidget()

    def _value(self) -> str:
        if self.raw_data:
            return self.raw_data[0]
        if self.data is None:
            return ""
        return format_decimal(self.data, "0.00", locale=str(get_locale() or "fr"))

    def process_formdata(self, valuelist: list[str]) -> None:
        if valuelist:
            # Spaces (also the narrow no-break space Babel writes) group thousands in French.
            raw = re.sub(r"[\s\u00a0\u202f]", "", valuelist[0]).replace(",", ".")
            valuelist = [raw]
        super().process_formdata(valuelist)


# What an optional relation's empty choice reads: FAB gives it no label, and WTForms
# then shows its value, "__None".
BLANK_CHOICE = "—"


def name_blank_choices(form_class: type | None) -> None:
    """Give the empty choice of every optional relation select of a FAB form a label."""
    if form_class is None:
        return
    for attribute in vars(form_class).values():
        if (
            isinstance(attribute, UnboundField)
            and issubclass(attribute.field_class, QuerySelectField)
            and attribute.kwargs.get("allow_blank")
            and not attribute.kwargs.get("blank_text")
        ):
            attribute.kwargs["blank_text"] = BLANK_CHOICE


class DateInputWidget:
    """``<input type="date">`` (or ``datetime-local``): the browser's picker, in its locale."""

    def __init__(self, input_type: str = "date") -> None:
        self.input_type = input_type

    def __call__(self, field: Field, **kwargs: Any) -> Markup:
        kwargs.setdefault("id", field.id)
        kwargs.setdefault("name", field.name)
        kwargs["class"] = f"form-control {kwargs.get('class', '')}".strip()
        value = field._value() if hasattr(field, "_value") else ""
        # html_params escapes every value (the typed text comes back here on errors).
        params = html_params(type=self.input_type, value=value, **kwargs)
        return Markup(f"<input {params}>")  # noqa: S704


class LocalizedDateField(DateField):
    """A date posted as ISO by the date input; typed day-first in French (10/12/2025)
    where a browser has no date input. Never month-first: 10/12 is not 12 October."""

    widget = DateInputWidget()
    ISO = "%Y-%m-%d"
    TYPED = {"fr": "%d/%m/%Y"}

    def _value(self) -> str:
        if self.raw_data:
            return self.raw_data[0]
        return self.data.isoformat() if isinstance(self.data, dt.date) else ""

    def process_formdata(self, valuelist: list[str]) -> None:
        text = valuelist[0].strip() if valuelist else ""
        self.data = None
        if not text:
            return
        language = getattr(get_locale(), "language", "fr")
        for pattern in (self.ISO, self.TYPED.get(language)):
            if pattern is None:
                continue
            try:
                self.data = dt.datetime.strptime(text, pattern).date()
                return
            except ValueError:
                continue
        raise ValueError(str(_("Enter a valid date.")))


# FAB's widget class -> (our field class, our input type), for the forms FAB builds.
DATE_INPUTS: dict[type, tuple[type, str]] = {
    DatePickerWidget: (LocalizedDateField, "date"),
    DateTimePickerWidget: (DateTimeLocalField, "datetime-local"),
}


def use_date_inputs(form_class: type | None) -> None:
    """Give every date field FAB generated the browser's date input instead of FAB's
    script picker (which posts yyyy-MM-dd typed in a text box, whatever the language)."""
    if form_class is None:
        return
    for attribute in vars(form_class).values():
        if not isinstance(attribute, UnboundField):
            continue
        widget = attribute.kwargs.get("widget")
        replacement = DATE_INPUTS.get(type(widget))
        if replacement is None:
            continue
        field_class, input_type = replacement
        attribute.field_class = field_class
        attribute.kwargs["widget"] = DateInputWidget(input_type)
