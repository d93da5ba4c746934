"""Scope parsing and sets, the bundled Graph permission catalog, and manifest validation."""

from __future__ import annotations

import pytest
import tomli_w
from hypothesis import given, settings
from hypothesis import strategies as st

from consent_audit.catalog import graph_catalog
from consent_audit.errors import InputError
from consent_audit.manifest import Manifest, load_manifest, parse_manifest
from consent_audit.scopes import ScopeSet, parse_scope_string, scope_key

GRAPH = "00000003-0000-0000-c000-000000000000"
RECRUITEE_SCOPES = [
    "offline_access",
    "openid",
    "email",
    "profile",
    "User.Read",
    "User.ReadBasic.All",
    "Mail.Send",
    "Mail.ReadWrite",
    "Calendars.ReadWrite",
]


def manifest_text(**overrides: object) -> str:
    doc: dict[str, object] = {
        "schema_version": 1,
        "app": {"display_name": "Recruitee", "known_app_ids": []},
        "resource": {"display_name": "Microsoft Graph", "app_id": GRAPH},
        "feature": [
            {"name": "mailbox", "title": "Mailbox sync", "scopes": ["offline_access", "Mail.Send"]},
            {"name": "rooms", "title": "Rooms", "scopes": ["User.ReadBasic.All"]},
        ],
    }
    doc.update(overrides)
    return tomli_w.dumps(doc)


def problem_of(text: str, source: str = "custom.toml") -> str:
    with pytest.raises(InputError) as err:
        parse_manifest(text, source)
    return err.value.problem


# ----------------------------------------------------------------------------- parse_scope_string


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("openid User.Read", ["openid", "User.Read"]),
        ("  openid\tUser.Read\n Mail.Send  ", ["openid", "User.Read", "Mail.Send"]),
        ("User.Read user.read USER.READ", ["User.Read"]),
        ("user.read User.Read", ["user.read"]),
        ("Mail.Send openid Mail.Send", ["Mail.Send", "openid"]),
        ("", []),
        ("   \t\n", []),
        (None, []),
    ],
    ids=[
        "spaces",
        "tabs-newlines",
        "case-duplicates",
        "first-spelling-wins",
        "order-kept",
        "empty",
        "blank",
        "none",
    ],
)
def test_parse_scope_string(raw: str | None, expected: list[str]) -> None:
    assert parse_scope_string(raw) == expected


@settings(max_examples=200, deadline=None)
@given(st.one_of(st.none(), st.text()))
def test_parse_scope_string_never_raises_and_is_idempotent_on_join(raw: str | None) -> None:
    once = parse_scope_string(raw)

    assert parse_scope_string(" ".join(once)) == once
    assert all(token and not any(c.isspace() for c in token) for token in once)
    assert len({t.casefold() for t in once}) == len(once)


# ----------------------------------------------------------------------------- ScopeSet


def test_scopeset_membership_is_case_insensitive() -> None:
    s = ScopeSet(["User.Read", "Mail.Send"])

    assert "user.read" in s
    assert "MAIL.SEND" in s
    assert "Mail.ReadWrite" not in s
    assert 42 not in s


def test_scopeset_equality_and_hash_ignore_case_and_order() -> None:
    a = ScopeSet(["User.Read", "Mail.Send"])
    b = ScopeSet(["mail.send", "USER.READ"])

    assert a == b
    assert hash(a) == hash(b)
    assert a != ScopeSet(["User.Read"])
    assert a != {"User.Read", "Mail.Send"}


def test_scopeset_keeps_first_spelling_and_deduplicates() -> None:
    s = ScopeSet(["user.read", "User.Read", "openid"])

    assert list(s) == ["user.read", "openid"]
    assert len(s) == 2


def test_scopeset_union_minus_and_truthiness() -> None:
    s = ScopeSet(["User.Read"]).union(["mail.send", "USER.READ"])

    assert list(s) == ["User.Read", "mail.send"]
    assert list(s.minus(["MAIL.SEND"])) == ["User.Read"]
    assert not ScopeSet()
    assert not s.minus(["user.read", "Mail.Send"])
    assert s


def test_scopeset_canonical_uses_graph_casing_sorted_case_insensitively() -> None:
    s = ScopeSet(["mail.send", "OPENID", "calendars.readwrite", "Custom.Thing"])

    assert s.canonical(graph_catalog()) == [
        "Calendars.ReadWrite",
        "Custom.Thing",
        "Mail.Send",
        "openid",
    ]


# ----------------------------------------------------------------------------- catalog


def test_catalog_looks_up_by_value_and_id_case_insensitively() -> None:
    cat = graph_catalog()
    found = cat.by_value("mail.readwrite")

    assert found is not None
    assert found.value == "Mail.ReadWrite"
    assert found.id == "024d486e-b451-40bb-833d-3e66d98c5c73"
    assert cat.by_id(found.id.upper()) == found
    assert cat.by_value("Mail.ReadWrit") is None
    assert cat.resource_app_id == GRAPH


