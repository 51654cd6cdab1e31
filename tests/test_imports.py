"""``import fastfact`` and the light commands stay light: heavy modules load only when used."""

import json
import subprocess
import sys

import pytest

HEAVY = ("pandas", "matplotlib", "scipy.optimize", "scipy.sparse.linalg", "fastfact.bench.report",
         "fastfact.bench.runner")

_LOADED = """
import json, sys
{code}
print(json.dumps(sorted(sys.modules)))
"""


def _modules_after(code: str) -> set[str]:
    """The modules a fresh interpreter has loaded after running ``code``."""
    done = subprocess.run([sys.executable, "-c", _LOADED.format(code=code)], capture_output=True,
                          text=True, check=True, timeout=120)
    return set(json.loads(done.stdout.splitlines()[-1]))


def _cli(argv: list[str]) -> str:
    """Code that runs the ``fastfact`` command with ``argv``, its output swallowed."""
    return ("import contextlib, io\nfrom fastfact.cli import main\n"
            "with contextlib.redirect_stdout(io.StringIO()):\n"
            f"    try:\n        main({argv!r})\n    except SystemExit:\n        pass")


PROBES = {
    "import fastfact": ("import fastfact", (*HEAVY, "fastfact.bench")),
    "fastfact --help": (_cli(["--help"]), HEAVY),
    "fastfact bench --help": (_cli(["bench", "--help"]), HEAVY),
    "fastfact info": (_cli(["info"]), ("pandas", "matplotlib", "fastfact.bench.report")),
    "import fastfact.bench.machine": ("import fastfact.bench.machine", HEAVY),
    "import fastfact.bench": ("import fastfact.bench", HEAVY),
}


@pytest.mark.parametrize("what", sorted(PROBES))
def test_heavy_modules_are_not_loaded(what):
    code, absent = PROBES[what]
    loaded = _modules_after(code)
    assert "fastfact" in loaded  # the probe ran
    assert not loaded & set(absent), f"{what} loaded {sorted(loaded & set(absent))}"


def test_bench_names_load_on_first_use():
    loaded = _modules_after("from fastfact.bench import write_report, load_suite, run_suite")
    assert {"fastfact.bench.report", "fastfact.bench.suite", "fastfact.bench.runner"} <= loaded


def test_bench_lazy_names_are_the_real_objects():
    import fastfact.bench as bench
    from fastfact.bench import report, runner, suite

    assert bench.write_report is report.write_report and bench.run_suite is runner.run_suite
    assert bench.SuiteError is suite.SuiteError and "load_suite" in dir(bench)
    with pytest.raises(AttributeError, match="has no attribute 'no_such_name'"):
        bench.no_such_name  # noqa: B018


_WITHOUT_PANDAS = "import sys\nsys.modules['pandas'] = None  # as if pandas were not installed\n"


def test_the_runner_does_not_need_pandas():
    loaded = _modules_after(_WITHOUT_PANDAS + "from fastfact.bench.runner import run_suite")
    assert "fastfact.bench.runner" in loaded


def test_report_without_pandas_says_to_install_the_bench_extra(tmp_path):
    code = _WITHOUT_PANDAS + f"from fastfact.cli import main\nsys.exit(main(['report', {str(tmp_path)!r}]))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert done.stderr.startswith("fastfact: error: `fastfact report` needs pandas, which is not installed")
    assert "pip install 'fastfact[bench]'" in done.stderr
