"""The JSON shapes of /api/v1/template/: what its routes read and answer.

Bodies are checked for their JSON types here (app/api/bodies.py); the values
(names, kinds, syntax) are checked by app.services.templates, which reports every
field error at once. The answers are described by the same schemas in the OpenAPI
document.
"""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, validate
from sqlalchemy import select
from sqlalchemy.orm import Session, object_session

from app.api.bodies import Id, StrictBoolean, StrictInteger
from app.api.schemas import UtcDateTime
from app.models import OutputFormat, Template, TemplateKind, TemplateVersion
from app.models.template import TEMPLATE_FORMATS

MAX_NUMBER = 2**31 - 1
KINDS = [kind.value for kind in TemplateKind]
FORMATS = [output_format.value for output_format in TEMPLATE_FORMATS]
LOCALES = ["fr", "en"]
PREVIEW_OUTPUTS = ["html", "pdf", "xlsx"]
SUMMARY_COLUMNS = (
    "id",
    "template_id",
    "number",
    "sha256",
    "changelog",
    "author_name",
    "created_at",
)
TEMPLATE_COLUMNS = [
    "id",
    "name",
    "kind",
    "output_format",
    "locale",
    "description",
    "shared",
    "organisation_id",
    "builtin_key",
    "published_version",
    "published_version_id",
    "created_at",
    "updated_at",
]


# --- what the routes answer ------------------------------------------------------


def _published_number(template: Template) -> int | None:
    version = template.published_version
    return version.number if version is not None else None


class TemplateSchema(Schema):
    """A template in lists: ``published_version`` is the number of the published version."""

    id = fields.Integer()
    name = fields.String()
    kind = fields.Enum(TemplateKind, by_value=True)
    output_format = fields.Enum(OutputFormat, by_value=True)
    locale = fields.String(metadata={"enum": LOCALES})
    description = fields.String(allow_none=True)
    shared = fields.Boolean(metadata={"description": "Shared with every agency"})
    organisation_id = fields.Integer(allow_none=True)
    builtin_key = fields.String(allow_none=True)
    published_version = fields.Function(
        _published_number, metadata={"type": "integer", "nullable": True}
    )
    published_version_id = fields.Integer(allow_none=True)
    created_at = UtcDateTime()
    updated_at = UtcDateTime()


class TemplateVersionSchema(Schema):
    """A version without its body."""

    id = fields.Integer()
    template_id = fields.Integer()
    number = fields.Integer()
    sha256 = fields.String()
    changelog = fields.String(allow_none=True)
    author_name = fields.String(allow_none=True)
    created_at = UtcDateTime()
    published = fields.Boolean()


class TemplateVersionBodySchema(TemplateVersionSchema):
    """A version with its body."""

    body = fields.String()


class TemplateShowSchema(TemplateSchema):
    """A template with the summary of every version, oldest first."""

    versions = fields.Method(
        "_versions",
        metadata={
            "type": "array",
            "items": {"$ref": "#/components/schemas/TemplateVersionSchema"},
        },
    )

    def _versions(self, template: Template) -> list[dict[str, Any]]:
        rows = version_summaries(object_session(template), template)
        return TemplateVersionSchema().dump(rows, many=True)


class TemplateVersionListSchema(Schema):
    count = fields.Integer()
    result = fields.List(fields.Nested(TemplateVersionSchema))


class TemplatePublishedSchema(Schema):
    id = fields.Integer(metadata={"description": "The template"})
    published_version = fields.Integer()
    version_id = fields.Integer()


class TemplateDiffRowSchema(Schema):
    tag = fields.String(metadata={"enum": ["equal", "replace", "delete", "insert"]})
    left_number = fields.Integer(allow_none=True)
    left_text = fields.String(allow_none=True)
    right_number = fields.Integer(allow_none=True)
    right_text = fields.String(allow_none=True)


class TemplateDiffSchema(Schema):
    a = fields.Integer()
    b = fields.Integer()
    rows = fields.List(fields.Nested(TemplateDiffRowSchema))


# --- what the routes read (JSON types here; the service checks the values) --------


class TemplateCreateSchema(Schema):
    name = fields.String(required=True, validate=validate.Length(max=120))
    kind = fields.String(required=True, metadata={"enum": KINDS})
    output_format = fields.String(required=True, metadata={"enum": FORMATS})
    locale = fields.String(metadata={"enum": LOCALES, "default": "fr"})
    description = fields.String(allow_none=True, validate=validate.Length(max=2000))
    shared = StrictBoolean(metadata={"description": "SUPERADMIN only: a template for every agency"})


class TemplateEditSchema(Schema):
    name = fields.String(validate=validate.Length(max=120))
    kind = fields.String(
        metadata={"enum": KINDS, "description": "Only while the template has no version"}
    )
    output_format = fields.String(
        metadata={"enum": FORMATS, "description": "Never changes: always refused"}
    )
    locale = fields.String(metadata={"enum": LOCALES})
    description = fields.String(allow_none=True, validate=validate.Length(max=2000))


class TemplateVersionCreateSchema(Schema):
    body = fields.String(required=True)
    changelog = fields.String(allow_none=True, validate=validate.Length(max=500))


class TemplatePublishSchema(Schema):
    version = StrictInteger(required=True, validate=validate.Range(min=1, max=MAX_NUMBER))


class TemplatePreviewSchema(Schema):
    version = StrictInteger(
        allow_none=True,
        validate=validate.Range(min=1, max=MAX_NUMBER),
        metadata={"description": "Default: the published version, else the latest"},
    )
    policy_id = Id(
        allow_none=True, metadata={"description": "Default: sample data under your letterhead"}
    )
    output = fields.String(
        validate=validate.OneOf(PREVIEW_OUTPUTS),
        metadata={"description": "html (default) or pdf; html or xlsx for an XLSX template"},
    )


def version_summaries(session: Session, template: Template) -> list[dict[str, Any]]:
    """Every version of ``template`` without its body (which may be 200,000 characters)."""
    rows = session.execute(
        select(*(getattr(TemplateVersion, name) for name in SUMMARY_COLUMNS))
        .where(TemplateVersion.template_id == template.id)
        .order_by(TemplateVersion.number)
    )
    return [_summary(row._asdict(), template) for row in rows]


def _summary(values: dict[str, Any], template: Template) -> dict[str, Any]:
    return {**values, "published": values["id"] == template.published_version_id}


def describe_version(version: TemplateVersion, template: Template) -> dict[str, Any]:
    values = {name: getattr(version, name) for name in (*SUMMARY_COLUMNS, "body")}
    return _summary(values, template)