def test_catalog_canonical_keeps_unknown_scopes_as_written() -> None:
    cat = graph_catalog()

    assert cat.canonical("user.readbasic.all") == "User.ReadBasic.All"
    assert cat.canonical("Not.AScope") == "Not.AScope"


@pytest.mark.parametrize(
    ("typo", "suggestion"),
    [
        ("Mail.ReadWite", "Mail.ReadWrite"),
        ("calendars.readwrit", "Calendars.ReadWrite"),
        ("User.Reed", "User.Read"),
    ],
)
def test_catalog_suggests_the_closest_scope(typo: str, suggestion: str) -> None:
    assert graph_catalog().suggest(typo) == suggestion


def test_catalog_suggests_nothing_for_garbage() -> None:
    assert graph_catalog().suggest("zzzzzzzzzzzzzzzz") is None


def test_recruitee_scopes_do_not_require_admin_consent_but_directory_read_does() -> None:
    cat = graph_catalog()

    for scope in RECRUITEE_SCOPES:
        found = cat.by_value(scope)
        assert found is not None, scope
        assert found.admin_consent_required is False, scope
    directory = cat.by_value("Directory.Read.All")
    assert directory is not None
    assert directory.admin_consent_required is True


# ----------------------------------------------------------------------------- manifest


def test_bundled_manifest_loads_with_three_features() -> None:
    m = load_manifest()

    assert m.app_display_name == "Recruitee"
    assert m.resource_app_id == GRAPH
    assert [f.name for f in m.features] == ["mailbox", "calendar", "rooms"]
    assert "Mail.ReadWrite" in m.feature("mailbox").scope_set  # type: ignore[union-attr]
    assert len(m.all_scopes) == 8


def test_to_toml_round_trips_to_an_equal_feature_set() -> None:
    m = load_manifest()
    again = parse_manifest(m.to_toml(), "roundtrip.toml")

    assert again.features == m.features
    assert again.known_app_ids == m.known_app_ids
    assert again.app_display_name == m.app_display_name
    assert again.resource_app_id == m.resource_app_id
    assert again.source == "roundtrip.toml"


def test_manifest_normalises_scope_casing_and_app_ids() -> None:
    text = manifest_text(
        app={
            "display_name": "Recruitee",
            "known_app_ids": ["C0FFEE00-0000-0000-0000-000000000001"],
        },
        feature=[{"name": "rooms", "scopes": ["user.readbasic.all", "OFFLINE_ACCESS"]}],
    )
    m = parse_manifest(text, "x.toml")

    assert m.known_app_ids == ("c0ffee00-0000-0000-0000-000000000001",)
    assert m.features[0].scopes == ("User.ReadBasic.All", "offline_access")
    assert m.features[0].title == "rooms"


def test_unknown_key_names_file_and_key_path() -> None:
    app = {"display_name": "Recruitee", "known_app_ids": [], "foo": 1}
    problem = problem_of(manifest_text(app=app), "custom.toml")

    assert problem.startswith("custom.toml: 1 problem in the manifest")
    assert "app.foo: unknown key." in problem
    assert "allowed keys here: display_name, known_app_ids" in problem


def test_unknown_top_level_and_feature_keys_are_named() -> None:
    text = manifest_text(
        extra=True, feature=[{"name": "rooms", "scopes": ["openid"], "scope": "x"}]
    )
    problem = problem_of(text)

    assert "  - extra: unknown key." in problem
    assert "feature[0].scope: unknown key." in problem
    assert "2 problems" in problem


@pytest.mark.parametrize("scopes", [[], "openid", None])
def test_empty_or_missing_scope_list_is_an_error(scopes: object) -> None:
    feature = {"name": "rooms"} if scopes is None else {"name": "rooms", "scopes": scopes}

    assert "feature[0].scopes: empty or missing scope list." in problem_of(
        manifest_text(feature=[feature])
    )


def test_duplicate_feature_names_are_an_error() -> None:
    features = [{"name": "rooms", "scopes": ["openid"]}, {"name": "rooms", "scopes": ["email"]}]

    assert "feature[1].name: feature 'rooms' is defined twice." in problem_of(
        manifest_text(feature=features)
    )


def test_duplicate_scope_in_a_feature_is_an_error_case_insensitively() -> None:
    text = manifest_text(feature=[{"name": "rooms", "scopes": ["Mail.Send", "mail.send"]}])

    assert "feature[0].scopes[1]: 'mail.send' is listed twice." in problem_of(text)


def test_unknown_scope_gets_did_you_mean() -> None:
    text = manifest_text(feature=[{"name": "mailbox", "scopes": ["openid", "Mail.ReadWite"]}])
    problem = problem_of(text)

    assert (
        "feature[0].scopes[1]: unknown Microsoft Graph delegated scope 'Mail.ReadWite'." in problem
    )
    assert "did you mean 'Mail.ReadWrite'?" in problem


def test_unknown_scope_without_close_match_says_use_a_graph_scope() -> None:
    problem = problem_of(manifest_text(feature=[{"name": "x", "scopes": ["qqqqqqqqqqqq"]}]))

    assert "use a Microsoft Graph delegated scope." in problem
    assert "did you mean" not in problem


