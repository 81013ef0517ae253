"""The product's words for its enum values (statuses, lines of business, kinds…),
translated: one vocabulary for screens, documents, imports and reports."""

from __future__ import annotations

import enum
from typing import Any

from flask_babel import lazy_gettext as _

from app.models import (
    ClaimNature,
    ClaimStatus,
    ClientKind,
    CloseReason,
    Collection,
    CommissionBasis,
    CommissionDue,
    ComplianceKind,
    ComplianceStatus,
    ContractUse,
    DeliveryMethod,
    DocumentStatus,
    JobKind,
    JobStatus,
    LineOfBusiness,
    MandateSequence,
    MandateStatus,
    MessageStatus,
    NoticeChannel,
    NoticeKind,
    NoticeStatus,
    OutputFormat,
    PaymentFrequency,
    PaymentMethod,
    PaymentStatus,
    PolicyStatus,
    QuoteStatus,
    ReminderChannel,
    RemittanceStatus,
    RenewalDecision,
    RenewalStatus,
    SaleChannel,
    SettlementKind,
    TaskPriority,
    TaskSource,
    TaskStatus,
    TaskTrigger,
    TaskType,
    Team,
    TemplateKind,
    TermStatus,
    UnpaidStage,
    ValidationOutcome,
)
from app.models.complaint import ComplaintChannel, ComplaintOutcome
from app.models.task import AssigneeRule

