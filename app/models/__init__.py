"""SQLAlchemy models, one module per aggregate."""

from app.models.attachment import Attachment
from app.models.audit import AuditLog
from app.models.auth import AuthSession, RefreshToken
from app.models.claim import (
    Claim,
    ClaimNature,
    ClaimPayment,
    ClaimStatus,
    CloseReason,
    SettlementKind,
)
from app.models.client import Client, ClientKind
from app.models.commission import (
    CommissionBasis,
    CommissionColumnMapping,
    CommissionDue,
    CommissionRule,
    CommissionStatement,
    CommissionStatementLine,
    ExpectedCommission,
    ExpectedStatus,
    LineResult,
    Remittance,
    RemittanceLine,
    RemittanceStatus,
    StatementStatus,
)
from app.models.company import Company
from app.models.complaint import Complaint, ComplaintChannel, ComplaintOutcome
from app.models.delivery import PurgeRun, SigningKey, SpentLink
from app.models.document import Document, DocumentStatus
from app.models.job import Job, JobKind, JobStatus
from app.models.mandate import Mandate, MandateSequence, MandateStatus
from app.models.message import Message, MessageStatus
from app.models.organisation import Organisation
from app.models.policy import (
    ContractUse,
    LineOfBusiness,
    PaymentFrequency,
    Policy,
    PolicyStatus,
)
from app.models.premium import (
    Allocation,
    Collection,
    NoticeKind,
    NoticeStatus,
    Payment,
    PaymentMethod,
    PaymentStatus,
    PremiumNotice,
    UnpaidStage,
)
from app.models.renewal import (
    Cancellation,
    NoticeChannel,
    RenewalCycle,
    RenewalDecision,
    RenewalStatus,
    Term,
    TermStatus,
)
from app.models.task import (
    AssigneeRule,
    Task,
    TaskCategory,
    TaskPriority,
    TaskRule,
    TaskSource,
    TaskStatus,
    TaskTrigger,
    TaskType,
    Team,
    ValidationOutcome,
)
from app.models.template import OutputFormat, Template, TemplateKind, TemplateVersion
from app.models.training import TrainingRecord
from app.models.user import AppUser

__all__ = [
    "Attachment",
    "AuditLog",
    "Claim",
    "ClaimNature",
    "ClaimPayment",
    "SettlementKind",
    "ClaimStatus",
    "CloseReason",
    "AuthSession",
    "RefreshToken",
    "Client",
    "Complaint",
    "ComplaintChannel",
    "ComplaintOutcome",
    "ClientKind",
    "CommissionBasis",
    "CommissionColumnMapping",
    "CommissionDue",
    "CommissionRule",
    "CommissionStatement",
    "CommissionStatementLine",
    "Company",
    "ExpectedCommission",
    "ExpectedStatus",
    "LineResult",
    "Remittance",
    "RemittanceLine",
    "RemittanceStatus",
    "StatementStatus",
    "Document",
    "DocumentStatus",
    "Job",
    "JobKind",
    "JobStatus",
    "Mandate",
    "MandateSequence",
    "MandateStatus",
    "Message",
    "MessageStatus",
    "OutputFormat",
    "Template",
    "TemplateKind",
    "TemplateVersion",
    "LineOfBusiness",
    "Organisation",
    "PaymentFrequency",
    "Policy",
    "PurgeRun",
    "SigningKey",
    "SpentLink",
    "PolicyStatus",
    "AppUser",
    "TrainingRecord",
    "Allocation",
    "Cancellation",
    "Collection",
    "ContractUse",
    "NoticeKind",
    "NoticeStatus",
    "Payment",
    "PaymentMethod",
    "PaymentStatus",
    "PremiumNotice",
    "UnpaidStage",
    "NoticeChannel",
    "RenewalCycle",
    "RenewalDecision",
    "RenewalStatus",
    "Term",
    "TermStatus",
    "AssigneeRule",
    "Task",
    "TaskCategory",
    "TaskPriority",
    "TaskRule",
    "TaskSource",
    "TaskStatus",
    "TaskTrigger",
    "TaskType",
    "Team",
    "ValidationOutcome",
]
