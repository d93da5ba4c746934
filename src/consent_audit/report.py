"""The report model: what every renderer (text, JSON, ...) receives.

Verdicts are computed once, by evaluation; renderers only present this model. Its JSON
Schema is committed at docs/report.schema.json and a test fails when the two drift.
"""

# No ``from __future__ import annotations`` here: pydantic would evaluate every field's
# annotation from its string (a compile and an eval per field, ~5 ms of start-up for the
# ~100 model classes; docs/performance.md, Start-up).

import json
from datetime import date, datetime
from enum import Enum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from consent_audit.severity import Severity as Severity  # defined apart, without pydantic

REPORT_SCHEMA_VERSION = 1


def _no_items() -> list[Any]:
    """The ``default_factory`` of list fields: a new empty list, as ``list`` makes. pydantic
    asks each factory's signature whether it takes the validated data; for the builtin ``list``
    that answer costs ~0.15 ms per field at import (docs/performance.md, Start-up)."""
    return []


class ReportModel(BaseModel):
    """``defer_build``: each report class builds its validator when first used, so a run
    builds those it makes (and ``Report`` reuses them) and no others (docs/performance.md)."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


class VerdictStatus(str, Enum):
    """Whether Recruitee can sync a feature, as an admin reads it.

    - ``pass``: it works; no missing scope, no error or warning finding affects it.
    - ``warn``: it works, with a caveat that needs attention (a warning finding, no error).
    - ``fail``: it does not work now (at least one error finding affects it).
    - ``unknown``: no error was found, but a part of the tenant it depends on could not be
      read, so it cannot be called working.
    - ``not_checked``: only ever a causal-chain link, never a feature: the evidence the link
      rests on was not read (the Session link without a sign-in log), so it is neither pass
      nor a failure. The feature's verdict rests on configuration; the report says how to
      check the link.
    """

    PASS = "pass"
    WARN = "warn"
    FAIL = "fail"
    UNKNOWN = "unknown"
    NOT_CHECKED = "not_checked"

    @property
    def rank(self) -> int:
        """Worse is higher: a feature (or a report) takes the worst status of its parts."""
        return {"pass": 0, "not_checked": 1, "warn": 2, "unknown": 3, "fail": 4}[self.value]


STATUS_WORD = {
    VerdictStatus.PASS: "PASS",
    VerdictStatus.WARN: "WARN",
    VerdictStatus.FAIL: "FAIL",
    VerdictStatus.UNKNOWN: "UNKNOWN",
    VerdictStatus.NOT_CHECKED: "NOT CHECKED",
}
"""The word every output prints for a status. Defined once, beside the statuses, where both
the prediction (evaluate) and every renderer already import the report model from."""


class RemediationStep(ReportModel):
    """One step of a fix: the admin-center path and, where there is one, the API equivalent.

    ``plan_step`` names the step of the report's fix plan that carries this change: a
    finding never builds its own Graph request for something the plan does, so two findings
    cannot print requests that undo each other.
    """

    action: str
    portal_path: str | None = None
    graph: str | None = None
    powershell: str | None = None
    url: str | None = None
    plan_step: int | None = None


APP_ADMINS = "Cloud Application Administrator or Application Administrator"
LEAST_PRIVILEGED_ROLE = {
    "DelegatedPermissionGrant.ReadWrite.All": APP_ADMINS,
    "Application.ReadWrite.All": APP_ADMINS,
    "AppRoleAssignment.ReadWrite.All": APP_ADMINS,
}
"""The least-privileged directory role for each write a plan step makes. Delegated consent to
any API, Microsoft Graph included, can be granted by a Cloud Application Administrator or
Application Administrator; Privileged Role Administrator is needed only for app roles
(application permissions), which no step grants (entra-docs grant-admin-consent.md,
Prerequisites). App properties and user assignments: the same two roles
(assign-user-or-group-access-portal.md)."""


class PlanStep(ReportModel):
    """One step of the audit's single fix plan, in the order it should be taken.

    ``kind`` is ``graph`` for a change consent-audit can make (``fix --apply`` sends
    ``method`` ``path`` with ``body`` under ``/v1.0``), ``manual`` for a decision a person takes
    in the admin center (tenant-wide policy, Conditional Access): those carry the path and the
    trade-off, never a one-line request.
    """

    number: int
    kind: Literal["graph", "manual"]
    summary: str
    finding_ids: list[str]
    features: list[str] = Field(default_factory=_no_items)
    app_object_id: str | None = None
    portal_path: str | None = None
    method: Literal["PATCH", "POST"] | None = None
    path: str | None = None
    body: dict[str, Any] | None = None
    powershell: str | None = None
    permission: str | None = None
    scopes: list[str] = Field(default_factory=_no_items)
    """Every Graph permission the request needs (least privilege, from its API page): what
    ``Connect-MgGraph -Scopes`` asks for before it."""
    names: dict[str, str] = Field(default_factory=dict)
    """What each id in the request is ("Microsoft Graph", "Recruitee (appId ...)", a user)."""
    detail: str | None = None
    trade_off: str | None = None
    instead_of: int | None = None
    """The step this one is the broader alternative to (take one or the other): a person's
    own consent comes first when they may give it, the tenant-wide grant instead of it.
    ``fix --apply`` never waits on the step it replaces (evaluate/fixes.writes_in_order)."""

    @property
    def graph(self) -> str | None:
        """The request as one copyable line: ``PATCH /v1.0/... {json}``."""
        if self.method is None or self.path is None:
            return None
        return f"{self.method} /v1.0{self.path} {json.dumps(self.body or {})}"

    @property
    def connect(self) -> str | None:
        """``Connect-MgGraph -Scopes ...`` that the PowerShell lines need."""
        from consent_audit.commands import UnsafeValueError, connect_line

        if self.method is None or not self.scopes:
            return None
        try:
            return connect_line(self.scopes)
        except UnsafeValueError:
            return None

    @property
    def invoke(self) -> str | None:
        """The request as ``Invoke-MgGraphRequest``."""
        from consent_audit.commands import UnsafeValueError, invoke_line

        if self.method is None or self.path is None:
            return None
        try:
            return invoke_line(self.method, self.path, self.body)
        except UnsafeValueError:
            return None

    @property
    def az_rest(self) -> str | None:
        """The request as ``az rest`` for a POSIX shell."""
        from consent_audit.commands import UnsafeValueError, az_rest_line

        if self.method is None or self.path is None:
            return None
        try:
            return az_rest_line(self.method, self.path, self.body)
        except UnsafeValueError:
            return None


class FindingSubject(ReportModel):
    """The objects a finding is about: what its fingerprint hashes (fingerprint.py)."""

    app_id: str | None = None
    feature: str | None = None
    policy_id: str | None = None
    user_id: str | None = None
    part: str | None = None


class Acceptance(ReportModel):
    """A baseline entry accepts this finding: it stays in the report but does not fail the run."""

    reason: str
    expires: date | None = None
    entry: int
    """1-based position of the ``[[accept]]`` entry in the baseline file."""


class Finding(ReportModel):
    id: str
    severity: Severity
    title: str
    detail: str
    features: list[str] = Field(default_factory=_no_items)
    app_object_id: str | None = None
    evidence: dict[str, Any] = Field(default_factory=dict)
    remediation: list[RemediationStep] = Field(default_factory=_no_items)
    subject: FindingSubject | None = None
    """Set by evaluation (with ``fingerprint``); ``None`` only on a finding still being built."""
    fingerprint: str | None = None
    """Stable across runs, machines and redaction: the code and the subject, hashed."""
    accepted: Acceptance | None = None


class AppSummary(ReportModel):
    app_id: str
    object_id: str
    display_name: str | None
    account_enabled: bool | None
    assignment_required: bool | None
    verified_publisher: str | None = None
    in_use: bool | None = None
    """True for the app Recruitee uses, False for a leftover or a look-alike, None when it
    cannot be told."""
    owner_tenant_id: str | None = None
    """``appOwnerOrganizationId``: the tenant the application is registered in (None: Graph
    did not say). Recruitee's is Recruitee's own tenant, never the audited one."""
    sign_in_audience: str | None = None
    verified_publisher_id: str | None = None
    """``verifiedPublisher.verifiedPublisherId`` (Partner Center id), None when unverified."""
    identity: Literal["pinned", "multi_tenant", "unconfirmed", "lookalike"] = "unconfirmed"
    """Whose application it is by its own properties (evaluate/identity.py): a ``lookalike``
    is named like Recruitee but is not its application (APP_LOOKALIKE)."""
    identity_note: str = ""


class AppInUse(ReportModel):
    """Which Recruitee app the headline verdicts are about (several may match).

    ``object_id`` is None when nothing tells the apps apart: each headline verdict is then
    the worst app's, and ``sentence`` says so. The fix plan targets only ``object_id``.
    """

    object_id: str | None
    app_id: str | None
    chosen_by: Literal[
        "only_app",
        "app_id_option",
        "known_app_id",
        "sign_ins",
        "only_enabled_with_grants",
        "undecided",
    ]
    sentence: str
    owner_tenant_id: str | None = None
    """The app in use's ``appOwnerOrganizationId``, to confirm with Recruitee."""
    verified_publisher: str | None = None
    verified_publisher_id: str | None = None
    identity: Literal["pinned", "multi_tenant", "unconfirmed", "lookalike"] | None = None


