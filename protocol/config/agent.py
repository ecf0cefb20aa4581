"""The meeting PC's agent.toml: [site], [mqtt], [agent] and [agent.obs]; ``load_agent_config``.

Imports only the standard library and the shared protocol (signing): it runs on the PC.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

from ..signing import BadKey, read_key

from .common import MqttConfig, SiteConfig, read_common
from .declare import derived, host, identifier, key, names, section
from .reader import BadPath, Reader, parse


@section("obs", "[agent.obs]")
@dataclass(frozen=True)
class ObsConfig:
    """[agent.obs]: OBS Studio's obs-websocket v5; ``password`` is read from ``password_file``."""

    host: str = key("127.0.0.1", "Where OBS runs: this PC.", check=host)
    port: int = key(4455, "obs-websocket's port (its own default).", low=1, high=65535)
    password_file: str = key("", "File with obs-websocket's password on its first line, relative "
                             'to this file. "" = none.')
    stop_stream: bool = key(True, 'Stop a running live stream too (OBS "Start Streaming").')
    # for OBS to answer and to report the file written
    timeout_s: float = key(60, "Seconds to wait for OBS to answer, and then for the file to be "
                           "written.", low=1, high=3600)
    password: str = derived()


@section("agent")
@dataclass(frozen=True)
class AgentSection:
    """[agent] of the meeting PC's file."""

    pc_id: str = key("", "This PC's id: same pattern as site.id, one of the Pi's edge.pcs.",
                     check=identifier, required=True)
    interval_s: float = key(5, "Seconds between two telemetry reports (CPU, memory, disk, "
                            "uptime, meeting app running).", low=1, high=3600)
    recordings_dir: str = key("", "Folder where meeting recordings are written; its disk's free "
                              'space is reported. "" = the home folder\'s disk.', note='"~" is '
                              "the user's home folder. A Windows path goes in single quotes, "
                              "'D:\\Rekaman\\Zoom' (in double quotes a backslash starts an escape "
                              'and the file is refused), or with forward slashes, '
                              '"D:/Rekaman/Zoom".')
    meeting_apps: tuple[str, ...] = key(("Zoom.exe", "Zoom", "Teams.exe", "ms-teams"),
                                        "Meeting programs: a microphone or camera capture open by "
                                        "one of them is a meeting (where captures cannot be seen, "
                                        'the running program is); case does not matter, ".exe" is '
                                        "optional.", check=names)
    browsers: tuple[str, ...] = key(("chrome.exe", "chrome", "chromium", "msedge.exe", "msedge",
                                     "firefox.exe", "firefox", "firefox-esr", "opera.exe", "opera",
                                     "brave.exe", "brave"),
                                    "Browsers whose microphone or camera capture is a meeting "
                                    "(Google Meet, Zoom and Teams on the web).", check=names)
    converter_processes: tuple[str, ...] = key(("zTscoder.exe",), 'Process names that mean "a '
                                               'recording is being converted" (Zoom converts '
                                               "after the meeting).", check=names)
    banner: bool = key(True, "Show the on-screen banner when this PC has a display; false = only "
                       "write it to the log.")
    wrapup_command: tuple[str, ...] = key((), "Program run on wrap-up, as a list: program then "
                                          "arguments, no shell. [] = nothing to run.", check=names,
                                          note="Example for a script of your own on Windows: "
                                          '["powershell.exe", "-NoProfile", "-ExecutionPolicy", '
                                          '"Bypass", "-File", "C:\\\\ProgramData\\\\Siaga\\\\'
                                          'wrapup.ps1"]')
    shutdown_command: tuple[str, ...] = key((), "Program run to shut the PC down, as a list. [] "
                                            "= the OS's own clean shutdown.", check=names,
                                            note="Windows: shutdown /s /t 0; Linux: systemctl "
                                            "poweroff.")
    shutdown_grace_s: float = key(30, "Seconds between a shutdown command and the shutdown; a "
                                  '"power restored" inside them cancels it.', low=0, high=3600,
                                  note="The banner counts them down. The Pi sends its own grace "
                                  "too: the shorter of the two is used.")
    command_timeout_s: float = key(120, "Seconds a wrap-up or shutdown command may run before it "
                                   "is stopped (with its children).", low=1, high=3600)
    state_file: str = key("", "File keeping the handled commands and a shutdown waiting out its "
                          'grace, relative to this file. "" = <this file\'s name>-state.json.',
                          note="So a command resent after a reconnect or a restart is not acted "
                          "on twice, and a restart of the agent does not lose a shutdown.")
    obs: ObsConfig | None = derived(None)   # [agent.obs] present: the wrap-up stops OBS's recording
    # set: only commands signed with this key are obeyed (§5.9)
    command_key_file: str = key("", "File with this PC's command key (the Pi's keys/<pc_id>.key): "
                                'then only commands signed with it are obeyed. "" = any command.',
                                note="See docs/security.md.")
    command_key: bytes = derived(b"")


@dataclass(frozen=True)
class AgentConfig:
    """The meeting PC's agent.toml."""

    path: str
    site: SiteConfig
    mqtt: MqttConfig
    agent: AgentSection


AGENT_FILE = (SiteConfig, MqttConfig, AgentSection)


def load_agent_config(path: str | Path) -> AgentConfig:
    """Read the meeting PC's agent.toml; raise ConfigError naming every bad key."""
    r = parse(path)
    r.sections(AGENT_FILE)
    site, mqtt = read_common(r)
    table = r.data.get("agent", {})
    obs_table = table.pop("obs", None) if isinstance(table, dict) else None
    agent = command_key(r, r.section(AgentSection, table, subtables=("obs",)))
    r.required("agent.pc_id", agent.pc_id)
    if obs_table is not None:
        obs = r.section(ObsConfig, obs_table, "agent.obs")
        password = r.secret("agent.obs.password_file", obs.password_file)
        agent = dataclasses.replace(agent, obs=dataclasses.replace(obs, password=password))
    config = AgentConfig(str(r.path), site, mqtt, agent)
    r.finish()
    return config


def command_key(r: Reader, agent: AgentSection) -> AgentSection:
    """``agent`` with the key of ``agent.command_key_file`` read (none when it is not set)."""
    if not agent.command_key_file:
        return agent
    try:
        return dataclasses.replace(agent, command_key=read_key(r.relative(agent.command_key_file)))
    except (BadKey, BadPath) as exc:
        r.error("agent.command_key_file", str(exc), show=False)
        return agent
