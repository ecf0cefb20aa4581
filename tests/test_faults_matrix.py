"""The fault matrix (issue 12 item 1) on the real servers: every fault x every phase of an outage.

Each cell's expected behaviour is written first (tests/faults.py ``expect``) and then asserted.
`make test` runs SAMPLE, the cells that matter most; `make reliability` runs all of them
(SIAGA_FAULT_MATRIX=full) and writes each result to SIAGA_FAULT_RESULTS, from which
scripts/reliability_table.py regenerates docs/reliability.md.
"""

from __future__ import annotations

import json
import os

import pytest

from tests.faults import cells
from tests.faults_cell import run_cell

SAMPLE = [("broker_restarted", "after_notice"), ("edge_sigkill", "shutdown_grace"),
          ("driver_frozen", "before_notice"), ("journal_readonly", "after_notice"),
          # the new parts (issue 24): one fixed cell each
          ("runtime_truncated", "after_notice"), ("calendar_html", "on_mains"),
          ("audio_restarted", "after_notice"),
          # the dashboards on PostgreSQL (issue 24)
          ("postgres_restarted", "before_notice"), ("dashboard_sigkill", "after_notice")]
CELLS = cells() if os.environ.get("SIAGA_FAULT_MATRIX") == "full" else SAMPLE


@pytest.mark.parametrize("fault, phase", CELLS)
def test_fault_cell(tmp_path, fault, phase):
    result = run_cell(tmp_path / "cell", fault, phase)
    out = os.environ.get("SIAGA_FAULT_RESULTS")
    if out:
        with open(out, "a", encoding="utf-8") as f:
            f.write(json.dumps(result.__dict__) + "\n")
    assert result.ok, f"{fault} {phase}: " + "; ".join(result.problems)
