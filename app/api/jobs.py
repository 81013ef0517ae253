"""/api/v1/job/: long tasks (batch renders, reports, exports) and their progress.

Read-only; jobs are started by the routes that need them (``POST
/api/v1/document/generate-batch``, the reports of issue 7) and run on the queue.

Who sees which job: every role sees the jobs of their organisation, like its
documents (app.services.documents.jobs_query; SUPERADMIN: all). A USER already
sees every document of the organisation, the output of those jobs: hiding a
colleague's batch would hide only its progress, and colleagues share batches.
Any other id answers 404. The documents a batch made are listed by
``GET /api/v1/document/?q=(filters:!((col:job_id,opr:eq,value:<id>)))``.
"""

from __future__ import annotations

from typing import Any

from flask import request
from flask_appbuilder.api import expose, protect
from flask_babel import gettext as _
from marshmallow import Schema, fields
from werkzeug.wrappers import Response

from app import permissions
from app.api.base import parse_pk
from app.api.bodies import MAX_ID
from app.api.custom import CustomApi
from app.api.doors import safe
from app.api.schemas import UtcDateTime
from app.extensions import db
from app.models import Job, JobKind, JobStatus
from app.services import documents as service
from app.services.errors import MalformedRequestError
from app.services.scope import current_user

KINDS = [kind.value for kind in JobKind]
STATUSES = [status.value for status in JobStatus]
LIST_ARGUMENTS = {"page", "page_size", "status", "kind"}
MAX_PAGE = 1_000_000


class JobProgressSchema(Schema):
    done = fields.Integer()
    total = fields.Integer()


class JobSchema(Schema):
    id = fields.Integer()
    kind = fields.String(metadata={"enum": KINDS})
    status = fields.String(metadata={"enum": STATUSES})
    progress = fields.Nested(JobProgressSchema)
    document_id = fields.Integer(
        allow_none=True, metadata={"description": "The document a report or export delivers"}
    )
    error = fields.String(allow_none=True)
    created_at = UtcDateTime()
    started_at = UtcDateTime(allow_none=True)
    finished_at = UtcDateTime(allow_none=True)


class JobListSchema(Schema):
    count = fields.Integer()
    result = fields.List(fields.Nested(JobSchema))


def describe_job(job: Job) -> dict[str, Any]:
    return JobSchema().dump(
        {
            "id": job.id,
            "kind": job.kind.value,
            "status": job.status.value,
            "progress": {"done": job.progress_done, "total": job.progress_total},
            "document_id": job.document_id,
            "error": job.error,
            "created_at": job.created_at,
            "started_at": job.started_at,
            "finished_at": job.finished_at,
        }
    )


class JobApi(CustomApi):
    resource_name = "job"
    class_permission_name = permissions.JOB
    method_permission_name = {"get": permissions.READ, "get_list": permissions.READ}
    openapi_spec_tag = "Jobs"
    openapi_spec_component_schemas = (JobSchema, JobListSchema)
    page_size = 20
    max_page_size = 100

    @expose("/<pk>", methods=["GET"])
    @protect()
    @safe
    def get(self, pk: str) -> Response:
        """A job: its status and progress.
        ---
        get:
          summary: Follow a job
          parameters:
          - {in: path, name: pk, required: true, schema: {type: integer}}
          responses:
            200:
              description: The job
              content:
                application/json:
                  schema:
                    $ref: '#/components/schemas/JobSchema'
            404:
              $ref: '#/components/responses/404'
        """
        parsed = parse_pk(pk, MAX_ID)
        job = service.visible_job(db.session, current_user(), parsed) if parsed else None
        if job is None:
            return self.response_404()
        return self.response(200, **describe_job(job))

    @expose("/", methods=["GET"])
    @protect()
    @safe
    def get_list(self) -> Response:
        """The jobs you may follow, newest first.
        ---
        get:
          summary: List jobs
          parameters:
          - {in: query, name: page, schema: {type: integer, minimum: 0}}
          - {in: query, name: page_size, schema: {type: integer, minimum: 1, maximum: 100}}
          - in: query
            name: status
            schema: {type: string, enum: [queued, running, succeeded, failed]}
          - in: query
            name: kind
            schema: {type: string, enum: [render, batch_render, report, export, purge]}
          responses:
            200:
              description: One page of jobs; `count` counts them all
              content:
                application/json:
                  schema:
                    $ref: '#/components/schemas/JobListSchema'
        """
        page, page_size, filters = self._list_arguments()
        query = service.jobs_query(db.session, current_user())
        for column, value in filters.items():
            query = query.filter(getattr(Job, column) == value)
        count = query.order_by(None).count()
        jobs = query.order_by(Job.id.desc()).offset(page * page_size).limit(page_size).all()
        return self.response(200, count=count, result=[describe_job(job) for job in jobs])

    def _list_arguments(self) -> tuple[int, int, dict[str, Any]]:
        """page, page_size and filters from the query string (MalformedRequestError: 400)."""
        unknown = sorted(set(request.args) - LIST_ARGUMENTS)
        if unknown:
            raise MalformedRequestError(_("Unknown argument: %(names)s.", names=", ".join(unknown)))
        raw_page = request.args.get("page", "0")
        # parse_pk reads ids (from 1); a page index may also be 0.
        page = 0 if raw_page == "0" else parse_pk(raw_page, MAX_PAGE)
        page_size = parse_pk(request.args.get("page_size", str(self.page_size)), self.max_page_size)
        if page is None or page_size is None:
            message = _(
                "page is 0 to %(pages)d and page_size 1 to %(size)d.",
                pages=MAX_PAGE,
                size=self.max_page_size,
            )
            raise MalformedRequestError(message)
        filters: dict[str, Any] = {}
        for name, choices, enum_class in (
            ("status", STATUSES, JobStatus),
            ("kind", KINDS, JobKind),
        ):
            value = request.args.get(name)
            if value is None:
                continue
            if value not in choices:
                raise MalformedRequestError(
                    _("%(name)s is one of: %(choices)s.", name=name, choices=", ".join(choices))
                )
            filters[name] = enum_class(value)
        return page, page_size, filters
