"""What a password costs: the production hash, made then checked, in seconds and memory.

    python bench/passwords.py                       # scrypt:131072:8:1, 5 rounds
    python bench/passwords.py --method scrypt:262144:8:1 --rounds 3

The tests check the parameters the app hashes with (tests/test_config.py), never the
time they take: on a loaded machine the same hash takes several times longer. This
script is where that time is measured, to size the web workers (docs/operations.md,
"Passwords and keys"): each login attempt, right or wrong, pays one check.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import sys
import time

from werkzeug.security import check_password_hash, generate_password_hash

PRODUCTION_METHOD = "scrypt:131072:8:1"  # config.py's default PASSWORD_HASH_METHOD


def measure(method: str, rounds: int) -> dict[str, float]:
    """Median seconds to make one hash and to check one password (right, then wrong)."""
    made: list[float] = []
    checked: list[float] = []
    for _ in range(rounds):
        started = time.perf_counter()
        hashed = generate_password_hash("correct horse battery staple", method=method)
        made.append(time.perf_counter() - started)
        started = time.perf_counter()
        if not check_password_hash(hashed, "correct horse battery staple"):
            raise SystemExit("the hash does not check its own password")
        if check_password_hash(hashed, "wrong"):
            raise SystemExit("the hash accepts a wrong password")
        checked.append((time.perf_counter() - started) / 2)
    return {"make": statistics.median(made), "check": statistics.median(checked)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--method", default=PRODUCTION_METHOD, help="werkzeug hash method")
    parser.add_argument("--rounds", type=int, default=5, help="hashes made and checked")
    args = parser.parse_args(argv)
    if not 1 <= args.rounds <= 50:
        parser.error("--rounds must be from 1 to 50")
    result = measure(args.method, args.rounds)
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    print(f"method {args.method}, {args.rounds} rounds (medians)")
    print(f"  make a hash      {result['make'] * 1000:8.0f} ms")
    print(f"  check a password {result['check'] * 1000:8.0f} ms")
    print(f"  peak memory      {peak_mib:8.0f} MiB (whole process)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
