"""agent/winacl.py: icacls' text read into entries, and which entries let a user change what
SYSTEM runs (issue 22). The answers are in the shape icacls prints (tests/fixtures/icacls/)."""

from __future__ import annotations

import pytest

from agent.winacl import Ace, IcaclsError, dangerous, parse_ace, parse_icacls

LOCKED = """C:\\ProgramData\\Siaga NT AUTHORITY\\SYSTEM:(OI)(CI)(F)
                     BUILTIN\\Administrators:(OI)(CI)(F)
                     BUILTIN\\Users:(OI)(CI)(RX)

Successfully processed 1 files; Failed processing 0 files
"""


def test_icacls_output_is_read_entry_by_entry():
    aces = parse_icacls(LOCKED, "C:\\ProgramData\\Siaga")
    assert [a.who for a in aces] == ["NT AUTHORITY\\SYSTEM", "BUILTIN\\Administrators",
                                     "BUILTIN\\Users"]
    assert aces[2].rights == {"RX"} and aces[2].flags == {"OI", "CI"}
    assert dangerous(aces, inside=True) == []


def test_a_path_printed_in_another_code_page_is_still_read():
    """icacls writes the OEM code page: "Dévi" may come back as "D?vi" or two characters."""
    printed = "C:\\Users\\D\u251c\u2310vi\\Python"
    out = (f"{printed} BUILTIN\\Users:(I)(OI)(CI)(F)\n"
           + " " * (len(printed) + 1) + "RAPAT-PC\\D\u251c\u2310vi:(I)(OI)(CI)(F)\n")
    aces = parse_icacls(out, "C:\\Users\\Dévi\\Python")
    assert [a.who for a in aces] == ["BUILTIN\\Users", "RAPAT-PC\\D\u251c\u2310vi"]


def test_a_single_entry_is_found_by_the_length_of_the_path():
    aces = parse_icacls("C:\\Program Files\\x.exe NT SERVICE\\TrustedInstaller:(F)\n\n"
                        "Successfully processed 1 files\n", "C:\\Program Files\\x.exe")
    assert aces == [Ace("NT SERVICE\\TrustedInstaller", frozenset({"F"}), frozenset())]


@pytest.mark.parametrize("bad", ["", "\n\n", "C:\\x nonsense without rights\n"])
def test_output_that_is_not_an_acl_is_an_error(bad):
    with pytest.raises(IcaclsError):
        parse_icacls(bad, "C:\\x")


@pytest.mark.parametrize("entry, inside, is_dangerous", [
    ("BUILTIN\\Users:(OI)(CI)(M)", True, True),
    ("BUILTIN\\Users:(I)(OI)(CI)(M)", True, True),                  # inherited counts too
    ("BUILTIN\\Users:(OI)(CI)(RX)", True, False),
    ("Everyone:(OI)(CI)(W)", True, True),
    ("NT AUTHORITY\\Authenticated Users:(AD)", True, True),         # may add a file (a .pth)
    ("NT AUTHORITY\\INTERACTIVE:(WD)", True, True),
    ("S-1-5-21-1004336348-1177238915-682003330-1001:(F)", True, True),   # a user, by SID
    ("RAPAT-PC\\Siti Nurhaliza:(OI)(CI)(F)", True, True),
    ("BUILTIN\\Users:(OI)(CI)(IO)(M)", True, True),                 # what pip writes later gets it
    ("BUILTIN\\Users:(CI)(WD,AD,WEA,WA)", True, True),
    ("BUILTIN\\Users:(OI)(CI)(IO)(GR,GE)", True, False),
    ("BUILTIN\\Administrators:(OI)(CI)(F)", True, False),
    ("NT AUTHORITY\\SYSTEM:(F)", True, False),
    ("CREATOR OWNER:(OI)(CI)(IO)(F)", True, False),
    ("NT SERVICE\\TrustedInstaller:(F)", True, False),
    ("S-1-5-32-544:(F)", True, False),
    ("Everyone:(DENY)(W)", True, False),                            # a deny grants nothing
    ("Mandatory Label\\High Mandatory Level:(OI)(NP)(IO)(NW)", True, False),
    # Above the locked folder: only removing, renaming or re-permissioning matters.
    ("BUILTIN\\Users:(CI)(WD,AD,WEA,WA)", False, False),            # C:\ProgramData by default
    ("NT AUTHORITY\\Authenticated Users:(AD)", False, False),       # C:\ by default
    ("NT AUTHORITY\\Authenticated Users:(OI)(CI)(IO)(M)", False, False),
    ("BUILTIN\\Users:(M)", False, True),
    ("Everyone:(F)", False, True),
    ("BUILTIN\\Users:(DE)", False, True),
    ("BUILTIN\\Users:(WDAC)", False, True),
])
def test_which_entries_let_a_user_change_what_system_runs(entry, inside, is_dangerous):
    ace = parse_ace(entry)
    assert (dangerous([ace], inside) == [ace]) is is_dangerous


def test_an_entry_is_written_back_as_icacls_writes_it():
    assert parse_ace("BUILTIN\\Users:(I)(OI)(CI)(M)").text() == "BUILTIN\\Users:(CI)(I)(OI)(M)"
