"""The Huey consumer's entry point, as wsgi.py is the web server's: `python worker.py -w 2`.

Takes huey_consumer's options (less the queue's import path: always app.tasks.huey),
and differs from `huey_consumer app.tasks.huey` in two ways:
- it logs through the app's handler (plain or LOG_JSON) from its first line, where
  huey_consumer puts a handler of its own on the "huey" logger for the start-up;
- a SIGINT that arrives while it is still importing the app (a second or more) stops
  it cleanly instead of printing a KeyboardInterrupt traceback: run.py starts the
  consumer once the web server answers, so an early Ctrl-C is likely.
"""

from __future__ import annotations

import signal
import sys
from types import FrameType

_early_signal: int | None = None


def _remember(signum: int, _frame: FrameType | None) -> None:
    global _early_signal
    _early_signal = signum


# Before the app's imports: until Huey installs its own handlers, a stop is remembered.
signal.signal(signal.SIGINT, _remember)
signal.signal(signal.SIGTERM, _remember)

import logging  # noqa: E402 (after the handlers above, on purpose)
import os  # noqa: E402

from huey.consumer import Consumer  # noqa: E402
from huey.consumer_options import ConsumerConfig, OptionParserHandler  # noqa: E402


class _Consumer(Consumer):
    def start(self) -> None:
        super().start()  # ends by installing Huey's signal handlers
        if _early_signal is not None:
            # It came in while Huey was starting: send it again, to Huey's handler now.
            os.kill(os.getpid(), _early_signal)


def main(argv: list[str] | None = None) -> int:
    parser = OptionParserHandler().get_option_parser()
    parser.usage = "python worker.py [huey_consumer options]"
    options, args = parser.parse_args(argv)
    if args:
        parser.error("no positional argument: the queue is app.tasks.huey")
    config = ConsumerConfig(**{k: v for k, v in vars(options).items() if v is not None})
    config.validate()

    from app.ops.logs import configure_logging
    from app.tasks import huey
    from config import env_bool, env_str

    configure_logging((env_str("LOG_LEVEL", "INFO") or "INFO").upper(), env_bool("LOG_JSON"))
    if config.verbose is not None:  # -v / -q: Huey's own lines at DEBUG / WARNING, as before
        logging.getLogger("huey").setLevel(config.loglevel)
    if _early_signal is not None:
        return 0  # stopped before it started: nothing to finish
    _Consumer(huey, **config.values).run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
