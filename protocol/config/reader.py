"""Reading one TOML file into declared sections, gathering every problem with file and key."""

from __future__ import annotations

import difflib
import json
import logging
import re
import ssl
import tomllib
from collections.abc import Collection
from pathlib import Path
from typing import Any, TypeVar

from .declare import header_of, schema, section_name

logger = logging.getLogger(__name__)

BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")
ONE_LINE = str.maketrans({c: f"\\u{ord(c):04x}" for c in "\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029"})
T = TypeVar("T")


class ConfigError(Exception):
    """The configuration file cannot be used; the message says every reason why."""


class BadPath(ValueError):
    """A file name in the config that cannot be a path."""


class Reader:
    """Reads sections of one parsed file, collecting every problem before raising."""

    def __init__(self, path: Path, data: dict[str, Any]) -> None:
        self.path, self.data = path, data
        self.errors: list[str] = []

    def error(self, key: str, message: str, value: Any = None, show: bool = True) -> None:
        """Note one problem: 'FILE: section.key: what is wrong, got X'."""
        got = f", got {show_value(value)}" if show else ""
        # A value or file name may hold a line break: each problem must stay on its one line.
        self.errors.append(f"{self.path.name}: {key}: {message}{got}".translate(ONE_LINE))

    def section(self, cls: type[T], table: Any = None, where: str = "",
                subtables: Collection[str] = ()) -> T:
        """Build section class ``cls`` from ``table`` (default: the file's table of its name)."""
        name = section_name(cls)
        where = where or name
        table = self.data.get(name, {}) if table is None else table
        if not isinstance(table, dict):
            self.error(where, "must be a table", table)
            table = {}
        checks, values = schema(cls), {}
        for key, value in table.items():
            check = checks.get(key)
            if check is None:
                self.unknown(where, key, (*checks, *subtables))
                continue
            problem = check(value)
            if problem:
                self.error(f"{where}.{key}", problem, value)
                continue
            values[key] = tuple(value) if isinstance(value, list) else value
        return cls(**values)

    def unknown(self, where: str, key: str, known: Collection[str]) -> None:
        """A key Siaga does not know: an error naming the nearest known one (a typo is no default)."""
        near = nearest(key, known)
        hint = f'did you mean "{near}"?' if near else "known keys: " + ", ".join(sorted(known))
        self.error(key_name(where, key), f"unknown key; {hint}", show=False)

    def sections(self, known: Collection[type]) -> None:
        """Every top-level name of the file is a section of ``known``; a misspelt one is an error."""
        by_name = {section_name(cls): cls for cls in known}
        for name in self.data:
            if name in by_name:
                continue
            near = nearest(name, by_name)
            owners = [cls for cls in known if name in schema(cls)]
            if near:
                problem = f"unknown section; did you mean {header_of(by_name[near])}?"
            elif owners:   # `id = ...` above every [section]: it belongs inside one
                problem = "outside any section; it belongs under " + \
                    " or ".join(header_of(cls) for cls in owners)
            else:
                problem = "unknown section; known sections: " + \
                    ", ".join(header_of(cls) for cls in known)
            self.error(key_name("", name), problem, show=False)

    def secret(self, key: str, file_name: str) -> str:
        """The first line of ``file_name`` (relative to the config file), or ""."""
        if not file_name:
            return ""
        try:
            path = self.relative(file_name)
            return path.read_text(encoding="utf-8").splitlines()[0].strip()
        except BadPath as exc:
            self.error(key, str(exc), show=False)
        except (OSError, UnicodeDecodeError, IndexError) as exc:
            reason = getattr(exc, "strerror", None) or "empty or unreadable"
            self.error(key, f"cannot read {path}: {reason}", show=False)
        return ""

    def readable(self, key: str, file_name: str) -> str:
        """``file_name`` as an absolute path when it can be read, "" when not set or not readable."""
        if not file_name:
            return ""
        try:
            path = self.relative(file_name)
        except BadPath as exc:
            self.error(key, str(exc), show=False)
            return ""
        try:
            path = path.resolve()
            with path.open("rb") as f:
                f.read(1)
        except OSError as exc:
            self.error(key, f"cannot read {path}: {exc.strerror}", show=False)
            return ""
        return str(path)

    def ca_file(self, key: str, file_name: str) -> str:
        """``readable`` for a file of CA certificates that must load (PEM)."""
        path = self.readable(key, file_name)
        try:
            if path:
                ssl.create_default_context(cafile=path)
        except ssl.SSLError as exc:
            self.error(key, f"{path}: no usable CA certificate in it (PEM expected): "
                            f"{exc.reason or exc}", show=False)
            return ""
        return path

    def relative(self, file_name: str) -> Path:
        """A path from the file, relative to the config file's folder; BadPath when it cannot be
        one (a NUL byte, ``~user`` of a user who does not exist)."""
        if "\0" in file_name:
            raise BadPath("a path cannot contain a NUL character")
        try:
            return self.path.parent / Path(file_name).expanduser()   # "~/x" or relative to us
        except RuntimeError:
            raise BadPath(f"{file_name}: no such user's home folder") from None

    def required(self, key: str, value: str) -> None:
        """An error when ``key`` is not set (and has no other error already)."""
        if not value and not any(e.startswith(f"{self.path.name}: {key}:") for e in self.errors):
            self.error(key, "is required", show=False)

    def finish(self) -> None:
        """Raise every problem noted, one a line."""
        if self.errors:
            raise ConfigError("\n".join(self.errors))


