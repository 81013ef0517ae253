"""E-mail: the outbox (outbox.py), sending under a lease (sending.py), the SMTP server
(smtp.py, the only module that talks to it) and the sweeper (sweeper.py)."""

from app.services.mail.outbox import Draft, enqueue_messages, queue_messages
from app.services.mail.sending import run_send
from app.services.mail.sweeper import sweep

__all__ = ["Draft", "enqueue_messages", "queue_messages", "run_send", "sweep"]
