"""Shared fixtures: a small tenant snapshot on disk; the Graph emulator fixtures."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest

from consent_audit.graph_objects import (
    AdminConsentRequestPolicy,
    AuthorizationPolicy,
    DefaultUserRolePermissions,
    OAuth2PermissionGrant,
    ServicePrincipal,
)
from consent_audit.snapshot import (
    AuditedUser,
    Part,
    PartStatus,
    RecruiteeApp,
    TenantInfo,
    TenantSnapshot,
    UserLookup,
    dump_snapshot,
)

GRAPH_SP_ID = "0d4a6f3e-7a4b-4f3c-9c51-6f1c3b1f7a10"
RECRUITEE_SP_ID = "5b2f1c9e-4d3a-4e8b-9a7c-2f6d8e1b3c40"
RECRUITEE_APP_ID = "7c1e5a2d-9b4f-4c6e-8d3a-1f2b5c7e9a60"
ALICE_ID = "a1b2c3d4-0000-4000-8000-00000000a11c"

pytest_plugins = ["tests.emulator.fixtures"]


def small_snapshot(
    admin_scope: str = "offline_access User.Read Calendars.ReadWrite",
    ca_status: PartStatus = PartStatus.OK,
) -> TenantSnapshot:
    """Calendar admin-consented; mailbox and rooms not; user consent off; workflow off."""
    # Recruitee's multi-tenant application, registered in Recruitee's own tenant: an app
    # Graph reports no owner or audience for gets no write (evaluate/identity.py).
    sp = ServicePrincipal(
        id=RECRUITEE_SP_ID,
        app_id=RECRUITEE_APP_ID,
        display_name="Recruitee",
        app_owner_organization_id="e0a7b3c6-2d58-4f19-8b4e-6c91f2a03d7b",
        sign_in_audience="AzureADMultipleOrgs",
    )
    grant = OAuth2PermissionGrant(
        id="grant-admin",
        client_id=RECRUITEE_SP_ID,
        consent_type="AllPrincipals",
        resource_id=GRAPH_SP_ID,
        scope=admin_scope,
    )
    return TenantSnapshot(
        tool_version="0.1.0",
        collected_at=datetime(2026, 11, 20, 9, 30, tzinfo=timezone.utc),
        tenant=TenantInfo(
            id="c0ffee00-0000-4000-8000-000000000001", default_domain="contoso.example"
        ),
        recruitee_apps=Part(
            data=[
                RecruiteeApp(
                    service_principal=sp,
                    app_role_assigned_to=Part(data=[]),
                    oauth2_permission_grants=Part(data=[grant]),
                )
            ]
        ),
        graph_service_principal=Part(
            data=ServicePrincipal(
                id=GRAPH_SP_ID,
                app_id="00000003-0000-0000-c000-000000000000",
                display_name="Microsoft Graph",
            )
        ),
        authorization_policy=Part(
            data=AuthorizationPolicy(
                default_user_role_permissions=DefaultUserRolePermissions(
                    permission_grant_policies_assigned=[], allowed_to_create_apps=True
                )
            )
        ),
        admin_consent_request_policy=Part(data=AdminConsentRequestPolicy(is_enabled=False)),
        conditional_access_policies=Part(
            status=ca_status, data=[] if ca_status is PartStatus.OK else None
        ),
        users=[
            UserLookup(
                query="alice@contoso.example",
                user=Part(
                    data=AuditedUser(id=ALICE_ID, user_principal_name="alice@contoso.example")
                ),
            )
        ],
    )


@pytest.fixture
def snapshot_file(tmp_path: Path) -> Path:
    path = tmp_path / "tenant.json"
    path.write_text(dump_snapshot(small_snapshot()), encoding="utf-8")
    return path


@pytest.fixture(autouse=True)
def _private_dirs_and_no_os_keyring(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """No test reads or writes the real ~/.cache, ~/.config or the machine's keyring.

    The cache and config directories point into the test's tmp_path, and msal-extensions'
    libsecret persistence fails as on a headless server, so the owner-only file is used;
    tests of the encrypted stores fake the persistence, and ``@pytest.mark.real_keyring``
    tests opt into this machine's keyring.
    """
    import consent_audit.live.token_cache as token_cache

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setattr(token_cache, "_notified", set())
    if request.node.get_closest_marker("real_keyring") is None:

        def no_keyring(*_args: object, **_kwargs: object) -> None:
            raise RuntimeError("libsecret is switched off in the test run")

        monkeypatch.setattr(token_cache.msal_extensions, "LibsecretPersistence", no_keyring)
