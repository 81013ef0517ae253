"""The words of the screens that are not built on a ModelView, for the audit's changes.

Tasks, task rules, commissions, remittances, a claim's settlements and documents,
quotes… are shown by screens with their own templates: their field labels live in
those templates, not in a view's ``label_columns``. The history and the audit log
(app/views/audit_fields.py) read them here, by object type then field, in the same
words (the same msgids) those screens use. A field a ModelView's ``label_columns``
or COLUMN_LABELS already names is not repeated.
"""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _

SCREEN_WORDS: dict[str, dict[str, Any]] = {
    "Organisation": {
        "mail_from": _("Sender address"),
        "mail_reply_to": _("Reply-to address"),
        "renewal_lead_days": _("Renewals opened (days before the échéance)"),
    },
    "User": {"created_on": _("Created")},
    "Company": {"iban": _("IBAN"), "bic": _("BIC")},
    "Policy": {
        "mandate_id": _("SEPA mandate"),
        "manager_id": _("The contract's manager"),
        "product": _("Product"),
    },
    "Template": {
        "builtin_key": _("Built-in template"),
        "published_version_id": _("Published version"),
    },
    "Payment": {"mandate_id": _("SEPA mandate"), "debit_job_id": _("Debit file")},
    "Allocation": {"amount": _("Amount")},
    "Cancellation": {
        "ground": _("Ground"),
        "requested_on": _("Requested on"),
        "received_on": _("Received on"),
        "effective_on": _("Effective on"),
        "basis": _("Legal basis"),
        "reason": _("Reason"),
        "note": _("Note"),
    },
    "Task": {
        "title": _("Title"),
        "type": _("Kind"),
        "team": _("Team"),
        "due_on": _("Due on"),
        "priority": _("Priority"),
        "outcome": _("Result"),
        "result_note": _("Note"),
        "source": _("Origin"),
        "rule_key": _("Rule"),
        "completed_at": _("Done on"),
    },
    "TaskRule": {
        "trigger": _("Trigger"),
        "offset_days": _("Offset (days)"),
        "due_days": _("Due after (days)"),
        "title_template": _("Title"),
        "type": _("Kind"),
        "priority": _("Priority"),
        "assignee_rule": _("Given to"),
        "team": _("Team"),
        "active": _("In use"),
        "creates_task": _("Creates a task"),
        "email_template_id": _("E-mail to the client"),
    },
    "CommissionRule": {
        "product": _("Product"),
        "basis": _("Commission basis"),
        "first_year_rate": _("First year"),
        "later_years_rate": _("Later years"),
        "fixed_amount": _("Fixed amount"),
        "due": _("Due"),
        "valid_from": _("Valid from"),
        "valid_to": _("Valid to"),
        "clawback_first_year": _("Clawback in the first year"),
        "clawback_second_year": _("Clawback in the second year"),
        "note": _("Note"),
    },
    "ExpectedCommission": {
        "policy_id": _("Contract"),
        "period_start": _("Period"),
        "first_year": _("First year"),
        "base_amount": _("Premium"),
        "rate": _("Rate"),
        "amount": _("Commission expected"),
        "due_on": _("Due on"),
        "received_amount": _("Commission received"),
        "clawback_amount": _("Clawback"),
    },
    "CommissionStatement": {
        "period_start": _("Month of the statement"),
        "period_end": _("End"),
        "file_name": _("File"),
        "sha256": _("File fingerprint"),
        "tolerance": _("Tolerance"),
        "line_count": _("Lines"),
        "total_commission": _("Commission"),
        "uploaded_by_id": _("User"),
    },
    "Remittance": {
        "period_from": _("Payments from"),
        "period_to": _("Payments to"),
        "premiums_collected": _("Premium collected"),
        "commission_retained": _("Commission retained"),
        "net_amount": _("Net to pay"),
        "issued_on": _("Issued on"),
        "paid_on": _("Transfer made on"),
    },
    "Attachment": {
        "file_name": _("File"),
        "media_type": _("Type"),
        "size": _("Size"),
        "sha256": _("File fingerprint"),
        "encrypted": _("Encrypted"),
        "has_thumbnail": _("Preview"),
    },
    "ClaimPayment": {
        "amount": _("Amount"),
        "paid_on": _("Paid on"),
        "counterparty": _("Payer or payee"),
        "collected_by_broker": _("Collected by the agency"),
        "note": _("Note"),
    },
    "ClaimDocument": {
        "label": _("Document"),
        "requested_on": _("Requested on"),
        "received_on": _("Received on"),
    },
    "Proposal": {"answers": _("Answers")},
    "Quote": {
        "product": _("Product"),
        "valid_until": _("Valid until"),
        "converted_at": _("Converted into a contract on"),
        "withdrawal_ends_on": _("Withdrawal period ends on"),
    },
}
