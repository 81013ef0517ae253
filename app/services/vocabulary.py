"""The product's words for its enum values (statuses, lines of business, kinds…),
translated: one vocabulary for screens, documents, imports and reports."""

from __future__ import annotations

import enum
from typing import Any

from flask_babel import lazy_gettext as _

from app.models import (
    ClientKind,
    DocumentStatus,
    JobKind,
    JobStatus,
    LineOfBusiness,
    OutputFormat,
    PaymentFrequency,
    PolicyStatus,
    TemplateKind,
)

ENUM_LABELS: dict[type[enum.Enum], dict[enum.Enum, Any]] = {
    PolicyStatus: {
        PolicyStatus.draft: _("Draft"),
        PolicyStatus.active: _("Active"),
        PolicyStatus.suspended: _("Suspended"),
        PolicyStatus.cancelled: _("Cancelled"),
        PolicyStatus.expired: _("Expired"),
    },
    LineOfBusiness: {
        LineOfBusiness.auto: _("Motor"),
        LineOfBusiness.home: _("Home"),
        LineOfBusiness.health: _("Health"),
        LineOfBusiness.life: _("Life"),
        LineOfBusiness.liability: _("Liability"),
        LineOfBusiness.professional: _("Professional"),
        LineOfBusiness.travel: _("Travel"),
    },
    PaymentFrequency: {
        PaymentFrequency.monthly: _("Monthly"),
        PaymentFrequency.quarterly: _("Quarterly"),
        PaymentFrequency.semiannual: _("Half-yearly"),
        PaymentFrequency.annual: _("Annual"),
    },
    ClientKind: {
        ClientKind.person: _("Person"),
        ClientKind.business: _("Business"),
    },
    TemplateKind: {
        TemplateKind.contract: _("Contract"),
        TemplateKind.attestation: _("Certificate of insurance"),
        TemplateKind.notice: _("Premium notice"),
        TemplateKind.report: _("Report"),
        TemplateKind.other: _("Other"),
    },
    OutputFormat: {
        OutputFormat.html: _("HTML"),
        OutputFormat.pdf: _("PDF"),
        OutputFormat.xlsx: _("Spreadsheet (XLSX)"),
        OutputFormat.csv: _("CSV"),
    },
    DocumentStatus: {
        DocumentStatus.queued: _("Queued"),
        DocumentStatus.running: _("Being generated"),
        DocumentStatus.ready: _("Ready"),
        DocumentStatus.failed: _("Failed"),
    },
    JobKind: {
        JobKind.render: _("Document"),
        JobKind.batch_render: _("Batch of documents"),
        JobKind.report: _("Report"),
        JobKind.export: _("Export"),
        JobKind.purge: _("Purge"),
    },
    JobStatus: {
        JobStatus.queued: _("Queued"),
        JobStatus.running: _("Running"),
        JobStatus.succeeded: _("Done"),
        JobStatus.failed: _("Failed"),
    },
}


def enum_label(value: enum.Enum | str | None, enum_class: type[enum.Enum]) -> str:
    """The translated label of an enum member, or of its stored value."""
    if value is None or value == "":
        return ""
    member = value if isinstance(value, enum_class) else enum_class(value)
    return str(ENUM_LABELS[enum_class][member])
