"""The Huey queue and its tasks.

Tasks carry ids only and reload rows inside `app.tasks.context.task_app_context()`;
the database row is the truth, the queue only a messenger.
"""

from app.tasks.queue import huey

__all__ = ["huey"]
