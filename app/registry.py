"""Every view and API, registered under its business menu."""

from __future__ import annotations

from flask_appbuilder import AppBuilder
from flask_appbuilder.api.manager import SwaggerView
from flask_babel import lazy_gettext as _

from app import permissions
from app.api.attachments import AttachmentApi
from app.api.audit import AuditLogApi
from app.api.auth import AuthApi, init_auth
from app.api.cancellations import CancellationApi, CancellationRightsApi
from app.api.claim_checklists import ClaimChecklistItemApi
from app.api.claims import ClaimApi
from app.api.commission_rules import CommissionRuleApi
from app.api.commission_statements import CommissionStatementApi
from app.api.complaints import ComplaintApi
from app.api.compliance_documents import ComplianceDocumentApi
from app.api.direct_debits import DirectDebitApi
from app.api.documents import DocumentApi
from app.api.imports import ClientImportApi, PolicyImportApi
from app.api.jobs import JobApi
from app.api.links import LinkApi
from app.api.mandates import MandateApi
from app.api.messages import MessageApi
from app.api.openapi import OpenApi
from app.api.organisations import OrganisationApi
from app.api.payments import AllocationApi, PaymentApi
from app.api.policy_accounts import PolicyAccountApi
from app.api.premium_notices import PremiumNoticeApi
from app.api.proposals import ProposalApi
from app.api.quotes import QuoteApi
from app.api.remittances import RemittanceApi
from app.api.renewals import RenewalApi
from app.api.reports import ReportApi
from app.api.resources import ClientApi, CompanyApi, PolicyApi
from app.api.task_categories import TaskCategoryApi
from app.api.task_rules import TaskRuleApi
from app.api.tasks import TaskApi
from app.api.templates import TemplateApi
from app.api.training import TrainingApi
from app.api.users import UserApi
from app.views.advice import ProposalView
from app.views.advice_lists import ComplianceDocumentView, NeedsQuestionnaireView
from app.views.attachments import AttachmentScreens
from app.views.audit import AuditLogView, HistoryView
from app.views.claim_checklists import ClaimChecklistView
from app.views.claims import ClaimView
from app.views.commission_rules import CommissionRuleView
from app.views.commissions import CommissionView
from app.views.complaints import ComplaintView
from app.views.compliance import CompliancePageView
from app.views.dashboard import DashboardView
from app.views.documents import DocumentView, JobView
from app.views.download import init_download
from app.views.imports import ClientImportView, PolicyImportView
from app.views.links import LinkView, SigningKeyView
from app.views.lookup import LookupView
from app.views.mandates import DebitView, MandateView
from app.views.messages import MessageView
from app.views.organisations import OrganisationView
from app.views.payments import PaymentView
from app.views.portfolio import ClientView, CompanyView, PolicyView
from app.views.premiums import PremiumNoticeView, UnpaidNoticeView
from app.views.purge import PurgeView
from app.views.renewals import RenewalCycleView
from app.views.reports import ReportView
from app.views.security_screens import place_security_menus
from app.views.task_categories import TaskCategoryView
from app.views.tasks import TaskRuleView, TaskView
from app.views.templates import TemplateView
from app.views.training import TrainingView

PORTFOLIO = "Portefeuille"
TASKS = "Tâches"
ACCOUNTING = "Comptabilité"
DOCUMENTS = "Documents"
ADMINISTRATION = "Administration"
COMPLIANCE = "Conformité"


