"""ups.conf lines for NUT's own runtime estimate from Siaga's measurements (siaga check)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from edge.runtime_model import Discharge, UpsModel
from edge.runtime_nut import estimates_runtime, idle_load, ups_conf_lines
from edge.runtime_store import save_models

ROOT = Path(__file__).resolve().parent.parent


def model(*points: tuple[float, float]) -> UpsModel:
    """Discharges as (load %, minutes from full to empty at that load)."""
    return UpsModel(discharges=tuple(Discharge(float(i), 100 / (m * 60), load, 600.0, 50.0)
                                     for i, (load, m) in enumerate(points)))


@pytest.mark.parametrize("driver, yes", [("nutdrv_qx", True), ("blazer_usb", True),
                                         ("blazer_ser", True), ("usbhid-ups", False),
                                         ("dummy-ups", False), ("", False)])
def test_only_the_drivers_that_estimate_runtime_get_the_lines(driver, yes):
    assert estimates_runtime(driver) is yes


def test_one_load_gives_runtimecal_and_keeps_the_default_idleload():
    lines = ups_conf_lines("meeting", model((35.0, 20.0), (35.0, 20.0)))
    # 20 min at 35 %: drain proportional to load -> 7 min at 100 %, 14 min at 50 %.
    assert lines[1] == "runtimecal = 420,100,840,50"
    assert lines[2].startswith("idleload = 10  # the driver's default")
    assert "2 discharge(s)" in lines[0] and "35-35 % load" in lines[0]


def test_two_loads_tell_the_idle_drain():
    # drain = c * (load + 10): 20 % load -> 30 units, 50 % -> 60 units.
    m = model((20.0, 60 / 30 * 10), (50.0, 60 / 60 * 10))
    assert idle_load(m) == 10
    assert ups_conf_lines("meeting", m)[2] == "idleload = 10"
    assert ups_conf_lines("meeting", None) == [] and ups_conf_lines("meeting", UpsModel()) == []


def test_check_prints_nothing_for_a_driver_that_reports_its_own_runtime(tmp_path, upsd, broker):
    save_models(tmp_path / "runtime.json", {"meeting": model((35.0, 20.0))})
    path = tmp_path / "siaga.toml"
    path.write_text(f'[site]\nid = "rr1"\n[mqtt]\nport = {broker.port}\n[[ups]]\nname = "meeting"\n'
                    f'port = {upsd.port}\n[edge]\njournal = "{tmp_path / "journal.sqlite3"}"\n'
                    '[gpio]\npin_factory = "mock"\n')
    done = subprocess.run([sys.executable, "-m", "siaga", "check", "-c", str(path)],
                          capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "runtimecal" not in done.stdout     # dummy-ups: not a Q* driver


def test_check_lines_for_a_q_ups_siaga_has_measured(tmp_path):
    from edge.power import UpsReading
    from protocol.config import load_config
    from siaga.check import runtimecal_lines
    save_models(tmp_path / "runtime.json", {"meeting": model((35.0, 20.0))})
    path = tmp_path / "siaga.toml"
    path.write_text(f'[site]\nid = "rr1"\n[[ups]]\nname = "meeting"\n'
                    f'[edge]\njournal = "{tmp_path / "journal.sqlite3"}"\n')
    config = load_config(path)
    qx = UpsReading("meeting", 0.0, status="OL", charge_pct=100.0, driver="nutdrv_qx")
    lines = runtimecal_lines(config, config.ups[0], qx)
    assert lines[0].strip() == "ups.conf for [meeting] (driver nutdrv_qx), from Siaga's measurements:"
    assert "runtimecal = 420,100,840,50" in lines[2]
    (tmp_path / "runtime.json").unlink()
    assert runtimecal_lines(config, config.ups[0], qx) == []
