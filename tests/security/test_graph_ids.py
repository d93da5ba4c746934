"""Validation by kind (graph_ids.py) and quoting for a shell (commands.py).

The PowerShell check mirrors PowerShell's tokenizer for single-quoted strings
(about_Quoting_Rules; the tokenizer treats U+2018-U+201B like ``'``): inside one, a quote
character followed by another is one literal quote, a lone one ends the string. The POSIX
check runs the quoted word through /bin/sh.
"""

from __future__ import annotations

import json
import subprocess
from importlib import resources
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from consent_audit.commands import (
    consent_audit_line,
    posix_quote,
    powershell_line,
    powershell_quote,
    suggestion,
)
from consent_audit.graph_ids import IdKind, UnsafeValueError, checked, is_valid, path_segment

GUID = "5b2f1c9e-4d3a-4e8b-9a7c-2f6d8e1b3c40"
PS_QUOTES = "'\u2018\u2019\u201a\u201b"
METACHARS = [
    "$(calc)",
    "`calc`",
    "a;calc",
    "a|calc",
    "a&calc",
    "a'b",
    'a"b',
    "a\u2019b",
    "a b",
    "a\nb",
    "a/../b",
    "a?b",
    "a#b",
    "a%2Fb",
    "",
    " a",
    "a\x1b[2J",
    "\ud800",
]


def _powershell_unquote(token: str) -> str:
    """The value PowerShell reads from ``token``, which must be one single-quoted string."""
    assert token[0] in PS_QUOTES, token
    out, i = [], 1
    while i < len(token):
        ch = token[i]
        if ch in PS_QUOTES:
            if i + 1 < len(token) and token[i + 1] in PS_QUOTES:
                out.append(ch)
                i += 2
                continue
            assert i == len(token) - 1, f"string ends early at {i}: {token!r}"
            return "".join(out)
        out.append(ch)
        i += 1
    raise AssertionError(f"unterminated: {token!r}")


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list(PS_QUOTES + '$()`;| "ab')), max_size=30))
def test_powershell_quote_is_one_literal_string(value: str) -> None:
    assert _powershell_unquote(powershell_quote(value)) == value


def test_posix_quote_is_one_word_for_sh(tmp_path: Path) -> None:
    values = [v for v in METACHARS if "\ud800" not in v and "\x1b" not in v] + ["$(touch X)"]
    script = "printf '%s\\0' " + " ".join(posix_quote(v) for v in values)
    out = subprocess.run(
        ["sh", "-c", script], capture_output=True, check=True, cwd=tmp_path
    ).stdout.decode()
    assert out.split("\0")[:-1] == values
    assert list(tmp_path.iterdir()) == []


def test_every_catalog_permission_is_a_valid_scope() -> None:
    raw = json.loads(
        resources.files("consent_audit.data")
        .joinpath("graph_delegated_permissions.json")
        .read_text(encoding="utf-8")
    )
    names = [p["value"] for p in raw["permissions"]]
    assert len(names) > 300
    assert [n for n in names if not is_valid(IdKind.SCOPE, n)] == []


@pytest.mark.parametrize(
    ("kind", "good"),
    [
        (IdKind.OBJECT_ID, GUID),
        (IdKind.APP_ID, GUID.upper()),
        (IdKind.GRANT_ID, "sH2n63oRTHpAKZC8ytK7y1XUYsTvGjzu4qZs1FJWPTM"),
        (IdKind.SCOPE, "IndustryData-Run.Read.All"),
        (IdKind.SCOPES, "offline_access Mail.Send"),
        (IdKind.UPN, "o'brien_x#EXT#@contoso.onmicrosoft.com"),
        (IdKind.UPN, "$admin@contoso.com"),
        (IdKind.USER, GUID),
        (IdKind.TENANT, "contoso.onmicrosoft.com"),
        (IdKind.TENANT, "organizations"),
        (IdKind.FILE, "examples/tenants/my tenant.json"),
    ],
)
def test_valid_values_of_each_kind(kind: IdKind, good: str) -> None:
    assert checked(kind, good) == good


@pytest.mark.parametrize("kind", [k for k in IdKind if k is not IdKind.FILE])
@pytest.mark.parametrize("bad", METACHARS)
def test_metacharacters_fail_every_kind_but_a_file_name(kind: IdKind, bad: str) -> None:
    if bad == "" or (kind is IdKind.SCOPES and bad == "a b"):
        value = bad  # "a b" is two permission names
    elif kind in (IdKind.OBJECT_ID, IdKind.APP_ID, IdKind.USER):
        value = GUID + bad
    elif kind is IdKind.UPN:
        value = f"a{bad}@contoso.com"
    else:
        value = bad
    if (kind is IdKind.UPN and bad in ("a'b", "a#b")) or (kind is IdKind.SCOPES and bad == "a b"):
        assert is_valid(kind, value)  # ' and # are allowed in a user principal name
        return
    with pytest.raises(UnsafeValueError) as caught:
        checked(kind, value)
    if len(value) > 3:
        assert value not in str(caught.value)


@pytest.mark.parametrize("bad", ["a/../b", "a?b", "a#b", "a%2Fb", "..", "a b"])
def test_a_path_segment_never_leaves_its_segment(bad: str) -> None:
    with pytest.raises(UnsafeValueError):
        path_segment(IdKind.GRANT_ID, bad)
    assert path_segment(IdKind.GRANT_ID, "ab-_9") == "ab-_9"


def test_builders_refuse_instead_of_printing() -> None:
    with pytest.raises(UnsafeValueError):
        powershell_line(
            "Update-MgServicePrincipal", [("ServicePrincipalId", IdKind.OBJECT_ID, "x;y")]
        )
    with pytest.raises(UnsafeValueError):
        consent_audit_line("fix", [("--user", IdKind.USER, "a$(x)@b.com")])
    line = suggestion("fix", [("--user", IdKind.USER, "a$(x)@b.com")], ["--demo"])
    assert line == (
        "consent-audit fix --demo (--user left out: the value given is neither a user "
        "principal name nor an object id)"
    )
