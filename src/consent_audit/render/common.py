"""Wording shared by the renderers, so every format says the same thing the same way.

Only presentation lives here: labels, the first broken link of a chain, the summary line,
and the rows of the causal-chain, per-scope consent and Conditional Access sections.
Verdicts, severities and counts are read from the report, never recomputed.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from consent_audit.report import (
    STATUS_WORD,
    AppFeatureVerdict,
    ChainLink,
    FeatureVerdict,
    Finding,
    RemediationStep,
    Report,
    VerdictStatus,
    WhatIfAvailability,
)


def tenant_label(report: Report) -> str:
    t = report.tenant
    name = t.default_domain or t.display_name or t.id
    return name if name == t.id else f"{name} ({t.id})"


def _tri(value: bool | None, yes: str, no: str) -> str:
    """Graph may answer null: that is "unknown", never the reassuring or alarming default."""
    return "unknown" if value is None else yes if value else no


def apps_table(report: Report) -> PlainTable:
    """The Recruitee enterprise applications, one row each, for every format: who owns each
    (its owner tenant and verified publisher), so an admin can confirm it with Recruitee."""
    return PlainTable(
        "Recruitee enterprise applications",
        [
            "Name",
            "appId",
            "Object id",
            "Enabled",
            "Assignment required",
            "Owner tenant",
            "Publisher",
        ],
        [
            [
                (a.display_name or "-") + (" (LOOK-ALIKE)" if a.identity == "lookalike" else ""),
                a.app_id,
                a.object_id,
                _tri(a.account_enabled, "yes", "NO"),
                _tri(a.assignment_required, "yes", "no"),
                a.owner_tenant_id or "unknown",
                f"{a.verified_publisher or 'verified'} ({a.verified_publisher_id})"
                if a.verified_publisher_id
                else "unverified",
            ]
            for a in report.apps
        ],
    )


def app_identity_line(report: Report) -> str | None:
    """Whose application the app in use is, to confirm with Recruitee: its owner tenant
    (``appOwnerOrganizationId``) and verified publisher."""
    chosen = report.app_in_use
    if chosen is None or chosen.object_id is None:
        return None
    publisher = (
        f"verified publisher {chosen.verified_publisher or ''} (id {chosen.verified_publisher_id})"
        if chosen.verified_publisher_id
        else "no verified publisher"
    )
    return (
        f"Recruitee app in use: appId {chosen.app_id}, registered in tenant "
        f"{chosen.owner_tenant_id or 'unknown (Graph did not say)'}, {publisher}. Confirm these "
        "with Recruitee."
    )


def headline_status(report: Report) -> VerdictStatus:
    """The headline of every format: the worst feature verdict.

    It answers "can Recruitee sync?", so it never reads better than a feature below it;
    whether the run fails (``--fail-on``, a baseline) is the gate's line, not the headline's.
    """
    worst = max((v.status for v in report.features), key=lambda s: s.rank, default=None)
    return worst or report.summary.status


def source_label(report: Report) -> str:
    src = report.source
    origin = {
        "snapshot": f"snapshot {src.path or ''}".strip(),
        "demo": "bundled demo tenant",
        "live": "live tenant",
    }[src.kind]
    text = f"{origin}, collected {src.collected_at:%Y-%m-%d %H:%M} UTC"
    if src.reported_by:
        text += f", taken for {src.reported_by} (who reported the problem)"
    return text + (" (redacted)" if src.redacted else "")


def user_label(report: Report) -> str | None:
    if report.user is None:
        return None
    return report.user.user_principal_name or report.user.query


def first_broken(verdict: FeatureVerdict) -> ChainLink | None:
    """The verdict's reason: the first link with the feature's own status (a FAIL is not
    explained by an earlier WARN link), else the first link that does not pass."""
    if verdict.status is VerdictStatus.PASS:
        return None
    same = next((link for link in verdict.chain if link.status is verdict.status), None)
    return same or next(
        (link for link in verdict.chain if link.status is not VerdictStatus.PASS), None
    )


def why(verdict: FeatureVerdict) -> str:
    """The first link of the causal chain that does not pass, else 'all checks pass'."""
    broken = first_broken(verdict)
    return broken.detail if broken else "all checks pass"


def leftover_ids(report: Report) -> set[str]:
    """Object ids of Recruitee apps that are not the one in use (leftovers)."""
    return {a.object_id for a in report.apps if a.in_use is False}


def is_leftover_finding(report: Report, f: Finding) -> bool:
    """A finding about a leftover app: grouped under it, never a cause of a verdict."""
    return f.app_object_id is not None and f.app_object_id in leftover_ids(report)


_DECIDING_SEVERITY = {
    VerdictStatus.FAIL: ("error",),
    VerdictStatus.WARN: ("warning",),
    VerdictStatus.UNKNOWN: ("warning", "error", "info"),
}


def deciding_finding(report: Report, verdict: FeatureVerdict) -> Finding | None:
    """The finding that decides ``verdict``: the first (findings are in causal-chain order)
    that affects the feature with the severity the verdict has, never a leftover app's.

    A cause line is made from it, so the first screen says what the findings below say."""
    wanted = _DECIDING_SEVERITY.get(verdict.status)
    if wanted is None:
        return None
    leftovers = leftover_ids(report)
    mine = [
        f
        for f in report.findings
        if verdict.name in f.features and (f.app_object_id or "") not in leftovers
    ]
    if verdict.status is VerdictStatus.UNKNOWN:
        from consent_audit.gate import UNREADABLE_CODES

        mine.sort(key=lambda f: f.id not in UNREADABLE_CODES)
    # The chain's verdict link names its finding (its detail is that finding's title); the
    # missing grant itself comes before what only matters because it is missing (a policy
    # that stops users consenting, the request workflow).
    link = first_broken(verdict)
    mine.sort(key=lambda f: (link is None or f.title != link.detail, f.id != "SCOPE_MISSING"))
    return next((f for sev in wanted for f in mine if f.severity.value == sev), None)


def app_label(report: Report, object_id: str | None) -> str:
    """'Recruitee (appId …)', naming the appId so duplicates can be told apart."""
    if object_id is None:
        return "tenant"
    app = next((a for a in report.apps if a.object_id == object_id), None)
    if app is None:
        return object_id
    return f"{app.display_name or 'Recruitee'} (appId {app.app_id})"


@dataclass(frozen=True)
class VerdictRow:
    """One (app, feature) verdict; ``app`` is None when no Recruitee app was found."""

    feature: FeatureVerdict
    app: AppFeatureVerdict | None

    @property
    def status(self) -> VerdictStatus:
        return self.app.status if self.app else self.feature.status

    @property
    def missing_scopes(self) -> list[str]:
        return self.app.missing_scopes if self.app else self.feature.missing_scopes

    @property
    def finding_ids(self) -> list[str]:
        return self.app.finding_ids if self.app else []

    @property
    def why(self) -> str:
        """The feature's first broken link; with several apps, this app's finding codes.

        The causal chain is per feature (the app in use, or the worst app), so for one app of
        several the row
        names the findings recorded for it instead of a link that may be another app's.
        """
        if self.app is None or len(self.feature.apps) <= 1:
            return why(self.feature)
        if self.status is VerdictStatus.PASS and not self.finding_ids:
            return "all checks pass"
        return "findings: " + (", ".join(self.finding_ids) or "none")


def verdict_rows(report: Report) -> Iterator[VerdictRow]:
    for feature in report.features:
        if not feature.apps:
            yield VerdictRow(feature, None)
        for app in feature.apps:
            yield VerdictRow(feature, app)


def chain_scope(report: Report, verdict: FeatureVerdict) -> str:
    """' (Recruitee (appId ...), the app in use)' or ' (worst of N Recruitee apps)'."""
    if len(verdict.apps) <= 1:
        return ""
    chosen = report.app_in_use.object_id if report.app_in_use else None
    if chosen is not None:
        return f" ({app_label(report, chosen)}, the app in use)"
    return f" (worst of {len(verdict.apps)} Recruitee apps)"


def app_in_use_note(report: Report) -> str | None:
    """With several Recruitee apps: which one the verdicts are about, in one sentence."""
    choice = report.app_in_use
    return choice.sentence if choice is not None and choice.sentence else None


NOT_CHECKED_WHAT = {
    "session": "whether background refreshes succeed",
    "assignment": "whether the people who sync are assigned",
}
"""What a link that was not checked would have shown, for the first screen."""


def not_checked_line(report: Report) -> str | None:
    """One line for the first screen: which links were not checked (their evidence was not
    read) and how to check them, once however many features share it; None when all were."""
    seen: dict[str, str] = {}
    for verdict in report.features:
        if verdict.status is VerdictStatus.FAIL:
            continue  # its first failing link is the answer; what follows waits on it
        for link in verdict.chain:
            if link.status is VerdictStatus.NOT_CHECKED and link.name not in seen:
                how = link.detail.removeprefix("Not checked: ")
                seen[link.name] = f"{NOT_CHECKED_WHAT.get(link.name, link.name)}: {how}"
    return f"Not checked: {'; '.join(seen.values())}." if seen else None


def what_if_fallback_line(report: Report) -> str | None:
    """One line for the first screen when Entra's What-If was asked but refused or absent
    (403, 404): the static reading of the policies decided, and why (evaluate/what_if.py)."""
    source = report.conditional_access_source
    if source is None or source.what_if not in (
        WhatIfAvailability.REFUSED,
        WhatIfAvailability.ABSENT,
        WhatIfAvailability.PARTLY_ANSWERED,
    ):
        return None
    return f"Conditional Access: {source.detail}"


def summary_line(report: Report) -> str:
    s = report.summary
    return (
        f"{s.errors} error(s), {s.warnings} warning(s), {s.infos} info. "
        f"Features: {s.features_pass} pass, {s.features_warn} warn, {s.features_fail} fail, "
        f"{s.features_unknown} unknown."
    )


def step_lines(step: RemediationStep) -> list[tuple[str, str]]:
    """The optional parts of a remediation step as (label, value) pairs, in reading order."""
    parts = [
        ("Admin center", step.portal_path),
        ("Graph", step.graph),
        ("PowerShell", step.powershell),
        ("Docs", step.url),
    ]
    return [(label, value) for label, value in parts if value]


def finding_anchor(index: int, finding: Finding) -> str:
    return f"finding-{index}-{finding.id.lower().replace('_', '-')}"


@dataclass(frozen=True)
class PlainTable:
    """A titled table of strings: the same rows whatever the format draws them with.

    ``title`` may be empty when the section heading already says what the table is.
    """

    title: str
    headers: list[str]
    rows: list[list[str]]


# The causal chain ------------------------------------------------------------------------

VERDICT_MARK = "<- verdict"
CHAIN_LINK_LABEL = {
    "user": "User",
    "app": "App",
    "consent": "Consent",
    "assignment": "Assignment",
    "conditional_access": "Conditional Access",
    "session": "Session",
}


@dataclass(frozen=True)
class ChainStep:
    """One link of a feature's causal chain, numbered, the first broken one marked."""

    number: int
    label: str
    status: VerdictStatus
    detail: str
    is_verdict: bool

    @property
    def word(self) -> str:
        return STATUS_WORD[self.status]

    @property
    def marked_word(self) -> str:
        """'FAIL <- verdict' for the first broken link, else just the status word."""
        return f"{self.word} {VERDICT_MARK}" if self.is_verdict else self.word


