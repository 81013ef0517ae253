"""A record's tasks on its page: the contract's, the client's and the premium notice's.

The block shows the record's tasks within the reader's agency (open ones first, overdue
flagged) and links to the record's filtered task list, which has them all. One query,
whatever the number of tasks (app/services/tasks/lists.py, tests/test_screens_queries.py).
"""

from __future__ import annotations

from typing import Any

from app import permissions
from app.extensions import db
from app.services.errors import DomainError
from app.services.scope import current_user
from app.services.tasks.lists import RECORD_LIMIT, record_task_rows
from app.services.vocabulary import enum_label
from app.views.dates import reader_today

# The task list's filter naming each record (app/views/tasks.py, TaskView.list).
LIST_ARGUMENTS = {"policy": "policy", "client": "client", "premium_notice": "notice"}


def _label(member: Any) -> str:
    return "" if member is None else enum_label(member, type(member))


class RecordTasksBlock:
    """PolicyView, ClientView and PremiumNoticeView mixin: ``widgets["record_tasks"]``."""

    appbuilder: Any
    tasks_record = ""  # a key of LIST_ARGUMENTS

    def _get_show_widget(self, pk: Any, item: Any, **kwargs: Any) -> dict[str, Any]:
        widgets = super()._get_show_widget(pk, item, **kwargs)  # type: ignore[misc]
        if not self.appbuilder.sm.has_access("can_read", permissions.TASK):
            return widgets
        today = reader_today()
        try:
            rows = record_task_rows(
                db.session, current_user(), today, self.tasks_record, item.id, RECORD_LIMIT + 1
            )
        except DomainError:
            # A reader of no agency (and not SUPERADMIN) sees no task anywhere.
            return widgets
        widgets["record_tasks"] = {
            "rows": rows[:RECORD_LIMIT],
            "more": len(rows) > RECORD_LIMIT,
            "today": today,
            "list_url_args": {LIST_ARGUMENTS[self.tasks_record]: item.id},
            "label": _label,
        }
        return widgets
