"""What the 100,000-contract benches share: their command line, and a seeded book in a
PostgreSQL schema of its own (bench/seed.py), with the app's environment pointed at it."""

from __future__ import annotations

import argparse
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from portfolio_schema import DEFAULT_POSTGRES_URL, fresh_schema, schema_url


def parse_arguments(
    description: str | None, default_schema: str, size_help: str, argv: list[str] | None
) -> argparse.Namespace:
    """--size, --postgres-url, --schema, --keep, checked."""
    parser = argparse.ArgumentParser(
        description=description, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--size", type=int, default=100_000, help=size_help)
    parser.add_argument(
        "--postgres-url", default=os.environ.get("BENCH_POSTGRES_URL", DEFAULT_POSTGRES_URL)
    )
    parser.add_argument("--schema", default=default_schema)
    parser.add_argument("--keep", action="store_true", help="keep the schema")
    args = parser.parse_args(argv)
    if not args.schema.isidentifier():
        parser.error("--schema must be a plain identifier")
    if args.size < 1:
        parser.error("--size of at least 1")
    return args


@contextmanager
def seeded_book(args: argparse.Namespace, prefix: str) -> Iterator[tuple[Any, Any, str]]:
    """(app, seeded, postgres version) for a fresh schema holding ``args.size`` policies;
    the schema is dropped on the way out unless ``--keep``."""
    workdir = Path(tempfile.mkdtemp(prefix=prefix))
    with fresh_schema(args.postgres_url, args.schema, keep=args.keep) as postgres:
        for name in ("REDIS_URL", "HUEY_IMMEDIATE", "STORAGE_URL"):
            os.environ.pop(name, None)
        os.environ.update(
            {
                "DATA_DIR": str(workdir / "data"),
                "DATABASE_URL": schema_url(args.postgres_url, args.schema),
                "HUEY_SQLITE_PATH": str(workdir / "huey.db"),
                "LOG_LEVEL": "WARNING",
            }
        )
        import seed

        app = seed.build_app()
        yield app, seed.seed(app, args.size, quiet=True), postgres