def test_scope_with_space_is_not_a_scope_name() -> None:
    problem = problem_of(manifest_text(feature=[{"name": "x", "scopes": ["openid email"]}]))

    assert "feature[0].scopes[0]: 'openid email' is not a scope name." in problem


def test_bad_toml_names_the_source() -> None:
    problem = problem_of("schema_version = 1\n[app\n", "broken.toml")

    assert problem.startswith("broken.toml: not valid TOML")


@pytest.mark.parametrize("version", [2, 0, "1"])
def test_wrong_schema_version_is_an_error(version: object) -> None:
    problem = problem_of(manifest_text(schema_version=version))

    assert f"schema_version: is {version!r}, expected 1." in problem


def test_missing_schema_version_is_an_error() -> None:
    text = manifest_text()
    text = "\n".join(line for line in text.splitlines() if not line.startswith("schema_version"))

    assert "schema_version: is None, expected 1." in problem_of(text)


def test_resource_other_than_graph_is_an_error() -> None:
    text = manifest_text(
        resource={"display_name": "Other", "app_id": "00000002-0000-0ff1-ce00-000000000000"}
    )

    assert "resource.app_id:" in problem_of(text)


def test_bad_known_app_ids_and_feature_name_are_errors() -> None:
    text = manifest_text(
        app={"display_name": "Recruitee", "known_app_ids": ["not-a-guid"]},
        feature=[{"name": "Mailbox", "scopes": ["openid"]}],
    )
    problem = problem_of(text)

    assert "app.known_app_ids: must be a list of appId GUIDs." in problem
    assert "feature[0].name: 'Mailbox' is not a valid feature name." in problem


def test_every_problem_is_reported_at_once_with_a_fix() -> None:
    with pytest.raises(InputError) as err:
        parse_manifest("schema_version = 3\n", "empty.toml")

    problem = err.value.problem
    for path in ("schema_version:", "app:", "resource:", "feature:"):
        assert f"  - {path}" in problem
    assert err.value.fix is not None
    assert "manifest validate" in err.value.fix


def test_select_unknown_feature_lists_known_features() -> None:
    with pytest.raises(InputError) as err:
        load_manifest().select(["mail"])

    assert "unknown feature 'mail'" in err.value.problem
    assert "mailbox, calendar, rooms" in err.value.problem
    assert err.value.fix == "Use --feature with one of: mailbox, calendar, rooms."


def test_select_is_case_insensitive_deduplicates_and_keeps_order() -> None:
    m = load_manifest()
    chosen = m.select(["ROOMS", "mailbox", "rooms"])

    assert [f.name for f in chosen.features] == ["rooms", "mailbox"]
    assert chosen.app_display_name == m.app_display_name
    assert m.select([]) is m


# ----------------------------------------------------------------------------- properties

_toml_scalars = st.one_of(
    st.integers(-3, 3),
    st.booleans(),
    st.text(max_size=12),
    st.sampled_from(["openid", "Mail.Send", "mail.readwite", GRAPH, "Recruitee", "rooms"]),
)
_toml_values = st.recursive(
    _toml_scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(
            st.sampled_from(
                ["name", "title", "scopes", "display_name", "app_id", "known_app_ids", "x"]
            ),
            inner,
            max_size=4,
        ),
    ),
    max_leaves=12,
)
_manifest_docs = st.fixed_dictionaries(
    {},
    optional={
        "schema_version": st.one_of(st.just(1), _toml_scalars),
        "app": _toml_values,
        "resource": _toml_values,
        "feature": st.one_of(_toml_values, st.lists(_toml_values, max_size=3)),
        "junk": _toml_values,
    },
)


def _parse_or_input_error(text: str) -> None:
    problem: str | None = None
    result: Manifest | None = None
    try:
        result = parse_manifest(text, "fuzz.toml")
    except InputError as exc:
        problem = exc.problem
    if problem is not None:
        assert problem.startswith("fuzz.toml: ")
    else:
        assert isinstance(result, Manifest)
        assert result.features


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=200))
def test_parse_manifest_on_arbitrary_text_returns_manifest_or_input_error(text: str) -> None:
    _parse_or_input_error(text)


@settings(max_examples=150, deadline=None)
@given(_manifest_docs)
def test_parse_manifest_on_arbitrary_toml_documents_returns_manifest_or_input_error(
    doc: dict[str, object],
) -> None:
    _parse_or_input_error(tomli_w.dumps(doc))


_ASCII_ONLY_FOLD = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


@pytest.mark.parametrize("text", ["Mail.ReadWrite", "USER.READ", "İ.Read", "Straße", "ǅ", ""])
def test_scope_key_folds_ascii_letters_and_nothing_else(text: str) -> None:
    """The fast path for ASCII (str.lower) gives what the translate table gives."""
    assert scope_key(text) == text.translate(_ASCII_ONLY_FOLD)


@given(st.text())
def test_scope_key_is_the_ascii_fold_of_any_text(text: str) -> None:
    assert scope_key(text) == text.translate(_ASCII_ONLY_FOLD)
