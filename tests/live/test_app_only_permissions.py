"""The application permissions an app-only (CI) sign-in needs: one list, from the plan.

Each planned read carries the least-privileged application permission of its Microsoft Graph
API page (live/plan.py ``ApiPage``); docs/permissions.md, the fix for a missing admin consent
(live/auth.py), the fix for a run refused everything (live/collector.py) and every list the
repository's CI recipes state are held to the list generated from it.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from pathlib import Path

import pytest
import responses

from consent_audit.errors import AccessError
from consent_audit.live.auth import Authenticator, raise_for_msal_error
from consent_audit.live.bearer import is_app_token, static_sign_in
from consent_audit.live.clouds import resolve_endpoints
from consent_audit.live.collector import collect_with
from consent_audit.live.credentials import TOKEN_VAR, SignInSettings
from consent_audit.live.plan import (
    USER_READ,
    app_only_permissions,
    application_permissions,
    collection_plan,
)
from consent_audit.live_options import AuthMethod, LiveOptions
from consent_audit.manifest import Manifest, load_manifest

from . import msal_fakes as m
from . import tenant as t
from .fakes import FakeGraph, error_body, make_client

REPO = Path(__file__).resolve().parents[2]
NAME = re.compile(r"\b[A-Z][A-Za-z]+(?:\.[A-Z][A-Za-z]+)+\b")
"""A Graph permission name: ``Directory.Read.All``, ``Policy.Read.PermissionGrant``."""
# As read from each API page's permissions table (plan.py names the page of each request).
ALWAYS = [
    "Application.Read.All",
    "ConsentRequest.Read.All",
    "Directory.Read.All",
    "Policy.Read.All",
    "Policy.Read.PermissionGrant",
]
WITH_LOGS = ["AuditLog.Read.All"]
NOW = datetime(2026, 1, 10, tzinfo=timezone.utc)


def _plan() -> list:  # type: ignore[type-arg]
    return collection_plan(load_manifest())


def test_every_request_names_its_application_permission_and_page() -> None:
    for call in _plan():
        assert call.api is not None, call.key
        assert call.application, call.key
        assert call.api.page.startswith(("api-reference/v1.0/", "api-reference/beta/")), call.key
        assert call.api.page.endswith(".md"), call.key


def test_the_app_only_list_is_not_the_delegated_one() -> None:
    plan = _plan()
    assert application_permissions(plan) == (ALWAYS, WITH_LOGS)
    organization = next(c for c in plan if c.key == "organization")
    assert organization.permission == USER_READ  # delegated
    assert organization.application == ("Directory.Read.All",)
    assert USER_READ not in {n for c in plan for n in c.application}
    what_if = next(c for c in plan if c.path.endswith("/conditionalAccess/evaluate"))
    assert what_if.application == ("Policy.Read.ConditionalAccess",)
    assert what_if.application_grant == "Policy.Read.All"


def _names(text: str) -> set[str]:
    return set(NAME.findall(text))


def _app_only_section(markdown: str) -> str:
    start = markdown.index("## App-only sign-in")
    return markdown[start : markdown.index("They are not the delegated names", start)]


def test_docs_state_the_generated_list() -> None:
    text = (REPO / "docs" / "permissions.md").read_text(encoding="utf-8")
    assert _names(_app_only_section(text)) == {*ALWAYS, *WITH_LOGS}
    assert "same names as *application*" not in text


def _paragraphs(text: str) -> list[str]:
    """Blank-line separated blocks, comment markers stripped (YAML and Markdown alike)."""
    lines = [re.sub(r"^\s*#\s?", "", line) for line in text.splitlines()]
    return [p for p in "\n".join(lines).split("\n\n") if p.strip()]


STATED = [
    "README.md",
    "action.yml",
    *sorted(str(p.relative_to(REPO)) for p in (REPO / "examples" / "ci").iterdir()),
    *sorted(
        str(p.relative_to(REPO))
        for p in (REPO / "docs").glob("*.md")
        if p.name != "permissions.md"  # generated; held by test_docs_state_the_generated_list
    ),
]


@pytest.mark.parametrize("name", STATED)
def test_every_app_only_list_the_repo_states_is_the_generated_one(name: str) -> None:
    """A block that speaks of *application* permissions either names none (it points to
    docs/permissions.md) or names exactly the generated list."""
    text = (REPO / name).read_text(encoding="utf-8")
    for block in _paragraphs(text):
        if not re.search(r"application\*?\s+permissions?", block, re.IGNORECASE):
            continue
        named = _names(block)
        if USER_READ in named:  # only ever as the delegated scope an app cannot have
            assert "no application form" in " ".join(block.split()), (name, block)
            named.discard(USER_READ)
        assert not named or named == {*ALWAYS, *WITH_LOGS}, (name, block)


def test_the_recipe_that_lists_them_lists_them_all() -> None:
    text = (REPO / "examples" / "ci" / "github-actions.yml").read_text(encoding="utf-8")
    block = next(b for b in _paragraphs(text) if "*application*" in b)
    assert _names(block) >= {*ALWAYS, *WITH_LOGS}


def test_missing_admin_consent_names_the_generated_list(tmp_path: Path) -> None:
    settings = SignInSettings(AuthMethod.CLIENT_SECRET, "contoso.onmicrosoft.com", "my-app", True)
    with pytest.raises(AccessError) as info:
        raise_for_msal_error(
            {"error": "invalid_client", "error_description": "AADSTS65001: no consent"},
            endpoints=resolve_endpoints(LiveOptions(), {}),
            settings=settings,
            scopes=["https://graph.microsoft.com/.default"],
        )
    fix = info.value.fix or ""
    assert _names(fix) >= {*ALWAYS, *WITH_LOGS}
    assert app_only_permissions() in fix
    assert "AuditLog.Read.All with --with-logs" in fix


# -- what an app-only run reports when Graph refuses a read ------------------------------


def test_a_run_refused_everything_app_only_names_the_application_permissions(
    rsps: responses.RequestsMock, manifest: Manifest
) -> None:
    """Not "give the signed-in account Global Reader": an app has no role to be given."""
    FakeGraph().add("/*", error_body("Authorization_RequestDenied", "no"), 403).install(rsps)
    with pytest.raises(AccessError) as info:
        collect_with(make_client(), manifest, LiveOptions(), now=NOW, app_only=True)
    fix = info.value.fix or ""
    assert app_only_permissions() in fix
    assert "Global Reader" not in fix
    # a person's run keeps the role advice
    with pytest.raises(AccessError, match="Global Reader role"):
        collect_with(make_client(), manifest, LiveOptions(), now=NOW)


def test_a_refused_read_app_only_names_the_application_permission_of_its_page(
    rsps: responses.RequestsMock, manifest: Manifest
) -> None:
    """Beta sign-ins need AuditLog.Read.All and Directory.Read.All as an app (beta
    signin-list.md); the refused part is named with both, and stays unread, never a pass."""
    graph = t.log_routes(t.wave_two_routes(t.wave_one_routes(FakeGraph())))
    graph.add("/beta/auditLogs/signIns*", error_body("Authorization_RequestDenied", "no"), 403)
    graph.install(rsps)
    snap = collect_with(
        make_client(), manifest, LiveOptions(with_logs=True), now=NOW, app_only=True
    )
    assert any("(needs AuditLog.Read.All + Directory.Read.All)" in g for g in snap.sign_ins.gaps), (
        snap.sign_ins.gaps
    )


def test_a_given_token_is_app_only_by_its_claims() -> None:
    assert is_app_token({"roles": ["Directory.Read.All"], "appid": "x"})
    assert is_app_token({"idtyp": "app"})
    assert not is_app_token({"scp": "Directory.Read.All", "roles": ["Admin"]})
    assert not is_app_token({})


def test_an_msal_app_sign_in_is_app_only_and_a_person_is_not(
    rsps: responses.RequestsMock, tmp_path: Path
) -> None:
    base = m.discovery(rsps)
    rsps.add(responses.POST, f"{base}/oauth2/v2.0/token", json=m.app_token("secret-at"))
    env = {
        "XDG_CACHE_HOME": str(tmp_path / "cache"),
        "AZURE_TENANT_ID": m.TENANT,
        "AZURE_CLIENT_ID": "my-app",
        "AZURE_CLIENT_SECRET": "hunter2",
    }
    assert Authenticator(LiveOptions(), env=env).sign_in().app_only
    person = static_sign_in({TOKEN_VAR: "a.eyJzY3AiOiJVc2VyLlJlYWQiLCJyb2xlcyI6W119.c"})
    assert not person.app_only
