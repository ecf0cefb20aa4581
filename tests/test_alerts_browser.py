"""The test-alert button in a real browser (Chromium via Playwright) on the real `siaga dashboard`,
mosquitto and an HTTP alert receiver: the admin sees whether the alert arrived, or why not."""

from __future__ import annotations


import pytest
from werkzeug.security import generate_password_hash

from siaga.servers import free_port, stop_process
from tests.alert_receiver import Receiver
from tests.dashboard_support import start_dashboard, write_config
from tests.browser_support import PASSWORD, PHONE, _screenshot

DESKTOP = {"width": 1280, "height": 820}
DONE = {"id": "Peringatan uji terkirim pukul ", "en": "Test alert delivered at "}
RETRYING = {"id": "Belum terkirim: line 1 (json): A Connection error occurred",
            "en": "Not delivered yet: line 1 (json): A Connection error occurred"}


@pytest.fixture
def receiver():
    receiver = Receiver(free_port())
    yield receiver
    receiver.stop()


@pytest.fixture
def dashboard(tmp_path, broker, receiver):
    """A running dashboard whose alerts go to ``receiver`` (started or not by the test)."""
    port = free_port()
    pwhash = generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000")
    (tmp_path / "alerts.urls").write_text(receiver.url + "\n")
    config = write_config(tmp_path, mqtt_port=broker.port, listen=f"127.0.0.1:{port}",
                          dashboard=f'admin_password_hash = "{pwhash}"\n'
                                    '[alerts]\nurls_file = "alerts.urls"\nretry_max_s = 1\n')
    url = f"http://127.0.0.1:{port}"
    proc = start_dashboard(config, url, tmp_path / "dashboard.log")
    yield url
    stop_process(proc)


def _logged_in(chromium, url: str, viewport: dict, lang: str):  # noqa: F811
    page = chromium.new_context(viewport=viewport).new_page()
    page.goto(f"{url}/login?lang={lang}")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(url + "/**")
    page.goto(f"{url}/?lang={lang}")
    return page


def _fits(page, viewport: dict) -> None:
    """The outcome sits on the screen's width (a phone scrolls down, never sideways)."""
    box = page.locator(".action-result[data-kind=alert-test]").bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= viewport["width"]
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["390", "1280"])
@pytest.mark.parametrize("lang", ["id", "en"])
def test_the_test_alert_button_says_it_was_delivered(chromium, dashboard, receiver, tmp_path,  # noqa: F811
                                                     viewport, lang):
    receiver.start()
    page = _logged_in(chromium, dashboard, viewport, lang)
    page.locator("form[data-command=alert-test] button").click()
    result = page.locator(".action-result[data-kind=alert-test]")
    result.filter(has_text=DONE[lang]).wait_for(timeout=15000)
    assert "done" in result.get_attribute("class")
    assert len(receiver.messages()) == 1
    assert "alerts.urls_file" not in page.locator("main").inner_text()
    _fits(page, viewport)
    _screenshot(page, tmp_path / f"alert-test-done-{lang}-{viewport['width']}.png", full_page=True)


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["390", "1280"])
@pytest.mark.parametrize("lang", ["id", "en"])
def test_the_test_alert_button_says_why_it_has_not_arrived_then_that_it_did(
        chromium, dashboard, receiver, tmp_path, viewport, lang):  # noqa: F811
    page = _logged_in(chromium, dashboard, viewport, lang)    # the receiver is down
    page.locator("form[data-command=alert-test] button").click()
    result = page.locator(".action-result[data-kind=alert-test]")
    result.filter(has_text=RETRYING[lang]).wait_for(timeout=15000)
    assert "retrying" in result.get_attribute("class")
    _fits(page, viewport)
    _screenshot(page, tmp_path / f"alert-test-retrying-{lang}-{viewport['width']}.png",
                full_page=True)
    receiver.start()                                          # the uplink is back
    result.filter(has_text=DONE[lang]).wait_for(timeout=15000)
    assert len(receiver.messages()) == 1
