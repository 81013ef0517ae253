"""The "Tâches" screens: my tasks, the team's (managers), and the rules with their preview.

Thin doors over app/services/tasks/: a list reads one query (lists.py), each button posts
one use case (work.py) and flashes its refusal, the rules' preview is the engine's dry run.
"""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, request, url_for
from flask_appbuilder import BaseView, expose, has_access
from flask_babel import lazy_gettext as _
from flask_wtf import FlaskForm
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from werkzeug.wrappers import Response

from app import permissions
from app.extensions import db
from app.models import TaskRule, TaskTrigger, Template, TemplateKind, ValidationOutcome
from app.models.base import ModelValidationError
from app.services.errors import DomainError, NotFoundError
from app.services.scope import current_user
from app.services.tasks import engine, rules, work
from app.services.tasks.lists import (
    STATUS_CHOICES,
    TaskFilters,
    active_categories,
    agency_users,
    task_rows,
)
from app.services.templates.access import templates_query
from app.services.timezones import local_today, reader_zone
from app.views.portfolio import enum_text

ACTIONS = ("start", "complete", "cancel", "approve", "refuse")


class ActionForm(FlaskForm):
    """The CSRF token of the screens' small forms (their fields are read from the request)."""


def _refused(error: Exception) -> None:
    db.session.rollback()
    if isinstance(error, ModelValidationError):
        flash("; ".join(str(message) for message in error.errors.values()), "danger")
    else:
        flash(str(getattr(error, "message", error)), "danger")


