"""Comptabilité › Commissions: an insurer's statement uploaded, mapped, previewed, imported
and reconciled; its lines filtered by result, matched or unmatched by hand, exported.

A mixin of CommissionView (resource Commission). The upload is staged like the imports'
(app/services/imports/staging.py: the user's, the agency's, for an hour) so the column
mapping can be changed and previewed again without sending the file twice; the import
reads the staged bytes and runs app/services/commissions/statements.py in one
transaction. Refusals are flashed (the API's 4xx, said on the screen).
"""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, request, url_for
from flask_appbuilder import expose, has_access
from flask_babel import gettext
from flask_babel import lazy_gettext as _
from flask_wtf import FlaskForm
from sqlalchemy import select
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.wrappers import Response

from app.api.base import parse_pk
from app.extensions import csrf, db
from app.models import CommissionStatementLine, Company, LineResult
from app.services.commissions import statement_export, statements
from app.services.commissions.statement_file import FIELDS, month_bounds, statement_limits
from app.services.errors import DomainError, InvalidRequestError
from app.services.imports import staging, too_large_message
from app.services.imports.reading import read_table
from app.services.renewals.contracts import agency_today
from app.services.scope import current_user, visible_organisation_id
from app.views.imports import FORM_OVERHEAD
from app.views.responses import file_response

KIND = "commission_statement"
PREVIEW_ROWS = 20
LINES_SHOWN = 500
FIELD_LABELS = {
    "policy_number": _("Policy number"),
    "notice_reference": _("Notice reference"),
    "period": _("Period"),
    "premium": _("Premium"),
    "commission": _("Commission"),
    "sign": _("Sign (debit/credit)"),
}
EXPORT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


class ActionForm(FlaskForm):
    """Only the CSRF token: the posted values are read and checked by the service."""


def own_organisation() -> int:
    organisation_id = getattr(current_user(), "organisation_id", None)
    if organisation_id is None:
        abort(403)
    return organisation_id


def insurers(organisation_id: int | None) -> list[Company]:
    query = select(Company).order_by(Company.name)
    if organisation_id is not None:
        query = query.where(Company.organisation_id == organisation_id)
    return list(db.session.scalars(query))


def pk_or_404(raw: str) -> int:
    parsed = parse_pk(raw, 2**31 - 1)
    if parsed is None:
        abort(404)
    return parsed


