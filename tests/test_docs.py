"""The documentation in the repository: citations stay inside it and resolve, doctests run."""

import re
import subprocess
import sys
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "algorithms.md"
SECTION = r"\d+(?:\.\d+)?"
# "§4.6", "§3.3–3.4", "§4.1, §4.3"; a "§" right after a paper tag ("[LZRG22] §3") is the paper's.
CITATION = re.compile(rf"(?<!\] )§({SECTION})(?:[–-]({SECTION}))?")


def tracked_text_files(include_results: bool = False) -> list[Path]:
    """Tracked text files; committed results (reports of runs) only with ``include_results``."""
    names = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, check=True, capture_output=True,
                           text=True).stdout.split("\0")
    suffixes = {".py", ".md", ".toml", ".json", ".html", ".csv", ".txt", ".cfg", ".ini", ".yml",
                ".yaml", ""}
    return [ROOT / name for name in names
            if name and (include_results or not name.startswith("results/"))
            and Path(name).suffix in suffixes and (ROOT / name).is_file()]


def algorithms_sections() -> set[str]:
    headings = re.findall(rf"^#{{2,3}} ({SECTION})\.? ", DOC.read_text(), flags=re.M)
    return set(headings)


# The developers' references live outside the repository (their in-repository counterparts are
# docs/algorithms.md and docs/architecture.md); written in two parts so that this file does not
# cite them.
OUTSIDE = re.compile("|".join(re.escape(name) for name in
                              ("ALGORITHMS" + ".md", "DESIGN" + ".md", "STYLE" + ".md",
                               "../" + "shared")))


def test_nothing_cites_documents_outside_the_repository():
    """Code, docs, suites and report strings cite docs/, never the developers' copies."""
    offenders = []
    for path in tracked_text_files(include_results=True):
        if path.relative_to(ROOT).parts[0] == ".ci":
            continue
        for number, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
            if OUTSIDE.search(line):
                offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert not offenders, "cite docs/algorithms.md instead:\n" + "\n".join(offenders)


def test_algorithms_md_has_every_numbered_section():
    sections = algorithms_sections()
    assert {str(n) for n in range(10)} <= sections
    assert {"1.1", "1.5", "2.4", "3.6", "4.6", "4.8", "5.4"} <= sections


def test_every_section_citation_resolves():
    sections = algorithms_sections()
    missing = []
    for path in tracked_text_files():
        if path == DOC:
            continue
        for number, text in enumerate(path.read_text(errors="replace").splitlines(), 1):
            for match in CITATION.finditer(text):
                missing += [f"{path.relative_to(ROOT)}:{number}: §{cited}"
                            for cited in match.groups() if cited and cited not in sections]
    assert not missing, "citations of sections that docs/algorithms.md lacks:\n" + "\n".join(missing)


def test_algorithms_md_cites_only_its_own_sections():
    sections = algorithms_sections()
    text = DOC.read_text()
    cited = {c for match in CITATION.finditer(text) for c in match.groups() if c}
    assert cited <= sections, sorted(cited - sections)


def test_the_test_command_runs_the_package_doctests():
    options = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["pytest"]["ini_options"]
    assert "--doctest-modules" in options["addopts"]
    assert "fastfact" in options["testpaths"]
