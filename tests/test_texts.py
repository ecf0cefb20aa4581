"""What the host reads: every command kind in both languages, runtime known or not."""

import pytest

from agent.views import command_view
from edge.room import Rules
from edge.stages import make_command
from protocol.config import AgentSection
from protocol.config.pi import PolicyConfig
from protocol.messages import PcCommand, PcCommandKind
from protocol.texts import TEXTS, banner_view, command_texts, minutes_text


@pytest.mark.parametrize("kind", sorted(TEXTS))
@pytest.mark.parametrize("lang", ["id", "en"])
@pytest.mark.parametrize("runtime_s", [1500, 30, None])
def test_texts_read_naturally(kind, lang, runtime_s):
    title, text, chat = command_texts(kind, lang, "Ruang Rapat 1", runtime_s)
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
    assert expected in command_texts("notice", lang, "", runtime_s)[1]


def test_shutdown_place_defaults():
    title, text, chat = command_texts("shutdown", "id", "", 60)
    assert "ruang rapat kami" in chat


@pytest.mark.parametrize("lang, words", [("id", "dalam 20 detik"), ("en", "in 20 seconds")])
def test_a_shutdown_banner_states_one_wait_the_one_the_pc_keeps(lang, words):
    # The Pi says 60 s, this PC waits 20 s (the shorter): the banner said "dalam 60 detik" in
    # its text and "dalam 20 detik" in the countdown under it. Now only the countdown says it.
    rules = Rules(policy=PolicyConfig(shutdown_grace_s=60), site_id="rr1", place="Ruang 1", lang=lang)
    cmd = make_command(PcCommandKind.SHUTDOWN, "pc1", 1000.0, 1000.0, 250.0, rules)
    view = command_view(cmd, lang, AgentSection(shutdown_grace_s=20))
    shown = " ".join(str(view[k]) for k in ("title", "body", "runtime"))
    countdown = view["countdown"].replace("{seconds}", str(view["countdown_s"]))
    assert words in countdown and "60" not in shown and "20" not in shown


@pytest.mark.parametrize("lang", ["id", "en"])
@pytest.mark.parametrize("runtime_s", [1450, 1499, 1500, 1559, 119, 60, 59, 1])
def test_command_text_and_banner_line_say_the_same_minutes(lang, runtime_s):
    # One formatter for both: never "25 mnt" in the text and "24 mnt" beside it.
    _, body, _ = command_texts("notice", lang, "", runtime_s)
    cmd = PcCommand(id="c", ts=0, expires=1, kind="notice", text=body, runtime_s=runtime_s)
    view = banner_view(cmd, lang)
    minutes = minutes_text(runtime_s, lang)
    assert minutes in view["body"] and view["runtime"].endswith(minutes)


@pytest.mark.parametrize("lang", ["id", "en"])
def test_wrapup_speaks_of_the_minutes_left_not_an_empty_battery(lang):
    # Wrap-up comes by runtime (policy.wrapup_at_runtime_s), at any charge: a UPS at 50 % with
    # 290 s left is not "almost empty"; the host reads the minutes.
    title, text, chat = command_texts("wrapup", lang, "", 290)
    joined = f"{title} {text} {chat}".lower()
    assert "hampir habis" not in joined and "nearly" not in joined and "almost empty" not in joined
    minutes = "4 mnt" if lang == "id" else "4 min"
    assert minutes in title and minutes in text and minutes in chat