def chain_heading(report: Report) -> str:
    """With --user every feature's chain is spelled out; without, only the broken ones."""
    return "Why, step by step" if report.user is not None else "Causal chain"


def chain_intro(report: Report) -> str:
    who = user_label(report)
    if who is not None:
        return (
            f"What stands between {who} and each feature, in order: "
            f"the first link that does not pass is the verdict ({VERDICT_MARK})."
        )
    return (
        "Features that do not pass: every link in order, the first one that does not pass "
        f"is the verdict ({VERDICT_MARK}). Add --user to check one user's own chain."
    )


def shows_chain(report: Report, verdict: FeatureVerdict) -> bool:
    """Whether ``verdict``'s chain is spelled out: every one with --user, else those not passing."""
    return bool(verdict.chain) and (
        report.user is not None or verdict.status is not VerdictStatus.PASS
    )


def chain_features(report: Report) -> list[FeatureVerdict]:
    """Every feature with --user; otherwise only those that fail or are unknown."""
    return [v for v in report.features if shows_chain(report, v)]


def chain_title(report: Report, verdict: FeatureVerdict) -> str:
    """'Mailbox sync: FAIL', naming which app the chain is about when there are several."""
    several = chain_scope(report, verdict)
    return f"{verdict.title}: {STATUS_WORD[verdict.status]}{several}"


