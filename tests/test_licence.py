"""The licence an office's legal department reads first, and the changelog installers read."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_licence_is_the_full_apache_2_text_and_pyproject_says_so() -> None:
    """LICENSE is Apache-2.0 word for word (all nine sections and the appendix)."""
    text = (REPO / "LICENSE").read_text()
    assert text.split()[:4] == ["Apache", "License", "Version", "2.0,"]
    for part in ["TERMS AND CONDITIONS FOR USE, REPRODUCTION, AND DISTRIBUTION",
                 "3. Grant of Patent License.", "9. Accepting Warranty or Additional Liability.",
                 "END OF TERMS AND CONDITIONS", "APPENDIX: How to apply the Apache License"]:
        assert part in text, part
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    assert project["license"] == "Apache-2.0"


def _requirement_names() -> set[str]:
    """Every package named in pyproject.toml's dependencies and extras."""
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    wanted = list(project.get("dependencies", []))
    for extra in project.get("optional-dependencies", {}).values():
        wanted += extra
    names = {re.match(r"[A-Za-z0-9_.-]+", r)[0].lower() for r in wanted}
    return names - {"siaga"}  # an extra that pulls in another extra of Siaga itself


def test_readme_names_the_licence_of_every_dependency() -> None:
    """A package added to pyproject.toml without its licence in the README fails here."""
    text = (REPO / "README.md").read_text()
    table = text.split("## Licence", 1)[1].split("\n## ", 1)[0].lower()
    rows = [line for line in table.splitlines() if line.startswith("| ")]
    for name in _requirement_names():
        row = next((r for r in rows if re.search(rf"\b{re.escape(name)}\b", r.split("|")[1])), None)
        assert row is not None, f"README's licence table lacks {name}"
        assert row.rstrip(" |").rsplit("|", 1)[1].strip(), f"no licence given for {name}"


def test_changelog_has_unreleased_and_the_current_version() -> None:
    """Keep a Changelog: an Unreleased section on top, then the version pyproject.toml names."""
    text = (REPO / "CHANGELOG.md").read_text()
    version = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["version"]
    headings = re.findall(r"^## \[([^\]]+)\]", text, re.M)
    assert headings[0] == "Unreleased" and version in headings
    assert re.search(rf"^## \[{re.escape(version)}\] - \d{{4}}-\d\d-\d\d$", text, re.M)
