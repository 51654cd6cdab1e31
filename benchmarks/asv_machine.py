"""Register the committed asv machine ``reference-vm`` for this computer; run once per machine.

``asv run`` writes ``results/asv/<machine>/machine.json`` from the entry of that name in
``~/.asv-machine.json`` (asv 0.6.6, ``asv/machine.py``: ``Machine.load`` then
``Machine.save``), on every run. ``asv machine --yes`` fills the entry of the *hostname*
(``vm`` on the reference VM) with the kernel release and the free memory of the day, so a
history recorded under the hostname rewrites the tracked file whenever those change. The
history in ``results/asv/`` is therefore recorded under a fixed name that is no hostname,
``reference-vm``, whose description is committed (``results/asv/reference-vm/machine.json``).
This script copies that description into ``~/.asv-machine.json`` after checking that this
computer is that machine (architecture, CPU model and number of CPUs as asv detects them),
so that ``asv run --machine reference-vm`` rewrites the committed file byte for byte.

Usage: ``python -m benchmarks.asv_machine`` (exit status 1, and nothing written, on another
computer: record its history under another name, ``asv machine --machine NAME --yes``).
"""

import json
import sys
from pathlib import Path

MACHINE = "reference-vm"
COMMITTED = Path(__file__).resolve().parents[1] / "results" / "asv" / MACHINE / "machine.json"
IDENTITY = ("arch", "cpu", "num_cpu")


def differences(committed: dict, detected: dict) -> dict:
    """``field -> (committed, detected)`` for the identity fields that differ."""
    return {key: (committed[key], detected[key]) for key in IDENTITY
            if str(committed[key]) != str(detected[key])}


def main() -> int:
    from asv.machine import Machine, MachineCollection

    committed = json.loads(COMMITTED.read_text())
    mismatch = differences(committed, Machine.get_defaults())
    if mismatch:
        print(f"this computer is not {MACHINE!r}: " + "; ".join(
            f"{key} {want!r} committed, {got!r} here" for key, (want, got) in mismatch.items()),
            file=sys.stderr)
        return 1
    MachineCollection.save(MACHINE, {k: v for k, v in committed.items() if k != "version"})
    print(f"registered {MACHINE!r} in {MachineCollection.get_machine_file_path()}; "
          f"record with: asv run --machine {MACHINE} …")
    return 0


if __name__ == "__main__":
    sys.exit(main())
