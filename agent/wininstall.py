"""`siaga agent install` / `uninstall` on Windows: check that no user can change what SYSTEM will
run, then register the scheduled tasks with ``schtasks /Create /XML`` (issue 22).

The layout is the one scripts/windows/install-agent.ps1 makes: ``<folder>\\venv`` (the venv
this command runs from), ``<folder>\\agent.toml``, the folder locked to Administrators and SYSTEM.
What install registered is written to ``<folder>\\siaga-tasks.json``; uninstall removes exactly
those tasks and nothing else.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from protocol.config import ConfigError, load_agent_config

from . import winacl, wintasks
from .install_texts import say

CODE = ("agent", "protocol", "siaga")   # what `-m siaga agent` imports from the venv
MANIFEST = "siaga-tasks.json"
ZOOM_SCRIPT = "zoom-stop-recording.ps1"


@dataclass(frozen=True)
class Layout:
    """Where the agent's files are, from its venv."""

    venv: Path
    config: Path

    @property
    def folder(self) -> Path:
        """The locked agent folder (the venv's parent)."""
        return self.venv.parent

    @property
    def pythonw(self) -> Path:
        """The venv's windowless Python, what the tasks start."""
        return self.venv / "Scripts" / "pythonw.exe"

    @property
    def site(self) -> Path:
        """The venv's site-packages (Windows layout)."""
        return self.venv / "Lib" / "site-packages"

    @property
    def manifest(self) -> Path:
        """The record of the tasks install made."""
        return self.folder / MANIFEST


def system_program(*parts: str) -> str:
    """A program of Windows itself, by its full path (never a namesake on PATH); elsewhere
    (tests) its last part, found on PATH."""
    if os.name == "nt":
        return os.path.join(os.environ.get("SystemRoot", r"C:\Windows"), "System32", *parts)
    return parts[-1].removesuffix(".exe")


def powershell() -> str:
    """Windows PowerShell 5.1, which every Windows 10/11 has."""
    return system_program("WindowsPowerShell", "v1.0", "powershell.exe")


def profiles_dir() -> Path | None:
    """The folder holding the users' profiles (C:\\Users), from Windows' own variables."""
    for name in ("PUBLIC", "USERPROFILE"):
        if os.environ.get(name):
            return Path(os.environ[name]).parent
    return None


def under(path: Path, folder: Path) -> bool:
    """``path`` is ``folder`` or inside it; case-insensitive as Windows is."""
    p, f = [x.casefold() for x in Path(os.path.abspath(path)).parts], \
        [x.casefold() for x in Path(os.path.abspath(folder)).parts]
    return p[:len(f)] == f


def base_home(venv: Path) -> Path | None:
    """The base Python's folder that the venv's pythonw.exe launches (``home`` of pyvenv.cfg)."""
    for line in (venv / "pyvenv.cfg").read_text(encoding="utf-8", errors="replace").splitlines():
        key, _, value = line.partition("=")
        if key.strip().lower() == "home" and value.strip():
            return Path(value.strip())
    return None


def command_paths(argv: tuple[str, ...], what: str, lang: str) -> tuple[list[Path], list[str]]:
    """The files a configured command runs: its program (found as Windows would) and every
    argument that names an existing file (the script a powershell.exe runs)."""
    if not argv:
        return [], []
    program = argv[0] if os.path.isabs(argv[0]) else shutil.which(argv[0])
    if not program or not os.path.exists(program):
        return [], [say(lang, "not_found", what=what, program=argv[0])]
    files = [Path(program)] + [Path(a) for a in argv[1:] if os.path.isabs(a) and os.path.exists(a)]
    return files, []


def _python_files(home: Path) -> list[Path]:
    """What the venv's pythonw.exe loads from the base: its pythonw.exe, DLLs and library."""
    named = [home / n for n in ("pythonw.exe", "python.exe", "Lib", "DLLs")]
    return [home] + [p for p in named if p.exists()] + sorted(home.glob("python3*.dll"))


def objects(leaves: list[Path], roots: list[Path]) -> list[tuple[Path, bool]]:
    """Every leaf and every folder above it, once, each with ``inside`` (under a root)."""
    seen: dict[str, tuple[Path, bool]] = {}
    for leaf in leaves:
        leaf = Path(os.path.abspath(leaf))
        for path in [leaf, *leaf.parents]:
            seen.setdefault(str(path).casefold(), (path, any(under(path, r) for r in roots)))
    return sorted(seen.values(), key=lambda item: (len(item[0].parts), str(item[0]).casefold()))


