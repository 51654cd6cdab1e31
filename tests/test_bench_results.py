"""Results files: durable rows, resume repairs that set rows aside (never delete them), file
modes, and the lock that keeps a second writer out of a run folder."""

import csv
import errno
import os
import signal
import subprocess
import sys
import textwrap

import pytest

from fastfact.bench.lock import RunFolderBusy, RunLock
from fastfact.bench.results import (
    COLUMNS,
    NUMERIC_COLUMNS,
    SET_ASIDE,
    TEXT_COLUMNS,
    RowsWriter,
    read_rows,
    repair_for_resume,
    write_json,
    write_text_atomic,
)


def _block(task, count, seconds=0.5):
    return [{"task": task, "task_rows": count, "impl": "x", "method": "m", "repeat": r,
             "status": "ok", "seconds": seconds + r} for r in range(count)]


def test_every_column_is_either_text_or_numeric_and_numbers_read_back_as_numbers(tmp_path):
    """Regression: cpu_seconds was added to COLUMNS but not to the loader's numeric list, so it
    read back as text under pandas 3 and the comparison crashed."""
    from fastfact.bench.loading import read_run

    assert TEXT_COLUMNS <= set(COLUMNS)
    assert set(NUMERIC_COLUMNS) | TEXT_COLUMNS == set(COLUMNS)
    run = tmp_path / "run"
    run.mkdir()
    row = {c: 1.5 for c in NUMERIC_COLUMNS} | {c: "x" for c in TEXT_COLUMNS}
    row |= {"kind": "apply", "status": "ok", "task": "t", "task_rows": 1}
    RowsWriter(run / "rows.csv", "quick").append([row])
    write_json(run / "meta.json", {"suite": {"name": "quick", "source": "quick.toml",
                                            "digest": "0", "settings": {"threads": 1}}})
    rows, _ = read_run(run)
    for column in NUMERIC_COLUMNS:
        assert rows[column].dtype.kind == "f" or rows[column].dtype.kind == "i", column


def test_closing_after_a_failed_write_raises_nothing_more(tmp_path):
    """Audit: after ENOSPC in a block, close() retried the buffered rest, raised again and hid
    the clear error of the run with a traceback."""
    writer = RowsWriter(tmp_path / "rows.csv", "s")
    writer.append(_block("t0", 2))
    writer._file.close()
    writer._file = open("/dev/full", "a", newline="")  # every flush fails with ENOSPC
    with pytest.raises(OSError) as failure:
        writer.append(_block("t1", 2))
    assert failure.value.errno == errno.ENOSPC
    writer.close()
    assert writer._file.closed
    assert [r[1] for r in _records(tmp_path / "rows.csv")[1:]] == ["t0", "t0"]


def _records(path):
    return list(csv.reader(path.open(newline="")))


def test_atomic_writes_respect_the_umask(tmp_path):
    """Audit: report.md, report.html and meta.json were written with mode 0600 (mkstemp)."""
    previous = os.umask(0o022)
    try:
        write_text_atomic(tmp_path / "report.md", "# report\n")
        write_json(tmp_path / "meta.json", {"a": 1})
        os.umask(0o077)
        write_text_atomic(tmp_path / "private.md", "x")
    finally:
        os.umask(previous)
    assert (tmp_path / "report.md").stat().st_mode & 0o777 == 0o644
    assert (tmp_path / "meta.json").stat().st_mode & 0o777 == 0o644
    assert (tmp_path / "private.md").stat().st_mode & 0o777 == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["meta.json", "private.md", "report.md"]


def test_read_rows_keeps_one_complete_block_per_task(tmp_path):
    path = tmp_path / "rows.csv"
    with RowsWriter(path, "s") as writer:
        writer.append(_block("a", 2))
        writer.append(_block("b", 3)[:2])  # a task cut short
        writer.append(_block("a", 2, seconds=0.7))  # a second writer ran task a again
        writer.append(_block("c", 1))
    with open(path, "a") as file:
        file.write("s,d,1,apply,fast")  # a write cut by a kill
    rows = read_rows(path)
    assert sorted(rows.finished) == ["a", "c"]
    assert [r[COLUMNS.index("repeat")] for r in rows.finished["a"]] == ["0", "1"]
    reasons = sorted(reason for reason, _ in rows.set_aside)
    assert reasons == ["another copy of the rows of a finished task"] * 2 + \
        ["rows of an unfinished task"] * 2 + ["torn last line (a write cut short)"]


def test_exact_duplicate_lines_are_recognised(tmp_path):
    path = tmp_path / "rows.csv"
    with RowsWriter(path, "s") as writer:
        for row in _block("a", 3):
            writer.append([row])  # each row twice, in place
            writer.append([row])
    rows = read_rows(path)
    assert list(rows.finished) == ["a"] and len(rows.finished["a"]) == 3
    assert [reason for reason, _ in rows.set_aside] == ["exact copy of an earlier row"] * 3


