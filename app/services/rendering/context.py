"""The data a template sees: plain dicts, lists, strings, numbers and dates.

Never ORM objects: a template must not reach the session, lazy-load another
agency's rows or call model methods. ``policy_context`` copies what a document
needs out of a loaded policy; ``plain_context`` checks any context before a
render (and wraps streamed rows so that each one is checked too).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterator, Mapping
from decimal import Decimal
from typing import Any

from flask import has_app_context
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload, selectinload

from app.models import (
    Client,
    ClientKind,
    LineOfBusiness,
    Organisation,
    PaymentFrequency,
    Policy,
    PolicyStatus,
)
from app.services.rendering.arrears import arrears_context, sample_arrears
from app.services.rendering.cancellations import cancellation_context, sample_cancellation
from app.services.rendering.errors import RenderError
from app.services.rendering.instalments import (  # noqa: F401 (their public home for callers)
    CENT,
    MAX_INSTALMENTS,
    MONTHS_BETWEEN_INSTALMENTS,
    add_months,
    instalments,
)
from app.services.rendering.terms import (
    renewal_context,
    sample_renewal,
    term_data,
    term_summary,
    terms_context,
)
from app.services.rendering.upcoming import sample_upcoming, upcoming_context
from app.services.timezones import local_today, zone
from app.services.vocabulary import enum_label

PLAIN_SCALARS = (str, int, float, Decimal, dt.date, dt.datetime, dt.time, bool, type(None))


# --- plain data -----------------------------------------------------------------


def _plain(value: Any, path: str) -> Any:
    if isinstance(value, str):
        return str.__str__(value)  # drop str subclasses (Markup would skip escaping)
    if isinstance(value, PLAIN_SCALARS):
        return value
    if isinstance(value, Mapping):
        result = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise RenderError(
                    _(
                        "Context key %(key)s under '%(path)s' is not a string.",
                        key=repr(key),
                        path=path or ".",
                    )
                )
            result[str.__str__(key)] = _plain(item, f"{path}.{key}" if path else key)
        return result
    if isinstance(value, list | tuple):
        return [_plain(item, f"{path}[{index}]") for index, item in enumerate(value)]
    if isinstance(value, Iterator):
        return _checked_rows(value, path)
    raise RenderError(
        _(
            "Context value '%(path)s' is a %(type)s, not plain data "
            "(dicts, lists, text, numbers and dates only).",
            path=path,
            type=type(value).__name__,
        )
    )


def _checked_rows(rows: Iterator[Any], path: str) -> Iterator[Any]:
    # Streamed rows (reports) are checked one by one, as they are read.
    for index, row in enumerate(rows):
        yield _plain(row, f"{path}[{index}]")


def plain_context(context: Mapping[str, Any]) -> dict[str, Any]:
    """A checked copy of ``context``; raises RenderError naming the first value that is not data."""
    if not isinstance(context, Mapping):
        raise RenderError(_("The context must be a mapping of names to values."))
    return _plain(context, "")


def _canonical(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"{type(value).__name__} cannot be hashed as document data")


def context_sha256(context: Mapping[str, Any]) -> str:
    """Hash of the data a document was rendered from: canonical JSON, sorted keys.

    Dates are ISO strings and Decimals strings ("420.50"), so the same data
    always gives the same hash, on every database and Python version.
    """
    text = json.dumps(
        context,
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        allow_nan=False,
        default=_canonical,
    )
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# --- labels ------------------------------------------------------------------------


def _labels(locale: str, pairs: dict[str, tuple[Any, type]]) -> dict[str, str]:
    """Enum labels in ``locale`` (the screens' labels; English without an app context)."""

    def all_labels() -> dict[str, str]:
        return {name: enum_label(value, cls) for name, (value, cls) in pairs.items()}

    if not has_app_context():
        return all_labels()
    with force_locale(locale):
        return all_labels()


# --- policy ------------------------------------------------------------------------


def load_policy_for_render(
    session: Session, policy_id: int, organisation_id: int | None
) -> Policy | None:
    """The policy with its client, insurer, organisation, terms, renewal cycles and
    cancellation, in one query, and its premium notices in a second.

    Scoped to ``organisation_id`` (None: any organisation, for the platform
    operator and the worker, which checked the scope when the job was made).
    Terms and cycles are joined too: a contract has one of each a year, so the
    product of the two stays small and the render issues no lazy load.
    """
    query = (
        select(Policy)
        .options(
            joinedload(Policy.client),
            joinedload(Policy.company),
            joinedload(Policy.organisation),
            joinedload(Policy.terms),
            joinedload(Policy.renewal_cycles),
            joinedload(Policy.cancellation),
            # A second query (selectin): a joined load would multiply the terms' rows.
            selectinload(Policy.premium_notices),
        )
        .where(Policy.id == policy_id)
    )
    if organisation_id is not None:
        query = query.where(Policy.organisation_id == organisation_id)
    return session.execute(query).unique().scalar_one_or_none()


def organisation_context(organisation: Organisation) -> dict[str, Any]:
    return {
        "name": organisation.name,
        "orias_number": organisation.orias_number,
        "address": organisation.address,
        "postal_code": organisation.postal_code,
        "city": organisation.city,
        "phone": organisation.phone,
        "email": organisation.email,
        "complaints_contact": organisation.complaints_contact,
        "mediator": organisation.mediator,
    }


def client_context(client: Client, kind_label: str) -> dict[str, Any]:
    """The client as a document shows them (``kind_label``: their kind's words)."""
    return {
        "kind": _value(client.kind or ClientKind.person),
        "kind_label": kind_label,
        "display_name": client.display_name,
        "first_name": client.first_name,
        "last_name": client.last_name,
        "company_name": client.company_name,
        "siren": client.siren,
        "email": client.email,
        "phone": client.phone,
        "address": client.address,
        "postal_code": client.postal_code,
        "city": client.city,
        "birth_date": client.birth_date,
    }


def labels_in(locale: str, pairs: dict[str, tuple[Any, type]]) -> dict[str, str]:
    """Enum labels in ``locale``, for the documents of other subjects than a policy."""
    return _labels(locale, pairs)


def _value(member: Any) -> Any:
    return member.value if hasattr(member, "value") else member


def policy_context(
    policy: Policy, *, today: dt.date | None = None, locale: str = "fr"
) -> dict[str, Any]:
    """Everything a policy document shows, as plain data (keys in docs/templates.md).

    ``today`` defaults to the agency's date; it picks the current term (the one the
    documents are about) and the coming échéance an avis d'échéance announces.
    """
    client, company = policy.client, policy.company
    today = today or local_today(zone(policy.organisation.timezone))
    labels = _labels(
        locale,
        {
            "line": (policy.line_of_business, LineOfBusiness),
            "status": (policy.status, PolicyStatus),
            "frequency": (policy.payment_frequency or PaymentFrequency.annual, PaymentFrequency),
            "client_kind": (client.kind or ClientKind.person, ClientKind),
        },
    )
    frequency = policy.payment_frequency or PaymentFrequency.annual
    term, terms = terms_context(policy, today, frequency)
    return {
        "organisation": organisation_context(policy.organisation),
        "policy": {
            "number": policy.number,
            "line_of_business": _value(policy.line_of_business),
            "line_label": labels["line"],
            "status": _value(policy.status),
            "status_label": labels["status"],
            "effective_date": policy.effective_date,
            "expiry_date": policy.expiry_date,
            "premium": Decimal(policy.premium).quantize(CENT),
            "currency": policy.currency or "EUR",
            "payment_frequency": _value(frequency),
            "payment_frequency_label": labels["frequency"],
        },
        "client": client_context(client, labels["client_kind"]),
        "insurer": {
            "name": company.name,
            "code": company.code,
            "contact_name": company.contact_name,
            "email": company.email,
            "phone": company.phone,
        },
        # The current term's payments, not the contract's whole life: a renewed
        # contract's premium is per year.
        "instalments": term["instalments"],
        "term": term,
        "terms": terms,
        "renewal": renewal_context(policy, today, frequency),
        "cancellation": cancellation_context(policy.cancellation, locale),
        "arrears": arrears_context(policy, today),
        # The notices falling due within the agency's reminder days (the reminder letter).
        "upcoming": upcoming_context(policy, today),
        # Set by the e-mail about one premium notice (app/services/mail/reminders.py); empty
        # elsewhere, so a template can test it.
        "notice": None,
        "today": today,
        "locale": locale,
    }


# --- sample ------------------------------------------------------------------------

SAMPLE_ORGANISATION = {
    "name": "Cabinet Exemple Courtage",
    "orias_number": "12345678",
    "address": "12 rue de la République",
    "postal_code": "69002",
    "city": "Lyon",
    "phone": "04 72 00 00 00",
    "email": "contact@exemple-courtage.fr",
    "complaints_contact": "Service réclamations, 12 rue de la République, 69002 Lyon — "
    "reclamations@exemple-courtage.fr",
    "mediator": "La Médiation de l'Assurance, TSA 50110, 75441 Paris Cedex 09 — "
    "www.mediation-assurance.org",
}


def sample_context(
    organisation: Organisation | None, *, today: dt.date | None = None, locale: str = "fr"
) -> dict[str, Any]:
    """Realistic fake data for previews: a French client, an insurer, a motor policy.

    The organisation's real name and ORIAS number appear (sample ones when None),
    so a preview shows the letterhead as the agency's documents will.
    """
    today = today or dt.date.today()
    effective = dt.date(today.year, today.month, 1)
    expiry = add_months(effective, 12)
    premium = Decimal("684.36")
    proposed_premium = Decimal("712.80")
    labels = _labels(
        locale,
        {
            "line": (LineOfBusiness.auto, LineOfBusiness),
            "status": (PolicyStatus.active, PolicyStatus),
            "frequency": (PaymentFrequency.quarterly, PaymentFrequency),
            "client_kind": (ClientKind.person, ClientKind),
        },
    )
    sample_term = term_data(
        sequence=1,
        start=effective,
        end=expiry,
        premium=premium,
        status="open",
        frequency=PaymentFrequency.quarterly,
    )
    organisation_data = dict(SAMPLE_ORGANISATION)
    if organisation is not None:
        organisation_data.update(
            {key: value for key, value in organisation_context(organisation).items() if value}
        )
    return {
        "organisation": organisation_data,
        "policy": {
            "number": f"AUTO-{today.year}-00042",
            "line_of_business": LineOfBusiness.auto.value,
            "line_label": labels["line"],
            "status": PolicyStatus.active.value,
            "status_label": labels["status"],
            "effective_date": effective,
            "expiry_date": expiry,
            "premium": premium,
            "currency": "EUR",
            "payment_frequency": PaymentFrequency.quarterly.value,
            "payment_frequency_label": labels["frequency"],
        },
        "client": {
            "kind": ClientKind.person.value,
            "kind_label": labels["client_kind"],
            "display_name": "Camille Dupont",
            "first_name": "Camille",
            "last_name": "Dupont",
            "company_name": None,
            "siren": None,
            "email": "camille.dupont@example.fr",
            "phone": "06 12 34 56 78",
            "address": "8 avenue Jean Jaurès",
            "postal_code": "69007",
            "city": "Lyon",
            "birth_date": dt.date(1984, 5, 17),
        },
        "insurer": {
            "name": "Mutuelle Rhône Assurances",
            "code": "MRA",
            "contact_name": "Service souscription",
            "email": "souscription@mra-assurances.example",
            "phone": "04 78 00 00 00",
        },
        "instalments": sample_term["instalments"],
        "term": sample_term,
        "terms": [term_summary(sample_term, current=True)],
        "renewal": sample_renewal(
            line=LineOfBusiness.auto.value,
            effective=effective,
            expiry=expiry,
            premium=premium,
            proposed_premium=proposed_premium,
            frequency=PaymentFrequency.quarterly,
            today=today,
        ),
        "cancellation": sample_cancellation(today, locale),
        "arrears": sample_arrears(today, premium),
        "upcoming": sample_upcoming(today, premium),
        "notice": _sample_notice(effective, premium),
        "today": today,
        "locale": locale,
    }


def _sample_notice(effective: dt.date, premium: Decimal) -> dict[str, Any]:
    """The quarter's notice of the sample contract (the reminder e-mail's preview)."""
    total = (premium / 4).quantize(Decimal("0.01"))
    return {
        "number": f"Q-{effective.year}-00042-1",
        "due_on": effective,
        "pay_by": effective,
        "period_start": effective,
        "period_end": add_months(effective, 3) - dt.timedelta(days=1),
        "total": total,
        "balance": total,
    }
