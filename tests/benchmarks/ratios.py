"""Print peer/fastfact time ratios per group from a pytest-benchmark JSON file.

Usage: ``python -m tests.benchmarks.ratios results/scratch/apply.json [REFERENCE]``. A ratio
above 1 means the reference (default: fastfact) is faster (peer median time / reference
median time, same run).
"""

import json
import sys
from collections import defaultdict


def ratio_table(path: str, reference: str = "fastfact") -> list[str]:
    """One line per group: the reference's median and each peer's median / reference median."""
    with open(path) as handle:
        benchmarks = json.load(handle)["benchmarks"]
    groups: dict[str, dict[str, float]] = defaultdict(dict)
    for bench in benchmarks:
        groups[bench["group"]][bench["params"]["implementation"]] = bench["stats"]["median"]
    lines = []
    for group, medians in groups.items():
        base = medians.get(reference)
        if base is None:
            continue
        peers = ", ".join(f"{name} {median / base:.2f}x" for name, median in sorted(medians.items())
                          if name != reference)
        lines.append(f"{group}: {reference} {base * 1e3:.3f} ms; peer/{reference}: {peers}")
    return lines


if __name__ == "__main__":
    print("\n".join(ratio_table(*sys.argv[1:3])))
