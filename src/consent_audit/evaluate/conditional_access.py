"""Conditional Access: which policies apply to Recruitee (and to the --user), and what they do.

Rules encoded (microsoft-graph-docs-contrib v1.0 resources conditionalaccesspolicy.md,
conditionalaccessapplications.md, conditionalaccessusers.md, conditionalaccessgrantcontrols.md,
conditionalaccesssessioncontrols.md; entra-docs concept-conditional-access-cloud-apps.md):
- ``state``: ``enabled`` enforces, ``enabledForReportingButNotEnforced`` only reports,
  ``disabled`` does nothing.
- Target resources: ``All``, Recruitee's appId, or the services behind Graph's mail and
  calendar APIs (``Office365`` or Exchange Online). Microsoft Graph itself cannot be targeted
  ("Microsoft Graph functions as an umbrella resource").
- Policies that only target legacy client app types (``exchangeActiveSync``, ``other``) do
  not apply to Recruitee, which uses modern authentication.
- Background sync redeems refresh tokens from Recruitee's servers: device compliance, hybrid
  join, approved/compliant client apps and trusted locations cannot be satisfied there, and a
  sign-in frequency control invalidates the refresh token after the interval (AADSTS70043,
  BadTokenDueToSignInFrequency, entra-docs reference-error-codes.md).
- Group targeting in Conditional Access is evaluated on the user's transitive groups (unlike
  app assignment); roles are directory role template ids.
"""

from __future__ import annotations

from dataclasses import dataclass

from consent_audit.evaluate import remediation
from consent_audit.evaluate.context import AuditContext, Outcome
from consent_audit.evaluate.registry import finding
from consent_audit.graph_objects import (
    ConditionalAccessPolicy,
    ConditionalAccessUsers,
    ServicePrincipal,
)
from consent_audit.report import ConditionalAccessRow, Severity
from consent_audit.snapshot import AuditedUser, PartStatus

EXCHANGE_ONLINE_APP_ID = "00000002-0000-0ff1-ce00-000000000000"
EXCHANGE_BACKED_FEATURES = ("mailbox", "calendar")
MODERN_CLIENT_TYPES = {"all", "browser", "mobileappsanddesktopclients"}
UNSATISFIABLE_CONTROLS = {
    "compliantdevice": "a compliant device",
    "domainjoineddevice": "a hybrid Azure AD joined device",
    "approvedapplication": "an approved client app",
    "compliantapplication": "an app protection policy",
}


@dataclass(frozen=True)
class Targeting:
    """Which features of which Recruitee app a policy's target resources cover."""

    features: tuple[str, ...]
    reason: str


def app_targeting(
    policy: ConditionalAccessPolicy, app_id: str, features: list[str]
) -> Targeting | None:
    apps = policy.conditions.applications
    if apps is None:
        return None
    include = {a.casefold() for a in apps.include_applications}
    exclude = {a.casefold() for a in apps.exclude_applications}
    if app_id.casefold() in exclude:
        return None
    if "all" in include or app_id.casefold() in include:
        why = "all cloud apps" if "all" in include else "Recruitee"
        return Targeting(tuple(features), why)
    exchange = {"office365", EXCHANGE_ONLINE_APP_ID} & include
    if exchange and not ({"office365", EXCHANGE_ONLINE_APP_ID} & exclude):
        covered = tuple(f for f in features if f in EXCHANGE_BACKED_FEATURES)
        if covered:
            return Targeting(
                covered, "Office 365 / Exchange Online, behind Graph mail and calendar"
            )
    return None


def _guest(user: AuditedUser) -> bool:
    return (user.user_type or "").casefold() == "guest"


def _matches_user(users: ConditionalAccessUsers, user: AuditedUser, include: bool) -> bool:
    ids = {u.casefold() for u in (users.include_users if include else users.exclude_users)}
    groups = {g.casefold() for g in (users.include_groups if include else users.exclude_groups)}
    roles = {r.casefold() for r in (users.include_roles if include else users.exclude_roles)}
    guests = (
        users.include_guests_or_external_users
        if include
        else (users.exclude_guests_or_external_users)
    )
    if include and "all" in ids:
        return True
    if user.id.casefold() in ids:
        return True
    if _guest(user) and ("guestsorexternalusers" in ids or guests):
        return True
    transitive = {g.casefold() for g in user.transitive_member_of_group_ids}
    if groups & transitive:
        return True
    return bool(roles & {r.casefold() for r in user.directory_role_template_ids})


def applies_to_user(policy: ConditionalAccessPolicy, user: AuditedUser) -> bool:
    users = policy.conditions.users
    if users is None:
        return False
    return _matches_user(users, user, include=True) and not _matches_user(
        users, user, include=False
    )


