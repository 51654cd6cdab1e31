"""Command line: ``fastfact info | bench | report | asv-history`` (also ``python -m fastfact``)."""

from __future__ import annotations

import argparse
import json
import sys

__all__ = ["main"]

INTERRUPTED = 130  # exit status after Ctrl-C (128 + SIGINT), as shells report it


def _info(args) -> int:
    from fastfact.bench.machine import format_info, machine_info

    info = machine_info()
    print(json.dumps(info, indent=2, default=str) if args.json else format_info(info))
    return 0


def _bench(args) -> int:
    from fastfact.bench.runner import RunInterrupted, run_suite
    from fastfact.bench.suite import load_suite

    suite = load_suite(args.suite)
    try:
        out = run_suite(suite, args.out, resume=args.resume, jobs=args.jobs,
                        scheduler=args.scheduler, quiet=args.quiet)
    except RunInterrupted as interrupted:
        flags = [flag for flag, given in (("--quiet", args.quiet), ("--report", args.report))
                 if given]
        print(f"fastfact: {interrupted}; finish the run with:\n  "
              f"{' '.join([interrupted.command, *flags])}", file=sys.stderr)
        return INTERRUPTED
    print(f"wrote {out / 'rows.csv'} and {out / 'meta.json'}")
    if args.report:
        from fastfact.bench.report import write_report

        print("wrote " + " and ".join(str(p) for p in write_report(out)))
    else:
        print(f"next: fastfact report {out}")
    return 0


def _report(args) -> int:
    from fastfact.bench.report import write_report

    paths = write_report(args.run, against=args.against)
    print("wrote " + " and ".join(str(p) for p in paths))
    return 0


def _asv_history(args) -> int:
    from pathlib import Path

    from fastfact.bench.asv_history import write_history

    config = Path(args.config)
    results = args.results
    if results is None:
        if not config.exists():
            from fastfact.bench.asv_history import HistoryError

            raise HistoryError(f"no {config} here: pass the asv results folder")
        results = config.parent / json.loads(config.read_text())["results_dir"]
    page = write_history(results, args.out, machine=args.machine,
                         config=config if config.exists() else None)
    print(f"wrote {page}")
    return 0


def _jobs(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--jobs takes an integer, got {text!r}") from None


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``fastfact`` command."""
    parser = argparse.ArgumentParser(
        prog="fastfact",
        description="Fast transforms as products of Kronecker-sparse factors: machine info, "
                    "benchmark suites and reports.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    info = commands.add_parser("info", help="versions, CPU, threads, BLAS and peers found")
    info.add_argument("--json", action="store_true", help="print the information as JSON")
    info.set_defaults(handler=_info)

    bench = commands.add_parser("bench", help="run a benchmark suite into a results folder")
    bench.add_argument("--suite", required=True, metavar="NAME|PATH",
                       help="a shipped suite (quick, default, paper) or a TOML file")
    bench.add_argument("--out", metavar="DIR",
                       help="output folder (default: results/<suite>-<UTC timestamp>)")
    bench.add_argument("--resume", action="store_true",
                       help="finish the run in --out (required), skipping its finished tasks")
    bench.add_argument("--jobs", type=_jobs, default=1, metavar="N",
                       help="worker processes for accuracy tasks (-1: one per core; default 1)")
    bench.add_argument("--scheduler", metavar="ADDRESS",
                       help="run accuracy tasks on this Dask scheduler (tcp://host:port)")
    bench.add_argument("--quiet", action="store_true", help="no progress bar")
    bench.add_argument("--report", action="store_true",
                       help="write report.md and report.html into the run folder at the end")
    bench.set_defaults(handler=_bench)

    report = commands.add_parser("report", help="write report.md and report.html of a run")
    report.add_argument("run", metavar="RUN", help="a results folder written by fastfact bench")
    report.add_argument("--against", metavar="OTHER",
                        help="another run to compare with (flags changes beyond the noise)")
    report.set_defaults(handler=_report)

    history = commands.add_parser(
        "asv-history", help="render the asv results of many commits as one offline HTML page")
    history.add_argument("results", nargs="?", metavar="RESULTS",
                         help="asv results folder (default: results_dir of --config)")
    history.add_argument("--config", default="asv.conf.json", metavar="PATH",
                         help="asv configuration: results_dir and regressions_thresholds "
                              "(default: asv.conf.json)")
    history.add_argument("--machine", metavar="NAME",
                         help="the machine whose results to show (needed if there are several)")
    history.add_argument("--out", default=".asv/history", metavar="DIR",
                         help="output folder for index.html and figures/ (default: .asv/history)")
    history.set_defaults(handler=_asv_history)
    return parser


def main(argv=None) -> int:
    """Entry point of the ``fastfact`` console script; returns the exit status.

    Errors a user can fix (bad suite, output folder, scheduler, empty run, a full disk) print
    one line ``fastfact: error: …`` on stderr and return 2. Ctrl-C returns 130, without a
    traceback; an interrupted ``bench`` says what is saved and the command that finishes it.
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.handler(args)
    except KeyboardInterrupt:
        print("fastfact: interrupted", file=sys.stderr)
        return INTERRUPTED
    except _user_errors() as exc:
        print(f"fastfact: error: {exc}", file=sys.stderr)
        return 2
    except ModuleNotFoundError as exc:
        if exc.name not in _BENCH_EXTRA:
            raise
        print(f"fastfact: error: `fastfact {args.command}` needs {exc.name}, which is not installed; "
              "install the bench extra: pip install 'fastfact[bench]'", file=sys.stderr)
        return 2


# Top-level modules of the optional dependencies in pyproject's `bench` extra.
_BENCH_EXTRA = {"pandas", "matplotlib", "tqdm", "threadpoolctl", "asv"}

# The errors a user can fix, by the module that raises them: a handler imports what it needs,
# so ``fastfact --help`` and ``fastfact info`` load neither the runner nor the report (pandas).
_USER_ERRORS = {"fastfact.bench.suite": "SuiteError", "fastfact.bench.runner": "BenchError",
                "fastfact.bench.report": "ReportError",
                "fastfact.bench.asv_history": "HistoryError"}


def _user_errors() -> tuple[type[Exception], ...]:
    """The user-error classes of the bench modules loaded so far: only those can have been raised.

    An ``except`` clause evaluates this when an exception reaches it, not before.
    """
    return tuple(getattr(sys.modules[module], name) for module, name in _USER_ERRORS.items()
                 if module in sys.modules)
