"""The commented example files and the docs' table of keys, written from the declarations.

``python -m protocol.config.example --write`` rewrites firmware_config/siaga/siaga.toml,
firmware_config/agent.toml and docs/configuration.md; without --write it says which differ
(tests/test_config_declare.py fails while one does). Per file, a Part may show a value other
than the default (the example's site id), a note of its own, or keys commented out.
"""

from __future__ import annotations

import argparse
import sys
import textwrap
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .agent import AgentSection, ObsConfig
from .common import MqttConfig, SiteConfig
from .dashboard import AlertsConfig, DashboardConfig
from .declare import DeclarationError, Key, described, header_of, keys, problems, show
from .pi import EdgeConfig, GpioConfig, HomeAssistantConfig, PolicyConfig, UpsConfig

WIDTH = 98
GENERATED = "Written from the declarations in protocol/config/ (python -m protocol.config.example --write)."


@dataclass(frozen=True)
class Part:
    """One section as an example file shows it."""

    cls: type
    intro: str = ""                                  # comment above the section's header
    values: Mapping[str, Any] = field(default_factory=dict)   # shown instead of the default
    notes: Mapping[str, str] = field(default_factory=dict)    # this file's note for a key
    hidden: frozenset[str] = frozenset()             # keys shown commented out
    commented: bool = False                          # the whole section commented out
    after: str = ""                                  # lines after the section, as written


@dataclass(frozen=True)
class ExampleFile:
    """One commented example file."""

    path: str          # from the repository's root
    title: str         # in the docs' table
    header: str
    parts: tuple[Part, ...]


def comment(text: str) -> list[str]:
    """``text`` as comment lines of at most WIDTH characters (blank lines kept)."""
    lines: list[str] = []
    for paragraph in text.split("\n"):
        lines += textwrap.wrap(paragraph, WIDTH, initial_indent="# ", subsequent_indent="# ",
                               break_long_words=False, break_on_hyphens=False) or ["#"]
    return lines


def key_lines(k: Key, part: Part) -> list[str]:
    """The comment and the ``name = value`` line of one key."""
    value = part.values.get(k.name, k.default)
    note = part.notes.get(k.name, k.note)
    words = " ".join(w for w in (k.doc, note) if w)
    if k.required:
        words = "Required. " + words
    elif value != k.default and f"{show(k.default)} =" not in words:   # '"" = none' says it
        words += f" Default: {show(k.default)}."
    off = "# " if part.commented or k.name in part.hidden else ""
    return [*comment(words), f"{off}{k.name} = {show(value)}"]


def render_part(part: Part) -> list[str]:
    """One section: its intro, header and keys."""
    lines = [""] + (comment(part.intro) if part.intro else [])
    lines.append(("# " if part.commented else "") + header_of(part.cls))
    for k in keys(part.cls):
        lines += key_lines(k, part)
    return lines + ([part.after] if part.after else [])


def render(example: ExampleFile) -> str:
    """The whole example file; DeclarationError when a declaration in it is wrong."""
    wrong = [p for part in example.parts for p in problems(part.cls)]
    if wrong:
        raise DeclarationError("; ".join(wrong))
    lines = comment(example.header)
    for part in example.parts:
        lines += render_part(part)
    return "\n".join(lines) + "\n"


def docs_table(example: ExampleFile) -> list[str]:
    """The docs' table of one file's keys."""
    lines = [f"## {example.title}", "", "| key | default | value | what it is |", "|---|---|---|---|"]
    for part in example.parts:
        name = header_of(part.cls).strip("[]")
        for k in keys(part.cls):
            default = "required" if k.required else f"`{show(k.default)}`"
            lines.append(f"| `{name}.{k.name}` | {default} | {cell(described(k.check))} | "
                         f"{cell(k.doc)} |")
    return lines + [""]


def cell(text: str) -> str:
    """Text safe inside a Markdown table cell."""
    return text.replace("|", "\\|").replace("*", "\\*").replace("<", "&lt;").replace(">", "&gt;")


def render_docs() -> str:
    """docs/configuration.md."""
    lines = ["# Configuration keys", "",
             "Generated from the declarations in `protocol/config/` by "
             "`python -m protocol.config.example --write`; do not edit by hand. Each example file "
             "shows every key with a longer comment. A wrong value or an unknown key stops the "
             "program with one line per problem: `FILE: section.key: what is wrong, got X`.", ""]
    for example in EXAMPLES:
        lines += docs_table(example)
    return "\n".join(lines)


SIAGA_HEADER = "\n".join((
    "/etc/siaga/siaga.toml: one meeting room's Pi. Read by `siaga edge`, `siaga dashboard`, "
    "`siaga check` and `siaga report`. After an edit: `sudo siaga check` and "
    "`sudo systemctl restart siaga-edge siaga-dashboard`.",
    "Every key is shown with its default unless the comment says otherwise. A wrong value, or a "
    "key or [section] Siaga does not know (a typo), stops the program with one message naming "
    "this file, the key and what is wrong.",
    "Files named by *_file keys are read relative to this file's directory (/etc/siaga).",
    GENERATED))

AGENT_HEADER = "\n".join((
    "agent.toml: the Siaga agent on one meeting PC (`siaga agent -c agent.toml`).",
    "Where it lives (docs/agent.md): Windows %LOCALAPPDATA%\\Siaga\\agent.toml, "
    "Linux ~/.config/siaga/agent.toml.",
    "Every key is shown with its default unless said otherwise. A wrong key or value stops the "
    "agent with one message naming the file, the key and what is wrong.",
    GENERATED))