def audience(policy: ConditionalAccessPolicy) -> str | None:
    """Who a policy targets, in words; ``None`` when it targets nobody."""
    users = policy.conditions.users
    if users is None:
        return None
    inc = [u for u in users.include_users if u.casefold() != "none"]
    if not (
        inc or users.include_groups or users.include_roles or users.include_guests_or_external_users
    ):
        return None
    parts: list[str] = []
    if any(u.casefold() == "all" for u in inc):
        parts.append("all users")
    else:
        named = [u for u in inc if u.casefold() not in ("all",)]
        if named:
            parts.append(f"{len(named)} user(s)")
        if users.include_groups:
            parts.append(f"{len(users.include_groups)} group(s)")
        if users.include_roles:
            parts.append(f"{len(users.include_roles)} role(s)")
        if users.include_guests_or_external_users:
            parts.append("guests")
    excluded = []
    if users.exclude_users:
        excluded.append(f"{len(users.exclude_users)} user(s)")
    if users.exclude_groups:
        excluded.append(f"{len(users.exclude_groups)} group(s)")
    if users.exclude_roles:
        excluded.append(f"{len(users.exclude_roles)} role(s)")
    text = ", ".join(parts)
    return f"{text} except {', '.join(excluded)}" if excluded else text


def _modern_clients(policy: ConditionalAccessPolicy) -> bool:
    types = {t.casefold() for t in policy.conditions.client_app_types}
    return not types or bool(types & MODERN_CLIENT_TYPES)


def _narrowing(policy: ConditionalAccessPolicy) -> list[str]:
    """Conditions that narrow when a policy applies, in words, for the report."""
    c = policy.conditions
    out: list[str] = []
    if c.locations and c.locations.include_locations:
        out.append(
            f"locations {', '.join(c.locations.include_locations)}"
            + (
                f" except {', '.join(c.locations.exclude_locations)}"
                if c.locations.exclude_locations
                else ""
            )
        )
    if c.platforms and c.platforms.include_platforms:
        out.append(f"platforms {', '.join(c.platforms.include_platforms)}")
    if c.sign_in_risk_levels:
        out.append(f"sign-in risk {', '.join(c.sign_in_risk_levels)}")
    if c.user_risk_levels:
        out.append(f"user risk {', '.join(c.user_risk_levels)}")
    return out


def _unsatisfiable(policy: ConditionalAccessPolicy) -> list[str]:
    """Requirements background refresh cannot meet, honouring the AND/OR operator."""
    grant = policy.grant_controls
    needs: list[str] = []
    if grant is not None:
        controls = [x.casefold() for x in grant.built_in_controls]
        bad = [UNSATISFIABLE_CONTROLS[x] for x in controls if x in UNSATISFIABLE_CONTROLS]
        satisfiable = [x for x in controls if x not in UNSATISFIABLE_CONTROLS and x != "block"]
        if grant.authentication_strength is not None:
            satisfiable.append("authenticationStrength")
        if bad and ((grant.operator or "OR").upper() == "AND" or not satisfiable):
            needs.extend(bad)
    return needs


def _location_gated(policy: ConditionalAccessPolicy) -> bool:
    """Applies everywhere except trusted or named locations, i.e. also to Recruitee's servers,
    which are never in the tenant's locations, while office sign-ins pass."""
    loc = policy.conditions.locations
    return bool(loc and loc.include_locations and loc.exclude_locations)


def _risk_only(policy: ConditionalAccessPolicy) -> bool:
    return bool(policy.conditions.sign_in_risk_levels or policy.conditions.user_risk_levels)


def check_conditional_access(ctx: AuditContext, out: Outcome) -> None:
    part = ctx.snapshot.conditional_access_policies
    if not part.ok:
        _unreadable(ctx, out)
        return
    if ctx.user is None and ctx.user_lookup is not None:
        return  # the user could not be read; USER_NOT_FOUND or DATA_UNAVAILABLE says so
    for policy in part.data or []:
        state = policy.state.casefold()
        if state == "disabled" or not _modern_clients(policy):
            continue
        who = audience(policy)
        if who is None or (ctx.user is not None and not applies_to_user(policy, ctx.user)):
            continue
        for app in ctx.apps:
            target = app_targeting(policy, app.service_principal.app_id, ctx.feature_names)
            if target is not None:
                _judge(ctx, out, policy, app.service_principal, target, who)


@dataclass(frozen=True)
class _Effect:
    code: str
    detail: str
    change: str


def _every(policy: ConditionalAccessPolicy) -> str | None:
    session = policy.session_controls
    sif = session.sign_in_frequency if session else None
    if sif is None or not sif.is_enabled:
        return None
    if (sif.frequency_interval or "").casefold() == "everytime":
        return "every time"
    unit = (sif.type or "").rstrip("s")
    return f"every {sif.value} {unit}{'' if sif.value == 1 else 's'}"


