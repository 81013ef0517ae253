"""Checks on a task rule before it is written, whatever door it came through.

A rule's title must render in the sandbox on a sample record (a failure names the line),
its assignee must fit its assignee rule, and the category and the named user must be the
agency's own.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import (
    AppUser,
    AssigneeRule,
    TaskCategory,
    TaskPriority,
    TaskRule,
    TaskTrigger,
    TaskType,
    Team,
)
from app.models.base import ModelValidationError
from app.services.rendering.errors import RenderError
from app.services.tasks.engine import render_title
from app.services.tasks.mailing import template_problem
from app.services.tasks.triggers import SAMPLE_CONTEXT


def check_rule(session: Session, rule: TaskRule) -> None:
    """Raise InvalidRequestError naming every field of ``rule`` that cannot work."""
    errors: dict[str, str] = {}
    try:
        render_title(rule.title_template or "", SAMPLE_CONTEXT)
    except RenderError as error:
        errors["title_template"] = str(error)
    # False only when said: a rule posted without the field creates tasks, as before.
    creates_task = rule.creates_task is not False
    if creates_task and not (rule.title_template or "").strip():
        errors["title_template"] = _("Enter a title.")
    problem = template_problem(session, rule)
    if problem:
        errors["email_template_id"] = problem
    if not creates_task and rule.email_template_id is None:
        errors["email_template_id"] = _("A rule creates a task, sends an e-mail, or both.")
    if rule.assignee_rule is AssigneeRule.user:
        if rule.assignee_id is None:
            errors["assignee_id"] = _("Name the user who gets the tasks.")
    elif rule.assignee_rule is AssigneeRule.team and rule.team is None:
        errors["team"] = _("Name the team that gets the tasks.")
    if rule.assignee_id is not None and not session.scalar(
        select(AppUser.id).where(
            AppUser.id == rule.assignee_id, AppUser.organisation_id == rule.organisation_id
        )
    ):
        errors["assignee_id"] = _("Unknown id %(id)s.", id=rule.assignee_id)
    if rule.category_id is not None and not session.scalar(
        select(TaskCategory.id).where(
            TaskCategory.id == rule.category_id,
            TaskCategory.organisation_id == rule.organisation_id,
        )
    ):
        errors["category_id"] = _("Unknown id %(id)s.", id=rule.category_id)
    for field, low, high in (("offset_days", -366, 366), ("due_days", 0, 366)):
        value = getattr(rule, field)
        if value is None or not low <= value <= high:
            errors[field] = _("Enter a number from %(low)d to %(high)d.", low=low, high=high)
    if errors:
        raise ModelValidationError(errors)


def _choice(enum_type: type, raw: Any, field: str, errors: dict[str, str]) -> Any:
    try:
        return enum_type(raw)
    except ValueError:
        errors[field] = _(
            "Choose one of: %(choices)s.", choices=", ".join(m.value for m in enum_type)
        )
        return None


def _number(raw: Any, field: str, errors: dict[str, str]) -> int | None:
    text = (raw or "").strip()
    try:
        return int(text)
    except ValueError:
        errors[field] = _("Enter a whole number.")
        return None


def fill_rule(session: Session, rule: TaskRule, form: Mapping[str, Any]) -> None:
    """Set a rule from a screen's form (text values), then check it (check_rule)."""
    errors: dict[str, str] = {}
    name = " ".join((form.get("name") or "").split())
    if not name or len(name) > 120:
        errors["name"] = _("Enter 1 to %(count)d characters.", count=120)
    values = {
        "name": name,
        "trigger": _choice(TaskTrigger, form.get("trigger"), "trigger", errors),
        "offset_days": _number(form.get("offset_days"), "offset_days", errors),
        "due_days": _number(form.get("due_days"), "due_days", errors),
        "title_template": form.get("title_template") or "",
        "type": _choice(TaskType, form.get("type"), "type", errors),
        "priority": _choice(TaskPriority, form.get("priority"), "priority", errors),
        "assignee_rule": _choice(AssigneeRule, form.get("assignee_rule"), "assignee_rule", errors),
        "team": _choice(Team, form["team"], "team", errors) if form.get("team") else None,
        "assignee_id": int(form["assignee_id"])
        if (form.get("assignee_id") or "").isdigit() and len(form["assignee_id"]) < 10
        else None,
        "active": form.get("active") == "y",
        "creates_task": form.get("creates_task") == "y",
        "category_id": int(form["category_id"])
        if (form.get("category_id") or "").isdigit() and len(form["category_id"]) < 10
        else None,
        "email_template_id": int(form["email_template_id"])
        if (form.get("email_template_id") or "").isdigit() and len(form["email_template_id"]) < 10
        else None,
    }
    if errors:
        raise ModelValidationError(errors)
    for key, value in values.items():
        setattr(rule, key, value)
    check_rule(session, rule)