def chain_steps(verdict: FeatureVerdict) -> list[ChainStep]:
    first = first_broken(verdict)
    return [
        ChainStep(
            number=n,
            label=CHAIN_LINK_LABEL.get(link.name, link.name.replace("_", " ")),
            status=link.status,
            detail=link.detail,
            is_verdict=link is first,
        )
        for n, link in enumerate(verdict.chain, 1)
    ]


# Who can consent to each scope -------------------------------------------------------------

SCOPES_HEADING = "Who can consent to each scope"
SCOPES_INTRO = (
    "Per required Microsoft Graph scope: whether it is granted (by an admin for everyone, "
    "or by users one at a time) and whether a regular user could consent to it."
)


def scope_tables(report: Report, verdict: FeatureVerdict) -> list[PlainTable]:
    """One table per Recruitee app, titled with the feature (and the app when several)."""
    tables: list[PlainTable] = []
    for app in verdict.apps:
        if not app.scopes:
            continue
        title = verdict.title
        if len(verdict.apps) > 1:
            title += f": {app_label(report, app.object_id)}"
        tables.append(
            PlainTable(
                title,
                ["Scope", "Granted", "User consent", "Reason"],
                [[s.scope, s.granted, s.user_consent, s.reason] for s in app.scopes],
            )
        )
    return tables