def acl_problems(items: list[tuple[Path, bool]], lang: str) -> list[str]:
    """One line per entry that lets a non-administrator change something SYSTEM runs; an entry
    inherited from a folder already named is not named again (``items`` go from the top)."""
    problems: list[str] = []
    named: set[tuple[str, str]] = set()
    for path, inside in items:
        try:
            aces = winacl.query(str(path))
        except winacl.IcaclsError as exc:
            problems.append(say(lang, "unreadable", path=path, error=exc))
            if isinstance(exc, winacl.IcaclsMissing):
                break   # once, not once per path
            continue
        for ace in winacl.dangerous(aces, inside):
            key = (str(path).casefold(), ace.who.casefold())
            if ace.inherited and (str(path.parent).casefold(), key[1]) in named:
                named.add(key)
                continue
            named.add(key)
            problems.append(say(lang, "writable", path=path, who=ace.who,
                                rights=",".join(sorted(ace.rights)),
                                inherited=say(lang, "inherited") if ace.inherited else ""))
    return problems


def _missing(layout: Layout, zoom_user: str | None, lang: str) -> list[str]:
    wanted = [(layout.pythonw, "fix_venv"), (layout.venv / "pyvenv.cfg", "fix_venv"),
              (layout.config, "fix_config")]
    wanted += [(layout.site / name, "fix_code") for name in CODE]
    if zoom_user:
        wanted.append((layout.folder / ZOOM_SCRIPT, "fix_zoom"))
    return [say(lang, "missing", path=path, fix=say(lang, fix))
            for path, fix in wanted if not path.exists()]


def check(layout: Layout, zoom_user: str | None) -> tuple[str, list[str]]:
    """(language, problems): everything that must hold before SYSTEM may run the agent."""
    problems = _missing(layout, zoom_user, "id")
    if problems:
        return "id", problems
    config = load_agent_config(layout.config)   # a bad file: ConfigError, exit 2
    lang = config.site.language
    home = base_home(layout.venv)
    if home is None:
        return lang, [say(lang, "no_home", path=layout.venv / "pyvenv.cfg")]
    profiles = profiles_dir()
    if profiles is not None and under(home, profiles):
        problems.append(say(lang, "user_python", path=home, folder=layout.folder))
    leaves = [layout.folder, layout.pythonw, layout.venv / "pyvenv.cfg", layout.site,
              *(layout.site / name for name in CODE), layout.config, *_python_files(home)]
    roots = [layout.folder, home]
    for argv, what in ((config.agent.wrapup_command, "agent.wrapup_command"),
                       (config.agent.shutdown_command, "agent.shutdown_command")):
        files, missing = command_paths(argv, what, lang)
        problems += missing
        leaves += files
        roots += [f.parent for f in files]
    if zoom_user:
        leaves.append(layout.folder / ZOOM_SCRIPT)
        if os.path.isabs(powershell()):   # Windows: System32's, checked like a command
            leaves.append(Path(powershell()))
            roots.append(Path(powershell()).parent)
    return lang, problems + acl_problems(objects(leaves, roots), lang)


def tasks(layout: Layout, zoom_user: str | None) -> list[wintasks.Task]:
    """The tasks of this install."""
    made = [wintasks.agent_task(layout.pythonw, layout.config, layout.folder),
            wintasks.banner_task(layout.pythonw, layout.config, layout.folder)]
    if zoom_user:
        made.append(wintasks.zoom_task(powershell(), layout.folder / ZOOM_SCRIPT, zoom_user,
                                       layout.folder))
    return made


def schtasks(*args: str) -> tuple[bool, str]:
    """Run schtasks.exe; (ok, its first line of complaint)."""
    try:
        done = subprocess.run([system_program("schtasks.exe"), *args], capture_output=True,
                              timeout=60)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return False, str(exc)
    said = (done.stderr or done.stdout).decode("oem" if os.name == "nt" else "utf-8", "replace")
    return done.returncode == 0, (said.strip().splitlines() or [f"exit {done.returncode}"])[0]