def _int(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() and len(value) < 10 else None


class TaskView(BaseView):
    route_base = "/tasks"
    class_permission_name = permissions.TASK
    method_permission_name = {
        "list": permissions.READ,
        "new": permissions.WRITE,
        "act": permissions.WRITE,
        "reassign": permissions.BATCH,
    }
    default_view = "list"

    @expose("/", methods=["GET"])
    @has_access
    def list(self) -> Any:
        user = current_user()
        manager = work.is_manager(user)
        team = request.args.get("view") == "team" and manager
        status = request.args.get("status", "open")
        team_name = request.args.get("team")
        policy_id, client_id = _int(request.args.get("policy")), _int(request.args.get("client"))
        notice_id = _int(request.args.get("notice"))
        filters = TaskFilters(
            policy_id=policy_id,
            client_id=client_id,
            premium_notice_id=notice_id,
            team=team,
            status=status if status in STATUS_CHOICES else "open",
            overdue=request.args.get("overdue") == "1",
            assignee_id=_int(request.args.get("assignee")) if team else None,
            team_name=team_name if team and team_name in ("USER", "MANAGER", "ADMIN") else None,
        )
        today = local_today(reader_zone())
        try:
            rows = task_rows(db.session, user, today, filters)
        except DomainError as error:
            _refused(error)
            rows = []
        return self.render_template(
            "tasks/list.html",
            rows=rows,
            today=today,
            filters=filters,
            team_view=team,
            record_view=any(value is not None for value in (policy_id, client_id, notice_id)),
            manager=manager,
            users=agency_users(db.session, user) if manager else [],
            form=ActionForm(),
            label=enum_text,
            statuses=STATUS_CHOICES,
        )

    @expose("/new", methods=["GET", "POST"])
    @has_access
    def new(self) -> Any:
        """A task by hand, optionally on a contract or a client (its page's button)."""
        user = current_user()
        values = request.form if request.method == "POST" else request.args
        if request.method == "POST":
            if not ActionForm().validate_on_submit():
                flash(str(_("The request was refused: reload the page and try again.")), "danger")
            else:
                target = values.get("target", "")
                data = {
                    "title": values.get("title"),
                    "due_on": values.get("due_on"),
                    "priority": values.get("priority") or None,
                    "type": values.get("type") or None,
                    "result_note": values.get("result_note") or None,
                    "category_id": _int(values.get("category_id")),
                    "policy_id": _int(values.get("policy")),
                    "client_id": _int(values.get("client")),
                    "assignee_id": _int(target.removeprefix("user:"))
                    if target.startswith("user:")
                    else None,
                    "team": target.removeprefix("team:") if target.startswith("team:") else None,
                }
                try:
                    task = work.create_task(db.session, user, data)
                    db.session.commit()
                except (DomainError, ModelValidationError) as error:
                    _refused(error)
                else:
                    flash(str(_("Task created.")), "success")
                    if task.policy_id:
                        return redirect(url_for("TaskView.list", policy=task.policy_id))
                    if task.client_id:
                        return redirect(url_for("TaskView.list", client=task.client_id))
                    return redirect(url_for("TaskView.list"))
        return self.render_template(
            "tasks/new.html",
            values=values,
            users=agency_users(db.session, user),
            categories=active_categories(db.session, user),
            today=local_today(reader_zone()),
            form=ActionForm(),
        )

    @expose("/<int:pk>/<string:name>", methods=["POST"])
    @has_access
    def act(self, pk: int, name: str) -> Response:
        if name not in ACTIONS or pk >= 2**31:
            abort(404)
        back = request.form.get("next") or url_for("TaskView.list")
        if not back.startswith("/"):
            back = url_for("TaskView.list")
        if not ActionForm().validate_on_submit():
            flash(str(_("The request was refused: reload the page and try again.")), "danger")
            return redirect(back)
        user, note = current_user(), request.form.get("result_note") or None
        try:
            if name == "start":
                work.start(db.session, user, pk)
            elif name in ("approve", "refuse"):
                outcome = (
                    ValidationOutcome.approved if name == "approve" else ValidationOutcome.refused
                )
                work.decide(db.session, user, pk, outcome, note)
            else:
                getattr(work, name)(db.session, user, pk, note)
            db.session.commit()
        except NotFoundError:
            db.session.rollback()
            abort(404)
        except (DomainError, ModelValidationError) as error:
            _refused(error)
            return redirect(back)
        flash(str(_("Task updated.")), "success")
        return redirect(back)

    @expose("/reassign", methods=["POST"])
    @has_access
    def reassign(self) -> Response:
        back = url_for("TaskView.list", view="team")
        if not ActionForm().validate_on_submit():
            flash(str(_("The request was refused: reload the page and try again.")), "danger")
            return redirect(back)
        ids = [number for raw in request.form.getlist("ids") if (number := _int(raw))]
        target = request.form.get("target", "")
        assignee_id = _int(target.removeprefix("user:")) if target.startswith("user:") else None
        team = target.removeprefix("team:") if target.startswith("team:") else None
        try:
            tasks = work.reassign_bulk(
                db.session, current_user(), ids, assignee_id=assignee_id, team=team
            )
            db.session.commit()
        except (DomainError, ModelValidationError) as error:
            _refused(error)
            return redirect(back)
        flash(str(_("%(count)d task(s) reassigned.", count=len(tasks))), "success")
        return redirect(back)


class TaskRuleView(BaseView):
    route_base = "/task-rules"
    class_permission_name = permissions.TASK_RULE
    method_permission_name = {
        "list": permissions.READ,
        "preview": permissions.READ,
        "apply": permissions.WRITE,
        "edit": permissions.WRITE,
    }
    default_view = "list"

    def _organisation_id(self) -> int | None:
        user = current_user()
        return getattr(user, "organisation_id", None)

    @expose("/", methods=["GET"])
    @has_access
    def list(self) -> Any:
        organisation_id = self._organisation_id()
        rules = (
            db.session.scalars(
                select(TaskRule)
                .where(TaskRule.organisation_id == organisation_id)
                .order_by(TaskRule.id)
            ).all()
            if organisation_id is not None
            else []
        )
        return self.render_template(
            "tasks/rules.html", rules=rules, label=enum_text, form=ActionForm()
        )

    @expose("/preview", methods=["GET"])
    @has_access
    def preview(self) -> Any:
        organisation_id = self._organisation_id()
        if organisation_id is None:
            flash(str(_("Only an agency's people apply its rules.")), "danger")
            return redirect(url_for("TaskRuleView.list"))
        run = engine.apply_rules(db.session, organisation_id=organisation_id, dry_run=True)
        return self.render_template(
            "tasks/preview.html",
            run=run,
            users=dict(agency_users(db.session, current_user())),
            label=enum_text,
            form=ActionForm(),
        )

    @expose("/apply", methods=["POST"])
    @has_access
    def apply(self) -> Response:
        organisation_id = self._organisation_id()
        if not ActionForm().validate_on_submit() or organisation_id is None:
            flash(str(_("The request was refused: reload the page and try again.")), "danger")
            return redirect(url_for("TaskRuleView.list"))
        run = engine.apply_rules(db.session, organisation_id=organisation_id)
        summary = run.summary()
        flash(str(_("%(count)d task(s) created.", count=summary["created"])), "success")
        if summary["queued"]:
            flash(str(_("%(count)d e-mail(s) queued.", count=summary["queued"])), "success")
        return redirect(url_for("TaskView.list", view="team"))

    @expose("/new", methods=["GET", "POST"])
    @expose("/<int:pk>/edit", methods=["GET", "POST"])
    @has_access
    def edit(self, pk: int | None = None) -> Any:
        """A rule's form: new, or an existing one of the agency (switched off, never deleted)."""
        organisation_id = self._organisation_id()
        if organisation_id is None or (pk is not None and pk >= 2**31):
            abort(404)
        rule = (
            db.session.scalar(
                select(TaskRule).where(
                    TaskRule.id == pk, TaskRule.organisation_id == organisation_id
                )
            )
            if pk is not None
            else None
        )
        if pk is not None and rule is None:
            abort(404)
        if request.method == "POST":
            if not ActionForm().validate_on_submit():
                flash(str(_("The request was refused: reload the page and try again.")), "danger")
            else:
                target = rule or TaskRule(organisation_id=organisation_id)
                try:
                    rules.fill_rule(db.session, target, request.form)
                    db.session.add(target)
                    db.session.commit()
                except IntegrityError:
                    db.session.rollback()
                    flash(str(_("A rule of this name exists already.")), "danger")
                except (DomainError, ModelValidationError) as error:
                    _refused(error)
                else:
                    flash(str(_("Rule saved.")), "success")
                    return redirect(url_for("TaskRuleView.list"))
        return self.render_template(
            "tasks/rule_form.html",
            rule=rule,
            values=request.form if request.method == "POST" else None,
            users=agency_users(db.session, current_user()),
            email_templates=_email_templates(),
            categories=[
                (str(pk), name) for pk, name in active_categories(db.session, current_user())
            ],
            triggers=list(TaskTrigger),
            label=enum_text,
            form=ActionForm(),
        )


def _email_templates() -> list[tuple[str, str]]:
    """The published e-mail templates the user's agency may send from a rule."""
    templates = (
        templates_query(db.session, current_user())
        .filter(Template.kind == TemplateKind.email, Template.published_version_id.isnot(None))
        .order_by(Template.name)
        .all()
    )
    return [(str(template.id), template.name) for template in templates]


def _rule_categories(rule: TaskRule | None) -> list[tuple[int, str]]:
    """The active categories, and the rule's own even if switched off (kept on save)."""
    choices = active_categories(db.session, current_user())
    if rule is not None and rule.category is not None and not rule.category.active:
        choices.append((rule.category.id, rule.category.name))
    return choices
