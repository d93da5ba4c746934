"""A verdict never contradicts its own fields (issue #9), on every example tenant and the demo,
tenant-wide and for every --user in expectations.toml.

- ``pass``    => no missing scope, and no error or warning finding affects the feature;
- ``fail``    => at least one error finding affects it;
- ``warn``    => no error, at least one warning, nothing unreadable that it needs;
- ``unknown`` => no error, and a part it needs could not be read (DATA_UNAVAILABLE or
  CA_UNREADABLE or CA_POLICY_UNDETERMINED names that feature);
- a per-app verdict depends only on that app's findings and tenant-level ones;
- the headline verdict is that of the app in use (``app_in_use``), or the worst app when the
  report says it cannot tell.

No causal-chain link passes unless the part of the tenant it rests on was read (issue 18):
every example and the demo, with each such part in turn unread (not collected, refused, or
the sign-in log without its background refreshes), must show that link as anything but
``pass`` -- ``not_checked`` for the Session link, ``unknown`` for the others.

The checks read only the JSON report, as a CI job would.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from consent_audit.evaluate import evaluate
from consent_audit.manifest import load_manifest
from consent_audit.snapshot import (
    Part,
    PartStatus,
    TenantSnapshot,
    load_snapshot,
)

from .test_examples import EXAMPLES, _checks, _id

UNREADABLE = {"DATA_UNAVAILABLE", "CA_UNREADABLE", "CA_POLICY_UNDETERMINED"}
RANK = {"pass": 0, "warn": 1, "unknown": 2, "fail": 3}


def _report(check: dict[str, Any]) -> dict[str, Any]:
    snap = load_snapshot((EXAMPLES / check["snapshot"]).resolve())
    data: dict[str, Any] = json.loads(
        evaluate(snap, load_manifest(), user=check.get("user")).model_dump_json()
    )
    return data


def _affecting(
    findings: list[dict[str, Any]], feature: str, app: str | None
) -> list[dict[str, Any]]:
    """Findings that bear on (feature, app): the app's own and tenant-level ones."""
    return [
        f
        for f in findings
        if feature in f["features"]
        and (app is None or f["app_object_id"] is None or f["app_object_id"] == app)
    ]


def _violations(
    status: str, missing: list[str], findings: list[dict[str, Any]], where: str
) -> list[str]:
    severities = {f["severity"] for f in findings}
    unreadable = any(f["id"] in UNREADABLE for f in findings)
    errors = "error" in severities
    problems: list[str] = []
    if status == "pass" and (missing or errors or "warning" in severities):
        problems.append(f"{where}: pass with missing {missing} / severities {severities}")
    if status == "fail" and not errors:
        problems.append(f"{where}: fail without an error finding")
    if status == "warn" and (errors or "warning" not in severities or unreadable):
        problems.append(f"{where}: warn with severities {severities}, unreadable={unreadable}")
    if status == "unknown" and (errors or not unreadable):
        problems.append(f"{where}: unknown with errors={errors}, unreadable={unreadable}")
    return problems


@pytest.mark.parametrize("check", _checks(), ids=_id)
def test_every_verdict_agrees_with_its_own_fields(check: dict[str, Any]) -> None:
    data = _report(check)
    problems: list[str] = []
    # The headline is the app Recruitee uses; only when that is undecided, the worst app.
    in_use = (data["app_in_use"] or {}).get("object_id")
    for feature in data["features"]:
        name = feature["name"]
        headline = _affecting(data["findings"], name, in_use)
        problems += _violations(
            feature["status"], feature["missing_scopes"], headline, f"{name} (headline)"
        )
        if in_use is not None:
            chosen = next(a for a in feature["apps"] if a["object_id"] == in_use)
            assert chosen["status"] == feature["status"], name
            assert chosen["missing_scopes"] == feature["missing_scopes"], name
        for app in feature["apps"]:
            own = _affecting(data["findings"], name, app["object_id"])
            where = f"{name} (app {app['app_id']})"
            problems += _violations(app["status"], app["missing_scopes"], own, where)
            # Per app: only its own and tenant-level findings are named.
            ids = {f["id"] for f in own if f["severity"] != "info"}
            assert set(app["finding_ids"]) == ids, where
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("check", _checks(), ids=_id)
def test_summary_counts_and_status_follow_the_features(check: dict[str, Any]) -> None:
    data = _report(check)
    statuses = [f["status"] for f in data["features"]]
    summary = data["summary"]
    for status in RANK:
        assert summary[f"features_{status}"] == statuses.count(status), status
    assert summary["status"] == max(statuses, key=RANK.__getitem__)


# What each link of the chain rests on, written from Entra's side, not read from the code:
# the user object; the service principals; the grants and the Graph service principal they
# point at; the assignments (unless the app does not require assignment, which the service
# principal itself says); the Conditional Access policies; the sign-in log, including the
# background (non-interactive) refreshes that only it shows.
BACKGROUND_SIGN_INS_UNREAD = "background (non-interactive) sign-ins could not be read"
"""The collector's note when Graph beta refuses the background refreshes."""


