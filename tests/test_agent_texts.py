"""The banner's words: the site's language, the command's own text first, minutes rounded down."""

from __future__ import annotations

import pytest

from agent.texts import TEXTS, banner_view, runtime_line
from protocol.messages import PcCommand


def command(kind: str, **fields) -> PcCommand:
    return PcCommand(id="c", ts=0, expires=120, kind=kind, **fields)


def test_both_languages_have_every_string():
    assert TEXTS["id"].keys() == TEXTS["en"].keys()


@pytest.mark.parametrize("language, runtime_s, line", [
    ("id", 1500, "Sisa daya UPS: 25 mnt"),
    ("id", 1559, "Sisa daya UPS: 25 mnt"),        # rounded down: never promise more
    ("en", 300, "UPS battery left: 5 min"),
    ("en", 119, "UPS battery left: 1 min"),
    ("id", 59, "Sisa daya UPS: < 1 mnt"),
    ("en", 0, "UPS battery left: < 1 min"),
    ("id", None, ""),
    ("id", -1, ""),
    ("xx", 120, "Sisa daya UPS: 2 mnt"),          # unknown language: Indonesian
])
def test_runtime_line(language, runtime_s, line):
    assert runtime_line(language, runtime_s) == line


def test_the_commands_own_text_wins_and_the_copy_button_needs_a_chat_text():
    view = banner_view(command("notice", title="Listrik PLN padam", text="Rapat tetap berjalan.",
                               chat_text="Mohon maaf ...", runtime_s=1500), "id")
    assert (view["title"], view["body"]) == ("Listrik PLN padam", "Rapat tetap berjalan.")
    assert view["window_title"] == "Siaga - Listrik PLN padam"
    assert view["chat_text"] == "Mohon maaf ..." and view["copy_label"] == "Salin pesan untuk chat rapat"
    assert banner_view(command("notice"), "id")["chat_text"] == ""


@pytest.mark.parametrize("kind, language, title", [
    ("notice", "id", "Listrik padam"), ("notice", "en", "Power outage"),
    ("wrapup", "id", "Daya UPS tinggal beberapa menit"), ("shutdown", "en", "This PC will shut down"),
    ("cancel", "id", "Listrik kembali normal"), ("test", "en", "Siaga test"),
])
def test_fallback_titles_are_in_the_sites_language(kind, language, title):
    assert banner_view(command(kind), language)["title"] == title


def test_shutdown_counts_down_and_cancel_closes_itself_without_minutes():
    view = banner_view(command("shutdown", runtime_s=100), "id", countdown_s=30)
    assert view["countdown_s"] == 30
    assert view["countdown"].replace("{seconds}", "30") == "Komputer dimatikan dalam 30 detik"
    english = banner_view(command("shutdown", runtime_s=100), "en", countdown_s=30)
    assert english["countdown"].replace("{seconds}", "30") == "This PC shuts down in 30 seconds"
    assert english["countdown_one"] == "This PC shuts down in 1 second"
    restored = banner_view(command("cancel", runtime_s=1800, chat_text="x"), "en", close_after_s=20)
    assert restored["runtime"] == "" and restored["chat_text"] == ""
    assert restored["close_after_s"] == 20 and restored["countdown_s"] is None
