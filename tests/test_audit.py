"""The hostile-user audit (``tests/audit``) in the normal test suite: its fast cases, within limits.

``python -m tests.audit`` runs every case, the slow ones too (CLI runs, kills and resumes,
reports of damaged folders; minutes), and prints the counts per outcome and every finding.
"""

from tests.audit import all_cases
from tests.audit.harness import run_all


def test_the_fast_audit_stays_within_the_limits():
    audit = run_all(all_cases(slow=False), "tests.audit:all_cases")
    print(audit.summary())
    assert not audit.over_limits(), audit.summary()
