"""One declaration per key: the example files and the docs' table come from it, and a wrong
declaration is caught before it ships."""

from __future__ import annotations

import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from protocol import config as cfg
from protocol.config.declare import DeclarationError, header_of, key, keys, problems, section
from protocol.config.example import DOCS, EXAMPLES, ExampleFile, Part, generated, render

REPO = Path(__file__).resolve().parents[1]
HEADER = re.compile(r"^(?:# )?\[\[?([\w.]+)\]\]?$")
KEY_LINE = re.compile(r'^(?:# )?(\w+) = (".*"|\[.*\]|\{.*\}|-?[\d.]+|true|false)$')


@pytest.mark.parametrize("path", sorted(generated()))
def test_the_shipped_file_is_the_generated_one(path: str) -> None:
    """firmware_config's examples and docs/configuration.md say what the declarations say."""
    shipped = (REPO / path).read_text(encoding="utf-8")
    assert shipped == generated()[path], f"{path} is stale: python -m protocol.config.example --write"


def shown_keys(text: str) -> set[tuple[str, str]]:
    """(section, key) of every `key = value` line of an example, active or commented out."""
    found, where = set(), ""
    for line in text.splitlines():
        header = HEADER.match(line)
        if header:
            where = header[1]
        elif where and (shown := KEY_LINE.match(line)):
            found.add((where, shown[1]))
    return found


def declared(example: ExampleFile) -> set[tuple[str, str]]:
    return {(header_of(part.cls).strip("[]"), k.name) for part in example.parts
            for k in keys(part.cls)}


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda e: e.path)
def test_every_declared_key_is_in_its_example_and_in_the_docs(example: ExampleFile) -> None:
    want = declared(example)
    # the "second UPS" block repeats two [[ups]] keys: the set still has each key once
    assert shown_keys(render(example)) == want
    rows = set(re.findall(r"^\| `([\w.]+)\.(\w+)` \|", generated()[DOCS], re.M))
    assert want <= rows


def test_every_section_a_loader_reads_is_in_an_example() -> None:
    """A new section added to a loader cannot be left out of the example files."""
    shown = {part.cls for example in EXAMPLES for part in example.parts}
    assert set(cfg.SECTION_TYPES.values()) <= shown
    assert len(cfg.SECTION_TYPES) == 11


def test_every_declaration_of_siaga_is_sound() -> None:
    assert [p for cls in cfg.SECTION_TYPES.values() for p in problems(cls)] == []


@section("broken")
@dataclass(frozen=True)
class Broken:
    """A section whose defaults its own checks refuse."""

    wait_s: float = key(-1, "Seconds to wait.")
    colour: str = key("pink", "The colour.", choices=("red", "green"))
    port: int = key(0, "A port.", low=1, high=65535)
    name: str = key("x", "Required but with a default.", required=True)
    what: str = key("", "")


def test_a_declaration_with_a_bad_default_is_caught() -> None:
    assert problems(Broken) == [
        "Broken.wait_s: the default -1 must be a number >= 0",
        'Broken.colour: the default \'pink\' must be one of "red", "green"',
        "Broken.port: the default 0 must be a whole number from 1 to 65535",
        'Broken.name: a required key has the default "" (not set)',
        "Broken.what: needs a one-line doc",
    ]
    with pytest.raises(DeclarationError, match="Broken.wait_s"):
        render(ExampleFile("x.toml", "x", "x", (Part(Broken),)))


def test_a_field_without_a_declaration_is_refused() -> None:
    """A field added the old way (a bare default) would have no check: refused at once."""
    with pytest.raises(DeclarationError, match=r"Loose.retries: declared without key\(\)"):
        @section("loose")
        @dataclass(frozen=True)
        class Loose:
            timeout_s: float = key(5, "Seconds.")
            retries: int = 3


def test_an_int_key_without_bounds_is_refused() -> None:
    with pytest.raises(DeclarationError, match="an int needs low and high"):
        @section("unbounded")
        @dataclass(frozen=True)
        class Unbounded:
            count: int = key(3, "How many.")


def test_a_bound_declared_once_is_the_error_the_user_reads(tmp_path: Path) -> None:
    """agent.interval_s's declared bounds are the message of a wrong value (a float key)."""
    (tmp_path / "agent.toml").write_text('[site]\nid = "r"\n[agent]\npc_id = "pc"\n'
                                         "interval_s = 0.5\n")
    with pytest.raises(cfg.ConfigError) as err:
        cfg.load_agent_config(tmp_path / "agent.toml")
    assert str(err.value) == ("agent.toml: agent.interval_s: must be a number >= 1 and <= 3600, "
                              "got 0.5")
    (tmp_path / "agent.toml").write_text('[site]\nid = "r"\n[agent]\npc_id = "pc"\n'
                                         "interval_s = 2.5\n")
    assert cfg.load_agent_config(tmp_path / "agent.toml").agent.interval_s == 2.5


def test_the_agents_config_imports_nothing_the_pc_lacks() -> None:
    """The PC has the standard library and the shared protocol, nothing of the Pi or dashboard."""
    code = ("import sys; before = set(sys.modules); import protocol.config.agent; "
            "print('\\n'.join(sorted(set(sys.modules) - before)))")
    loaded = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True,
                            text=True, cwd=REPO).stdout.split()
    outside = [m for m in loaded if m.split(".")[0] not in sys.stdlib_module_names
               and not m.startswith("_sysconfigdata")]   # the stdlib's, named by platform
    assert "protocol.config.agent" in outside
    assert [m for m in outside if m != "protocol" and
            not m.startswith(PROTOCOL)] == [], loaded


# The shared protocol, installed on the PC too.
PROTOCOL = ("protocol.config", "protocol.signing", "protocol.messages")


def test_the_writer_says_which_file_is_stale(tmp_path: Path, capsys) -> None:
    from protocol.config.example import main
    (tmp_path / "docs").mkdir()
    (tmp_path / "firmware_config" / "siaga").mkdir(parents=True)
    assert main(["--root", str(tmp_path)]) == 1
    assert "docs/configuration.md differs from the declarations" in capsys.readouterr().out
    assert main(["--root", str(tmp_path), "--write"]) == 0
    assert main(["--root", str(tmp_path)]) == 0
    assert (tmp_path / DOCS).read_text() == generated()[DOCS]