def _rests_on(snap: TenantSnapshot, link: str, app_object_id: str | None) -> bool:
    apps = [
        a
        for a in snap.recruitee_apps.data or []
        if app_object_id is None or a.service_principal.id == app_object_id
    ]
    if link == "user":
        return all(u.user.ok for u in snap.users)
    if link == "app":
        return snap.recruitee_apps.ok
    if link == "consent":
        return (
            bool(apps)
            and snap.recruitee_apps.ok
            and snap.graph_service_principal.ok
            and all(a.oauth2_permission_grants.ok for a in apps)
        )
    if link == "assignment":
        return bool(apps) and all(
            a.service_principal.app_role_assignment_required is False or a.app_role_assigned_to.ok
            for a in apps
        )
    if link == "conditional_access":
        return snap.conditional_access_policies.ok
    if link == "session":
        return (
            bool(apps)
            and snap.sign_ins.ok
            and not any(BACKGROUND_SIGN_INS_UNREAD in gap for gap in snap.sign_ins.gaps)
        )
    raise AssertionError(f"a chain link the test does not know: {link}")


def _unread(status: PartStatus) -> Part[Any]:
    return Part(status=status, message="not read", permission="Some.Permission")


def _without(snap: TenantSnapshot, part: str, status: PartStatus) -> TenantSnapshot:
    """``snap`` with one part not read (``status``); per-app parts on every app."""
    if part in ("oauth2_permission_grants", "app_role_assigned_to"):
        apps = [
            a.model_copy(update={part: _unread(status)}) for a in snap.recruitee_apps.data or []
        ]
        return snap.model_copy(
            update={"recruitee_apps": snap.recruitee_apps.model_copy(update={"data": apps})}
        )
    if part == "user":
        users = [u.model_copy(update={"user": _unread(status)}) for u in snap.users]
        return snap.model_copy(update={"users": users})
    if part == "background_sign_ins":
        gap = f"{BACKGROUND_SIGN_INS_UNREAD} from Graph beta: forbidden"
        return snap.model_copy(
            update={"sign_ins": snap.sign_ins.model_copy(update={"gaps": [gap]})}
        )
    return snap.model_copy(update={part: _unread(status)})


KNOCKED_OUT = [
    ("user", PartStatus.FORBIDDEN),
    ("recruitee_apps", PartStatus.FORBIDDEN),
    ("graph_service_principal", PartStatus.ERROR),
    ("oauth2_permission_grants", PartStatus.FORBIDDEN),
    ("app_role_assigned_to", PartStatus.FORBIDDEN),
    ("conditional_access_policies", PartStatus.FORBIDDEN),
    ("sign_ins", PartStatus.NOT_COLLECTED),
    ("sign_ins", PartStatus.FORBIDDEN),
    ("sign_ins", PartStatus.NOT_LICENSED),
    ("background_sign_ins", PartStatus.OK),
]


def _passing_links_without_evidence(snap: TenantSnapshot, user: str | None) -> list[str]:
    data = json.loads(evaluate(snap, load_manifest(), user=user).model_dump_json())
    in_use = (data["app_in_use"] or {}).get("object_id")
    return [
        f"{feature['name']}: {link['name']} passes ({link['detail']})"
        for feature in data["features"]
        for link in feature["chain"]
        if link["status"] == "pass" and not _rests_on(snap, link["name"], in_use)
    ]


@pytest.mark.parametrize("check", _checks(), ids=_id)
def test_no_chain_link_passes_unless_what_it_rests_on_was_read(check: dict[str, Any]) -> None:
    snap = load_snapshot((EXAMPLES / check["snapshot"]).resolve())
    user = check.get("user")
    problems = _passing_links_without_evidence(snap, user)
    for part, status in KNOCKED_OUT:
        if part == "user" and user is None:
            continue
        problems += [
            f"{part} {status.value}: {p}"
            for p in _passing_links_without_evidence(_without(snap, part, status), user)
        ]
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("check", _checks(), ids=_id)
def test_a_session_link_without_the_sign_in_log_is_not_checked_and_says_how(
    check: dict[str, Any],
) -> None:
    """Not pass and not a failure: ``not_checked``, naming --with-logs; the feature verdict
    itself still rests on configuration (it is never ``not_checked``)."""
    snap = load_snapshot((EXAMPLES / check["snapshot"]).resolve())
    blind = _without(snap, "sign_ins", PartStatus.NOT_COLLECTED)
    data = json.loads(evaluate(blind, load_manifest(), user=check.get("user")).model_dump_json())
    for feature in data["features"]:
        assert feature["status"] != "not_checked"
        session = next((link for link in feature["chain"] if link["name"] == "session"), None)
        if session is None or session["status"] in ("fail", "warn", "unknown"):
            continue
        assert session["status"] == "not_checked", feature["name"]
        # With no Recruitee app there is nothing whose sign-ins the log could show.
        genuine = [a for a in data["apps"] if a["identity"] != "lookalike"]
        assert "--with-logs" in session["detail"] or not genuine, session