def _effects(
    ctx: AuditContext,
    policy: ConditionalAccessPolicy,
    sp: ServicePrincipal,
    target: Targeting,
    who: str,
) -> list[_Effect]:
    """What an applying policy does to Recruitee, as findings-to-be (state not considered)."""
    subject = ctx.user.user_principal_name if ctx.user else who
    if len(ctx.apps) > 1:
        subject = f"{subject}, app {ctx.app_label(sp)}"
    name = policy.display_name or policy.id
    narrowing = _narrowing(policy)
    when = f" (only for {'; '.join(narrowing)})" if narrowing else ""
    grant = policy.grant_controls
    blocks = grant is not None and "block" in {x.casefold() for x in grant.built_in_controls}
    effects: list[_Effect] = []
    if blocks and _location_gated(policy):
        effects.append(
            _Effect(
                "CA_POLICY_REQUIRES",
                f"Policy '{name}' blocks {target.reason} outside trusted or named locations "
                f"({subject}){when}. Users can connect from the office, but Recruitee refreshes "
                "tokens from its own servers, outside those locations, so background sync fails "
                "(AADSTS53003).",
                "exclude Recruitee from it, or add Recruitee's egress IPs as a named location.",
            )
        )
    elif blocks and not _risk_only(policy):
        effects.append(
            _Effect(
                "CA_POLICY_BLOCKS",
                f"Policy '{name}' blocks access to {target.reason} for {subject}{when}: "
                "Recruitee cannot get tokens, so sync cannot connect.",
                "exclude Recruitee (or the users who sync) from it, or narrow its conditions.",
            )
        )
    elif blocks or _unsatisfiable(policy):
        needs = _unsatisfiable(policy) or ["a low-risk sign-in"]
        effects.append(
            _Effect(
                "CA_POLICY_REQUIRES",
                f"Policy '{name}' requires {' and '.join(needs)} for {target.reason} ({subject})"
                f"{when}. Recruitee refreshes tokens from its own servers, which cannot meet that, "
                "so background sync fails (AADSTS53000/53003) even after a successful sign-in.",
                "exclude Recruitee from it, or require MFA instead of device or location.",
            )
        )
    every = _every(policy)
    if every is not None:
        effects.append(
            _Effect(
                "CA_POLICY_SIGNIN_FREQUENCY",
                f"Policy '{name}' makes {subject} sign in again {every} for {target.reason}{when}. "
                "When it expires, Recruitee's refresh token stops working (AADSTS70043) and sync "
                "disconnects until the user reconnects: 'sync keeps disconnecting'.",
                "exclude Recruitee from the sign-in frequency control, or lengthen the interval.",
            )
        )
    return effects


UNKNOWN_FUTURE_VALUE = "unknownfuturevalue"


def _unknown_members(policy: ConditionalAccessPolicy) -> list[str]:
    """Settings Graph answered as ``unknownFutureValue``: an evolvable-enum member newer than
    the request asked for (microsoft/api-guidelines graph/patterns/evolvable-enums.md). The
    collector sends ``Prefer: include-unknown-enum-members``; what still comes back so is a
    member this tool cannot judge, so the policy's effect is unknown, never ignored."""
    found: list[str] = []
    grant = policy.grant_controls
    if grant and any(c.casefold() == UNKNOWN_FUTURE_VALUE for c in grant.built_in_controls):
        found.append("a grant control")
    platforms = policy.conditions.platforms
    if platforms and any(
        p.casefold() == UNKNOWN_FUTURE_VALUE
        for p in (*platforms.include_platforms, *platforms.exclude_platforms)
    ):
        found.append("a device platform")
    return found