ENUM_LABELS: dict[type[enum.Enum], dict[enum.Enum, Any]] = {
    CommissionBasis: {
        CommissionBasis.rate: _("Rate on the premium before tax"),
        CommissionBasis.fixed: _("Fixed amount per notice"),
    },
    CommissionDue: {
        CommissionDue.on_issue: _("On issue of the notice"),
        CommissionDue.on_payment: _("On payment of the notice"),
    },
    RemittanceStatus: {
        RemittanceStatus.draft: _("Draft"),
        RemittanceStatus.issued: _("Issued"),
        RemittanceStatus.paid: _("Paid"),
    },
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
        TemplateKind.email: _("E-mail"),
    },
    OutputFormat: {
        OutputFormat.html: _("HTML"),
        OutputFormat.pdf: _("PDF"),
        OutputFormat.xlsx: _("Spreadsheet (XLSX)"),
        OutputFormat.csv: _("CSV"),
        OutputFormat.xml: _("XML"),
        OutputFormat.zip: _("ZIP"),
    },
    MessageStatus: {
        MessageStatus.awaiting_approval: _("Awaiting approval"),
        MessageStatus.queued: _("Queued"),
        MessageStatus.running: _("Being sent"),
        MessageStatus.sent: _("Sent"),
        MessageStatus.failed: _("Failed"),
        MessageStatus.cancelled: _("Refused at approval"),
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
    PaymentMethod: {
        PaymentMethod.sepa_debit: _("SEPA direct debit"),
        PaymentMethod.transfer: _("Transfer"),
        PaymentMethod.cheque: _("Cheque"),
        PaymentMethod.card: _("Card"),
        PaymentMethod.cash: _("Cash"),
    },
    TaskType: {
        TaskType.action: _("Action"),
        TaskType.reminder: _("Reminder"),
        TaskType.waiting: _("Waiting"),
        TaskType.validation: _("Validation"),
    },
    TaskPriority: {
        TaskPriority.low: _("Low"),
        TaskPriority.normal: _("Normal"),
        TaskPriority.high: _("High"),
        TaskPriority.urgent: _("Urgent"),
    },
    TaskStatus: {
        TaskStatus.todo: _("To do"),
        TaskStatus.in_progress: _("In progress"),
        TaskStatus.done: _("Done"),
        TaskStatus.cancelled: _("Cancelled"),
    },
    ValidationOutcome: {
        ValidationOutcome.approved: _("Approved"),
        ValidationOutcome.refused: _("Refused"),
    },
    TaskSource: {TaskSource.manual: _("By hand"), TaskSource.rule: _("By a rule")},
    Team: {Team.USER: _("Staff"), Team.MANAGER: _("Managers"), Team.ADMIN: _("Administrators")},
    TaskTrigger: {
        TaskTrigger.renewal_cycle_opened: _("Renewal opened"),
        TaskTrigger.echeance_without_decision: _("Échéance without a decision"),
        TaskTrigger.avis_not_sent: _("Avis d'échéance not sent"),
        TaskTrigger.notice_unpaid: _("Premium notice unpaid"),
        TaskTrigger.notice_formal_possible: _("Formal notice possible"),
        TaskTrigger.formal_notice_suspension: _("Cover suspended after formal notice"),
        TaskTrigger.claim_documents_missing: _("Claim documents still missing"),
    },
    AssigneeRule: {
        AssigneeRule.contract_manager: _("The contract's manager"),
        AssigneeRule.team: _("A team"),
        AssigneeRule.user: _("A named user"),
    },
    ContractUse: {
        ContractUse.consumer: _("Private use"),
        ContractUse.professional: _("Professional use"),
    },
    TermStatus: {
        TermStatus.open: _("In progress"),
        TermStatus.renewed: _("Renewed"),
        TermStatus.lapsed: _("Lapsed"),
        TermStatus.cancelled: _("Cancelled"),
    },
    RenewalDecision: {
        RenewalDecision.renew: _("Renew"),
        RenewalDecision.remarket: _("Place elsewhere"),
        RenewalDecision.not_renew: _("Do not renew"),
    },
    RenewalStatus: {
        RenewalStatus.open: _("To handle"),
        RenewalStatus.renewed: _("Renewed"),
        RenewalStatus.closed: _("Closed"),
    },
    NoticeChannel: {
        NoticeChannel.post: _("Post"),
        NoticeChannel.email: _("E-mail"),
        NoticeChannel.registered_letter: _("Registered letter"),
        NoticeChannel.hand: _("By hand"),
    },
    ReminderChannel: {
        ReminderChannel.email: _("E-mail"),
        ReminderChannel.letter: _("Letter, from the Arrears work list"),
    },
    ClaimNature: {
        ClaimNature.water_damage: _("Water damage"),
        ClaimNature.theft: _("Theft"),
        ClaimNature.attempted_theft: _("Attempted theft"),
        ClaimNature.fire: _("Fire"),
        ClaimNature.glass: _("Glass breakage"),
        ClaimNature.motor_damage: _("Motor damage"),
        ClaimNature.bodily_injury: _("Bodily injury"),
        ClaimNature.liability: _("Liability"),
        ClaimNature.natural_disaster: _("Natural disaster"),
        ClaimNature.storm: _("Storm"),
        ClaimNature.legal_protection: _("Legal protection"),
        ClaimNature.other: _("Other"),
    },
    ClaimStatus: {
        ClaimStatus.declared: _("Declared"),
        ClaimStatus.open: _("In progress"),
        ClaimStatus.expertise: _("Expertise"),
        ClaimStatus.waiting_documents: _("Waiting for documents"),
        ClaimStatus.settlement: _("Settlement"),
        ClaimStatus.closed: _("Closed"),
        ClaimStatus.reopened: _("Reopened"),
    },
    SettlementKind: {
        SettlementKind.indemnity_client: _("Indemnity to the client"),
        SettlementKind.indemnity_third_party: _("Indemnity to a third party"),
        SettlementKind.refund_request: _("Refund requested by the insurer"),
        SettlementKind.insurer_recourse: _("Insurer's recourse"),
        SettlementKind.client_recourse: _("Client's recourse"),
    },
    CloseReason: {
        CloseReason.indemnified: _("Indemnified"),
        CloseReason.no_follow_up: _("No follow-up"),
        CloseReason.cover_refused: _("Cover refused"),
    },
    # Premiums (the Comptabilité screens, app/views/premiums.py).
    NoticeStatus: {
        NoticeStatus.draft: _("Draft"),
        NoticeStatus.issued: _("Issued (notice)"),
        NoticeStatus.partly_paid: _("Partly paid"),
        NoticeStatus.paid: _("Paid (notice)"),
        NoticeStatus.unpaid: _("Unpaid"),
        NoticeStatus.cancelled: _("Cancelled"),
    },
    UnpaidStage: {
        UnpaidStage.up_to_date: _("Up to date"),
        UnpaidStage.reminder_due: _("Reminder due"),
        UnpaidStage.overdue: _("Overdue"),
        UnpaidStage.formal_notice_possible: _("Formal notice possible"),
        UnpaidStage.in_formal_notice: _("In formal notice"),
        UnpaidStage.suspended: _("Cover suspended"),
        UnpaidStage.cancellable: _("Cancellable"),
        UnpaidStage.cancelled: _("Cancelled for non-payment"),
        UnpaidStage.restored: _("Cover restored"),
    },
    NoticeKind: {
        NoticeKind.instalment: _("Instalment"),
        NoticeKind.one_off: _("One-off premium"),
        NoticeKind.adjustment: _("Amendment adjustment"),
        NoticeKind.refund: _("Refund"),
    },
    Collection: {
        Collection.broker: _("By the broker"),
        Collection.insurer: _("By the insurer"),
    },
    PaymentStatus: {
        PaymentStatus.received: _("Received"),
        PaymentStatus.rejected: _("Rejected"),
    },
    MandateStatus: {
        MandateStatus.active: _("Active (mandate)"),
        MandateStatus.revoked: _("Revoked"),
    },
    MandateSequence: {
        MandateSequence.first: _("First debit"),
        MandateSequence.recurring: _("Recurring"),
    },
    # The complaints register (app/views/complaints.py).
    ComplaintChannel: {
        ComplaintChannel.letter: _("Letter"),
        ComplaintChannel.email: _("E-mail"),
        ComplaintChannel.phone: _("Phone"),
        ComplaintChannel.in_person: _("In person"),
        ComplaintChannel.web: _("Website"),
    },
    ComplaintOutcome: {
        ComplaintOutcome.upheld: _("Upheld"),
        ComplaintOutcome.partly_upheld: _("Partly upheld"),
        ComplaintOutcome.rejected: _("Not upheld"),
        ComplaintOutcome.withdrawn: _("Withdrawn"),
    },
    SaleChannel: {
        SaleChannel.in_person: _("At the agency"),
        SaleChannel.distance: _("At a distance"),
        SaleChannel.door_to_door: _("Door to door"),
    },
    QuoteStatus: {
        QuoteStatus.to_price: _("To price"),
        QuoteStatus.priced: _("Priced"),
        QuoteStatus.sent: _("Sent to the client"),
        QuoteStatus.accepted: _("Accepted"),
        QuoteStatus.refused: _("Refused"),
    },
    ComplianceKind: {
        ComplianceKind.der: _("DER (information document)"),
        ComplianceKind.fic: _("FIC (needs and advice)"),
    },
    ComplianceStatus: {
        ComplianceStatus.generated: _("Generated"),
        ComplianceStatus.sent: _("Sent"),
        ComplianceStatus.signed: _("Signed"),
    },
    DeliveryMethod: {
        DeliveryMethod.by_hand: _("By hand"),
        DeliveryMethod.post: _("By post"),
        DeliveryMethod.email: _("By e-mail"),
        DeliveryMethod.electronic: _("Electronic signature"),
    },
}


