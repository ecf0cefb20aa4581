"""The room page's UPS section shows the claim beside Siaga's measurement (CONTRACT §6.1)."""

from __future__ import annotations

import dataclasses
import time

import pytest

from dashboard.store.store import Store
from dashboard.web.app import create_app
from protocol.config import load_config
from tests.dashboard_support import snapshot, write_config


def measured_state(runtime_s: float | None):
    snap = snapshot("bappeda-rr1", name="Bappeda - Ruang Rapat 1", now=time.time(), charge=100.0,
                    runtime_s=runtime_s, load=35.0)
    ups = dataclasses.replace(snap.ups[0], runtime_learned_s=660.0, runtime_discharges=3)
    return dataclasses.replace(snap, ups=[ups])


@pytest.mark.parametrize("claim, lang, text", [
    (1500, "id", "meeting: klaim 25 mnt, terukur 11 mnt pada beban 35 % (3 pemadaman)"),
    (1500, "en", "meeting: claimed 25 min, measured 11 min at 35 % load (3 cuts)"),
    (None, "id", "meeting: tanpa klaim, terukur 11 mnt pada beban 35 % (3 pemadaman)"),
])
def test_ups_section_shows_claimed_and_measured_runtime(tmp_path, claim, lang, text):
    config = load_config(write_config(tmp_path))
    store = Store(config.dashboard.database)
    try:
        store.put_state(measured_state(claim))
        html = create_app(config, store).test_client().get(
            f"/sites/bappeda-rr1?lang={lang}").get_data(as_text=True)
        assert text in html
        store.put_state(snapshot("bappeda-rr1", now=time.time()))   # never measured: no line
        html = create_app(config, store).test_client().get("/sites/bappeda-rr1").get_data(as_text=True)
        assert "terukur" not in html and 'class="measured"' not in html
    finally:
        store.close()
