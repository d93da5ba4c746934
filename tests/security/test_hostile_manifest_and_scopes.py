"""A manifest from anywhere and scope strings from the tenant: exact scope matching, and work
bounded by the input's size (counted operations, not wall time: no timed tests)."""

from __future__ import annotations

import pytest

import consent_audit.evaluate.verdicts as verdicts
from consent_audit.catalog import PermissionCatalog
from consent_audit.errors import InputError
from consent_audit.evaluate import evaluate
from consent_audit.manifest import SHOWN_PROBLEMS, SUGGESTED_SCOPES, parse_manifest
from consent_audit.run_source.demo import demo_snapshot
from consent_audit.scopes import ScopeSet, parse_scope_string, scope_key
from tests.conftest import small_snapshot
from tests.security.big_manifest import manifest_with_features, manifest_with_unknown_scopes


@pytest.mark.parametrize(
    ("granted", "wanted"),
    [
        ("Mail.\u017fend", "Mail.Send"),  # long s: casefold() gives "mail.send"
        ("\u212aeyVault", "keyvault"),  # Kelvin sign: casefold() gives "k"
    ],
)
def test_scopes_match_only_after_ascii_case_folding(granted: str, wanted: str) -> None:
    assert wanted not in ScopeSet(parse_scope_string(granted))
    assert scope_key(granted) != scope_key(wanted)
    assert "user.read" in ScopeSet(["User.Read"])


def test_a_look_alike_scope_in_a_grant_does_not_cover_the_real_one() -> None:
    admin = "offline_access User.Read Mail.ReadWrite email openid Mail.\u017fend"
    report = evaluate(small_snapshot(admin_scope=admin), _bundled())
    mailbox = next(f for f in report.features if f.name == "mailbox")
    assert mailbox.missing_scopes == ["Mail.Send"]
    assert mailbox.status.value == "fail"


def _bundled():  # type: ignore[no-untyped-def]
    from consent_audit.manifest import load_manifest

    return load_manifest()


def test_spelling_suggestions_and_listed_problems_are_bounded(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[str] = []
    original = PermissionCatalog.suggest

    def counting(self: PermissionCatalog, value: str) -> str | None:
        calls.append(value)
        return original(self, value)

    monkeypatch.setattr(PermissionCatalog, "suggest", counting)
    with pytest.raises(InputError) as caught:
        parse_manifest(manifest_with_unknown_scopes(2_000), "typos.toml")
    assert len(calls) == SUGGESTED_SCOPES
    assert "did you mean 'Mail.ReadWrite'?" in caught.value.problem
    assert caught.value.problem.count("\n  - ") == SHOWN_PROBLEMS + 1
    assert f"and {2_000 - SHOWN_PROBLEMS} more" in caught.value.problem


def _affects_calls(features: int, monkeypatch: pytest.MonkeyPatch) -> int:
    count = 0
    original = verdicts._affects

    def counting(*args: object) -> bool:
        nonlocal count
        count += 1
        return original(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(verdicts, "_affects", counting)
    evaluate(demo_snapshot(), parse_manifest(manifest_with_features(features), "m.toml"))
    return count


def test_evaluation_work_grows_linearly_with_the_manifest(monkeypatch: pytest.MonkeyPatch) -> None:
    """Doubling the features at most doubles the finding checks (it was quadratic)."""
    small, large = _affects_calls(60, monkeypatch), _affects_calls(120, monkeypatch)
    assert small > 0
    assert large <= 2.2 * small, (small, large)


def test_report_size_grows_linearly_with_the_manifest() -> None:
    sizes = [
        len(
            evaluate(
                demo_snapshot(), parse_manifest(manifest_with_features(n), "m.toml")
            ).model_dump_json()
        )
        for n in (150, 300)
    ]
    assert sizes[1] <= 2.2 * sizes[0], sizes
