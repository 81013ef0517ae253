"""E-mail tasks: send one message, and sweep the outbox every minute.

Messages carry ids only; app.services.mail keeps the state in the message's row.
"""

from __future__ import annotations

from huey import crontab

from app.tasks.context import task_app_context
from app.tasks.queue import huey


@huey.task()
def send_message(message_id: int) -> None:
    """Send a queued message (a no-op when another worker has it, or it is sent)."""
    from app.services.mail import run_send

    with task_app_context():
        run_send(message_id)


@huey.periodic_task(crontab(minute="*"))
def sweep_outbox() -> None:
    """Send again the messages whose task was lost, that waited, or whose worker died."""
    from app.services.mail import sweep

    with task_app_context():
        sweep()
