"""Fuzzing config loading: any TOML value under any known (or unknown) key gives a Config or one
ConfigError whose every line names the file and the key, never another exception (a traceback
instead of `siaga.toml: policy.notice_after_s: ...` and exit 2)."""

from __future__ import annotations

import datetime
import json
import math
import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from protocol.config import SCHEMA, SIAGA_SECTIONS, ConfigError, load_agent_config, load_config
from tests import hypothesis_profiles  # noqa: F401 - bounded examples here, more in make reliability

# Strings that have broken loaders elsewhere: NUL bytes, "~user" paths, folders, huge numbers.
NASTY_TEXT = st.sampled_from(["", " ", "\x00", "a\x00b", "~nosuchuser/x", "~", "/", ".", "..",
                              "/dev/null", "/proc/self/mem", "+", "#", "rgb", "mock", "id", "x" * 300])
TEXT = st.text(st.characters(exclude_categories=("Cs",)), max_size=20)   # TOML has no surrogates
SCALARS = (st.booleans() | st.integers(-2**70, 2**70) | st.floats() | NASTY_TEXT | TEXT
           | st.datetimes(timezones=st.none() | st.just(datetime.timezone.utc)) | st.dates() | st.times())
VALUES = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=3)
                      | st.dictionaries(st.sampled_from(["a", "id", "name"]), inner, max_size=2),
                      max_leaves=6)


def toml_value(value: object) -> str:
    """A Python value as an inline TOML value (tomllib reads it back as the same value)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return ("nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")) \
            if not math.isfinite(value) else repr(value)
    if isinstance(value, (int, datetime.date, datetime.time)):
        return value.isoformat() if not isinstance(value, int) else str(value)
    if isinstance(value, str):   # a JSON string is a TOML basic string, but for DEL
        return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    return "{" + ", ".join(f"{json.dumps(k)} = {toml_value(v)}" for k, v in value.items()) + "}"


def toml_key(key: str) -> str:
    """A key as TOML writes it: bare when it can be, else a basic string."""
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else toml_value(key)


def section(name: str) -> st.SearchStrategy[dict]:
    keys = st.sampled_from(sorted(SCHEMA[name]) + ["unknown_key"]) | TEXT.filter(bool)
    paths = st.sampled_from([k for k in SCHEMA[name] if k.endswith(("_file", "_dir"))] or ["id"])
    return st.dictionaries(paths, NASTY_TEXT, max_size=2).flatmap(   # file names read at load
        lambda files: st.dictionaries(keys, VALUES, max_size=6).map(lambda rest: {**rest, **files}))


def write(directory: Path, sections: dict[str, object], ups: list[dict] | object) -> Path:
    lines = []
    for name, table in sections.items():
        if isinstance(table, dict):
            lines.append(f"[{toml_key(name)}]")
            lines += [f"{toml_key(k)} = {toml_value(v)}" for k, v in table.items()]
        else:   # a section that is not a table
            lines.insert(0, f"{toml_key(name)} = {toml_value(table)}")
    if isinstance(ups, list) and all(isinstance(t, dict) for t in ups):
        for table in ups:
            lines.append("[[ups]]")
            lines += [f"{toml_key(k)} = {toml_value(v)}" for k, v in table.items()]
    else:
        lines.insert(0, f"ups = {toml_value(ups)}")
    path = directory / "siaga.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


# A key as the message shows it: bare, or quoted as TOML (and JSON) quote it: a user's group name
# ("dashboard.groups.a") or a misspelt key or section may be anything.
KEY = r'(?:[A-Za-z0-9_-]+|"(?:[^"\\]|\\.)*")'
LINE = re.compile(rf"^(siaga|agent)\.toml: {KEY}(\[\d+\])?(\.{KEY})*: \S")


def loads_or_names_file_and_key(load, path: Path) -> None:
    try:
        load(path)
    except ConfigError as exc:
        for line in str(exc).splitlines():
            assert LINE.match(line), line


SECTIONS = ("site", "mqtt", "edge", "policy", "gpio", "dashboard")
# Sections no file has: typos, another file's section, any text.
STRANGERS = st.dictionaries(st.sampled_from(["polcy", "agent", "Site", "ups_"])
                            | TEXT.filter(lambda t: t and t not in SIAGA_SECTIONS),
                            st.dictionaries(TEXT.filter(bool), SCALARS, max_size=2) | SCALARS,
                            max_size=2)


@given(sections=st.fixed_dictionaries({}, optional={n: section(n) | VALUES for n in SECTIONS}),
       strangers=STRANGERS, ups=st.lists(section("ups"), max_size=2) | VALUES)
def test_any_siaga_toml_loads_or_says_file_and_key(tmp_path_factory, sections, strangers, ups):
    path = write(Path(tmp_path_factory.mktemp("cfg")), {**strangers, **sections}, ups)
    loads_or_names_file_and_key(load_config, path)


def misspelt(word: str) -> st.SearchStrategy[str]:
    """``word`` with one letter dropped, doubled, or swapped with the next one."""
    def edit(i: int, how: str) -> str:
        if how == "drop":
            return word[:i] + word[i + 1:]
        if how == "double":
            return word[:i] + word[i] + word[i:]
        return word[:i] + word[i + 1:i + 2] + word[i] + word[i + 2:]
    return st.tuples(st.integers(0, len(word) - 1), st.sampled_from(["drop", "double", "swap"])) \
        .map(lambda t: edit(*t)).filter(lambda w: w != word and len(w) > 1)


MINIMAL = {"site": {"id": "rr1"}}
KNOWN_KEYS = [(s, k) for s in SIAGA_SECTIONS for k in sorted(SCHEMA[s]) if s != "ups"]


@given(st.sampled_from(KNOWN_KEYS).flatmap(lambda sk: st.tuples(st.just(sk), misspelt(sk[1]))))
def test_a_misspelt_key_is_an_error_naming_the_key_meant(tmp_path_factory, typo):
    (section_name, key), wrong = typo
    if wrong in SCHEMA[section_name]:
        return   # "one letter off" landed on another real key
    sections = {**MINIMAL, section_name: {**MINIMAL.get(section_name, {}), wrong: 1}}
    path = write(Path(tmp_path_factory.mktemp("cfg")), sections, [{"name": "meeting"}])
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert f'siaga.toml: {section_name}.{wrong}: unknown key; did you mean "{key}"?' \
        in str(info.value).splitlines()


@given(st.sampled_from([s for s in SIAGA_SECTIONS if s not in ("site", "ups")]).flatmap(
    lambda s: st.tuples(st.just(s), misspelt(s))))
def test_a_misspelt_section_is_an_error_naming_the_section_meant(tmp_path_factory, typo):
    name, wrong = typo
    path = write(Path(tmp_path_factory.mktemp("cfg")), {**MINIMAL, wrong: {}}, [{"name": "meeting"}])
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert str(info.value) == f"siaga.toml: {wrong}: unknown section; did you mean [{name}]?"


@given(sections=st.fixed_dictionaries({}, optional={n: section(n) | VALUES
                                                    for n in ("site", "mqtt", "agent")}),
       strangers=STRANGERS)
def test_any_agent_toml_loads_or_says_file_and_key(tmp_path_factory, sections, strangers):
    directory = Path(tmp_path_factory.mktemp("cfg"))
    path = write(directory, {**strangers, **sections}, [])
    loads_or_names_file_and_key(load_agent_config, path.rename(directory / "agent.toml"))
