"""Shared by the SOP tests: a room's siaga.toml and the poppler tools that read its PDF back."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

CONTACT = "TI Bappeda: Pak Budi, 0812-3456-7890"


def write(tmp_path: Path) -> Path:
    path = tmp_path / "siaga.toml"
    path.write_text(f"""
[site]
id = "bappeda-rr1"
name = "Bappeda - Ruang Rapat 1"
contact = "{CONTACT}"
calendar = "https://kalender.example.go.id/ruang-rapat-1.ics"
[[ups]]
name = "meeting"
[policy]
notice_after_s = 10
wrapup_at_runtime_s = 420
shutdown_at_runtime_s = 150
ready_before_s = 1200
ready_min_charge_pct = 85
[dashboard]
database = "{tmp_path / 'dash.sqlite3'}"
[gpio]
pin_factory = "mock"
""")
    return path


def tool(name: str) -> str:
    found = subprocess.run(["which", name], capture_output=True, text=True).stdout.strip()
    if not found:
        pytest.fail(f"{name} not found: install poppler-utils (make test does)")
    return found
