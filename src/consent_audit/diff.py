"""What changed between two audits of one tenant: ``consent-audit diff BEFORE AFTER``.

Support carries a case from "before" to "after": the customer sends a snapshot, changes
something, sends another. The diff says, in the report's own terms, what moved: verdicts
per feature and per Recruitee app, findings that appeared or were resolved (matched by
fingerprint, so a finding whose wording changed is not "new"), delegated grants whose
scopes were added or removed, Conditional Access policies added, removed or changed, and
tenant consent settings. Pure: two reports (and, when given, the two snapshots) in, a
``TenantDiff`` out; rendering is separate.

"Worse" (exit 1) means a feature's or an app's verdict got worse (pass < warn < unknown <
fail) or a new error finding appeared: the exit code is about sync. Changes that weaken a
Conditional Access policy (diff_security.py) are listed in their own section whatever they do
to sync, and never change the exit code.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from consent_audit.diff_security import (
    SecurityChange,
    security_from_reports,
    security_from_snapshots,
)
from consent_audit.report import Report, Severity, VerdictStatus
from consent_audit.snapshot import TenantSnapshot


class DiffModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class VerdictChange(DiffModel):
    feature: str
    app_id: str | None = None
    """``None`` for the feature's overall verdict."""
    before: VerdictStatus | None
    after: VerdictStatus | None
    worse: bool


class FindingRef(DiffModel):
    fingerprint: str
    id: str
    severity: Severity
    title: str
    app_id: str | None = None
    feature: str | None = None


class GrantChange(DiffModel):
    app_id: str
    consent: str
    """``admin`` (AllPrincipals) or ``user <principal id>``."""
    resource: str
    added: list[str] = Field(default_factory=list)
    removed: list[str] = Field(default_factory=list)
    change: Literal["created", "deleted", "changed"]


class PolicyChange(DiffModel):
    id: str
    name: str | None
    change: Literal["added", "removed", "changed"]
    fields: dict[str, tuple[Any, Any]] = Field(default_factory=dict)
    """For ``changed``: field -> (before, after)."""


class SettingChange(DiffModel):
    setting: str
    before: Any
    after: Any


class TenantDiff(DiffModel):
    before: str
    after: str
    verdicts: list[VerdictChange] = Field(default_factory=list)
    appeared: list[FindingRef] = Field(default_factory=list)
    resolved: list[FindingRef] = Field(default_factory=list)
    grants: list[GrantChange] = Field(default_factory=list)
    policies: list[PolicyChange] = Field(default_factory=list)
    settings: list[SettingChange] = Field(default_factory=list)
    security: list[SecurityChange] = Field(default_factory=list)
    """Changes that weaken a Conditional Access policy; not counted in ``worse``."""
    security_compared: Literal["snapshots", "reports"] = "snapshots"
    """``reports``: only policies that target Recruitee, summarised (diff_security.py)."""
    worse: bool
    why_worse: list[str] = Field(default_factory=list)

    @property
    def unchanged(self) -> bool:
        return not (
            self.verdicts
            or self.appeared
            or self.resolved
            or self.grants
            or self.policies
            or self.settings
        )


def _worse(before: VerdictStatus | None, after: VerdictStatus | None) -> bool:
    return after is not None and (before is None or after.rank > before.rank)


def _verdicts(old: Report, new: Report) -> list[VerdictChange]:
    def table(report: Report) -> dict[tuple[str, str | None], VerdictStatus]:
        rows: dict[tuple[str, str | None], VerdictStatus] = {}
        for f in report.features:
            rows[(f.name, None)] = f.status
            for a in f.apps:
                rows[(f.name, a.app_id.casefold())] = a.status
        return rows

    before, after = table(old), table(new)
    order = list(dict.fromkeys([*before, *after]))
    return [
        VerdictChange(
            feature=feature,
            app_id=app,
            before=before.get((feature, app)),
            after=after.get((feature, app)),
            worse=_worse(before.get((feature, app)), after.get((feature, app))),
        )
        for feature, app in order
        if before.get((feature, app)) != after.get((feature, app))
    ]


def _refs(report: Report) -> dict[str, FindingRef]:
    return {
        (f.fingerprint or f.id): FindingRef(
            fingerprint=f.fingerprint or f.id,
            id=f.id,
            severity=f.severity,
            title=f.title,
            app_id=f.subject.app_id if f.subject else None,
            feature=f.subject.feature if f.subject else None,
        )
        for f in report.findings
    }


def _app_ids(report: Report) -> dict[str, str]:
    return {a.object_id.casefold(): a.app_id for a in report.apps}


