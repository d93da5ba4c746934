"""Risk-based step-up consent is read, not assumed (issue 18: "step-up / 90094 tied to the
admin-consent-workflow state (read BlockUserConsentForRiskyApps where readable, else say
unknown)").

entra-docs configure-risk-based-step-up-consent.md: the setting lives in the "Consent Policy
Settings" directory setting (template dffd5d46-495d-40a9-8e21-954ff55e198a), "enabled by
default"; "If they aren't created, use the values from the corresponding directory settings
template". v1.0 reads it with GET /groupSettings (groupsetting-list.md), values as strings.
"""

from __future__ import annotations

import json
from pathlib import Path

from consent_audit.catalog import graph_catalog
from consent_audit.evaluate import evaluate
from consent_audit.evaluate.consent_policy import ConsentDecision, decide
from consent_audit.evaluate.context import AuditContext
from consent_audit.evaluate.coverage import consent_inputs
from consent_audit.graph_objects import (
    CONSENT_POLICY_SETTINGS_TEMPLATE_ID,
    AdminConsentRequestPolicy,
    GroupSetting,
    SettingValue,
)
from consent_audit.manifest import load_manifest
from consent_audit.snapshot import Part, PartStatus, TenantSnapshot, load_snapshot, parse_snapshot

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "tenants"


def _recommended() -> TenantSnapshot:
    return load_snapshot(EXAMPLES / "recommended-policy.json")


def _settings(*objects: GroupSetting) -> Part[list[GroupSetting]]:
    return Part[list[GroupSetting]](data=list(objects))


def _consent_object(value: str | None) -> GroupSetting:
    values = (
        [] if value is None else [SettingValue(name="BlockUserConsentForRiskyApps", value=value)]
    )
    return GroupSetting(
        id="5d3f8a6e-3c59-4a8b-9b0e-6b1f0d3c2a11",
        display_name="Consent Policy Settings",
        template_id=CONSENT_POLICY_SETTINGS_TEMPLATE_ID,
        values=values,
    )


def _mail_send(snap: TenantSnapshot) -> ConsentDecision:
    """Mail.Send (non-basic; the recommended policy does not exclude it), for Recruitee (no
    verified publisher in the example): the decision step-up consent is a caveat on."""
    m = load_manifest()
    ctx = AuditContext(snapshot=snap, manifest=m, full_manifest=m, catalog=graph_catalog())
    app = snap.recruitee_apps.data[0].service_principal  # type: ignore[index]
    return decide("Mail.Send", app, consent_inputs(ctx))


def _workflow(snap: TenantSnapshot, on: bool) -> TenantSnapshot:
    acr = Part[AdminConsentRequestPolicy](data=AdminConsentRequestPolicy(is_enabled=on))
    return snap.model_copy(update={"admin_consent_request_policy": acr})


def test_the_example_reads_step_up_on_and_the_workflow_on_gives_a_request_not_90094() -> None:
    decision = _mail_send(_recommended())
    assert decision.allowed is True
    assert "step-up consent, on (BlockUserConsentForRiskyApps is true)" in decision.reason
    assert "AADSTS90095" in decision.reason
    assert "AADSTS90094" not in decision.reason
    assert "unknown" not in decision.reason


def test_no_consent_policy_settings_object_means_step_up_on_by_default() -> None:
    snap = _workflow(
        _recommended().model_copy(update={"consent_policy_settings": _settings()}), False
    )
    reason = _mail_send(snap).reason
    assert "on by default (the tenant has no Consent Policy Settings object" in reason
    assert "users see AADSTS90094, as admin consent requests are off" in reason


def test_an_object_without_the_value_takes_the_templates_default() -> None:
    snap = _recommended().model_copy(
        update={"consent_policy_settings": _settings(_consent_object(None))}
    )
    assert (
        "on by default (the Consent Policy Settings object does not set" in _mail_send(snap).reason
    )


def test_step_up_off_promises_neither_90094_nor_a_request() -> None:
    for value in ("false", "False", " FALSE "):
        snap = _workflow(
            _recommended().model_copy(
                update={"consent_policy_settings": _settings(_consent_object(value))}
            ),
            False,
        )
        reason = _mail_send(snap).reason
        assert "step-up consent is off (BlockUserConsentForRiskyApps is false)" in reason, value
        assert "AADSTS9009" not in reason


def test_a_value_neither_true_nor_false_is_unknown() -> None:
    snap = _recommended().model_copy(
        update={"consent_policy_settings": _settings(_consent_object("yes"))}
    )
    reason = _mail_send(snap).reason
    assert "whether step-up is on is unknown" in reason
    assert "neither true nor false" in reason


def test_unreadable_settings_are_unknown_and_named() -> None:
    forbidden = Part[list[GroupSetting]](
        status=PartStatus.FORBIDDEN, permission="Directory.Read.All"
    )
    snap = _recommended().model_copy(update={"consent_policy_settings": forbidden})
    reason = _mail_send(snap).reason
    assert "whether step-up is on is unknown" in reason
    assert "could not be read (forbidden; reading them needs Directory.Read.All)" in reason
    m = load_manifest()
    report = evaluate(snap, m, full_manifest=m)
    named = [
        f
        for f in report.findings
        if f.id == "DATA_UNAVAILABLE"
        and (f.evidence or {}).get("part") == "consent_policy_settings"
    ]
    assert named, [f.id for f in report.findings]


def test_a_snapshot_from_before_loads_and_says_the_setting_was_not_read() -> None:
    raw = json.loads((EXAMPLES / "recommended-policy.json").read_text())
    del raw["consent_policy_settings"]
    snap = parse_snapshot(json.dumps(raw), "old.json")
    assert snap.consent_policy_settings.status is PartStatus.NOT_COLLECTED
    reason = _mail_send(snap).reason
    assert "whether step-up is on is unknown" in reason
    assert "were not read" in reason
