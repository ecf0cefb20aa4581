"""What the host reads: every command kind in both languages, runtime known or not."""

import pytest

from edge.texts import TEXTS, command_texts


@pytest.mark.parametrize("kind", sorted(TEXTS))
@pytest.mark.parametrize("lang", ["id", "en"])
@pytest.mark.parametrize("runtime_s", [1500, 30, None])
def test_texts_read_naturally(kind, lang, runtime_s):
    title, text, chat = command_texts(kind, lang, "Ruang Rapat 1", runtime_s, 30)
    assert title and text and chat
    joined = f"{title} {text} {chat}"
    assert "{" not in joined and "sekitar beberapa" not in joined and "about a few" not in joined
    if lang == "en":
        assert "menit" not in joined and "listrik" not in joined.lower()


@pytest.mark.parametrize("runtime_s, lang, expected", [
    (1500, "id", "sekitar 25 menit"), (1500, "en", "about 25 minutes"),
    (30, "en", "about 1 minute"), (None, "id", "beberapa menit"), (None, "en", "a few minutes"),
])
def test_notice_says_the_minutes_left(runtime_s, lang, expected):
    assert expected in command_texts("notice", lang, "", runtime_s, 30)[1]


def test_shutdown_says_the_grace_and_place_defaults():
    title, text, chat = command_texts("shutdown", "id", "", 60, 45)
    assert "45 detik" in text and "ruang rapat kami" in chat