def _grants(old: Report, new: Report) -> list[GrantChange]:
    def table(report: Report) -> dict[tuple[str, str, str], set[str]]:
        ids = _app_ids(report)
        rows: dict[tuple[str, str, str], set[str]] = {}
        for g in report.grants:
            admin = g.consent_type.casefold() == "allprincipals"
            consent = "admin" if admin else f"user {g.principal_id or '?'}"
            app = ids.get(g.app_object_id.casefold(), g.app_object_id)
            key = (app, consent, g.resource)
            rows[key] = rows.get(key, set()) | set(g.scopes)
        return rows

    before, after = table(old), table(new)
    changes = []
    for key in dict.fromkeys([*before, *after]):
        was, now = before.get(key), after.get(key)
        if was == now:
            continue
        was_folded = {s.casefold(): s for s in was or set()}
        now_folded = {s.casefold(): s for s in now or set()}
        added = sorted(
            (now_folded[k] for k in now_folded.keys() - was_folded.keys()), key=str.casefold
        )
        removed = sorted(
            (was_folded[k] for k in was_folded.keys() - now_folded.keys()), key=str.casefold
        )
        if was is not None and now is not None and not added and not removed:
            continue  # only the casing moved: Entra compares scopes case-insensitively
        app, consent, resource = key
        changes.append(
            GrantChange(
                app_id=app,
                consent=consent,
                resource=resource,
                added=added,
                removed=removed,
                change="created" if was is None else "deleted" if now is None else "changed",
            )
        )
    return changes


_POLICY_FIELDS = ("display_name", "state", "conditions", "grant_controls", "session_controls")


def _policies_from_snapshots(old: TenantSnapshot, new: TenantSnapshot) -> list[PolicyChange]:
    def table(snap: TenantSnapshot) -> dict[str, dict[str, Any]]:
        return {
            p.id: p.model_dump(mode="json", include=set(_POLICY_FIELDS))
            for p in snap.conditional_access_policies.data or []
        }

    return _policy_changes(table(old), table(new), "display_name")


def _policies_from_reports(old: Report, new: Report) -> list[PolicyChange]:
    def table(report: Report) -> dict[str, dict[str, Any]]:
        ids = _app_ids(report)
        rows: dict[str, dict[str, Any]] = {}
        for row in report.conditional_access:
            data = row.model_dump(mode="json", exclude={"id", "app_object_id"})
            app = ids.get(row.app_object_id.casefold(), row.app_object_id)
            rows[f"{row.id} (app {app})"] = data
        return rows

    return _policy_changes(table(old), table(new), "display_name")


def _policy_changes(
    before: dict[str, dict[str, Any]], after: dict[str, dict[str, Any]], name_key: str
) -> list[PolicyChange]:
    changes = []
    for pid in dict.fromkeys([*before, *after]):
        was, now = before.get(pid), after.get(pid)
        if was == now:
            continue
        name = (now or was or {}).get(name_key)
        if was is None or now is None:
            changes.append(
                PolicyChange(id=pid, name=name, change="added" if was is None else "removed")
            )
            continue
        fields = {
            k: (was.get(k), now.get(k))
            for k in dict.fromkeys([*was, *now])
            if was.get(k) != now.get(k)
        }
        changes.append(PolicyChange(id=pid, name=name, change="changed", fields=fields))
    return changes


def _settings(old: Report, new: Report) -> list[SettingChange]:
    was, now = old.settings.model_dump(mode="json"), new.settings.model_dump(mode="json")
    return [
        SettingChange(setting=k, before=was.get(k), after=now.get(k))
        for k in dict.fromkeys([*was, *now])
        if was.get(k) != now.get(k)
    ]


def diff_reports(
    old: Report,
    new: Report,
    *,
    before_label: str,
    after_label: str,
    snapshots: tuple[TenantSnapshot, TenantSnapshot] | None = None,
) -> TenantDiff:
    """Compare two reports of one tenant; with both snapshots, policies are compared in full."""
    verdicts = _verdicts(old, new)
    before_refs, after_refs = _refs(old), _refs(new)
    appeared = [r for k, r in after_refs.items() if k not in before_refs]
    resolved = [r for k, r in before_refs.items() if k not in after_refs]
    why = [
        f"{v.feature}{' app ' + v.app_id if v.app_id else ''}: "
        f"{v.before.value if v.before else 'absent'} -> {v.after.value if v.after else 'absent'}"
        for v in verdicts
        if v.worse
    ] + [f"new error {r.id} ({r.fingerprint})" for r in appeared if r.severity is Severity.ERROR]
    policies = (
        _policies_from_snapshots(*snapshots) if snapshots else _policies_from_reports(old, new)
    )
    security = security_from_snapshots(*snapshots) if snapshots else security_from_reports(old, new)
    return TenantDiff(
        before=before_label,
        after=after_label,
        verdicts=verdicts,
        appeared=appeared,
        resolved=resolved,
        grants=_grants(old, new),
        policies=policies,
        settings=_settings(old, new),
        security=security,
        security_compared="snapshots" if snapshots else "reports",
        worse=bool(why),
        why_worse=why,
    )
