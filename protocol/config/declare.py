"""One declaration per key: ``key()`` in a section's frozen dataclass, and the checks it names.

A key is a dataclass field made with ``key(default, doc, ...)``: its annotation is the type, and
the field carries the check (bounds, choices), whether it is required, its one-line doc and a
longer note for the commented example. Loading, checking, the example files and the docs' table
all read these fields (``keys(cls)``), so they cannot drift apart. Stdlib only: the meeting PC
imports this too.
"""

from __future__ import annotations

import dataclasses
import json
import math
import re
import typing
import zoneinfo
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Callable, TypeVar

ID_PATTERN = re.compile(r"[a-z0-9][a-z0-9-]{0,62}")
# A group's member (CONTRACT §5.6): a site id, or an id prefix ending in "*" ("kominfo-*").
MEMBER_PATTERN = re.compile(r"[a-z0-9][a-z0-9-]{0,62}|[a-z0-9][a-z0-9-]{0,61}\*")

Check = Callable[[Any], str | None]
C = TypeVar("C", bound=type)
META = "siaga"          # the field metadata entry that makes a field a key
DERIVED = "derived"     # ... or a value the reader fills in (a password read from its file)
DAY_S = 86_400          # the top of most durations: longer is a typo (1e300, inf), not a setting


class DeclarationError(Exception):
    """A section's declaration is wrong (a bug in Siaga, never the user's file)."""


@dataclass(frozen=True)
class Key:
    """One config key: what a user may write, and what Siaga uses when they write nothing."""

    check: Check
    doc: str
    required: bool = False   # the default ("") means "not set" and is an error
    note: str = ""           # more for the example file's comment than the one-line doc
    name: str = ""           # filled in by keys()
    default: Any = None      # filled in by keys()


@dataclass(frozen=True)
class Bounds:
    """What key() was told for a plain key whose check comes from its annotation."""

    low: float | None
    high: float | None
    choices: tuple[str, ...]


def key(default: Any = dataclasses.MISSING, doc: str = "", *, check: Check | None = None,
        low: float | None = None, high: float | None = None, choices: tuple[str, ...] = (),
        required: bool = False, note: str = "", factory: Callable[[], Any] | None = None) -> Any:
    """A dataclass field declaring one key. Without ``check``, section() makes one from the
    annotation (bool, int, float, str) with ``low``/``high`` or ``choices``."""
    meta = {META: Key(check or _unchecked, doc, required, note),
            BOUNDS: Bounds(low, high, choices)}
    if factory is not None:
        return field(default_factory=factory, metadata=meta)
    return field(default=default, metadata=meta)


def _unchecked(v: Any) -> str | None:
    raise DeclarationError("a key used before section() made its check")


BOUNDS = "bounds"


def derived(default: Any = "", *, factory: Callable[[], Any] | None = None) -> Any:
    """A field the reader fills in from a key (a secret read from its file): never shown."""
    if factory is not None:
        return field(default_factory=factory, repr=False, metadata={DERIVED: True})
    return field(default=default, repr=False, metadata={DERIVED: True})


def plain_check(kind: str, bounds: Bounds) -> Check:
    """The check a plain key annotated ``kind`` gets: a number in bounds, a flag, a string, a
    choice."""
    low, high = bounds.low, bounds.high
    if kind == "bool":
        return flag
    if kind == "int" and low is not None and high is not None:
        return integer(int(low), int(high))
    if kind == "float":
        return number(0 if low is None else low, high)
    if kind == "str":
        return one_of(*bounds.choices) if bounds.choices else text
    raise DeclarationError(f"no check for a key annotated {kind!r}: give check= (an int needs "
                           "low and high)")


