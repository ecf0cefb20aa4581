"""Write docs/reliability.md's fault-matrix table from a run's results (`make reliability`).

Usage: python scripts/reliability_table.py RESULTS.jsonl [docs/reliability.md]
Each line of RESULTS is one cell as tests/test_faults_matrix.py wrote it. The table replaces
what lies between the MATRIX markers of the document; the rest of it is left as it is.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.faults import FAULTS, PHASES, cells as planned, expect, phases_of  # noqa: E402

BEGIN, END = "<!-- MATRIX BEGIN (scripts/reliability_table.py) -->", "<!-- MATRIX END -->"


def load(path: Path) -> dict[tuple[str, str], dict]:
    """The newest result of each cell."""
    cells = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            r = json.loads(line)
            cells[(r["fault"], r["phase"])] = r
    return cells


def commit() -> str:
    """The commit the run was made on, and whether the tree differed from it."""
    try:
        head = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short=12", "HEAD"],
                              capture_output=True, text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain",
                                "--untracked-files=no", "--", ".", ":!docs/reliability.md"],
                               capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "an unknown commit (not a git checkout)"
    return f"commit `{head}`" + (" **with uncommitted changes**" if dirty else "")


def table(cells: dict[tuple[str, str], dict]) -> str:
    """The matrix: one row per fault, one column per phase (a phase where the fault does not
    matter: "-"); then the expectations in words."""
    passed = sum(r["ok"] for r in cells.values())
    when = time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())
    lines = [f"Run finished {when} on {commit()} (`make reliability`): "
             f"**{passed} of {len(cells)} cells pass** "
             f"({len(set(planned()) - set(cells))} not run).", "",
             "| fault | " + " | ".join(PHASES) + " |", "|---" * (len(PHASES) + 1) + "|"]
    for fault in FAULTS:
        row = []
        for phase in PHASES:
            r = cells.get((fault, phase))
            row.append("-" if phase not in phases_of(fault) else "not run" if r is None else
                       f"{'pass' if r['ok'] else '**FAIL**'} ({r['seconds']:.0f} s): {r['seen']}")
        lines.append(f"| {fault} | " + " | ".join(row) + " |")
    lines += ["", "Expected, per cell (written before the run, `tests/faults.py` `expect`):", "",
              "| fault | " + " | ".join(PHASES) + " |", "|---" * (len(PHASES) + 1) + "|"]
    for fault in FAULTS:
        lines.append(f"| {fault} | " + " | ".join(expect(fault, p).row() if p in phases_of(fault)
                                                  else "-" for p in PHASES) + " |")
    failures = [r for r in cells.values() if not r["ok"]]
    if failures:
        lines += ["", "Failures:", ""]
        lines += [f"- {r['fault']} / {r['phase']}: {'; '.join(r['problems'])}" for r in failures]
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    """Regenerate the table; 1 when a cell failed."""
    results = Path(argv[1])
    doc = Path(argv[2]) if len(argv) > 2 else Path("docs/reliability.md")
    cells = load(results)
    text = doc.read_text(encoding="utf-8")
    head, rest = text.split(BEGIN, 1)
    tail = rest.split(END, 1)[1]
    doc.write_text(f"{head}{BEGIN}\n{table(cells)}\n{END}{tail}", encoding="utf-8")
    print(f"{doc}: {sum(r['ok'] for r in cells.values())}/{len(cells)} cells pass")
    return 0 if all(r["ok"] for r in cells.values()) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
