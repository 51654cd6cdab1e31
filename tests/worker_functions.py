"""Functions that tests run in worker processes (kept light: a worker imports this module)."""

import os
import signal
import time


def pid_of_worker(item, progress):
    return [os.getpid(), item]


def misbehave(item, progress):
    """Reports ``step <n>``, then does what ``item["how"]`` says."""
    progress(f"step {item['step']}")
    if item["how"] == "segfault":
        os.kill(os.getpid(), signal.SIGSEGV)
    if item["how"] == "exit":
        os._exit(3)
    if item["how"] == "hang":
        time.sleep(3600)
    if item["how"] == "raise":
        raise SystemExit(5)
    return ["fine", item["step"]]


def logged(item, progress):
    """Logs that it ran, then takes ``item["seconds"]``."""
    with open(item["log"], "a") as log:
        log.write(f"{item['n']}\n")
    time.sleep(item["seconds"])
    return [item["n"]]