def section(name: str, header: str = "") -> Callable[[C], C]:
    """Mark a frozen dataclass as the section ``name``; every field must be a key() or derived().
    A key without its own check gets one from its annotation."""

    def mark(cls: C) -> C:
        for f in dataclasses.fields(cls):
            if META not in f.metadata and DERIVED not in f.metadata:
                raise DeclarationError(f"{cls.__name__}.{f.name}: declared without key()")
            k = f.metadata.get(META)
            if k is not None and k.check is _unchecked:
                check = plain_check(str(cls.__annotations__[f.name]), f.metadata[BOUNDS])
                f.metadata = MappingProxyType({**f.metadata, META: dataclasses.replace(k, check=check)})
        setattr(cls, SECTION, (name, header or f"[{name}]"))
        return cls

    return mark


SECTION = "__siaga_section__"


def section_name(cls: type) -> str:
    """The name of section class ``cls`` in the file ("ups", "obs")."""
    return str(getattr(cls, SECTION)[0])


def header_of(cls: type) -> str:
    """How the file opens section class ``cls``: "[policy]", "[[ups]]", "[agent.obs]"."""
    return str(getattr(cls, SECTION)[1])


def keys(cls: type) -> tuple[Key, ...]:
    """The keys of section class ``cls``, in declaration order, with their names and defaults."""
    found = []
    for f in dataclasses.fields(cls):
        if META in f.metadata:
            default: Any = f.default
            if default is dataclasses.MISSING:
                default = f.default_factory()   # type: ignore[operator]
            found.append(dataclasses.replace(f.metadata[META], name=f.name, default=default))
    return tuple(found)


def schema(cls: type) -> dict[str, Check]:
    """key name -> check, for the reader."""
    return {k.name: k.check for k in keys(cls)}


def as_toml(value: Any) -> Any:
    """A default as the file would hold it: tuples as lists, mappings as tables."""
    if isinstance(value, tuple):
        return [as_toml(v) for v in value]
    if isinstance(value, Mapping):
        return {k: as_toml(v) for k, v in value.items()}
    return value


def problems(cls: type) -> list[str]:
    """What is wrong with the declaration of ``cls``: a default its own check refuses, no doc, a
    type the annotation does not allow. Run by the tests and by the example writer (not at import:
    a check may need the system, e.g. the time zone data)."""
    found = []
    hints = typing.get_type_hints(cls)
    for k in keys(cls):
        where = f"{cls.__name__}.{k.name}"
        if not k.doc or "\n" in k.doc:
            found.append(f"{where}: needs a one-line doc")
        if k.required:
            if k.default != "":
                found.append(f'{where}: a required key has the default "" (not set)')
            continue
        problem = k.check(as_toml(k.default))
        if problem:
            found.append(f"{where}: the default {k.default!r} {problem}")
        elif not _fits(k.default, hints[k.name]):
            found.append(f"{where}: the default {k.default!r} is not a {hints[k.name]}")
    return found


def _fits(value: Any, hint: Any) -> bool:
    """``value`` is of the annotated type (loosely: the outer type only)."""
    options = typing.get_args(hint) if typing.get_origin(hint) in (typing.Union, _UNION) else (hint,)
    for option in options:
        outer = typing.get_origin(option) or option
        if outer is float and isinstance(value, (int, float)) and not isinstance(value, bool):
            return True
        if isinstance(outer, type) and isinstance(value, outer):
            return not (outer is int and isinstance(value, bool))
    return False


_UNION = type(int | str)


# ----------------------------------------------------------------------------------- checks


def number(minimum: float = 0, maximum: float | None = None) -> Check:
    """A finite number in [minimum, maximum] (TOML allows inf and nan: neither is a setting)."""
    wanted = f"must be a number >= {minimum:g}"
    top = "" if maximum is None else f" and <= {maximum:g}"

    def check(v: Any) -> str | None:
        if not isinstance(v, (int, float)) or isinstance(v, bool):
            return wanted   # CONTRACT §1's example: 'must be a number >= 0, got "five"'
        if math.isfinite(v) and v >= minimum and (maximum is None or v <= maximum):
            return None
        return wanted + top

    return check