def _judge(
    ctx: AuditContext,
    out: Outcome,
    policy: ConditionalAccessPolicy,
    sp: ServicePrincipal,
    target: Targeting,
    who: str,
) -> None:
    report_only = policy.state.casefold() == "enabledforreportingbutnotenforced"
    name = policy.display_name or policy.id
    unknown = _unknown_members(policy)
    if unknown and not report_only:
        features = list(target.features)
        out.unknown("conditional_access_policies", features, sp.id)
        out.add(
            finding(
                "CA_UNREADABLE",
                f"Policy '{name}' applies to {target.reason} with {' and '.join(unknown)} that "
                "Microsoft Graph reports as 'unknownFutureValue' (a setting newer than this "
                "tool), so whether it blocks Recruitee or breaks background sync is unknown.",
                features=features,
                app_object_id=sp.id,
                evidence={"policy_id": policy.id, "unknown": unknown, "state": policy.state},
                remediation=remediation.conditional_access(
                    name, "check the policy's grant controls and platforms in the admin center."
                ),
            )
        )
        return
    evidence = {
        "policy_id": policy.id,
        "state": policy.state,
        "targets": target.reason,
        "users": who,
        "conditions": _narrowing(policy),
    }
    for effect in _effects(ctx, policy, sp, target, who):
        code, severity, detail = effect.code, None, effect.detail
        if report_only:
            detail = f"Report-only today; if enforced: {detail}"
            code, severity = "CA_POLICY_REPORT_ONLY", Severity.INFO
        out.add(
            finding(
                code,
                detail,
                severity=severity,
                features=list(target.features) if not report_only else [],
                app_object_id=sp.id,
                evidence=evidence,
                remediation=remediation.conditional_access(name, effect.change),
            )
        )


EFFECT_WORDS = {
    "CA_POLICY_BLOCKS": "blocks Recruitee",
    "CA_POLICY_REQUIRES": "breaks background sync",
    "CA_POLICY_SIGNIN_FREQUENCY": "forces re-sign-in",
}


def _controls(policy: ConditionalAccessPolicy) -> tuple[list[str], list[str]]:
    grant = policy.grant_controls
    controls = list(grant.built_in_controls) if grant else []
    if grant and grant.authentication_strength is not None:
        strength = grant.authentication_strength
        controls.append(f"authentication strength '{strength.display_name or strength.id}'")
    if grant and grant.terms_of_use:
        controls.append("terms of use")
    if len(controls) > 1 and grant:
        controls = [f"{(grant.operator or 'OR').upper()}: " + ", ".join(controls)]
    session: list[str] = []
    every = _every(policy)
    if every:
        session.append(f"sign-in frequency {every}")
    persistent = policy.session_controls.persistent_browser if policy.session_controls else None
    if persistent is not None and persistent.is_enabled:
        session.append(f"persistent browser {persistent.mode or 'set'}")
    return controls, session


def ca_rows(ctx: AuditContext) -> list[ConditionalAccessRow]:
    """Every enabled or report-only policy that targets Recruitee, with what it does to it;
    with --user, whether it applies to that user."""
    part = ctx.snapshot.conditional_access_policies
    rows: list[ConditionalAccessRow] = []
    for policy in part.data or [] if part.ok else []:
        if policy.state.casefold() == "disabled" or not _modern_clients(policy):
            continue
        who = audience(policy)
        if who is None:
            continue
        applies = applies_to_user(policy, ctx.user) if ctx.user else None
        controls, session = _controls(policy)
        conditions = _narrowing(policy)
        if policy.conditions.client_app_types:
            conditions.append(f"client apps {', '.join(policy.conditions.client_app_types)}")
        for app in ctx.apps:
            sp = app.service_principal
            target = app_targeting(policy, sp.app_id, ctx.feature_names)
            if target is None:
                continue
            words = sorted({EFFECT_WORDS[e.code] for e in _effects(ctx, policy, sp, target, who)})
            effect = ", ".join(words) or "none for Recruitee (satisfied at interactive sign-in)"
            if applies is False:
                effect = "does not apply to this user"
            elif policy.state.casefold() == "enabledforreportingbutnotenforced":
                effect = f"report-only: {effect}"
            rows.append(
                ConditionalAccessRow(
                    id=policy.id,
                    display_name=policy.display_name,
                    state=policy.state,
                    app_object_id=sp.id,
                    targets=target.reason,
                    users=who,
                    applies_to_user=applies,
                    grant_controls=controls,
                    session_controls=session,
                    conditions=conditions,
                    effect=effect,
                )
            )
    return rows


def _unreadable(ctx: AuditContext, out: Outcome) -> None:
    part = ctx.snapshot.conditional_access_policies
    if part.status is PartStatus.NOT_LICENSED:
        detail = (
            "Conditional Access policies could not be read: the tenant has no Entra ID P1 "
            "licence. Without it no Conditional Access policy can be enforced, so none "
            "blocks Recruitee (security defaults may still require MFA)."
        )
        features: list[str] = []
    else:
        detail = (
            f"Conditional Access policies could not be read ({part.status.value}"
            f"{': ' + part.message if part.message else ''}). Whether a policy blocks "
            "Recruitee or forces it to reconnect is unknown."
        )
        features = ctx.feature_names
        out.unknown("conditional_access_policies", features)
    out.add(
        finding(
            "CA_UNREADABLE",
            detail,
            features=features,
            evidence={"status": part.status.value, "permission": part.permission},
            remediation=remediation.grant_reader_role(part.permission or "Policy.Read.All"),
        )
    )
