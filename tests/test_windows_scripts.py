"""scripts/windows/*.ps1 are parsed by a real PowerShell grammar (issue 22: the install script
had never even been parsed). No PowerShell runs here: tree-sitter's PowerShell grammar
(tree-sitter-powershell, from PyPI) finds syntax errors, not wrong cmdlets or parameters; those
are on the checklist of docs/agent.md."""

from __future__ import annotations

from pathlib import Path

import pytest
import tree_sitter_powershell
from tree_sitter import Language, Node, Parser

SCRIPTS = sorted((Path(__file__).resolve().parent.parent / "scripts" / "windows").glob("*.ps1"))
PARSER = Parser(Language(tree_sitter_powershell.language()))


def broken(source: bytes) -> list[str]:
    """Every ERROR or MISSING node of ``source``, with its line and text."""
    found, stack = [], [PARSER.parse(source).root_node]
    while stack:
        node: Node = stack.pop()
        if node.type == "ERROR" or node.is_missing:
            text = source[node.start_byte:node.end_byte][:60].decode(errors="replace")
            found.append(f"line {node.start_point[0] + 1}: {node.type} {text!r}")
        stack.extend(node.children)
    return found


def test_there_are_scripts_to_parse():
    assert {p.name for p in SCRIPTS} >= {"install-agent.ps1", "zoom-stop-recording.ps1"}


@pytest.mark.parametrize("script", SCRIPTS, ids=[p.name for p in SCRIPTS])
def test_the_windows_script_parses_as_powershell(script):
    assert broken(script.read_bytes()) == []


@pytest.mark.parametrize("source", [
    b'if ($x) { Write-Host "a" ',                # an unclosed block
    b"function F( { }",                          # a broken parameter list
    b"$a = @(1, 2",                              # an unclosed array
    b'Write-Host "unterminated',                 # an unterminated string
])
def test_the_grammar_does_find_broken_powershell(source):
    assert broken(source) != []


def test_the_install_script_only_prepares_and_hands_over_to_python():
    """The tasks and the checks are in agent/wininstall.py, tested; the script calls it."""
    text = (SCRIPTS[0].parent / "install-agent.ps1").read_text(encoding="utf-8")
    assert "siaga\", \"agent\", \"install\"" in text and "agent uninstall" in text
    assert "Register-ScheduledTask" not in text and "New-ScheduledTask" not in text
