"""Compact permissions: each resource has `can_read` and `can_write`, shared by its
screens and its API, so a role reads as a short list of resources.

Views and APIs set ``class_permission_name`` to the resource and
``method_permission_name`` to one of the maps below.
"""

from __future__ import annotations

READ = "read"
WRITE = "write"
# Bulk actions a role may be trusted with apart from single writes (renewals: MANAGER).
BATCH = "batch"
# A client's RGPD rights: exporting all its data and erasing it (Client, MANAGER).
PRIVACY = "privacy"

# FAB ModelView methods (and our custom screens' methods) -> read/write.
SCREEN_METHODS: dict[str, str] = {
    "list": READ,
    "show": READ,
    "download": READ,
    "export": READ,
    "history": READ,
    "search": READ,
    # A policy's two terms side by side (app/views/portfolio.py).
    "terms_diff": READ,
    "add": WRITE,
    "edit": WRITE,
    "delete": WRITE,
    # Bulk actions change rows.
    "activate": WRITE,
    "suspend": WRITE,
    "cancel": WRITE,
    # Documents and templates (app/views/documents.py, app/views/templates.py).
    "generate": WRITE,
    "generate_documents": WRITE,
    "preview": READ,
    "diff": READ,
    "versions": READ,
    "new_version": WRITE,
    "publish": WRITE,
    # Delivery and file lifecycle (issue 6).
    "link": READ,
    "revoke_links": WRITE,
    "purge": WRITE,
    "rotate_keys": WRITE,
    # Imports (app/views/imports.py): every step, even the preview, needs write on the resource.
    "import_form": WRITE,
    "import_template": WRITE,
    "import_upload": WRITE,
    "import_preview": WRITE,
    "import_errors": WRITE,
    "import_run": WRITE,
    # A claims checklist screen's button: copy the shipped defaults (app/views/claim_checklists.py).
    "load_defaults": WRITE,
}

# The Échéances screen (app/views/renewals.py): reading the list, its bulk actions apart.
RENEWAL_SCREEN_METHODS: dict[str, str] = {
    "list": READ,
    "show": READ,
    "export": READ,
    "send_avis": BATCH,
    "renew_cycles": BATCH,
    "email_avis": BATCH,
}

# The Boîte d'envoi (app/views/messages.py): approving held messages is a manager's call.
MESSAGE_SCREEN_METHODS: dict[str, str] = {
    "list": READ,
    "show": READ,
    "compose": WRITE,
    "approve_messages": BATCH,
    "refuse_messages": BATCH,
}

# FAB ModelRestApi methods -> read/write.
API_METHODS: dict[str, str] = {
    "get": READ,
    "get_list": READ,
    "info": READ,
    "post": WRITE,
    "put": WRITE,
    "delete": WRITE,
}

# Resource names, as they appear in the permission matrix (docs/permissions.md).
POLICY = "Policy"
CLIENT = "Client"
COMPANY = "Company"
AUDIT_LOG = "AuditLog"
HISTORY = "History"
LOOKUP = "Lookup"
USER = "User"
ORGANISATION = "Organisation"
AUTH = "Auth"  # own API sessions and keys (app/api/auth.py)
TEMPLATE = "Template"  # document templates and their versions
DOCUMENT = "Document"  # generated documents: generate, list, download
JOB = "Job"  # long tasks and their progress
PURGE = "Purge"  # purge runs and retention (ADMIN)
SIGNING_KEY = "SigningKey"  # download-link signing keys (ADMIN)
REPORT = "Report"  # reports as jobs: portfolio, premiums by month (MANAGER)
DASHBOARD = "Dashboard"  # the manager dashboard (charts); also its menu entry
MANDATE = "Mandate"  # SEPA mandates of the clients (every staff role records them)
DIRECT_DEBIT = "DirectDebit"  # SEPA debit batches and bank rejections (MANAGER)
RENEWAL = "Renewal"  # renewal cycles: read, propose, renew, send the avis; batches (MANAGER)
PREMIUM_NOTICE = "PremiumNotice"  # premium notices and a contract's account (MANAGER writes)
MESSAGE = "Message"  # e-mails: send, read the outbox; approve bulk sends (MANAGER)
PAYMENT = "Payment"  # payments and their allocations (every staff role records them)
TASK = "Task"  # the work queue: every role works its tasks; bulk reassign (batch) MANAGER
TASK_RULE = "TaskRule"  # the rules that create tasks (MANAGER)
# The agency's list of task categories: every role reads it (to file a task), MANAGER edits it.
TASK_CATEGORY = "TaskCategory"
COMMISSION = "Commission"  # commission rules, insurer statements, remittances (MANAGER)
CLAIM = "Claim"  # claims (sinistres): every staff role records and follows them
COMPLAINT = "Complaint"  # the complaints register (ACPR): every role records and answers
ATTACHMENT = "Attachment"  # files kept for clients, contracts and claims (every staff role)
TRAINING = "Training"  # the DDA training log (MANAGER)
COMPLIANCE = "Compliance"  # the managers' compliance page (MANAGER)
PROPOSAL = "Proposal"  # proposals, quotes, DER/FIC and conversion (every staff role)
QUESTIONNAIRE = "NeedsQuestionnaire"  # the needs questionnaires per line (MANAGER writes)
# The documents each claim nature asks for, per line: every role reads, MANAGER edits.
CLAIM_CHECKLIST = "ClaimChecklistItem"

# Portefeuille → Sinistres (app/views/claims.py): every staff role records and follows claims.
CLAIM_SCREEN_METHODS: dict[str, str] = {
    "list": READ,
    "show": READ,
    "export": READ,
    "add": WRITE,
    "edit": WRITE,
    "change_status": WRITE,
    "ask_document": WRITE,
    "receive_document": WRITE,
    "settle": WRITE,
}
# The files block of a claim's, a client's and a contract's pages (app/views/attachments.py).
ATTACHMENT_SCREEN_METHODS: dict[str, str] = {
    "upload": WRITE,
    "delete": WRITE,
    "download": READ,
    "thumbnail": READ,
}

# The Comptabilité screens (app/views/premiums.py, payments.py, mandates.py).
PREMIUM_SCREEN_METHODS: dict[str, str] = {
    "list": READ,
    "show": READ,
    "export": READ,
    # One notice at a time: MANAGER's, as on the API (PremiumNotice can_write).
    "cancel_notice": WRITE,
    "formal_notice": WRITE,
    # The work list's letters, many contracts at once (can_batch: MANAGER and above).
    "send_reminder_letters": BATCH,
    "send_relances": BATCH,
    "formal_notice_letters": BATCH,
}
PAYMENT_SCREEN_METHODS: dict[str, str] = {
    "list": READ,
    "show": READ,
    "export": READ,
    "record": WRITE,
    "reject": WRITE,
}
# Prélèvements: even its page is MANAGER's (DirectDebit has only can_write).
DEBIT_SCREEN_METHODS: dict[str, str] = {
    "debits": WRITE,
    "start_batch": WRITE,
    "import_rejections": WRITE,
}