def all_scope_tables(report: Report) -> list[PlainTable]:
    return [table for verdict in report.features for table in scope_tables(report, verdict)]


# Conditional Access ------------------------------------------------------------------------

CA_HEADING = "Conditional Access policies that target Recruitee"
APPLIES_WORD = {True: "yes", False: "no", None: "unknown"}


def conditional_access_tables(report: Report) -> list[PlainTable]:
    """Policies that target Recruitee: one table, or one per app (titled) when several.

    The 'Applies to this user' column is there only with --user.
    """
    with_user = report.user is not None
    headers = [
        "Policy",
        "State",
        "Users",
        *(["Applies to this user"] if with_user else []),
        "Controls",
        "Session",
        "Effect on Recruitee",
    ]
    several = len(report.apps) > 1
    owners = [a.object_id for a in report.apps] if several else [None]
    tables: list[PlainTable] = []
    for owner in owners:
        rows = [
            [
                row.display_name or row.id,
                row.state,
                row.users,
                *([APPLIES_WORD[row.applies_to_user]] if with_user else []),
                ", ".join(row.grant_controls) or "-",
                ", ".join(row.session_controls) or "-",
                row.effect,
            ]
            for row in report.conditional_access
            if owner is None or row.app_object_id == owner
        ]
        if rows:
            title = app_label(report, owner) if owner is not None else ""
            tables.append(PlainTable(title, headers, rows))
    return tables


def conditional_access_note(report: Report) -> str | None:
    """What to say above the policy table: that no policy row was reported, and, with --user,
    whether Entra's What-If or the static reading decided which policies apply."""
    notes: list[str] = []
    if not report.conditional_access:
        notes.append(
            "No policy that targets Recruitee was found "
            f"(Conditional Access in this tenant: {report.settings.conditional_access})."
        )
    if report.conditional_access_source is not None:
        notes.append(report.conditional_access_source.detail)
    return " ".join(notes) or None


def fails_run(report: Report, f: Finding) -> bool:
    """Whether this finding is one that makes ``check`` exit 1 (the report's own gate)."""
    return (f.fingerprint or f.id) in report.gate.failing


def acceptance_note(f: Finding) -> str | None:
    """ "Accepted: <reason>" for a finding the baseline accepts; ``None`` otherwise."""
    if f.accepted is None:
        return None
    until = f" (until {f.accepted.expires.isoformat()})" if f.accepted.expires else ""
    return f"Accepted by baseline entry {f.accepted.entry}: {f.accepted.reason}{until}"


def gate_differs(report: Report) -> bool:
    """Whether the exit code is not what the headline alone suggests (FAIL exits 1): then
    the first screen shows the gate's line too (--fail-on, a baseline)."""
    gate = report.gate
    fails = headline_status(report) is VerdictStatus.FAIL
    return gate.fail_on != "error" or gate.baseline is not None or fails != (gate.exit_code == 1)


def gate_lines(report: Report) -> list[str]:
    """The exit code and why, then baseline entries that expired or matched nothing."""
    gate = report.gate
    lines = [f"Exit code {gate.exit_code} (--fail-on {gate.fail_on}): {gate.reason}"]
    if gate.baseline is None:
        return lines
    for entry in gate.baseline.entries:
        what = entry.fingerprint or " ".join(
            v for v in (entry.code, entry.app_id, entry.feature) if v
        )
        if entry.state == "expired" and entry.expires is not None:
            lines.append(
                f"Baseline entry {entry.entry} ({what}) expired on {entry.expires.isoformat()} "
                f"and no longer applies: {entry.reason}"
            )
        elif entry.state == "stale":
            lines.append(
                f"Baseline entry {entry.entry} ({what}) matches no finding (stale): remove it "
                "from the baseline."
            )
    return lines
