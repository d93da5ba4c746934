"""The live tenant through Microsoft Graph.

MSAL and requests are imported only when ``obtain()`` runs, so offline commands and
``--help`` never load them.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from consent_audit.run_source.interface import Obtained, RunSource

if TYPE_CHECKING:
    from consent_audit.live_options import LiveOptions
    from consent_audit.manifest import Manifest
    from consent_audit.snapshot import TenantSnapshot


class LiveSource(RunSource):
    """Collect from the tenant; with several ``users``, once per user, merged into one snapshot."""

    def __init__(self, options: LiveOptions, users: tuple[str, ...] = ()) -> None:
        self.options = options
        self.users = users

    def obtain(self, manifest: Manifest) -> Obtained:
        from consent_audit.live import collect

        users = list(dict.fromkeys(u.casefold() for u in self.users))
        if len(users) <= 1:
            options = replace(self.options, user=self.users[0]) if self.users else self.options
            snap = collect(options, manifest)
        else:
            wanted = {u.casefold(): u for u in self.users}
            snap = merge_users(
                [collect(replace(self.options, user=wanted[u]), manifest) for u in users]
            )
        # After collecting: the first request goes out before the report models are built.
        from consent_audit.report import SourceInfo

        return Obtained(snap, SourceInfo(kind="live", collected_at=snap.collected_at))


def merge_users(snapshots: list[TenantSnapshot]) -> TenantSnapshot:
    """One snapshot holding every audited user of ``snapshots`` (one collection per user).

    With --user the collector reads the admin grants and *that user's* own grants, so each
    app's grants are the union over the collections (by grant id): evaluating any one of
    the users then sees exactly their grants, as a single-user snapshot would.
    """
    base = snapshots[0]
    grants: dict[str, dict[str, object]] = {}
    for snap in snapshots:
        for app in snap.recruitee_apps.data or []:
            for grant in app.oauth2_permission_grants.data or []:
                grants.setdefault(app.service_principal.id, {}).setdefault(grant.id, grant)
    apps = [
        app.model_copy(
            update={
                "oauth2_permission_grants": app.oauth2_permission_grants.model_copy(
                    update={"data": list(grants.get(app.service_principal.id, {}).values())}
                )
            }
        )
        if app.oauth2_permission_grants.data is not None
        else app
        for app in base.recruitee_apps.data or []
    ]
    recruitee = (
        base.recruitee_apps.model_copy(update={"data": apps})
        if base.recruitee_apps.data is not None
        else base.recruitee_apps
    )
    users = [lookup for snap in snapshots for lookup in snap.users]
    return base.model_copy(update={"users": users, "recruitee_apps": recruitee})