class ScopeConsent(ReportModel):
    """Per required scope: who granted it, and whether a regular user could consent to it."""

    scope: str
    granted: Literal["admin", "user", "no", "unknown"]
    user_consent: Literal["users can consent", "only admins can consent", "unknown"]
    reason: str
    policy_id: str | None = None


class AppFeatureVerdict(ReportModel):
    object_id: str
    app_id: str
    status: VerdictStatus
    missing_scopes: list[str]
    admin_consent_covers: bool | None = None
    """The admin (AllPrincipals) grant alone covers every scope; None when unreadable."""
    people_covered: int | None = None
    """When the admin grant alone does not cover the feature: how many people their own grant,
    with the admin grant, covers. None when the admin grant covers everyone, or when not
    every grant was read."""
    finding_ids: list[str] = Field(default_factory=_no_items)
    scopes: list[ScopeConsent] = Field(default_factory=_no_items)


class ChainLink(ReportModel):
    """One link of the causal chain for a feature: app -> scopes -> assignment -> CA."""

    name: str
    status: VerdictStatus
    detail: str


class FeatureVerdict(ReportModel):
    name: str
    title: str
    status: VerdictStatus
    missing_scopes: list[str]
    """Not covered for the audited principal: by the admin grant (tenant-wide), or by the
    admin grant plus the user's own grant (with --user)."""
    required_scopes: list[str]
    admin_consent_covers: bool | None = None
    people_covered: int | None = None
    apps: list[AppFeatureVerdict] = Field(default_factory=_no_items)
    chain: list[ChainLink] = Field(default_factory=_no_items)


