"""One catalogue shape (issue 17 item 3): every catalogue people read is key -> (id, en); each
key has both languages with the same placeholders, and grep finds a use of every key."""

from __future__ import annotations

import ast
import re
import string
from pathlib import Path

import pytest

from agent import install_texts
from dashboard.alerts import texts as alert_texts
from dashboard.report import texts as report_texts
from dashboard.texts import i18n
from protocol import texts
from protocol.messages import AckCode

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = [d for d in ("edge", "dashboard", "agent", "protocol", "siaga") if (ROOT / d).is_dir()]
SOURCES = [p for d in PACKAGES for ext in ("*.py", "*.html", "*.js")
           for p in sorted((ROOT / d).rglob(ext))]
CATALOGUES = {
    "page": i18n.TEXTS,
    "alerts": alert_texts.TEXTS,
    "pc": texts.PC_TEXTS,
    "acks": {code.value: pair for code, pair in texts.ACK_TEXTS.items()},
    "report": {**report_texts.TEXT, **report_texts.BUY},
    "report rows": report_texts.MEANING,
    "report rules": report_texts.RULE,
    "agent install": install_texts.TEXTS,
}
# The dict literals that define a catalogue: their lines are the definition, not a use.
DEFINITIONS = {"TEXTS", "PC_TEXTS", "ACK_TEXTS", "TEXT", "BUY", "MEANING", "RULE"}


def _placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def _uses() -> str:
    """Every source file, with the lines of the catalogues' own dict literals left out."""
    out = []
    for path in SOURCES:
        text = path.read_text(encoding="utf-8")
        lines = text.splitlines()
        if path.suffix == ".py":
            for node in ast.walk(ast.parse(text)):
                target = getattr(node, "target", None) or (getattr(node, "targets", None) or [None])[0]
                if isinstance(node, (ast.Assign, ast.AnnAssign)) and \
                        getattr(target, "id", "") in DEFINITIONS and isinstance(node.value, ast.Dict):
                    for n in range(node.lineno - 1, node.end_lineno):
                        lines[n] = ""
        out.append("\n".join(lines))
    return "\n".join(out)


ALL = [(name, key, pair) for name, table in CATALOGUES.items() for key, pair in table.items()]


@pytest.mark.parametrize("name, key, pair", ALL, ids=[f"{n}:{k}" for n, k, _ in ALL])
def test_every_key_has_both_languages_with_the_same_placeholders(name, key, pair):
    assert isinstance(pair, tuple) and len(pair) == 2, (name, key)
    indonesian, english = pair
    assert isinstance(indonesian, str) and isinstance(english, str)
    assert (indonesian.strip() == "") == (english.strip() == ""), (name, key)
    assert _placeholders(indonesian) == _placeholders(english), (name, key)


def test_every_key_is_used():
    """grep finds each key outside its catalogue: quoted ("key" or 'key'), or its AckCode."""
    uses = _uses()
    unused = []
    for name, key, _ in ALL:
        if name == "acks":
            found = re.search(rf"\bAckCode\.{AckCode(key).name}\b", uses)
        else:
            found = re.search(rf"""["']{re.escape(key)}["']""", uses)
        if not found:
            unused.append(f"{name}:{key}")
    assert unused == []


def test_no_sentence_is_written_twice():
    """A sentence people read is in one place: the same (id, en) pair under two keys is a
    duplicate to merge."""
    seen: dict[tuple[str, str], str] = {}
    twice = []
    for name, key, pair in ALL:
        if len(pair[1]) < 20:      # short words ("PC", "yes") may well recur
            continue
        if pair in seen:
            twice.append((seen[pair], f"{name}:{key}"))
        seen.setdefault(pair, f"{name}:{key}")
    assert twice == []
