"""The UPS self-test button: offered only for a UPS whose driver has the command (real upsd)."""

from __future__ import annotations

import asyncio
import html
import re
import time
from dataclasses import replace
from pathlib import Path

from werkzeug.security import generate_password_hash

from dashboard.store.store import Store
from dashboard.web.app import create_app
from edge.ups import UpsReader
from protocol.config import UpsConfig, load_config
from protocol.messages import StateSnapshot, decode
from siaga.servers import free_port
from tests.dashboard_support import write_config as dashboard_config
from tests.observer import Observer
from tests.edge_support import PREFIX, write_config
from tests.waiting import wait_until

PASSWORD = "rahasia-rapat-1"


def _commands(port: int, name: str = "meeting") -> frozenset[str] | None:
    return asyncio.run(UpsReader(UpsConfig(name=name, port=port)).commands())


def test_command_list_of_dummy_ups_and_unknown_when_unreadable(upsd) -> None:
    """dummy-ups offers load.off but no battery test; an unknown UPS or no upsd is None."""
    commands = _commands(upsd.port)
    assert commands is not None and "test.battery.start.quick" not in commands
    assert _commands(upsd.port, "nosuch") is None
    assert _commands(free_port()) is None


def _site_page(tmp_path: Path, state: StateSnapshot, lang: str) -> str:
    """The room page as a logged-in admin sees it, for ``state``."""
    pwhash = generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000")
    directory = tmp_path / "dashboard"
    directory.mkdir(exist_ok=True)
    config = load_config(dashboard_config(directory, dashboard=f'admin_password_hash = "{pwhash}"'))
    store = Store(config.dashboard.database)
    try:
        store.put_state(state)
        client = create_app(config, store).test_client()
        token = re.search(r'name="csrf_token" value="([^"]+)"',
                          client.get("/login").get_data(as_text=True))[1]
        assert client.post("/login", data={"csrf_token": token, "password": PASSWORD,
                                           "next": "/"}).status_code == 303
        return html.unescape(client.get(f"/sites/{state.site}?lang={lang}").get_data(as_text=True))
    finally:
        store.close()


def test_dummy_ups_gets_no_selftest_button_but_a_sentence(tmp_path, upsd, broker, monkeypatch,
                                                          edge_in_process) -> None:  # noqa: F811
    """The edge's snapshot says the UPS cannot self-test (asked once, not every poll); the page
    says so instead of offering the button."""
    asked = []
    real_commands = UpsReader.commands

    async def counted(reader: UpsReader) -> frozenset[str] | None:
        asked.append(reader.config.name)
        return await real_commands(reader)

    monkeypatch.setattr(UpsReader, "commands", counted)
    watch = Observer(broker.port, f"{PREFIX}/edge/state")
    try:
        edge_in_process(write_config(tmp_path, upsd, broker))
        raw = wait_until(lambda: next((p for p in reversed(watch.on("/edge/state"))
                                       if b'"selftest"' in p), None), 15, what="a state with selftest")
        time.sleep(1.5)  # six more polls (poll_interval_s = 0.25): none may ask again
    finally:
        watch.close()
    assert asked == ["meeting"], asked
    state = decode(StateSnapshot, raw)
    assert [(u.name, u.selftest) for u in state.ups] == [("meeting", False)]
    page = _site_page(tmp_path, state, "id")
    assert 'data-command="test_indicator"' in page and 'data-command="ups_selftest"' not in page
    assert 'UPS "meeting" tidak dapat menjalankan uji mandiri' in page
    page = _site_page(tmp_path, state, "en")
    assert 'UPS "meeting" cannot run a self-test' in page
    able = replace(state, ups=[replace(u, selftest=True) for u in state.ups])
    page = _site_page(tmp_path, able, "en")
    assert 'data-command="ups_selftest"' in page and "cannot run a self-test" not in page
    unknown = replace(state, ups=[replace(u, selftest=None) for u in state.ups])
    assert 'data-command="ups_selftest"' in _site_page(tmp_path, unknown, "en")