def test_resume_repair_sets_rows_aside_and_never_drops_finished_ones(tmp_path):
    """Audit: two runs appended every task twice; the resume then deleted every row."""
    path = tmp_path / "rows.csv"
    with RowsWriter(path, "s") as writer:
        for seconds in (0.5, 0.7):
            writer.append(_block("a", 2, seconds))
            writer.append(_block("b", 2, seconds))
        writer.append(_block("c", 2)[:1])
    before = _records(path)
    repair = repair_for_resume(path)
    assert repair.finished == {"a", "b"} and repair.set_aside == 5
    kept = _records(path)
    assert kept == [COLUMNS, *before[1:5]]  # the first copy of a and b, unchanged
    aside = _records(tmp_path / SET_ASIDE)
    assert aside[0] == ["set_aside_reason", *COLUMNS]
    assert [r[1:] for r in aside[1:]] == before[5:]  # every removed row, kept there
    again = repair_for_resume(path)
    assert again.finished == {"a", "b"} and again.set_aside == 0  # idempotent
    assert len(_records(tmp_path / SET_ASIDE)) == 6


def test_resume_refuses_a_file_with_another_header(tmp_path):
    path = tmp_path / "rows.csv"
    path.write_text("suite,task,task_rows,x\n")
    with pytest.raises(ValueError, match="header differs"):
        repair_for_resume(path)
    assert path.read_text() == "suite,task,task_rows,x\n"


def test_a_full_disk_leaves_a_torn_block_that_resume_sets_aside(tmp_path, monkeypatch):
    path = tmp_path / "rows.csv"
    writer = RowsWriter(path, "s")
    writer.append(_block("a", 2))
    real_write = writer._file.write

    def half_then_full(text):
        real_write(text[: len(text) // 2])
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(writer._file, "write", half_then_full)
    with pytest.raises(OSError, match="No space left"):
        writer.append(_block("b", 4))
    writer.close()
    repair = repair_for_resume(path)
    assert repair.finished == {"a"} and repair.set_aside >= 1


_HOLD = textwrap.dedent("""
    import sys, time
    from fastfact.bench.lock import RunLock
    with RunLock(sys.argv[1]):
        print("locked", flush=True)
        time.sleep(60)
    """)


def _holder(folder):
    process = subprocess.Popen([sys.executable, "-c", _HOLD, str(folder)],
                               stdout=subprocess.PIPE, text=True)
    assert process.stdout.readline().strip() == "locked"
    return process


def test_a_second_writer_is_refused_naming_the_holder(tmp_path):
    holder = _holder(tmp_path)
    try:
        with pytest.raises(RunFolderBusy, match=rf"PID {holder.pid}\b") as busy:
            RunLock(tmp_path).acquire()
        assert busy.value.holder["pid"] == holder.pid
    finally:
        holder.kill()
        holder.wait()


def test_a_stale_lock_of_a_dead_process_is_taken_over(tmp_path):
    holder = _holder(tmp_path)
    os.kill(holder.pid, signal.SIGKILL)
    holder.wait()
    assert (tmp_path / RunLock.NAME).exists()  # the dead process could not clean up
    lock = RunLock(tmp_path)
    stale = lock.acquire()
    try:
        assert stale["pid"] == holder.pid
        assert lock.holder()["pid"] == os.getpid()
    finally:
        lock.release()
    assert not (tmp_path / RunLock.NAME).exists()


def test_lock_is_exclusive_within_one_process_too(tmp_path):
    with RunLock(tmp_path):
        with pytest.raises(RunFolderBusy, match=rf"PID {os.getpid()}\b"):
            RunLock(tmp_path).acquire()
    with RunLock(tmp_path) as lock:  # released: free again
        assert lock.holder()["pid"] == os.getpid()


def test_lock_survives_a_racing_release(tmp_path, monkeypatch):
    """An acquirer that opened the lock file just before its holder deleted it (and then
    locks that deleted file) must not believe it holds the lock."""
    from fastfact.bench import lock as lock_module

    first = RunLock(tmp_path)
    first.acquire()
    stale = os.open(tmp_path / RunLock.NAME, os.O_RDWR)  # opened before the release
    first.release()
    third = RunLock(tmp_path)
    third.acquire()  # the lock file now is a new one
    real_open, opened = os.open, []

    def open_the_stale_file_first(*args, **kwargs):
        opened.append(args[0])
        return stale if len(opened) == 1 else real_open(*args, **kwargs)

    monkeypatch.setattr(lock_module.os, "open", open_the_stale_file_first)
    try:
        with pytest.raises(RunFolderBusy, match=rf"PID {os.getpid()}\b"):
            RunLock(tmp_path).acquire()
        assert len(opened) == 2  # it noticed the stale file and tried the real one
    finally:
        monkeypatch.undo()
        third.release()