class StatementScreens:
    """Routes under /commissions/statements (the methods FAB exposes on CommissionView)."""

    render_template: Any

    @expose("/statements/upload", methods=["GET"])
    @has_access
    def statement_form(self) -> Any:
        limits = statement_limits()
        return self.render_template(
            "commissions/statement_upload.html",
            insurers=insurers(visible_organisation_id()),
            form=ActionForm(),
            max_mb=f"{limits.max_bytes / 1024 / 1024:g}",
            fields=[(field, FIELD_LABELS[field]) for field in FIELDS],
            demo=_is_demo(),
            this_month=agency_today(db.session, own_organisation()).strftime("%Y-%m"),
        )

    @expose("/statements/sample.csv", methods=["GET"])
    @has_access
    def statement_sample(self) -> Response:
        """The demo agency's sample statement of a month (three differences planted): what a
        new user uploads to try the reconciliation. Another agency has none (404)."""
        from app.services.commissions.demo import sample_statement
        from app.services.demo import demo_organisation_id

        organisation_id = own_organisation()
        if organisation_id != demo_organisation_id(db.session):
            abort(404)
        try:
            company = statements.insurer(
                db.session, organisation_id, request.args.get("insurer_id")
            )
            first, last = month_bounds(request.args.get("period", ""))
            data = sample_statement(db.session, organisation_id, company.id, first, last)
        except (DomainError, ValueError) as error:
            flash(
                getattr(error, "message", None) or gettext("No commission is due that month."),
                "danger",
            )
            return redirect(url_for("CommissionView.statement_form"))
        name = f"releve-{company.code}-{first:%Y-%m}.csv"
        return file_response(data, EXPORT_TYPES["csv"], name)

    @expose("/statements/upload", methods=["POST"])
    @has_access
    def statement_upload(self) -> Response:
        back = redirect(url_for("CommissionView.statement_form"))
        limits = statement_limits()
        if (request.content_length or 0) > limits.max_bytes + FORM_OVERHEAD:
            flash(too_large_message(limits), "danger")
            return back
        request.max_content_length = limits.max_bytes + FORM_OVERHEAD
        try:
            csrf.protect()  # after the size check, as the imports' upload
            upload = request.files.get("file")
        except RequestEntityTooLarge:
            flash(too_large_message(limits), "danger")
            return back
        if upload is None or not upload.filename:
            flash(gettext("Choose a CSV or XLSX file."), "danger")
            return back
        organisation_id = own_organisation()
        data = upload.stream.read(limits.max_bytes + 1)
        try:
            if len(data) > limits.max_bytes:
                raise InvalidRequestError(too_large_message(limits))
            company = statements.insurer(
                db.session, organisation_id, request.form.get("insurer_id")
            )
            period = request.form.get("period", "")
            month_bounds(period)  # a wrong month is said now, not after the preview
            read_table(data, upload.filename, limits, lambda _header: True)
        except DomainError as error:
            flash(error.message, "danger")
            return back
        staged = staging().put(
            data,
            kind=KIND,
            user_id=current_user().id,
            organisation_id=organisation_id,
            file_name=upload.filename,
        )
        return redirect(
            url_for(
                "CommissionView.statement_preview",
                token=staged.token,
                insurer_id=company.id,
                period=period,
            )
        )

    @expose("/statements/preview/<string:token>", methods=["GET"])
    @has_access
    def statement_preview(self, token: str) -> Any:
        staged, data = self._staged(token)
        organisation_id = staged.organisation_id
        given = {field: request.args.get(f"map_{field}", "") for field in FIELDS}
        mapping = given if any(given.values()) else None
        read, problem, headers = None, None, []
        try:
            company = statements.insurer(
                db.session, organisation_id, request.args.get("insurer_id")
            )
            read = statements.preview(
                db.session, organisation_id, company.id, data, staged.file_name, mapping
            )
            headers = read.headers
        except DomainError as error:
            problem = error
            headers = read_table(
                data, staged.file_name, statement_limits(), lambda _h: True
            ).headers
        finally:
            db.session.rollback()  # the preview only read
        chosen = read.columns if read is not None else {k: v for k, v in given.items() if v}
        return self.render_template(
            "commissions/statement_preview.html",
            token=token,
            staged=staged,
            insurer=db.session.get(Company, request.args.get("insurer_id", type=int) or 0),
            period=request.args.get("period", ""),
            fields=[(field, FIELD_LABELS[field]) for field in FIELDS],
            headers=[header for header in headers if header],
            chosen=chosen,
            read=read,
            rows=read.rows[:PREVIEW_ROWS] if read else [],
            errors=(read.errors if read else [])[:200],
            problem=problem,
            form=ActionForm(),
        )

    @expose("/statements/preview/<string:token>/import", methods=["POST"])
    @has_access
    def statement_import(self, token: str) -> Response:
        staged, data = self._staged(token)
        mapping = {field: request.form.get(f"map_{field}", "") for field in FIELDS}
        again = redirect(
            url_for(
                "CommissionView.statement_preview",
                token=token,
                insurer_id=request.form.get("insurer_id"),
                period=request.form.get("period"),
                **{f"map_{k}": v for k, v in mapping.items() if v},
            )
        )
        if not ActionForm().validate_on_submit():
            flash(gettext("The request was refused: reload the page and try again."), "danger")
            return again
        try:
            statement = statements.import_statement(
                db.session,
                staged.organisation_id,
                company_id=request.form.get("insurer_id", ""),
                period=request.form.get("period", ""),
                data=data,
                file_name=staged.file_name,
                user_id=current_user().id,
                mapping={k: v for k, v in mapping.items() if v} or None,
            )
            db.session.commit()
        except DomainError as error:
            db.session.rollback()
            flash_refusal(error)
            return again
        staging().discard(token)
        counts = statements.summary(db.session, statement.id)
        flash(
            gettext(
                "Statement imported and reconciled: %(matched)d matched, %(differs)d amounts "
                "differ, %(missing)d expected but missing, %(unknown)d unknown.",
                matched=counts["matched"],
                differs=counts["amount_differs"],
                missing=counts["missing"],
                unknown=counts["unknown"],
            ),
            "success",
        )
        return redirect(url_for("CommissionView.statement_show", pk=statement.id))

    @expose("/statements/<pk>", methods=["GET"])
    @has_access
    def statement_show(self, pk: str) -> Any:
        statement = self._statement(pk)
        result = request.args.get("result") or None
        if result is not None and result not in {member.value for member in LineResult}:
            flash(gettext("Unknown result."), "warning")
            result = None
        lines = list(
            db.session.scalars(statements.lines_query(statement, result).limit(LINES_SHOWN))
        )
        # Matching by hand pairs a line with an expectation the rules left missing.
        missing = list(
            db.session.scalars(
                select(CommissionStatementLine)
                .where(
                    CommissionStatementLine.statement_id == statement.id,
                    CommissionStatementLine.result == LineResult.missing,
                )
                .order_by(CommissionStatementLine.policy_number, CommissionStatementLine.id)
            )
        )
        return self.render_template(
            "commissions/statement_show.html",
            statement=statement,
            counts=statements.summary(db.session, statement.id),
            result=result,
            results=[
                (member.value, statement_export.RESULT_LABELS[member]) for member in LineResult
            ],
            labels=statement_export.RESULT_LABELS,
            lines=lines,
            missing=missing,
            form=ActionForm(),
        )

    @expose("/statements/<pk>/lines/<line_id>/match", methods=["POST"])
    @has_access
    def statement_match(self, pk: str, line_id: str) -> Response:
        statement = self._statement(pk)
        back = redirect(request.form.get("next") or url_for("CommissionView.statement_show", pk=pk))
        if not ActionForm().validate_on_submit():
            flash(gettext("The request was refused: reload the page and try again."), "danger")
            return back
        try:
            statements.match(
                db.session,
                statement,
                pk_or_404(line_id),
                request.form.get("expected_commission_id", type=int),
            )
            db.session.commit()
        except DomainError as error:
            db.session.rollback()
            flash_refusal(error)
        else:
            flash(gettext("Line matched."), "success")
        return back

    @expose("/statements/<pk>/lines/<line_id>/unmatch", methods=["POST"])
    @has_access
    def statement_unmatch(self, pk: str, line_id: str) -> Response:
        statement = self._statement(pk)
        back = redirect(request.form.get("next") or url_for("CommissionView.statement_show", pk=pk))
        if not ActionForm().validate_on_submit():
            flash(gettext("The request was refused: reload the page and try again."), "danger")
            return back
        try:
            statements.unmatch(db.session, statement, pk_or_404(line_id))
            db.session.commit()
        except DomainError as error:
            db.session.rollback()
            flash_refusal(error)
        else:
            flash(gettext("Line unmatched: it is unknown until matched again."), "success")
        return back

    @expose("/statements/<pk>/export.<string:extension>", methods=["GET"])
    @has_access
    def statement_export(self, pk: str, extension: str) -> Response:
        statement = self._statement(pk)
        if extension not in EXPORT_TYPES:
            abort(404)
        result = request.args.get("result") or None
        try:
            if extension == "csv":
                body = statement_export.export_csv(db.session, statement, result)
            else:
                body = statement_export.export_xlsx(db.session, statement, result).read()
        except DomainError as error:
            flash(error.message, "danger")
            return redirect(url_for("CommissionView.statement_show", pk=pk))
        name = statement_export.file_name(statement, extension)
        return file_response(body, EXPORT_TYPES[extension], name)

    def _statement(self, pk: str) -> Any:
        try:
            return statements.visible_statement(
                db.session, visible_organisation_id(), pk_or_404(pk)
            )
        except DomainError:
            abort(404)

    def _staged(self, token: str) -> tuple[Any, bytes]:
        """The user's staged statement and its bytes; else back to the form, flashed."""
        try:
            user = current_user()
            staged = staging().get(
                token, kind=KIND, user_id=user.id, organisation_id=own_organisation()
            )
            return staged, staging().read(staged)
        except DomainError as error:
            flash(error.message, "danger")
            abort(redirect(url_for("CommissionView.statement_form")))


def _is_demo() -> bool:
    from app.services.demo import demo_organisation_id

    return own_organisation() == demo_organisation_id(db.session)


def flash_refusal(error: DomainError) -> None:
    """The refusal, then each field's or row's reason (at most ten, the export has all)."""
    flash(error.message, "danger")
    details = getattr(error, "errors", None) or {}
    for where, reason in list(details.items())[:10]:
        flash(f"{where} : {reason}", "danger")


# Checked in statement_upload itself, after the size (as app/views/imports.py does).
csrf.exempt(f"{__name__}.{StatementScreens.statement_upload.__name__}")