def enum_label(value: enum.Enum | str | None, enum_class: type[enum.Enum]) -> str:
    """The translated label of an enum member, or of its stored value."""
    if value is None or value == "":
        return ""
    member = value if isinstance(value, enum_class) else enum_class(value)
    return str(ENUM_LABELS[enum_class][member])


# --- the audit trail's words ------------------------------------------------
# Every action code the application writes (app/services/audit.py and its callers;
# tests/test_audit_screen.py reads the code to check none is missing). The code stays
# in the database, the API and the export's code column; screens show the label.
ACTION_LABELS: dict[str, Any] = {
    "create": _("Creation"),
    "update": _("Change"),
    "delete": _("Deletion"),
    "message.queued": _("E-mail written"),
    "message.awaiting_approval": _("E-mail held for approval"),
    "message.approved": _("E-mail approved"),
    "message.refused": _("E-mail refused"),
    "message.sent": _("E-mail sent"),
    "message.failed": _("E-mail not sent"),
    "login": _("Logged in"),
    "login_failed": _("Login failed"),
    "logout": _("Logged out"),
    "logout_all": _("Logged out of every session"),
    "session_revoked": _("Session revoked"),
    "sessions_ended": _("Sessions ended by an administrator"),
    "token_reuse": _("Refresh token reused: session revoked"),
    "api_key_created": _("API key created"),
    "api_key_revoked": _("API key revoked"),
    "new_version": _("New template version"),
    "publish": _("Template version published"),
    "import": _("File imported"),
    "export": _("List exported"),
    "document.requested": _("Document requested"),
    "document.batch_requested": _("Batch of documents requested"),
    "document.ready": _("Document generated"),
    "document.failed": _("Document generation failed"),
    "document.download": _("Document downloaded"),
    "attachment.download": _("Attachment downloaded"),
    "document.purged": _("Document purged"),
    "purge.run": _("Purge carried out"),
    "client.erased": _("Client's personal data erased"),
    "accounting.purged": _("Accounting past legal retention deleted"),
    "link.issued": _("Signed link created"),
    "link.revoked": _("Signed links revoked"),
    "link.download": _("Downloaded through a signed link"),
    "link.refused": _("Signed link refused"),
    "signing_key.created": _("Signing key created"),
    "signing_key.rotated": _("Signing key rotated"),
    "report.requested": _("Report requested"),
    "report.delivered": _("Report produced"),
    "report.failed": _("Report failed"),
    "export.requested": _("Export requested"),
    "export.delivered": _("Export produced"),
    "export.failed": _("Export failed"),
    "renewal_cycles_opened": _("Renewals opened"),
    "tasks_created": _("Tasks created by the rules"),
    "premium_notices_issued": _("Premium notices issued"),
    "premium_stages_moved": _("Unpaid premium stages updated"),
    "premium_notice.formal_notice": _("Formal notice recorded"),
    "premium_notice.cancelled": _("Premium notice cancelled"),
    "premium_notice.issued": _("Premium notice issued"),
    "commission_statement_reconciled": _("Commission statement reconciled"),
    "commission_line_matched": _("Statement line matched by hand"),
    "commission_line_unmatched": _("Statement line unmatched by hand"),
    "remittance.drafted": _("Remittance bordereau drafted"),
    "remittance.issued": _("Remittance bordereau issued"),
    "remittance.paid": _("Remittance bordereau paid"),
    "quote.converted": _("Quote converted into a contract"),
}

