"""What the host reads: every command kind in both languages, runtime known or not."""

import pytest

from protocol.messages import PcCommand
from protocol.texts import TEXTS, banner_view, command_texts, minutes_text


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
    (1500, "id", "25 mnt"), (1500, "en", "25 min"),
    (1559, "id", "25 mnt"), (119, "en", "1 min"),   # rounded down: a time available
    (30, "en", "< 1 min"), (30, "id", "< 1 mnt"),
    (None, "id", "beberapa menit"), (None, "en", "a few minutes"),
])
def test_notice_says_the_minutes_left(runtime_s, lang, expected):
    assert expected in command_texts("notice", lang, "", runtime_s, 30)[1]


def test_shutdown_says_the_grace_and_place_defaults():
    title, text, chat = command_texts("shutdown", "id", "", 60, 45)
    assert "45 detik" in text and "ruang rapat kami" in chat


@pytest.mark.parametrize("lang", ["id", "en"])
@pytest.mark.parametrize("runtime_s", [1450, 1499, 1500, 1559, 119, 60, 59, 1])
def test_command_text_and_banner_line_say_the_same_minutes(lang, runtime_s):
    # One formatter for both: never "25 mnt" in the text and "24 mnt" beside it.
    _, body, _ = command_texts("notice", lang, "", runtime_s, 30)
    cmd = PcCommand(id="c", ts=0, expires=1, kind="notice", text=body, runtime_s=runtime_s)
    view = banner_view(cmd, lang)
    minutes = minutes_text(runtime_s, lang)
    assert minutes in view["body"] and view["runtime"].endswith(minutes)


@pytest.mark.parametrize("lang", ["id", "en"])
def test_wrapup_speaks_of_the_minutes_left_not_an_empty_battery(lang):
    # Wrap-up comes by runtime (policy.wrapup_at_runtime_s), at any charge: a UPS at 50 % with
    # 290 s left is not "almost empty"; the host reads the minutes.
    title, text, chat = command_texts("wrapup", lang, "", 290, 30)
    joined = f"{title} {text} {chat}".lower()
    assert "hampir habis" not in joined and "nearly" not in joined and "almost empty" not in joined
    minutes = "4 mnt" if lang == "id" else "4 min"
    assert minutes in title and minutes in text and minutes in chat
