"""Print peer/fastfact time ratios per group from a pytest-benchmark JSON file.

Usage: ``python -m tests.benchmarks.ratios results/scratch/apply.json``. A ratio above 1
means fastfact is faster (peer median time / fastfact median time, same run).
"""

import json
import sys
from collections import defaultdict


def ratio_table(path: str) -> list[str]:
    """One line per group: fastfact median and each peer's median / fastfact median."""
    with open(path) as handle:
        benchmarks = json.load(handle)["benchmarks"]
    groups: dict[str, dict[str, float]] = defaultdict(dict)
    for bench in benchmarks:
        groups[bench["group"]][bench["params"]["implementation"]] = bench["stats"]["median"]
    lines = []
    for group, medians in groups.items():
        base = medians.get("fastfact")
        if base is None:
            continue
        peers = ", ".join(f"{name} {median / base:.2f}x" for name, median in sorted(medians.items())
                          if name != "fastfact")
        lines.append(f"{group}: fastfact {base * 1e3:.3f} ms; peer/fastfact: {peers}")
    return lines


if __name__ == "__main__":
    print("\n".join(ratio_table(sys.argv[1])))