class SourceInfo(ReportModel):
    kind: Literal["snapshot", "demo", "live"]
    path: str | None = None
    collected_at: datetime
    redacted: bool = False
    reported_by: str | None = Field(default=None, exclude_if=lambda v: v is None)
    """The person the snapshot was taken for, who reported the problem (its first
    ``snapshot --user``); a snapshot may hold other users for comparison. Absent when the
    snapshot does not say (older snapshots, the demo, a live run)."""


class TenantSummary(ReportModel):
    id: str
    default_domain: str | None = None
    display_name: str | None = None


class UserSummary(ReportModel):
    query: str
    id: str | None = None
    user_principal_name: str | None = None
    display_name: str | None = None
    account_enabled: bool | None = None


class GrantRow(ReportModel):
    app_object_id: str
    grant_id: str
    consent_type: str
    principal_id: str | None
    resource: str
    scopes: list[str]


class UserGrantsSummary(ReportModel):
    """Per-user (``Principal``) grants are summarised: a large tenant has thousands."""

    app_object_id: str
    count: int
    scope_counts: dict[str, int]


class TenantSettings(ReportModel):
    user_consent: str
    user_consent_policies: list[str] = Field(default_factory=_no_items)
    admin_consent_workflow: str
    admin_consent_reviewers: int | None = None
    app_registration_by_users: str
    conditional_access: str
    conditional_access_policies: int | None = None


class DecidedBy(str, Enum):
    """Who decided whether a Conditional Access policy applies (evaluate/what_if.py)."""

    MICROSOFT_WHAT_IF = "microsoft_what_if"
    """Entra's own What-If (POST /identity/conditionalAccess/evaluate) answered it."""
    STATIC_RULES = "static_rules"
    """consent-audit's reading of the policy: the What-If was not asked, refused, absent,
    or answered notEnoughInformation (a condition the request could not give)."""
    BOTH = "both"
    """Microsoft for some resources, the static reading for the others."""


class WhatIfAvailability(str, Enum):
    ANSWERED = "answered"
    PARTLY_ANSWERED = "partly_answered"
    REFUSED = "refused"
    ABSENT = "absent"
    NOT_ASKED = "not_asked"


class ConditionalAccessSource(ReportModel):
    """For a --user check: which source decided which policies apply, and why."""

    decided_by: DecidedBy
    what_if: WhatIfAvailability
    detail: str


class CaPrincipal(ReportModel):
    """A user, group or directory role a Conditional Access policy names, by the best name the
    snapshot holds, or for a role Microsoft's built-in role name (evaluate/ca_names.py);
    ``display_name`` is None when there is none (a role then is not a built-in one)."""

    kind: str
    """``user``, ``group`` or ``role`` (a directory role template id)."""
    id: str
    display_name: str | None = None