def read_manifest(layout: Layout) -> list[str]:
    """The task names the last install made ([] when there is no record)."""
    try:
        return list(json.loads(layout.manifest.read_text(encoding="utf-8"))["tasks"])
    except (OSError, ValueError, KeyError, TypeError):
        return []


def write_manifest(layout: Layout, names: list[str], lang: str) -> None:
    """Record what install made (written after every task, so a failure leaves a true record)."""
    layout.manifest.write_text(json.dumps({"v": 1, "language": lang, "tasks": names}, indent=1),
                               encoding="utf-8")


def register(layout: Layout, wanted: list[wintasks.Task], lang: str) -> int:
    """Create the tasks, drop those of the last install no longer wanted, start the agent."""
    made = read_manifest(layout)
    with tempfile.TemporaryDirectory(prefix="siaga-tasks-") as tmp:
        for task in wanted:
            xml = Path(tmp) / "task.xml"
            xml.write_bytes(wintasks.xml_bytes(task))
            ok, said = schtasks("/Create", "/TN", task.name, "/XML", str(xml), "/F")
            if not ok:
                print(say(lang, "schtasks_failed", task=task.name, error=said), file=sys.stderr)
                return 1
            made = made + [task.name] if task.name not in made else made
            write_manifest(layout, made, lang)
            print(say(lang, "registered", task=task.name))
    for name in [n for n in made if n not in {t.name for t in wanted}]:
        if delete(name, lang):
            made.remove(name)
            write_manifest(layout, made, lang)
    schtasks("/End", "/TN", wanted[0].name)   # an update: the running agent has the old code
    schtasks("/Run", "/TN", wanted[0].name)
    return 0


def delete(name: str, lang: str) -> bool:
    """Remove one task; True when it is gone (also when it already was)."""
    ok, said = schtasks("/Delete", "/TN", name, "/F")
    if not ok and schtasks("/Query", "/TN", name)[0]:
        print(say(lang, "schtasks_failed", task=name, error=said), file=sys.stderr)
        return False
    print(say(lang, "removed" if ok else "already_gone", task=name))
    return True


def install(venv: str | None, config: str | None, zoom_user: str | None) -> int:
    """`siaga agent install`: refuse with one line per problem, else register the tasks."""
    if profiles_dir() is None:
        print(say("id", "windows_only", action="install"), file=sys.stderr)
        return 1
    folder_venv = Path(os.path.abspath(venv or sys.prefix))
    layout = Layout(folder_venv, Path(os.path.abspath(config or folder_venv.parent / "agent.toml")))
    lang, problems = check(layout, zoom_user)
    if problems:
        for line in problems:
            print(line, file=sys.stderr)
        print(say(lang, "refused_one" if len(problems) == 1 else "refused", count=len(problems)),
              file=sys.stderr)
        return 1
    if register(layout, tasks(layout, zoom_user), lang):
        return 1
    print(say(lang, "installed"))
    if zoom_user:
        line = 'wrapup_command = ["schtasks.exe", "/Run", "/TN", "\\\\Siaga\\\\Zoom stop recording"]'
        print(say(lang, "zoom_hint", line=line))
    return 0


def _language(layout: Layout) -> str:
    """The language of the last install's record, else of agent.toml, else Bahasa Indonesia."""
    try:
        return str(json.loads(layout.manifest.read_text(encoding="utf-8"))["language"])
    except (OSError, ValueError, KeyError, TypeError):
        pass
    try:
        return load_agent_config(layout.config).site.language
    except (ConfigError, OSError):
        return "id"


def uninstall(venv: str | None) -> int:
    """`siaga agent uninstall`: remove the tasks install recorded, and only those."""
    if profiles_dir() is None:
        print(say("id", "windows_only", action="uninstall"), file=sys.stderr)
        return 1
    folder_venv = Path(os.path.abspath(venv or sys.prefix))
    layout = Layout(folder_venv, folder_venv.parent / "agent.toml")
    lang = _language(layout)
    names = read_manifest(layout)
    if not names:
        print(say(lang, "nothing_recorded", path=layout.manifest))
        return 0
    left = [name for name in names if not delete(name, lang)]
    if left:
        write_manifest(layout, left, lang)
        return 1
    layout.manifest.unlink()
    print(say(lang, "uninstalled", folder=layout.folder))
    return 0