def register_all(appbuilder: AppBuilder) -> None:
    # First, as its own top menu; named after its resource, so Dashboard's grants cover it.
    appbuilder.add_view(
        DashboardView, permissions.DASHBOARD, label=_("Dashboard"), icon="fa-bar-chart"
    )
    appbuilder.add_view(
        TaskView,
        "My tasks",
        label=_("My tasks"),
        icon="fa-check-square-o",
        category=TASKS,
        category_label=_("Tasks"),
        category_icon="fa-tasks",
    )
    appbuilder.add_link(
        "Team tasks",
        href="/tasks/?view=team",
        label=_("Team tasks"),
        icon="fa-users",
        category=TASKS,
    )
    appbuilder.add_view(
        TaskRuleView, "Task rules", label=_("Task rules"), icon="fa-cogs", category=TASKS
    )
    appbuilder.add_view(
        TaskCategoryView,
        "Task categories",
        label=_("Task categories"),
        icon="fa-tags",
        category=TASKS,
    )
    appbuilder.add_view(
        ClientView,
        "Clients",
        label=_("Clients"),
        icon="fa-users",
        category=PORTFOLIO,
        category_label=_("Portfolio"),
        category_icon="fa-briefcase",
    )
    appbuilder.add_view(
        PolicyView, "Policies", label=_("Policies"), icon="fa-file-text-o", category=PORTFOLIO
    )
    appbuilder.add_view(
        RenewalCycleView,
        "Renewals",
        label=_("Échéances"),
        icon="fa-calendar",
        category=PORTFOLIO,
    )
    appbuilder.add_view(ClaimView, "Claims", label=_("Claims"), icon="fa-bolt", category=PORTFOLIO)
    appbuilder.add_view(
        ProposalView, "Proposals", label=_("Proposals"), icon="fa-handshake-o", category=PORTFOLIO
    )
    appbuilder.add_view(
        CompanyView, "Insurers", label=_("Insurers"), icon="fa-building", category=PORTFOLIO
    )
    appbuilder.add_view(
        ClientImportView,
        "Import clients",
        label=_("Import clients"),
        icon="fa-upload",
        category=PORTFOLIO,
    )
    appbuilder.add_view(
        PolicyImportView,
        "Import policies",
        label=_("Import policies"),
        icon="fa-upload",
        category=PORTFOLIO,
    )
    register_accounting(appbuilder)
    register_compliance(appbuilder)
    appbuilder.add_view(
        DocumentView,
        "Generated documents",
        label=_("Documents"),
        icon="fa-files-o",
        category=DOCUMENTS,
        category_label=_("Documents"),
        category_icon="fa-file-pdf-o",
    )
    appbuilder.add_view(
        MessageView, "Outbox", label=_("Outbox"), icon="fa-envelope-o", category=DOCUMENTS
    )
    appbuilder.add_view(JobView, "Jobs", label=_("Jobs"), icon="fa-tasks", category=DOCUMENTS)
    appbuilder.add_view(
        TemplateView, "Templates", label=_("Templates"), icon="fa-file-code-o", category=DOCUMENTS
    )
    # Comptabilité: the agency's money with its insurers.
    appbuilder.add_view(
        CommissionView,
        "Commissions",
        label=_("Commissions"),
        icon="fa-percent",
        category=ACCOUNTING,
        category_label=_("Accounting"),
        category_icon="fa-calculator",
    )
    appbuilder.add_view(
        CommissionRuleView,
        "Commission rules",
        label=_("Commission rules"),
        icon="fa-sliders",
        category=ACCOUNTING,
    )
    appbuilder.add_view(
        AuditLogView,
        "Audit log",
        label=_("Audit log"),
        icon="fa-history",
        category=ADMINISTRATION,
        category_label=_("Administration"),
        category_icon="fa-cogs",
    )
    appbuilder.add_view_no_menu(HistoryView)
    appbuilder.add_view(
        NeedsQuestionnaireView,
        "Needs questionnaires",
        label=_("Needs questionnaires"),
        icon="fa-list-ol",
        category=ADMINISTRATION,
    )
    appbuilder.add_view(
        ClaimChecklistView,
        "Claim checklists",
        label=_("Claim checklists"),
        icon="fa-check-square-o",
        category=ADMINISTRATION,
    )
    appbuilder.add_view(
        OrganisationView,
        "Organisations",
        label=_("Agencies"),
        icon="fa-institution",
        category=ADMINISTRATION,
    )
    # Named after its resource, so Purge's grants cover the menu entry too.
    appbuilder.add_view(
        PurgeView, permissions.PURGE, label=_("Purge"), icon="fa-trash", category=ADMINISTRATION
    )
    appbuilder.add_view_no_menu(ReportView)  # the dashboard's report buttons post here
    # The files block of a claim's, a client's and a contract's pages posts here.
    appbuilder.add_view_no_menu(AttachmentScreens)
    appbuilder.add_view_no_menu(LookupView)  # JSON for the remote-search selects
    # Signed links: a document's share page, the keys (menu named after the resource,
    # so SigningKey's grants cover its menu entry), the public /d/<token> download.
    appbuilder.add_view_no_menu(LinkView)
    appbuilder.add_view(
        SigningKeyView,
        permissions.SIGNING_KEY,
        label=_("Signing keys"),
        icon="fa-key",
        category=ADMINISTRATION,
    )
    # FAB registers its security screens (users: ours, see app/security.py) under
    # "Security": they move here, users first, the technical ones (SUPERADMIN) last.
    place_security_menus(appbuilder, ADMINISTRATION)
    appbuilder.add_api(LinkApi)
    init_download()
    for api in (
        CompanyApi,
        ClientApi,
        PolicyApi,
        CancellationRightsApi,
        CancellationApi,
        RenewalApi,
        PolicyAccountApi,
        PremiumNoticeApi,
        PaymentApi,
        AllocationApi,
        ClaimApi,
        ClaimChecklistItemApi,
        AttachmentApi,
        TemplateApi,
        DocumentApi,
        JobApi,
        ClientImportApi,
        PolicyImportApi,
        ReportApi,
        MandateApi,
        DirectDebitApi,
        TaskApi,
        TaskRuleApi,
        TaskCategoryApi,
        MessageApi,
        CommissionRuleApi,
        CommissionStatementApi,
        ComplaintApi,
        ProposalApi,
        QuoteApi,
        ComplianceDocumentApi,
        RemittanceApi,
        TrainingApi,
        AuditLogApi,
        UserApi,
        OrganisationApi,
        AuthApi,
    ):
        appbuilder.add_api(api)
    # FAB's own pair (FAB_ADD_OPENAPI_VIEWS is off), the spec view with our whole-document fixes.
    appbuilder.add_api(OpenApi)
    appbuilder.add_view_no_menu(SwaggerView)
    init_auth(appbuilder)  # token checks, API keys, rate limits: after every API