def key_name(where: str, key: str) -> str:
    """``where.key`` as TOML writes it: a key that is not bare ("Bappeda Kota") in quotes."""
    key = key if BARE_KEY.fullmatch(key) else json.dumps(key, ensure_ascii=False)
    return f"{where}.{key}" if where else key


def nearest(name: str, known: Collection[str]) -> str | None:
    """The known name ``name`` most likely misspells, or None when none is near."""
    near = difflib.get_close_matches(name, known, n=1)
    if near:
        return near[0]
    # Two letters swapped in a short name ("di" for "id") is far for difflib, near for a person.
    return next((k for k in known if len(k) == len(name) and sorted(k) == sorted(name)), None)


PASSWORD_PARAM = re.compile(r"(?i)(\bpassword=)[^&#]*")


def url_passwords(url: str) -> list[str]:
    """The passwords a URL holds: of its user part, of a ``password=`` parameter (as written)."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return []
    auth = rest.rpartition("@")[0]
    found = [auth.split(":", 1)[1]] if ":" in auth else []
    return [p for p in found + [m.group(0).split("=", 1)[1] for m in PASSWORD_PARAM.finditer(rest)] if p]


def hide_password(url: str) -> str:
    """``url`` fit for a log or an error: a password in its user part or in a ``password=``
    parameter replaced by ``***``."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return url
    auth, at, host = rest.rpartition("@")
    if at and ":" in auth:
        auth = auth.split(":", 1)[0] + ":***"
    host = PASSWORD_PARAM.sub(r"\1***", host)
    return f"{scheme}://{auth}{at}{host}"


def show_value(value: Any) -> str:
    """A value in an error message: as TOML would write it (a URL without its password), cut at
    60 characters."""
    value = hide_password(value) if isinstance(value, str) else value
    text = json.dumps(value, ensure_ascii=False) if isinstance(value, str) else \
        repr(value).replace("True", "true")
    return text if len(text) <= 60 else text[:57] + "..."


def parse(path: str | Path) -> Reader:
    """A reader of the TOML file at ``path``; ConfigError when it cannot be read or parsed."""
    path = Path(path)
    try:
        with path.open("rb") as f:
            data = tomllib.load(f)
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such file") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path.name}: not valid TOML: {exc}") from None
    return Reader(path, data)
