"""``python -m tests.audit [--fast] [--only PREFIX] [--quiet]``: run the audit, print the counts."""

from __future__ import annotations

import argparse
import datetime
import sys

from tests.audit import all_cases
from tests.audit.harness import run_all


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.audit", description=__doc__)
    parser.add_argument("--fast", action="store_true", help="only the cases of the normal test suite")
    parser.add_argument("--only", default="", metavar="PREFIX", help="only cases whose name starts so")
    parser.add_argument("--quiet", action="store_true", help="no line per case on stderr")
    args = parser.parse_args()
    cases = [c for c in all_cases(slow=not args.fast) if c.name.startswith(args.only)]
    started = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    audit = run_all(cases, "tests.audit:all_cases", progress=not args.quiet)
    print(f"{' '.join(sys.argv)} ({started})")
    print(audit.summary())
    return 1 if audit.over_limits() else 0


if __name__ == "__main__":
    sys.exit(main())
