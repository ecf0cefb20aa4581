"""[alerts] in siaga.toml: defaults, every bad key at once, the example file in step with it."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

from protocol import config as cfg

EXAMPLE = Path(__file__).resolve().parents[1] / "firmware_config" / "siaga" / "siaga.toml"
BASE = '[site]\nid = "bappeda-rr1"\n[[ups]]\nname = "meeting"\n'


def load(tmp_path: Path, alerts: str) -> cfg.Config:
    path = tmp_path / "siaga.toml"
    path.write_text(BASE + "[alerts]\n" + alerts)
    return cfg.load_config(path)


def test_defaults_are_the_contracts(tmp_path):
    assert load(tmp_path, "").alerts == cfg.AlertsConfig(
        urls_file="", language="id", min_room="on_battery", quiet_repeat_s=3600, retry_max_s=300)


def test_every_bad_key_is_named_at_once(tmp_path):
    with pytest.raises(cfg.ConfigError) as err:
        load(tmp_path, 'urls_file = 3\nlanguage = "de"\nmin_room = "ready"\nquiet_repeat_s = -1\n')
    assert str(err.value).splitlines() == [
        "siaga.toml: alerts.urls_file: must be a string, got 3",
        'siaga.toml: alerts.language: must be one of "id", "en", got "de"',
        'siaga.toml: alerts.min_room: must be one of "attention", "on_battery", "wrapup", '
        '"shutdown", "fault", got "ready"',
        "siaga.toml: alerts.quiet_repeat_s: must be a number >= 0 and <= 604800, got -1",
    ]


def test_the_example_file_shows_every_alerts_key():
    text = EXAMPLE.read_text()
    assert re.search(r"^#?\s*\[alerts\]", text, re.M)
    for key in cfg.SCHEMA["alerts"]:
        assert re.search(rf"^#?\s*{key}\s*=", text, re.M), f"[alerts] {key} missing"
    assert {f.name for f in dataclasses.fields(cfg.AlertsConfig)} == set(cfg.SCHEMA["alerts"])
