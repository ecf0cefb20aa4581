"""`siaga agent install` / `uninstall` (issue 22): the Task Scheduler XML, the refusal of anything
a user could change, and an uninstall that removes exactly what install made.

Linux has no Task Scheduler nor icacls: the command runs as a real process with a fake
``schtasks`` (tests/fakes/schtasks.py: keeps the tasks in a file, refuses what schtasks refuses)
and a fake ``icacls`` (tests/fakes/icacls.py: answers recorded ACLs, tests/fixtures/icacls/)
first on PATH. A folder of the test stands for the drive C:\\; its name has a space and an
accent, so every path in the tasks has both.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path, PureWindowsPath

import pytest

from agent import wintasks

REPO = Path(__file__).resolve().parent.parent
FAKES = Path(__file__).resolve().parent / "fakes"
ACLS = Path(__file__).resolve().parent / "fixtures" / "icacls"
NS = {"t": wintasks.NS}
USER_PYTHON = ("Users", "Siti Nurhaliza", "AppData", "Local", "Programs", "Python", "Python312")


def parse(task: wintasks.Task) -> ET.Element:
    """The task as schtasks reads it: UTF-16 with the byte order mark."""
    raw = wintasks.xml_bytes(task)
    assert raw[:2] == b"\xff\xfe"
    return ET.fromstring(raw.decode("utf-16").split("?>", 1)[1])


def find(root: ET.Element, path: str) -> str | None:
    element = root.find(path.replace("/", "/t:").join(["t:", ""]) if path else ".", NS)
    return None if element is None else element.text


def windows_argv(line: str) -> list[str]:
    """Split a command line as the C runtime (and so Python on Windows) does."""
    args, current, quoted, slashes, started = [], [], False, 0, False
    for ch in line + " ":
        if ch == "\\":
            slashes += 1
            continue
        if ch == '"':
            current += ["\\"] * (slashes // 2)
            if slashes % 2:
                current.append('"')
            else:
                quoted, started = not quoted, True
            slashes = 0
            continue
        current += ["\\"] * slashes
        slashes = 0
        if ch == " " and not quoted:
            if current or started:
                args.append("".join(current))
            current, started = [], False
        else:
            current.append(ch)
    return args


PYTHONW = PureWindowsPath(r"C:\Program Files\Siaga Rapat\venv\Scripts\pythonw.exe")
CONFIG = PureWindowsPath(r"C:\Users\Siti Nurhaliza\Dokumen Dévi\agent.toml")
FOLDER = PureWindowsPath(r"C:\Program Files\Siaga Rapat")


def test_the_agent_task_runs_at_boot_as_system_forever():
    root = parse(wintasks.agent_task(PYTHONW, CONFIG, FOLDER))
    assert root.find("t:Triggers/t:BootTrigger", NS) is not None
    assert root.find("t:Triggers/t:LogonTrigger", NS) is None
    assert find(root, "Principals/Principal/UserId") == "S-1-5-18"
    assert find(root, "Principals/Principal/RunLevel") == "HighestAvailable"
    assert find(root, "Settings/ExecutionTimeLimit") == "PT0S"
    assert find(root, "Settings/RestartOnFailure/Interval") == "PT1M"
    assert int(find(root, "Settings/RestartOnFailure/Count")) >= 3
    assert find(root, "Settings/DisallowStartIfOnBatteries") == "false"
    assert find(root, "Settings/StopIfGoingOnBatteries") == "false"
    assert find(root, "RegistrationInfo/URI") == "\\Siaga\\Agent"


def test_the_agent_task_quotes_paths_with_spaces_and_accents():
    root = parse(wintasks.agent_task(PYTHONW, CONFIG, FOLDER))
    assert find(root, "Actions/Exec/Command") == f'"{PYTHONW}"'   # never C:\Program.exe
    assert find(root, "Actions/Exec/WorkingDirectory") == str(FOLDER)
    assert windows_argv(find(root, "Actions/Exec/Arguments")) == [
        "-I", "-m", "siaga", "agent", "--no-banner", "-c", str(CONFIG)]


def test_the_banner_task_starts_at_any_logon_in_the_users_session_with_limited_rights():
    root = parse(wintasks.banner_task(PYTHONW, CONFIG, FOLDER))
    logon = root.find("t:Triggers/t:LogonTrigger", NS)
    assert logon is not None and logon.find("t:UserId", NS) is None   # any user
    assert root.find("t:Triggers/t:BootTrigger", NS) is None
    assert find(root, "Principals/Principal/GroupId") == "S-1-5-32-545"
    assert root.find("t:Principals/t:Principal/t:UserId", NS) is None
    assert find(root, "Principals/Principal/RunLevel") == "LeastPrivilege"
    assert find(root, "Settings/MultipleInstancesPolicy") == "Parallel"   # two users logged on
    assert find(root, "Settings/ExecutionTimeLimit") == "PT0S"
    assert windows_argv(find(root, "Actions/Exec/Arguments"))[-3:] == [
        "--banner-only", "-c", str(CONFIG)]


def test_the_zoom_task_runs_once_in_the_named_users_session():
    script = PureWindowsPath(r"C:\Program Files\Siaga Rapat\zoom-stop-recording.ps1")
    root = parse(wintasks.zoom_task("powershell.exe", script, "Dévi", FOLDER))
    assert root.find("t:Triggers/*", NS) is None          # started by the wrap-up, never by itself
    assert find(root, "Principals/Principal/UserId") == "Dévi"
    assert find(root, "Principals/Principal/LogonType") == "InteractiveToken"
    assert find(root, "Principals/Principal/RunLevel") == "LeastPrivilege"
    assert root.find("t:Settings/t:RestartOnFailure", NS) is None   # a late Alt+R starts recording
    assert find(root, "Settings/ExecutionTimeLimit") == "PT1M"
    assert windows_argv(find(root, "Actions/Exec/Arguments"))[-2:] == ["-File", str(script)]


class Pc:
    """A meeting PC's files under a folder standing for C:\\, and the fake programs' records."""

    def __init__(self, base: Path) -> None:
        self.drive = base / "Disk Dévi"
        self.state = base / "schtasks"
        self.bin = base / "bin"
        for d in (self.state, self.bin, self.drive / "Users" / "Public"):
            d.mkdir(parents=True)
        for name in ("schtasks", "icacls"):
            wrapper = self.bin / name
            wrapper.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{FAKES / name}.py" "$@"\n')
            wrapper.chmod(0o755)
        self.folder = self.drive / "ProgramData" / "Siaga"
        self.venv = self.folder / "venv"
        self.make_python(self.drive / "Program Files" / "Python312")
        self.make_python(self.drive.joinpath(*USER_PYTHON))
        for path in [self.venv / "Scripts" / "pythonw.exe", self.folder / "zoom-stop-recording.ps1",
                     *(self.venv / "Lib" / "site-packages" / p / "__init__.py"
                       for p in ("agent", "protocol", "siaga"))]:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text("")
        self.use_python(self.drive / "Program Files" / "Python312")
        self.config(language="en")

    @staticmethod
    def make_python(home: Path) -> None:
        for sub in ("Lib", "DLLs"):
            (home / sub).mkdir(parents=True)
        for name in ("pythonw.exe", "python.exe", "python312.dll"):
            (home / name).write_text("")

    def use_python(self, home: Path) -> None:
        (self.venv / "pyvenv.cfg").write_text(f"home = {home}\ninclude-system-site-packages = "
                                              "false\nversion = 3.12.7\n", encoding="utf-8")

    def config(self, language: str = "en", wrapup: list[str] | None = None) -> None:
        (self.folder / "agent.toml").write_text(
            f'[site]\nid = "bappeda-rr1"\nlanguage = "{language}"\n[mqtt]\nhost = "192.0.2.10"\n'
            f'[agent]\npc_id = "meeting-pc"\nwrapup_command = {json.dumps(wrapup or [])}\n',
            encoding="utf-8")

    def run(self, *args: str, acls: tuple[str, ...] = ("locked-agent-folder.txt",),
            windows: bool = True, module: str = "siaga") -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "PATH": f"{self.bin}{os.pathsep}{os.environ['PATH']}",
               "SIAGA_FAKE_SCHTASKS": str(self.state), "SIAGA_FAKE_DRIVE": str(self.drive),
               "SIAGA_FAKE_ICACLS": os.pathsep.join(
                   str(ACLS / name) for name in ("windows-defaults.txt", *acls))}
        env.pop("PUBLIC", None)
        env.pop("USERPROFILE", None)
        if windows:
            env.update(PUBLIC=str(self.drive / "Users" / "Public"),
                       USERPROFILE=str(self.drive / "Users" / "Administrator"))
        return subprocess.run([sys.executable, "-m", module, "agent", *args, "--venv",
                               str(self.venv)], cwd=REPO, env=env, capture_output=True,
                              text=True, timeout=120)

    def schtasks(self, *args: str) -> None:
        env = {**os.environ, "SIAGA_FAKE_SCHTASKS": str(self.state)}
        subprocess.run([str(self.bin / "schtasks"), *args], env=env, check=True,
                       capture_output=True, timeout=60)

    def xml_of_someone_else(self) -> Path:
        """A task of IT's own (not Siaga's), as Task Scheduler exports it."""
        path = self.state.parent / "other.xml"
        path.write_bytes(('<?xml version="1.0" encoding="UTF-16"?>\r\n<Task version="1.2" '
                          f'xmlns="{wintasks.NS}"><Actions><Exec><Command>backup.exe</Command>'
                          '</Exec></Actions></Task>').encode("utf-16"))
        return path

    def tasks(self) -> dict[str, ET.Element]:
        store = self.state / "tasks.json"
        stored = json.loads(store.read_text(encoding="utf-8")) if store.exists() else {}
        return {name: ET.fromstring(xml.split("?>", 1)[1]) for name, xml in stored.items()}

    def calls(self) -> list[list[str]]:
        log = self.state / "calls.jsonl"
        return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


@pytest.fixture
def pc(tmp_path: Path) -> Pc:
    return Pc(tmp_path)


def test_install_registers_the_agent_and_the_banner_and_starts_the_agent(pc):
    done = pc.run("install")
    assert done.returncode == 0, done.stderr
    tasks = pc.tasks()
    assert sorted(tasks) == ["\\Siaga\\Agent", "\\Siaga\\Banner"]
    agent = tasks["\\Siaga\\Agent"]
    pythonw = pc.venv / "Scripts" / "pythonw.exe"
    assert find(agent, "Actions/Exec/Command") == f'"{pythonw}"'   # the drive's name has a space
    assert windows_argv(find(agent, "Actions/Exec/Arguments"))[-2:] == [
        "-c", str(pc.folder / "agent.toml")]
    assert find(agent, "Actions/Exec/WorkingDirectory") == str(pc.folder)
    assert pc.calls()[-2:] == [["/End", "/TN", "\\Siaga\\Agent"],   # an update: the new code
                               ["/Run", "/TN", "\\Siaga\\Agent"]]
    assert "Task registered: \\Siaga\\Agent" in done.stdout and done.stderr == ""


def test_install_and_uninstall_touch_only_siagas_own_tasks(pc):
    pc.schtasks("/Create", "/TN", "\\Backup\\Nightly", "/XML", str(pc.xml_of_someone_else()))
    pc.schtasks("/Create", "/TN", "\\Siaga\\IT's own check", "/XML", str(pc.xml_of_someone_else()))
    before = set(pc.tasks())
    assert pc.run("install", "--zoom-user", "Dévi").returncode == 0
    assert set(pc.tasks()) == before | {"\\Siaga\\Agent", "\\Siaga\\Banner",
                                        "\\Siaga\\Zoom stop recording"}
    zoom = pc.tasks()["\\Siaga\\Zoom stop recording"]
    assert find(zoom, "Principals/Principal/UserId") == "Dévi"
    assert pc.run("install").returncode == 0              # again, without Zoom: its task goes
    assert set(pc.tasks()) == before | {"\\Siaga\\Agent", "\\Siaga\\Banner"}
    done = pc.run("uninstall")
    assert done.returncode == 0, done.stderr
    assert set(pc.tasks()) == before
    assert not (pc.folder / "siaga-tasks.json").exists() and (pc.folder / "agent.toml").exists()
    again = pc.run("uninstall")
    assert again.returncode == 0 and "nothing removed" in again.stdout


def test_uninstall_after_a_task_was_removed_by_hand(pc):
    assert pc.run("install").returncode == 0
    pc.schtasks("/Delete", "/TN", "\\Siaga\\Banner", "/F")
    done = pc.run("uninstall")
    assert done.returncode == 0, done.stderr
    assert "Task \\Siaga\\Banner was already gone" in done.stdout and pc.tasks() == {}


def _refused(pc: Pc, done: subprocess.CompletedProcess[str]) -> list[str]:
    """The problem lines; and nothing was registered, nothing recorded, no traceback."""
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    assert pc.calls() == [] and not (pc.folder / "siaga-tasks.json").exists()
    lines = done.stderr.splitlines()
    n = len(lines) - 1
    assert lines[-1] == f"No task was registered ({n} problem{'' if n == 1 else 's'} above)."
    return lines[:-1]


def test_a_python_in_a_users_profile_is_refused_with_the_fix(pc):
    home = pc.drive.joinpath(*USER_PYTHON)
    pc.use_python(home)
    lines = _refused(pc, pc.run("install"))
    assert lines[0].startswith(f"Python {home} is in a user's profile")
    assert "Install Python for all users" in lines[0] and str(pc.folder) in lines[0]
    profile = pc.drive / "Users" / "Siti Nurhaliza"
    assert lines[1:] == [f"{profile}: RAPAT-PC\\Siti Nurhaliza can change it (F); only "
                         "Administrators and SYSTEM may, because SYSTEM runs it"]


@pytest.mark.parametrize("acls, who, rights", [
    ("users-modify.txt", "BUILTIN\\Users", "(M)"),
    ("inherited.txt", "BUILTIN\\Users", "(AD,WA,WD,WEA, inherited from the folder above)"),
])
def test_an_agent_folder_users_can_write_is_refused(pc, acls, who, rights):
    lines = _refused(pc, pc.run("install", acls=(acls,)))
    # once, where it is set: the files and folders inheriting it are not named again
    assert lines == [f"{pc.folder}: {who} can change it {rights}; only Administrators and "
                     "SYSTEM may, because SYSTEM runs it"]


def test_one_file_users_can_write_in_a_locked_folder_is_refused(pc):
    lines = _refused(pc, pc.run("install", acls=("locked-agent-folder.txt",
                                                  "pyvenv-writable.txt")))
    assert lines == [f"{pc.venv / 'pyvenv.cfg'}: BUILTIN\\Users can change it (F); only "
                     "Administrators and SYSTEM may, because SYSTEM runs it"]


def test_a_wrapup_script_everyone_can_write_is_refused(pc):
    script = pc.drive / "Skrip" / "wrapup.cmd"
    script.parent.mkdir()
    script.write_text("")
    pc.config(wrapup=[str(script)])
    lines = _refused(pc, pc.run("install", acls=("locked-agent-folder.txt",
                                                  "everyone-wrapup.txt")))
    assert lines == [f"{script.parent}: Everyone can change it (W); only Administrators and "
                     "SYSTEM may, because SYSTEM runs it"]


def test_a_wrapup_program_that_does_not_exist_is_refused(pc):
    pc.config(wrapup=["no-such-program-here.exe", "/x"])
    assert _refused(pc, pc.run("install")) == [
        "agent.wrapup_command: program no-such-program-here.exe not found"]


def test_the_problems_are_said_in_bahasa_indonesia_first(pc):
    pc.config(language="id")
    done = pc.run("install", acls=("users-modify.txt",))
    assert done.returncode == 1 and pc.calls() == []
    assert "BUILTIN\\Users dapat mengubahnya (M)" in done.stderr
    assert done.stderr.splitlines()[-1].startswith("Tidak ada tugas yang didaftarkan")


def test_a_missing_venv_or_config_is_named(pc):
    (pc.folder / "agent.toml").unlink()
    (pc.venv / "Scripts" / "pythonw.exe").unlink()
    done = pc.run("install")
    assert done.returncode == 1 and pc.calls() == []
    assert f"{pc.venv / 'Scripts' / 'pythonw.exe'} tidak ada: buat venv dulu" in done.stderr
    assert f"{pc.folder / 'agent.toml'} tidak ada: salin dan sunting" in done.stderr


def test_off_windows_install_says_it_is_for_windows(pc):
    done = pc.run("install", windows=False)
    assert done.returncode == 1 and pc.calls() == []
    assert done.stderr.count("\n") == 1 and "hanya untuk Windows" in done.stderr


def test_the_old_edge_cli_entry_installs_too(pc):
    """Tasks of before the move run `python -m edge.cli agent`: the same command behind it."""
    done = pc.run("install", module="edge.cli")
    assert done.returncode == 0, done.stderr
    assert sorted(pc.tasks()) == ["\\Siaga\\Agent", "\\Siaga\\Banner"]


def test_without_icacls_nothing_is_registered_and_it_is_said_once(pc):
    (pc.bin / "icacls").unlink()
    lines = _refused(pc, pc.run("install"))
    assert len(lines) == 1 and ": cannot read its permissions: cannot run icacls" in lines[0]