class ConditionalAccessRow(ReportModel):
    """A Conditional Access policy that targets Recruitee, and what it does to it."""

    id: str
    display_name: str | None
    state: str
    app_object_id: str
    targets: str
    users: str
    """Who it targets in one line: the first few of each kind by name, then "and N more"."""
    included: list[CaPrincipal] = Field(default_factory=_no_items)
    """Every user, group and role it includes by id (``All`` and guests are in ``users``)."""
    excluded: list[CaPrincipal] = Field(default_factory=_no_items)
    """Every user, group and role it excludes: whether the person who syncs is among them."""
    applies_to_user: bool | None = None
    grant_controls: list[str] = Field(default_factory=_no_items)
    session_controls: list[str] = Field(default_factory=_no_items)
    conditions: list[str] = Field(default_factory=_no_items)
    effect: str
    decided_by: DecidedBy = DecidedBy.STATIC_RULES
    """Who decided whether it applies to the user (``applies_to_user``)."""
    what_if: list[str] = Field(default_factory=_no_items)
    """Entra's What-If answers about it, one per resource asked, in words."""


class Summary(ReportModel):
    errors: int
    warnings: int
    infos: int
    features_pass: int
    features_warn: int
    features_fail: int
    features_unknown: int
    status: VerdictStatus


class BaselineEntryResult(ReportModel):
    """What one baseline entry did in this run."""

    entry: int
    state: Literal["applied", "expired", "stale"]
    """``applied`` accepted at least one finding; ``expired`` is past its date and accepted
    nothing; ``stale`` matched no finding (the problem is gone, or the entry is wrong)."""
    reason: str
    expires: date | None = None
    fingerprint: str | None = None
    code: str | None = None
    app_id: str | None = None
    feature: str | None = None
    matched: list[str] = Field(default_factory=_no_items)
    """Fingerprints of the findings the entry matches (also when expired)."""


class BaselineResult(ReportModel):
    path: str
    entries: list[BaselineEntryResult]


FailOnLevel = Literal["info", "warning", "unknown", "error", "never"]


class Gate(ReportModel):
    """How the exit code was decided: the ``--fail-on`` level, the baseline, what counted."""

    fail_on: FailOnLevel
    exit_code: Literal[0, 1]
    reason: str
    failing: list[str] = Field(default_factory=_no_items)
    """Fingerprints of the findings that make the run fail (none accepted)."""
    accepted: int = 0
    baseline: BaselineResult | None = None


class AuditOptions(ReportModel):
    """The options that shaped this audit besides its source and user: a suggested command
    (``consent-audit fix ...``) carries them, so run as printed it answers the same question."""

    app_ids: list[str] = Field(default_factory=_no_items)
    """``--app-id``: only these Recruitee apps were audited."""
    features: list[str] = Field(default_factory=_no_items)
    """``--feature``: only these features (empty: every feature of the manifest)."""
    manifest_path: str | None = None
    """``--manifest``: the file the required scopes came from (None: the bundled one)."""
    tenant_only: bool = False
    """``--tenant-only``: a snapshot's user was left out on purpose."""


class PredictedFeature(ReportModel):
    name: str
    title: str
    status: VerdictStatus


class Prediction(ReportModel):
    """What the plan's Graph steps lead to, worked out offline before anything is sent.

    The steps are applied to the audited snapshot as Graph would apply their requests
    (evaluate/simulate.py) and the result audited again with the same options: the verdicts
    after ``steps``, and who must still act (``people_must_reconnect``; ``manual_steps`` a
    person decides). ``fix --apply`` compares its own re-audit with it.
    """

    steps: list[int]
    features: list[PredictedFeature]
    people_must_reconnect: int | None = None
    """People whose own consent (after they reconnect) is still needed for a feature that is
    not covered for everyone; None when it cannot be counted."""
    manual_steps: list[int] = Field(default_factory=_no_items)
    """Steps the prediction does not apply: a person decides or acts (admin center)."""
    summary: str


class Report(ReportModel):
    schema_version: int = REPORT_SCHEMA_VERSION
    tool_version: str
    generated_at: datetime
    source: SourceInfo
    tenant: TenantSummary
    user: UserSummary | None = None
    manifest: str
    apps: list[AppSummary]
    app_in_use: AppInUse | None = None
    features: list[FeatureVerdict]
    findings: list[Finding]
    settings: TenantSettings
    grants: list[GrantRow] = Field(default_factory=_no_items)
    user_grants: list[UserGrantsSummary] = Field(default_factory=_no_items)
    conditional_access: list[ConditionalAccessRow] = Field(default_factory=_no_items)
    conditional_access_source: ConditionalAccessSource | None = None
    """With --user: whether Entra's What-If or the static reading decided which policies
    apply (per policy: ``conditional_access[].decided_by``)."""
    plan: list[PlanStep] = Field(default_factory=_no_items)
    """The one fix plan, ordered along the causal chain; every request any output shows."""
    prediction: Prediction | None = None
    """The verdicts once the plan's Graph steps are made (None: the plan has none)."""
    options: AuditOptions = Field(default_factory=AuditOptions)
    summary: Summary
    gate: Gate

    def findings_at_or_above(self, severity: Severity) -> list[Finding]:
        return [f for f in self.findings if f.severity.rank >= severity.rank]
