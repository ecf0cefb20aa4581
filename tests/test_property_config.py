"""Fuzzing config loading: any TOML value under any known (or unknown) key gives a Config or one
ConfigError whose every line names the file and the key, never another exception (a traceback
instead of `siaga.toml: policy.notice_after_s: ...` and exit 2)."""

from __future__ import annotations

import datetime
import json
import math
import re
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from edge.config import SCHEMA, ConfigError, load_agent_config, load_config
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


def section(name: str) -> st.SearchStrategy[dict]:
    keys = st.sampled_from(sorted(SCHEMA[name]) + ["unknown_key"])
    paths = st.sampled_from([k for k in SCHEMA[name] if k.endswith(("_file", "_dir"))] or ["id"])
    return st.dictionaries(paths, NASTY_TEXT, max_size=2).flatmap(   # file names read at load
        lambda files: st.dictionaries(keys, VALUES, max_size=6).map(lambda rest: {**rest, **files}))


def write(directory: Path, sections: dict[str, object], ups: list[dict] | object) -> Path:
    lines = []
    for name, table in sections.items():
        if isinstance(table, dict):
            lines.append(f"[{name}]")
            lines += [f"{k} = {toml_value(v)}" for k, v in table.items()]
        else:
            lines.insert(0, f"{name} = {toml_value(table)}")   # a section that is not a table
    if isinstance(ups, list) and all(isinstance(t, dict) for t in ups):
        for table in ups:
            lines.append("[[ups]]")
            lines += [f"{k} = {toml_value(v)}" for k, v in table.items()]
    else:
        lines.insert(0, f"ups = {toml_value(ups)}")
    path = directory / "siaga.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


LINE = re.compile(r"^(siaga|agent)\.toml: [a-z_]+(\[\d+\])?(\.[a-z_]+)?: \S")


def loads_or_names_file_and_key(load, path: Path) -> None:
    try:
        load(path)
    except ConfigError as exc:
        for line in str(exc).splitlines():
            assert LINE.match(line), line


SECTIONS = ("site", "mqtt", "edge", "policy", "gpio", "dashboard")


@given(sections=st.fixed_dictionaries({}, optional={n: section(n) | VALUES for n in SECTIONS}),
       ups=st.lists(section("ups"), max_size=2) | VALUES)
def test_any_siaga_toml_loads_or_says_file_and_key(tmp_path_factory, sections, ups):
    path = write(Path(tmp_path_factory.mktemp("cfg")), sections, ups)
    loads_or_names_file_and_key(load_config, path)


@given(sections=st.fixed_dictionaries({}, optional={n: section(n) | VALUES
                                                    for n in ("site", "mqtt", "agent")}))
def test_any_agent_toml_loads_or_says_file_and_key(tmp_path_factory, sections):
    directory = Path(tmp_path_factory.mktemp("cfg"))
    path = write(directory, sections, [])
    loads_or_names_file_and_key(load_agent_config, path.rename(directory / "agent.toml"))