def integer(minimum: int, maximum: int) -> Check:
    """A whole number in [minimum, maximum]."""

    def check(v: Any) -> str | None:
        if isinstance(v, int) and not isinstance(v, bool) and minimum <= v <= maximum:
            return None
        return f"must be a whole number from {minimum} to {maximum}"

    return check


def text(v: Any) -> str | None:
    """Any string."""
    return None if isinstance(v, str) else "must be a string"


def host(v: Any) -> str | None:
    """A host name or IP address: not empty, no spaces."""
    if isinstance(v, str) and v and not any(c.isspace() for c in v):
        return None
    return "must be a host name or IP address"


def flag(v: Any) -> str | None:
    """true or false."""
    return None if isinstance(v, bool) else "must be true or false"


def identifier(v: Any) -> str | None:
    """An id usable in MQTT topics."""
    if isinstance(v, str) and ID_PATTERN.fullmatch(v):
        return None
    return "must match [a-z0-9][a-z0-9-]{0,62} (lower-case letters, digits, dashes)"


def one_of(*choices: str) -> Check:
    """One of the given strings."""
    return lambda v: None if v in choices else "must be one of " + ", ".join(f'"{c}"' for c in choices)


def list_of(item: Check, what: str) -> Check:
    """A list whose every item passes ``item``."""

    def check(v: Any) -> str | None:
        if isinstance(v, list) and all(item(i) is None for i in v):
            return None
        return f"must be a list of {what}"

    return check


def time_zone(v: Any) -> str | None:
    """An IANA time zone name such as "Asia/Jakarta" (or "Asia/Makassar", "Asia/Jayapura")."""
    if isinstance(v, str) and v and "\0" not in v:
        try:
            zoneinfo.ZoneInfo(v)
            return None
        except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
            pass
    return 'must be a time zone name such as "Asia/Jakarta"'


def topic_prefix(v: Any) -> str | None:
    """A topic prefix without wildcards."""
    if isinstance(v, str) and v and not any(c in v for c in "+#\0") and not v.endswith("/"):
        return None
    return "must be a non-empty topic without +, # or a trailing /"


def table(v: Any) -> str | None:
    """A TOML table (its entries are checked by the section's own reader)."""
    return None if isinstance(v, dict) else "must be a table"


def sites_filter(v: Any) -> str | None:
    """"+" or a list of site ids."""
    if v == "+" or list_of(identifier, "site ids")(v) is None:
        return None
    return 'must be "+" or a list of site ids'


def described(check: Check) -> str:
    """What ``check`` accepts, in its own words ("a number >= 0 and <= 60"): its message for nan,
    a value no check accepts (a number, so a number's check names its whole range)."""
    message = check(math.nan) or ""
    return message.removeprefix("must be ").removeprefix("must ")


def web_url(v: Any) -> str | None:
    """"" or an http(s) address with a host: people follow it from an alert or a page (a bare
    "pi.local:8080" would be a relative link, or none)."""
    if v == "" or isinstance(v, str) and re.fullmatch(r"https?://[^/\s?#]+([/?#]\S*)?", v, re.I):
        return None
    return 'must be "" or an address starting with http:// or https://'


pins = list_of(integer(0, 27), "GPIO numbers 0-27")
names = list_of(text, "strings")
_pc_ids = list_of(identifier, "PC ids")


def ids(v: Any) -> str | None:
    """A list of PC ids, each once (a PC named twice got every command twice)."""
    problem = _pc_ids(v)
    if problem:
        return problem
    twice = next((i for n, i in enumerate(v) if i in v[:n]), None)
    return None if twice is None else f'must name each PC once; "{twice}" is there twice'


def show(value: Any) -> str:
    """A value as TOML writes it (for the example file and the docs)."""
    value = as_toml(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        return "[" + ", ".join(show(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{show(k)} = {show(v)}" for k, v in value.items()) + "}"
    return repr(value)