def register_accounting(appbuilder: AppBuilder) -> None:
    """The Comptabilité menu: notices, the unpaid work list, payments, SEPA."""
    appbuilder.add_view(
        PremiumNoticeView,
        "Premium notices",
        label=_("Premium notices"),
        icon="fa-file-o",
        category=ACCOUNTING,
        category_label=_("Accounting"),
        category_icon="fa-calculator",
    )
    appbuilder.add_view(
        UnpaidNoticeView,
        "Unpaid premiums",
        label=_("Arrears"),
        icon="fa-exclamation-triangle",
        category=ACCOUNTING,
    )
    appbuilder.add_view(
        PaymentView, "Payments", label=_("Payments"), icon="fa-money", category=ACCOUNTING
    )
    appbuilder.add_view(
        MandateView,
        "SEPA mandates",
        label=_("SEPA mandates"),
        icon="fa-bank",
        category=ACCOUNTING,
    )
    # Named after its resource, so DirectDebit's grants (MANAGER) cover the menu entry too.
    appbuilder.add_view(
        DebitView,
        permissions.DIRECT_DEBIT,
        label=_("Direct debits"),
        icon="fa-exchange",
        category=ACCOUNTING,
    )


def register_compliance(appbuilder: AppBuilder) -> None:
    """The Conformité menu: the complaints register, the DDA training log, the managers' page."""
    appbuilder.add_view(
        ComplaintView,
        "Complaints",
        label=_("Complaints"),
        icon="fa-commenting-o",
        category=COMPLIANCE,
        category_label=_("Compliance"),
        category_icon="fa-balance-scale",
    )
    # Named after their resources, so Training's and Compliance's grants (MANAGER) cover
    # the menu entries too.
    appbuilder.add_view(
        TrainingView,
        permissions.TRAINING,
        label=_("DDA training"),
        icon="fa-graduation-cap",
        category=COMPLIANCE,
    )
    appbuilder.add_view(
        CompliancePageView,
        permissions.COMPLIANCE,
        label=_("Compliance overview"),
        icon="fa-check-circle-o",
        category=COMPLIANCE,
    )
    # The DER and FIC of the advice duty (app/views/advice_lists.py), acted on from a proposal.
    appbuilder.add_view(
        ComplianceDocumentView,
        "Compliance documents",
        label=_("DER and FIC"),
        icon="fa-file-text",
        category=COMPLIANCE,
    )
