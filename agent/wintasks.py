"""The agent's Windows scheduled tasks as Task Scheduler XML (schema 1.2, Windows 7 and newer).

Pure: paths in, XML bytes out. ``schtasks /Create /XML`` wants the file in UTF-16 with its byte
order mark, as Task Scheduler itself exports it. Well-known SIDs, never names: the names are
localised ("Pengguna"), the SIDs are not.
"""

from __future__ import annotations

import subprocess
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import PurePath

NS = "http://schemas.microsoft.com/windows/2004/02/mit/task"
FOLDER = "\\Siaga\\"
SID_SYSTEM = "S-1-5-18"
SID_USERS = "S-1-5-32-545"


@dataclass(frozen=True)
class Task:
    """One scheduled task: where it lives in Task Scheduler and what it is."""

    name: str            # full path, "\Siaga\Agent"
    description: str
    command: str
    arguments: list[str]
    working_dir: str
    trigger: str | None  # "boot", "logon" (of any user) or None (started by schtasks /Run)
    user: str | None     # a SID or an account name; None: ``group`` instead
    group: str | None = None
    highest: bool = False
    restart: bool = True     # restarted every minute if it exits, never stopped for its age
    parallel: bool = False   # one instance per logged-on user (the banner)


def quote_command(command: str) -> str:
    """The program in quotes when it has a space: never searched as ``C:\\Program.exe``."""
    return f'"{command}"' if " " in command else command


def arguments(argv: list[str]) -> str:
    """A Windows command line of ``argv`` (the quoting the C runtime and Python undo)."""
    return subprocess.list2cmdline(argv)


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrib: str) -> ET.Element:
    element = ET.SubElement(parent, tag, attrib)
    if text is not None:
        element.text = text
    return element


def _settings(task: Task, parent: ET.Element) -> None:
    s = _sub(parent, "Settings")
    _sub(s, "MultipleInstancesPolicy", "Parallel" if task.parallel else "IgnoreNew")
    # A USB UPS may look like a battery to Windows: never refuse or stop for it, above all
    # during the power cut the agent is there for.
    _sub(s, "DisallowStartIfOnBatteries", "false")
    _sub(s, "StopIfGoingOnBatteries", "false")
    _sub(s, "AllowHardTerminate", "true")
    _sub(s, "StartWhenAvailable", "true")
    idle = _sub(s, "IdleSettings")
    _sub(idle, "StopOnIdleEnd", "false")
    _sub(idle, "RestartOnIdle", "false")
    _sub(s, "AllowStartOnDemand", "true")
    _sub(s, "Enabled", "true")
    _sub(s, "Hidden", "false")
    # A one-shot (the Zoom key press) gets a minute; it is never retried: a late Alt+R would
    # start a recording.
    _sub(s, "ExecutionTimeLimit", "PT0S" if task.restart else "PT1M")
    _sub(s, "Priority", "7")
    if task.restart:
        restart = _sub(s, "RestartOnFailure")
        _sub(restart, "Interval", "PT1M")
        _sub(restart, "Count", "999")


def task_xml(task: Task) -> ET.Element:
    """The task's XML element tree."""
    root = ET.Element("Task", {"version": "1.2", "xmlns": NS})
    info = _sub(root, "RegistrationInfo")
    _sub(info, "Description", task.description)
    _sub(info, "URI", task.name)
    triggers = _sub(root, "Triggers")
    if task.trigger == "boot":
        _sub(_sub(triggers, "BootTrigger"), "Enabled", "true")
    elif task.trigger == "logon":
        _sub(_sub(triggers, "LogonTrigger"), "Enabled", "true")   # no UserId: any user
    principal = _sub(_sub(root, "Principals"), "Principal", id="Author")
    if task.user:
        _sub(principal, "UserId", task.user)
        if task.user != SID_SYSTEM:
            _sub(principal, "LogonType", "InteractiveToken")   # in the user's session, no password
    else:
        _sub(principal, "GroupId", task.group)
    _sub(principal, "RunLevel", "HighestAvailable" if task.highest else "LeastPrivilege")
    _settings(task, root)
    actions = _sub(root, "Actions", Context="Author")
    run = _sub(actions, "Exec")
    _sub(run, "Command", quote_command(task.command))
    _sub(run, "Arguments", arguments(task.arguments))
    _sub(run, "WorkingDirectory", task.working_dir)
    return root


def xml_bytes(task: Task) -> bytes:
    """The file for ``schtasks /Create /XML``: UTF-16 little-endian with its byte order mark."""
    body = ET.tostring(task_xml(task), encoding="unicode")
    return ('<?xml version="1.0" encoding="UTF-16"?>\r\n' + body).encode("utf-16")


def agent_task(pythonw: PurePath, config: PurePath, folder: PurePath) -> Task:
    """``\\Siaga\\Agent``: at boot as SYSTEM, everything but the banner (no desktop there)."""
    return Task(FOLDER + "Agent", "Siaga: UPS telemetry, recording wrap-up and clean shutdown",
                str(pythonw), ["-I", "-m", "siaga", "agent", "--no-banner", "-c", str(config)],
                str(folder), "boot", SID_SYSTEM, highest=True)


def banner_task(pythonw: PurePath, config: PurePath, folder: PurePath) -> Task:
    """``\\Siaga\\Banner``: at the logon of any user, in that user's session, limited rights."""
    return Task(FOLDER + "Banner", "Siaga: the power-cut banner on the desktop", str(pythonw),
                ["-I", "-m", "siaga", "agent", "--banner-only", "-c", str(config)], str(folder),
                "logon", None, group=SID_USERS, parallel=True)


def zoom_task(powershell: str, script: PurePath, user: str, folder: PurePath) -> Task:
    """``\\Siaga\\Zoom stop recording``: Alt+R in ``user``'s Zoom, started by the wrap-up."""
    return Task(FOLDER + "Zoom stop recording", "Siaga: Alt+R in the Zoom meeting window",
                powershell, ["-NoProfile", "-ExecutionPolicy", "Bypass", "-WindowStyle", "Hidden",
                             "-File", str(script)], str(folder), None, user, restart=False)
