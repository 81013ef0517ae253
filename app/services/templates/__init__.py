"""Template authoring: who sees and writes templates, their versions, previews and diffs.

One set of rules for every door (REST API, screens, CLI); see each module:
access (scope), authoring (create, version, publish), preview, diff, builtin.
Functions take the acting user explicitly and never commit.
"""

from app.services.templates.access import (
    check_readable,
    check_writable,
    may_read,
    may_write,
    templates_query,
    visible_template,
)
from app.services.templates.authoring import add_version, create_template, publish
from app.services.templates.builtin import BUILTINS, load_builtin_templates
from app.services.templates.changes import delete_template, update_template
from app.services.templates.diff import DiffRow, HunkDiff, diff_hunks, diff_rows
from app.services.templates.preview import preview

__all__ = [
    "BUILTINS",
    "DiffRow",
    "HunkDiff",
    "add_version",
    "check_readable",
    "check_writable",
    "create_template",
    "delete_template",
    "diff_hunks",
    "diff_rows",
    "load_builtin_templates",
    "may_read",
    "may_write",
    "preview",
    "publish",
    "templates_query",
    "update_template",
    "visible_template",
]