# The object types audit entries name (model class names, "User" for AppUser).
OBJECT_LABELS: dict[str, Any] = {
    "Organisation": _("Agency"),
    "User": _("User"),
    "Role": _("Role"),
    "Company": _("Insurer"),
    "Client": _("Client"),
    "Policy": _("Policy"),
    "Template": _("Template"),
    "Document": _("Document"),
    "Job": _("Job"),
    "ApiKey": _("API key"),
    "SigningKey": _("Signing key"),
    "AuthSession": _("Session"),
    "PurgeRun": _("Purge run"),
    "AuditLog": _("Audit log"),
    "Term": _("Term"),
    "RenewalCycle": _("Renewal"),
    "Cancellation": _("Cancellation"),
    "PremiumNotice": _("Premium notice"),
    "Payment": _("Payment"),
    "Allocation": _("Allocation"),
    "Mandate": _("SEPA mandate"),
    "Message": _("E-mail"),
    "Task": _("Task"),
    "TaskRule": _("Task rule"),
    "TaskCategory": _("Task category"),
    "CommissionRule": _("Commission rule"),
    "ExpectedCommission": _("Expected commission"),
    "Claim": _("Claim"),
    "CommissionStatement": _("Commission statement"),
    "Remittance": _("Remittance"),
    "Attachment": _("Attachment"),
    "ClaimPayment": _("Claim settlement"),
    "ClaimDocument": _("Claim document"),
    "ClaimChecklistItem": _("Claim checklist item"),
    "Complaint": _("Complaint"),
    "TrainingRecord": _("Training record"),
    "Proposal": _("Proposal"),
    "Quote": _("Quote"),
    "ComplianceDocument": _("Compliance document"),
    "NeedsQuestionnaire": _("Needs questionnaire"),
}

# Who acts when no user does: the names tasks and commands write as the entry's
# username (with no user id). Kept equal to those modules' constants by a test.
AUTOMATIC_TASK = _("Automatic task")
SYSTEM_ACTORS: dict[str, Any] = {
    "worker": AUTOMATIC_TASK,  # app/services/documents/outcomes.py
    "report worker": AUTOMATIC_TASK,  # app/services/reports/runs.py
    "sweeper": AUTOMATIC_TASK,  # app/services/leasing.py
    "periodic": AUTOMATIC_TASK,  # app/tasks/purge.py
    "cli": _("Command line"),  # app/cli_purge.py, app/cli_keys.py
}
# Actions whose username is what someone typed, never a system actor.
TYPED_USERNAME_ACTIONS = frozenset({"login_failed"})


def action_label(code: str | None) -> str:
    """The words for an audit action code; an unknown code (an older release's) as it is."""
    if not code:
        return ""
    label = ACTION_LABELS.get(code)
    return str(label) if label is not None else code


def object_label(object_type: str | None) -> str:
    """The words for an audited object type; an unknown type as it is."""
    if not object_type:
        return ""
    label = OBJECT_LABELS.get(object_type)
    return str(label) if label is not None else object_type


def actor_label(user_id: int | None, username: str | None, action: str | None = None) -> str:
    """Who did it: the user's name, a task's label, or blank when nobody is known."""
    if not username:
        return ""
    if user_id is None and action not in TYPED_USERNAME_ACTIONS:
        system = SYSTEM_ACTORS.get(username)
        if system is not None:
            return str(system)
    return username