SIAGA_TOML = ExampleFile(
    "firmware_config/siaga/siaga.toml", "siaga.toml (the Pi: edge, dashboard, check, report)",
    SIAGA_HEADER, (
        Part(SiteConfig, values={"id": "bappeda-rr1", "name": "Bappeda - Ruang Rapat 1"}),
        Part(MqttConfig, values={"username": "siaga-edge", "password_file": "mqtt.password"},
             notes={"host": "See firmware_config/mosquitto/siaga.conf.",
                    "username": "siaga.acl gives user siaga-edge the edge's topics. The installer "
                    "creates the user and writes a random password to /etc/siaga/mqtt.password."}),
        Part(UpsConfig, intro="One [[ups]] table per UPS.",
             values={"name": "meeting", "username": "siaga", "password_file": "nut.password"},
             after="\n# A second UPS, watched only:\n#[[ups]]\n#name = \"network\"\n"
                   "#powers_pc = false"),
        Part(EdgeConfig, values={"keys_dir": "keys", "powerdown_flag": "/run/siaga/killpower"},
             hidden=frozenset({"keys_dir", "powerdown_flag"})),
        Part(PolicyConfig),
        Part(GpioConfig),
        Part(DashboardConfig, values={"groups": {"bappeda": ["bappeda-rr1", "bappeda-aula"],
                                                 "kominfo": ["kominfo-*"]}},
             hidden=frozenset({"groups", "public_url"})),
        Part(AlertsConfig, intro="Alerts to IT (read by `siaga dashboard`; see docs/alerts.md). "
             "Off until urls_file is set.", commented=True),
        Part(HomeAssistantConfig),
    ))

AGENT_TOML = ExampleFile(
    "firmware_config/agent.toml", "agent.toml (the meeting PC's agent)", AGENT_HEADER, (
        Part(SiteConfig, values={"id": "bappeda-rr1"}, hidden=frozenset({"name", "timezone"}),
             notes={"id": "Exactly as in the Pi's /etc/siaga/siaga.toml. Lower-case letters, "
                    "digits and dashes.",
                    "language": "The banner's own words (buttons, countdown, minutes left); the "
                    "title and text of a notice come from the Pi, already in the room's language.",
                    "name": "The agent does not use it.", "timezone": "The agent does not use it."}),
        Part(MqttConfig, values={"host": "192.0.2.10", "port": 8883, "username": "meeting-pc",
                                 "password_file": "mqtt.password", "tls": True,
                                 "ca_file": "siaga-ca.crt"},
             notes={"host": "Put the Pi's address (or its <host name>.local) here: one of the "
                    "names in its certificate (install-pi.sh made it with the Pi's host name, "
                    "<host name>.local and its LAN addresses).",
                    "port": "8883: the Pi's TLS listener for the LAN (install-pi.sh sets it up; "
                    "its 1883 is only for the Pi itself).",
                    "username": "The agent logs in with its pc_id (siaga.acl lets user <pc_id> "
                    "publish only under siaga/<site>/pc/<pc_id>/).",
                    "ca_file": "Here a copy of the Pi's /etc/siaga/siaga-ca.crt put next to this "
                    "file (scp <user>@<the Pi's address>:/etc/siaga/siaga-ca.crt .).",
                    "topic_prefix": "The same as on the Pi."}),
        Part(AgentSection, values={"pc_id": "meeting-pc", "recordings_dir": "~/Documents/Zoom",
                                   "command_key_file": "command.key"},
             hidden=frozenset({"command_key_file"})),
        Part(ObsConfig, commented=True, values={"password_file": "obs.password"},
             intro="[agent.obs]: OBS Studio records the meeting. When this table is present, the "
             "wrap-up stops OBS's recording (and its stream), waits until OBS has written the "
             "file, and the Pi's journal gets \"saved D:/Rekaman/2026-11-30 10-00-00.mkv, 1.2 GB\","
             " or why not (OBS not running, wrong password, no answer). wrapup_command, if set, "
             "still runs afterwards, unless the power came back meanwhile. To use it, remove the \"# \" before \"[agent.obs]\" and "
             "before each key you set. In OBS: Tools, WebSocket Server Settings: \"Enable "
             "WebSocket server\" on, \"Enable Authentication\" on; \"Show Connect Info\" gives "
             "the port and password. Without this table (the default) the agent does not talk "
             "to OBS at all."),
    ))

EXAMPLES = (SIAGA_TOML, AGENT_TOML)
DOCS = "docs/configuration.md"


def generated() -> dict[str, str]:
    """Repository path -> the text it should hold."""
    return {**{e.path: render(e) for e in EXAMPLES}, DOCS: render_docs()}


def main(argv: list[str] | None = None) -> int:
    """Write (--write) or compare the generated files; 1 when one differs and is not written."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="rewrite the files")
    parser.add_argument("--root", default=str(Path(__file__).resolve().parents[2]))
    args = parser.parse_args(argv)
    stale = []
    for path, text in generated().items():
        target = Path(args.root) / path
        if target.exists() and target.read_text(encoding="utf-8") == text:
            continue
        if args.write:
            target.write_text(text, encoding="utf-8")
            print(f"wrote {path}")
        else:
            stale.append(path)
    for path in stale:
        print(f"{path} differs from the declarations: python -m protocol.config.example --write")
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())
