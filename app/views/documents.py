"""Generated documents and jobs: lists, show and download (generating: app/views/generation.py).

Thin doors over app.services.documents: the service checks what the user may
see and use, writes the rows and queues the work; these views parse forms,
call it, then flash and redirect. Both lists show the user's organisation only.
"""

from __future__ import annotations

from typing import Any

from babel.numbers import format_decimal
from flask import abort, flash, redirect, url_for
from flask_appbuilder import expose
from flask_appbuilder.models.filters import BaseFilter
from flask_appbuilder.security.decorators import has_access
from flask_babel import get_locale
from flask_babel import lazy_gettext as _
from markupsafe import Markup
from sqlalchemy import false
from sqlalchemy.orm import Query
from werkzeug.wrappers import Response

from app import permissions
from app.api.files import attachment_response
from app.extensions import db
from app.models import (
    Document,
    DocumentStatus,
    Job,
    JobKind,
    JobStatus,
    OutputFormat,
)
from app.services import documents as document_service
from app.services.errors import DomainError, NotFoundError
from app.services.scope import current_user
from app.views.base import GuardedModelView
from app.views.exports import ExportMixin
from app.views.fields import EnumSelectField, LookupSelectField
from app.views.generation import GeneratePage
from app.views.interface import ListInterface
from app.views.labels import date_formatter, enum_formatter, yes_no

# FAB hands the rows' enum values (not members) to the list.
PENDING_DOCUMENTS = {DocumentStatus.queued.value, DocumentStatus.running.value}
PENDING_JOBS = {JobStatus.queued.value, JobStatus.running.value}
REFRESH_SECONDS = 3  # as the job page (documents/job_show.html)
SIZE_UNITS = (_("%(size)s B"), _("%(size)s KB"), _("%(size)s MB"), _("%(size)s GB"))


class FilterVisibleDocuments(BaseFilter):
    """The documents the service lets the current user see."""

    name = "Visible documents"

    def apply(self, query: Query, value: Any) -> Query:
        user = current_user()
        if user is None:
            return query.filter(false())
        visible = document_service.documents_query(db.session, user).with_entities(Document.id)
        return query.filter(Document.id.in_(visible.scalar_subquery()))


class FilterVisibleJobs(BaseFilter):
    """The jobs the service lets the current user see."""

    name = "Visible jobs"

    def apply(self, query: Query, value: Any) -> Query:
        user = current_user()
        if user is None:
            return query.filter(false())
        visible = document_service.jobs_query(db.session, user).with_entities(Job.id)
        return query.filter(Job.id.in_(visible.scalar_subquery()))


def human_size(size: int | None) -> str:
    """1536 -> "1,5 Ko" in French, "1.5 KB" in English."""
    if size is None:
        return ""
    value = float(size)
    unit = 0
    while value >= 1024 and unit < len(SIZE_UNITS) - 1:
        value /= 1024
        unit += 1
    pattern = "#,##0" if unit == 0 else "#,##0.#"
    text = format_decimal(value, pattern, locale=str(get_locale() or "fr"))
    return str(SIZE_UNITS[unit]) % {"size": text}


def text_or_blank(value: Any) -> str:
    return "" if value is None else str(value)


def _template_label(document: Document) -> str:
    template = document.template
    version = document.template_version
    if template is None:
        return ""
    return f"{template.name} v{version.number}" if version is not None else template.name


def _policy_number(document: Document) -> str:
    return document.policy.number if document.policy is not None else ""


def _download_button(document: Document) -> Markup:
    if document.status != DocumentStatus.ready:
        return Markup("")
    return Markup(
        '<a class="btn btn-xs btn-primary" href="{}" title="{}">'
        '<i class="fa fa-download"></i> {}</a>'
    ).format(
        url_for("DocumentView.download", pk=document.id),
        document.file_name or "",
        _("Download"),
    )


def _progress_bar(job: Job) -> Markup:
    # <progress> draws a bar without inline styles, so our CSP needs no exception.
    total = max(job.progress_total or 0, 0)
    done = min(max(job.progress_done or 0, 0), total) if total else 0
    return Markup('<progress value="{}" max="{}"></progress> {}/{}').format(
        done, total or 1, done, total
    )


DOCUMENT_LABELS: dict[str, Any] = {
    "created_at": _("Created"),
    "file_name": _("File name"),
    "template": _("Template"),
    "template_label": _("Template"),
    "policy": _("Policy"),
    "policy_number": _("Policy"),
    "format": _("Format"),
    "status": _("Status"),
    "size": _("Size"),
    "stored_size": _("Stored size"),
    "attempts": _("Attempts"),
    "error": _("Error"),
    "download": _("File"),
    "sha256": _("SHA-256"),
    "compressed": _("Compressed"),
    "encrypted": _("Encrypted"),
    "engine": _("Engine"),
    "duration_ms": _("Duration (ms)"),
    "started_at": _("Started"),
    "finished_at": _("Finished"),
    "job_id": _("Job"),
}


