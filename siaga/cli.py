"""The `siaga` command (CONTRACT.md §1): one entry point, a sub-command per program."""

from __future__ import annotations

import argparse
import functools
import getpass
import logging
import sys
from typing import Callable

from protocol.config import ConfigError

DEFAULT_CONFIG = "/etc/siaga/siaga.toml"

# What `pip install "siaga[pi]"` adds; the meeting PC's plain `pip install siaga` lacks them.
PI_MODULES = frozenset({"aionut", "gpiozero", "flask", "werkzeug", "waitress", "apprise", "weasyprint",
                        "icalendar", "recurring_ical_events", "psycopg"})


class MissingExtra(Exception):
    """A program needs a library of the ``pi`` extra that this install does not have."""


def _needs_pi(func: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    """Turn a missing Pi library (the PC's install) into one line saying what to install."""
    @functools.wraps(func)
    def wrapper(args: argparse.Namespace) -> int:
        try:
            return func(args)
        except ModuleNotFoundError as exc:
            if (exc.name or "").split(".")[0] not in PI_MODULES:
                raise
            raise MissingExtra(
                f"siaga {args.command}: needs the Raspberry Pi part of Siaga ({exc.name} is not "
                f"installed); install it with: pip install \"siaga[pi]\"") from None
    return wrapper


@_needs_pi
def _edge(args: argparse.Namespace) -> int:
    if args.forget_runtime:
        return _forget_runtime(args.config, args.forget_runtime)
    from edge.daemon import run
    return run(args.config)


def _forget_runtime(path: str, ups: str) -> int:
    """`siaga edge --forget-runtime UPS`: a new battery, or a model learned from nonsense."""
    from edge.runtime_store import forget_ups, store_path
    from protocol.config import load_config
    config = load_config(path)
    if ups not in {u.name for u in config.ups}:
        names = ", ".join(u.name for u in config.ups)
        print(f'siaga edge: {path} has no UPS "{ups}" (it has: {names})', file=sys.stderr)
        return 1
    try:
        print(forget_ups(store_path(config.edge.journal), ups))
    except OSError as exc:
        print(f"siaga edge: cannot forget the learned runtime: {exc}", file=sys.stderr)
        return 1
    return 0


def _agent(args: argparse.Namespace) -> int:
    if args.action == "install":
        from agent.wininstall import install
        return install(args.venv, args.config, args.zoom_user)
    if args.action == "uninstall":
        from agent.wininstall import uninstall
        return uninstall(args.venv)
    from agent.main import run
    return run(args.config or "agent.toml",
               "service" if args.no_banner else "banner" if args.banner_only else "all")


@_needs_pi
def _dashboard(args: argparse.Namespace) -> int:
    if args.migrate_from:
        from dashboard.store.cli import migrate_from
        return migrate_from(args.config, args.migrate_from)
    from dashboard.web.serve import run
    return run(args.config)


@_needs_pi
def _check(args: argparse.Namespace) -> int:
    from siaga.check import run
    return run(args.config)


@_needs_pi
def _demo(args: argparse.Namespace) -> int:
    from siaga.demo import run
    return run(args.action, homeassistant=args.homeassistant)


@_needs_pi
def _passwd(args: argparse.Namespace) -> int:
    from werkzeug.security import generate_password_hash
    try:
        first = _typed_password()
    except PasswordError as exc:
        print(f"siaga passwd: {exc}", file=sys.stderr)
        return 1
    if len(first) < 8:
        print("siaga passwd: the password must have at least 8 characters", file=sys.stderr)
        return 1
    print(generate_password_hash(first))
    return 0


class PasswordError(Exception):
    """No password could be read; the message says why."""


def _typed_password() -> str:
    """Typed twice at a terminal, or the first line of standard input when it is a pipe or file."""
    if sys.stdin is None or not sys.stdin.isatty():   # a script: `echo "$PW" | siaga passwd`
        line = sys.stdin.readline() if sys.stdin is not None else ""
        if not line.strip("\r\n"):
            raise PasswordError("no password: type it at a terminal, or give it on standard input "
                                "(printf '%s\\n' \"$PASSWORD\" | siaga passwd)")
        return line.rstrip("\r\n")
    try:
        first = getpass.getpass("Password: ")
        again = getpass.getpass("Again: ") if len(first) >= 8 else first
    except EOFError:
        raise PasswordError("no password given") from None
    if again != first:
        raise PasswordError("the passwords differ")
    return first


@_needs_pi
def _report(args: argparse.Namespace) -> int:
    from dashboard.report.cli import run
    return run(args)


@_needs_pi
def _sop(args: argparse.Namespace) -> int:
    from dashboard.report.sop import run
    return run(args)


def _report_options(s: argparse.ArgumentParser) -> None:
    """The options of `siaga report` (CONTRACT §5.8); here, so that the parser imports nothing."""
    s.add_argument("--from", dest="first", metavar="YYYY-MM-DD", help="first day (default: 90 days ago)")
    s.add_argument("--to", dest="last", metavar="YYYY-MM-DD", help="last day (default: today)")
    s.add_argument("--sites", help="site ids, id prefixes ending in * or group names, comma-separated")
    s.add_argument("--format", choices=("html", "pdf", "csv", "json"), default="html")
    s.add_argument("-o", "--output", metavar="PATH", help="write the report here (default: stdout)")
    s.add_argument("--journal", metavar="PATH", help="one edge journal instead of dashboard.database")
    s.add_argument("--lang", choices=("id", "en"), help="language (default: site.language)")
    s.add_argument("--rooms", action="store_true", help="HTML/PDF: one more page per room")


def _agent_install_options(s: argparse.ArgumentParser) -> None:
    """`siaga agent install|uninstall` (Windows): the scheduled tasks of docs/agent.md."""
    s.add_argument("action", nargs="?", choices=("install", "uninstall"),
                   help="Windows: register (or remove) the agent's scheduled tasks; -c defaults "
                        "to agent.toml beside the venv")
    s.add_argument("--venv", metavar="DIR",
                   help="install/uninstall: the agent's venv (default: the one running this)")
    s.add_argument("--zoom-user", metavar="USER",
                   help="install: also the task pressing Alt+R in this user's Zoom meeting")


def parser() -> argparse.ArgumentParser:
    """The argument parser of `siaga`."""
    p = argparse.ArgumentParser(prog="siaga", description="Siaga power and meeting-room monitor")
    p.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    sub = p.add_subparsers(dest="command", required=True)
    for name, func, helptext, default in [
        ("edge", _edge, "the Raspberry Pi daemon", DEFAULT_CONFIG),
        ("agent", _agent, "the meeting-PC agent", "agent.toml"),
        ("dashboard", _dashboard, "the status page", DEFAULT_CONFIG),
        ("check", _check, "validate the config and probe NUT, the broker and GPIO", DEFAULT_CONFIG),
        ("report", _report, "the needs report (outages, UPS, PC, licences)", DEFAULT_CONFIG),
    ]:
        s = sub.add_parser(name, help=helptext)
        s.add_argument("-c", "--config", default=None if name == "agent" else default,
                       help=f"config file (default {default})")
        s.set_defaults(func=func)
        if name == "edge":
            s.add_argument("--forget-runtime", metavar="UPS",
                           help="forget what was learned of this UPS's runtime (new battery)")
        if name == "dashboard":
            s.add_argument("--migrate-from", metavar="OLD.sqlite3",
                           help="copy a dashboard's SQLite file into the PostgreSQL of "
                           "dashboard.database, then exit (again copies only what is new)")
        if name == "agent":
            split = s.add_mutually_exclusive_group()
            split.add_argument("--no-banner", action="store_true",
                               help="everything but the banner (Windows: the SYSTEM task at startup)")
            split.add_argument("--banner-only", action="store_true",
                               help="only the banner, in the user's session (Windows: at logon)")
            _agent_install_options(s)
    _report_options(sub.choices["report"])
    s = sub.add_parser("sop", help="this room's procedure on one A4 page (PDF or HTML)")
    s.add_argument("-c", "--config", default=DEFAULT_CONFIG,
                   help=f"config file (default {DEFAULT_CONFIG})")
    s.add_argument("--lang", choices=("id", "en"), help="language (default: site.language)")
    s.add_argument("--format", choices=("pdf", "html"), default="pdf")
    s.add_argument("-o", "--output", metavar="FILE", help="write it here (default: stdout)")
    s.set_defaults(func=_sop)
    s = sub.add_parser("demo", help="everything on this machine, simulated")
    s.add_argument("action", nargs="*", help="'power off|low|on' for a running demo")
    s.add_argument("--homeassistant", action="store_true",
                   help="publish the room for Home Assistant (MQTT discovery) and say how to add it")
    s.set_defaults(func=_demo)
    s = sub.add_parser("passwd", help="print a password hash for dashboard.admin_password_hash")
    s.set_defaults(func=_passwd)
    return p


def main(argv: list[str] | None = None) -> int:
    """Run `siaga`; a bad config exits 2 with one message, never a traceback."""
    args = parser().parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        return args.func(args)
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return 2
    except MissingExtra as exc:
        print(exc, file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
