"""Property tests for bad input: manifests, snapshots and scope strings.

Whatever the input, the result is the parsed object or an InputError (exit 2 with a message)
-- never another exception; a snapshot that loads always evaluates without raising.
"""

from __future__ import annotations

import json
from typing import Any

import tomli_w
from hypothesis import given, settings
from hypothesis import strategies as st

from consent_audit.errors import InputError
from consent_audit.evaluate import evaluate
from consent_audit.manifest import Manifest, load_manifest, parse_manifest
from consent_audit.scopes import ScopeSet, parse_scope_string
from consent_audit.snapshot import TenantSnapshot, dump_snapshot, parse_snapshot
from tests.conftest import small_snapshot
from tests.emulator.fixtures import demo_snapshot_dict
from tests.fuzz.conftest import FUZZ
from tests.fuzz.strategies import json_values, mutated

VALID_MANIFEST: dict[str, Any] = {
    "schema_version": 1,
    "app": {"display_name": "Recruitee", "known_app_ids": []},
    "resource": {
        "display_name": "Microsoft Graph",
        "app_id": "00000003-0000-0000-c000-000000000000",
    },
    "feature": [
        {"name": "mailbox", "title": "Mailbox sync", "scopes": ["offline_access", "Mail.Send"]},
        {"name": "rooms", "title": "Rooms", "scopes": ["User.ReadBasic.All"]},
    ],
}
SNAPSHOTS = [demo_snapshot_dict(), json.loads(dump_snapshot(small_snapshot()))]
toml_ish = st.lists(
    st.sampled_from(
        [
            *list("[]=.\"'#\n abc_-01{},"),
            "schema_version",
            "feature",
            "app",
            "scopes",
            "[[feature]]",
            "name",
            '"x"',
            "1",
        ]
    ),
    max_size=60,
).map("".join)


def _manifest_or_input_error(text: str) -> None:
    try:
        result = parse_manifest(text, "fuzz.toml")
    except InputError as error:
        problem = error.problem
    else:
        problem = None
    if problem is not None:
        assert problem.startswith("fuzz.toml")
        return
    assert isinstance(result, Manifest)


@FUZZ
@given(st.one_of(st.text(max_size=200), toml_ish))
def test_manifest_text(text: str) -> None:
    _manifest_or_input_error(text)


@FUZZ
@given(mutated(VALID_MANIFEST, max_mutations=3))
def test_manifest_structured(raw: Any) -> None:
    try:
        text = tomli_w.dumps(raw)
    except (TypeError, ValueError):  # None and other non-TOML values cannot be written
        return
    _manifest_or_input_error(text)


def test_valid_manifest_parses() -> None:
    assert isinstance(parse_manifest(tomli_w.dumps(VALID_MANIFEST), "ok.toml"), Manifest)


def _snapshot_or_input_error(text: str) -> None:
    try:
        snapshot = parse_snapshot(text, "fuzz.json")
    except InputError as error:
        problem = error.problem
    else:
        problem = None
    if problem is not None:
        assert problem.startswith("fuzz.json")
        return
    assert isinstance(snapshot, TenantSnapshot)
    manifest = load_manifest()
    evaluate(snapshot, manifest)
    for lookup in snapshot.users[:2]:
        evaluate(snapshot, manifest, user=lookup.query)


@FUZZ
@given(st.one_of(st.text(max_size=80), json_values.map(json.dumps)))
def test_snapshot_arbitrary_json(text: str) -> None:
    _snapshot_or_input_error(text)


@settings(FUZZ, max_examples=200)
@given(st.sampled_from(SNAPSHOTS).flatmap(lambda doc: mutated(doc, max_mutations=4)))
def test_snapshot_mutated(raw: Any) -> None:
    _snapshot_or_input_error(json.dumps(raw))


@FUZZ
@given(
    st.lists(
        st.sampled_from(
            ["User.Read", "user.read", "USER.READ", "Mail.Send", "openid", "", "offline_access"]
        ),
        max_size=8,
    ),
    st.lists(st.sampled_from([" ", "\t", "\n", "  ", "\r\n", "\u00a0"]), min_size=1, max_size=8),
)
def test_scope_string(tokens: list[str], separators: list[str]) -> None:
    text = "".join(t + separators[i % len(separators)] for i, t in enumerate(tokens))
    parsed = parse_scope_string(text)
    folded = [p.casefold() for p in parsed]
    assert len(folded) == len(set(folded)), "no duplicates, whatever the case"
    assert all(p and not any(c.isspace() for c in p) for p in parsed)
    expected = {t.casefold() for t in tokens if t}
    assert set(folded) == expected
    assert ScopeSet(parsed) == ScopeSet(t for t in tokens if t)
    for t in tokens:
        if t:
            assert t.upper() in ScopeSet(parsed)


@FUZZ
@given(st.one_of(st.none(), st.text(max_size=60)))
def test_scope_string_arbitrary(text: str | None) -> None:
    parsed = parse_scope_string(text)
    assert parse_scope_string(" ".join(parsed)) == parsed


# -- CLI level: bad snapshot files give exit 2 and one 'error:' line, never a traceback ------


@settings(FUZZ, max_examples=25)
@given(
    st.one_of(
        st.text(max_size=40),
        json_values.map(json.dumps),
        st.sampled_from(SNAPSHOTS)
        .flatmap(lambda doc: mutated(doc, max_mutations=2))
        .map(json.dumps),
    )
)
def test_cli_bad_snapshot_file(text: str) -> None:
    import tempfile
    from pathlib import Path

    from typer.testing import CliRunner

    from consent_audit.cli import app

    try:
        parse_snapshot(text, "probe")
    except InputError:
        pass
    else:
        return  # a valid snapshot: covered by the evaluation properties above
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bad.json"
        path.write_text(text, encoding="utf-8")
        result = CliRunner().invoke(app, ["check", "--snapshot", str(path), "--format", "json"])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert lines[0].startswith("error: ")
    assert str(path) in lines[0] or "bad.json" in result.stderr