class DocumentView(ExportMixin, GeneratePage, GuardedModelView):
    class_permission_name = permissions.DOCUMENT
    method_permission_name = permissions.SCREEN_METHODS
    # Documents are made by the service only: no add, edit or delete screen.
    include_route_methods = {"list", "show", "download", "generate", "export"}
    datamodel = ListInterface(
        Document,
        eager=("template", "template_version", "policy"),
        computed={
            "template_label": _template_label,
            "policy_number": _policy_number,
            "download": _download_button,
        },
    )
    base_filters = [["id", FilterVisibleDocuments, None]]
    show_template = "documents/document_show.html"
    list_title = _("Documents")
    show_title = _("Document")

    nowrap_columns = ("created_at", "policy_number", "size")
    list_columns = [
        "created_at",
        "file_name",
        "template_label",
        "policy_number",
        "format",
        "status",
        "size",
        "attempts",
        "error",
        "download",
    ]
    # The list without its download button; sizes in bytes, a number a spreadsheet can sum.
    export_columns = [name for name in list_columns if name != "download"]
    export_labels = {"size": _("Size (bytes)")}
    export_file_stem = "documents"
    show_columns = [
        "file_name",
        "template_label",
        "policy_number",
        "format",
        "status",
        "error",
        "attempts",
        "size",
        "stored_size",
        "compressed",
        "encrypted",
        "sha256",
        "engine",
        "duration_ms",
        "created_at",
        "started_at",
        "finished_at",
    ]
    search_columns = ["status", "template", "policy", "format", "job_id", "created_at"]
    search_form_extra_fields = {
        "status": EnumSelectField(_("Status"), enum_class=DocumentStatus),
        "format": EnumSelectField(_("Format"), enum_class=OutputFormat),
        "policy": LookupSelectField(_("Policy"), kind="policy"),
    }
    order_columns = ["created_at", "file_name", "format", "status", "size", "attempts"]
    base_order = ("created_at", "desc")
    label_columns = DOCUMENT_LABELS
    formatters_columns = {
        "status": enum_formatter(DocumentStatus),
        "format": enum_formatter(OutputFormat),
        "size": human_size,
        "stored_size": human_size,
        "error": text_or_blank,
        "engine": text_or_blank,
        "duration_ms": text_or_blank,
        "compressed": yes_no,
        "encrypted": yes_no,
        "created_at": date_formatter,
        "started_at": date_formatter,
        "finished_at": date_formatter,
    }

    def refresh_seconds(self, rows: list[dict[str, Any]]) -> int | None:
        # After "Generate a document" the list shows it queued: follow it until it is done.
        pending = any(row.get("status") in PENDING_DOCUMENTS for row in rows)
        return REFRESH_SECONDS if pending else None

    @expose("/show/<pk>", methods=["GET"])
    @has_access
    def show(self, pk: str) -> Any:
        document_id = self._parse_pk(pk)
        document = document_service.visible_document(db.session, current_user(), document_id)
        if document is None:
            abort(404)
        widgets = self._get_show_widget(document.id, document)
        self.update_redirect()
        return self.render_template(
            self.show_template,
            pk=document.id,
            document=document,
            ready=document.status == DocumentStatus.ready,
            title=self.show_title,
            widgets=widgets,
        )

    @expose("/download/<pk>")
    @has_access
    def download(self, pk: str) -> Response:
        """The original bytes, as an attachment; the service checks scope and audits."""
        document_id = self._parse_pk(pk)
        session = db.session
        try:
            download = document_service.open_download(session, current_user(), document_id)
            session.commit()  # the audit row of the download
        except NotFoundError:
            session.rollback()
            abort(404)  # another agency's document: same answer as a missing one
        except DomainError as error:
            session.rollback()
            flash(error.message, "warning")
            return redirect(url_for("DocumentView.show", pk=document_id))
        return attachment_response(
            download.chunks,
            download.media_type,
            download.file_name,
            download.sha256,
            size=download.size,
        )


class JobView(GuardedModelView):
    class_permission_name = permissions.JOB
    method_permission_name = permissions.SCREEN_METHODS
    include_route_methods = {"list", "show"}
    datamodel = ListInterface(Job, computed={"progress": _progress_bar})
    base_filters = [["id", FilterVisibleJobs, None]]
    show_template = "documents/job_show.html"
    list_title = _("Jobs")
    show_title = _("Job")
    list_columns = ["created_at", "kind", "status", "progress", "error"]
    # The progress bar leads the page (documents/job_show.html).
    show_columns = [
        "kind",
        "status",
        "error",
        "attempts",
        "created_at",
        "started_at",
        "finished_at",
    ]
    search_columns = ["kind", "status", "created_at"]
    search_form_extra_fields = {
        "kind": EnumSelectField(_("Kind"), enum_class=JobKind),
        "status": EnumSelectField(_("Status"), enum_class=JobStatus),
    }
    order_columns = ["created_at", "kind", "status"]
    base_order = ("created_at", "desc")
    label_columns = {
        "created_at": _("Created"),
        "kind": _("Kind"),
        "status": _("Status"),
        "progress": _("Progress"),
        "error": _("Error"),
        "attempts": _("Attempts"),
        "started_at": _("Started"),
        "finished_at": _("Finished"),
    }
    formatters_columns = {
        "kind": enum_formatter(JobKind),
        "status": enum_formatter(JobStatus),
        "error": text_or_blank,
        "created_at": date_formatter,
        "started_at": date_formatter,
        "finished_at": date_formatter,
    }

    def refresh_seconds(self, rows: list[dict[str, Any]]) -> int | None:
        # Their progress bars move: follow them as the job page does.
        pending = any(row.get("status") in PENDING_JOBS for row in rows)
        return REFRESH_SECONDS if pending else None

    @expose("/show/<pk>", methods=["GET"])
    @has_access
    def show(self, pk: str) -> Any:
        job = document_service.visible_job(db.session, current_user(), self._parse_pk(pk))
        if job is None:
            abort(404)
        widgets = self._get_show_widget(job.id, job)
        self.update_redirect()
        return self.render_template(
            self.show_template,
            pk=job.id,
            job=job,
            title=self.show_title,
            widgets=widgets,
            running=job.status in (JobStatus.queued, JobStatus.running),
        )
