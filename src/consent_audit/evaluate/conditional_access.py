"""Conditional Access as Entra applies it to Recruitee: a confidential client that syncs from
its own servers with a refresh token per person.

Rules encoded (each read in Microsoft's documentation):
- "Conditional Access applies to resources not clients, except when the client is a
  confidential client requesting an ID token"; Microsoft Graph "functions as an umbrella
  resource" and cannot be targeted, policies are enforced for the services behind it
  (https://learn.microsoft.com/entra/identity/conditional-access/concept-conditional-access-cloud-apps,
  entra-docs concept-conditional-access-cloud-apps.md). So:
  - mail and calendar scopes are governed by policies on Office 365 Exchange Online
    (00000002-0000-0ff1-ce00-000000000000), the Office 365 group, or All resources;
  - rooms (only low-privilege directory scopes such as User.ReadBasic.All) is "evaluated as
    directory access", Windows Azure Active Directory (00000002-0000-0000-c000-000000000000),
    or All resources (same page, "New Conditional Access behavior ...");
  - a policy on Recruitee's own appId applies when a person connects (the interactive sign-in
    that requests an ID token), not to background refreshes: a block there stops connecting;
    MFA or device controls there are met on the person's device when they connect;
  - excluding Recruitee from an All-resources policy does not exempt its Exchange or
    directory token requests ("Conditional Access continues to be enforced based on the
    SharePoint resource", same page), so it is never offered as the fix.
- Client app types ``exchangeActiveSync`` and ``other`` are legacy authentication; Recruitee
  uses modern authentication (conditionalaccessconditionset.md).
- Sign-in frequency: "On confidential clients, sign-in frequency enforcement on
  non-interactive sign-ins is deferred until the next interactive sign-in"
  (https://learn.microsoft.com/entra/identity/conditional-access/concept-session-lifetime):
  information only, it applies when the person next connects. Refresh failures in the sign-in
  log are the finding (audit_logs.SIGNIN_FAILURES).
- MFA: a refresh token carries the MFA claim of the sign-in it came from ("MFA requirement
  satisfied by claim in the token"): met if the person did MFA when connecting; AADSTS50076
  in the sign-in log shows who did not (medium confidence; no finding without that proof).
- Locations: Entra evaluates the IP of the token request, for background sync Recruitee's
  servers; a block outside trusted locations breaks background sync (medium confidence).
  Device controls are fixed at the interactive sign-in; approved-app and app-protection
  controls need a broker on a phone (low-medium confidence). Both are warnings.
- Group targeting in Conditional Access is evaluated on the user's transitive groups (unlike
  app assignment); roles are directory role template ids (conditionalaccessusers.md).
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
WINDOWS_AZURE_AD_APP_ID = "00000002-0000-0000-c000-000000000000"
EXCHANGE_RESOURCES = frozenset({"office365", EXCHANGE_ONLINE_APP_ID})
DIRECTORY_RESOURCES = frozenset({WINDOWS_AZURE_AD_APP_ID})
EXCHANGE_SCOPE_PREFIXES = ("mail.", "calendars.", "contacts.", "mailboxsettings.")
"""Scopes whose data lives in Exchange Online: a feature asking for one is Exchange-governed."""
MODERN_CLIENT_TYPES = {"all", "browser", "mobileappsanddesktopclients"}
UNSATISFIABLE_CONTROLS = {
    "compliantdevice": "a compliant device",
    "domainjoineddevice": "a hybrid Azure AD joined device",
    "approvedapplication": "an approved client app",
    "compliantapplication": "an app protection policy",
}


@dataclass(frozen=True)
class Targeting:
    """What a policy's target resources reach for one Recruitee app.

    ``features``: the features whose background token requests it governs (by resource).
    ``at_connect``: it applies when a person connects (Recruitee's appId, or All resources).
    """

    features: tuple[str, ...]
    at_connect: bool
    reason: str


def governing_resources(scopes: tuple[str, ...]) -> frozenset[str]:
    """The CA resources behind a feature's Graph scopes: Exchange Online (or the Office 365
    group) for mail, calendar and contacts; directory access otherwise."""
    exchange = any(s.casefold().startswith(EXCHANGE_SCOPE_PREFIXES) for s in scopes)
    return EXCHANGE_RESOURCES if exchange else DIRECTORY_RESOURCES


def app_targeting(
    policy: ConditionalAccessPolicy, app_id: str, features: dict[str, tuple[str, ...]]
) -> Targeting | None:
    """``features``: feature name -> its scopes (from the manifest)."""
    apps = policy.conditions.applications
    if apps is None:
        return None
    include = {a.casefold() for a in apps.include_applications}
    exclude = {a.casefold() for a in apps.exclude_applications}
    everything = "all" in include
    at_connect = (everything or app_id.casefold() in include) and app_id.casefold() not in exclude
    background = tuple(
        name
        for name, scopes in features.items()
        if (everything or governing_resources(scopes) & include)
        and not governing_resources(scopes) & exclude
    )
    if not background and not at_connect:
        return None
    if everything:
        why = "all resources"
    elif background and at_connect:
        why = "Recruitee and the services behind its sync"
    elif at_connect:
        why = "Recruitee itself (applies when a person connects)"
    elif any(governing_resources(features[f]) == EXCHANGE_RESOURCES for f in background):
        why = "Office 365 / Exchange Online, behind Graph mail and calendar"
    else:
        why = "Windows Azure Active Directory (directory access), behind Graph rooms"
    return Targeting(background, at_connect, why)


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


def _feature_scopes(ctx: AuditContext) -> dict[str, tuple[str, ...]]:
    return {f.name: f.scopes for f in ctx.manifest.features}


def check_conditional_access(ctx: AuditContext, out: Outcome) -> None:
    part = ctx.snapshot.conditional_access_policies
    if not part.ok:
        _unreadable(ctx, out)
        return
    if ctx.user is None and ctx.user_lookup is not None:
        return  # the user could not be read; USER_NOT_FOUND or DATA_UNAVAILABLE says so
    features = _feature_scopes(ctx)
    for policy in part.data or []:
        state = policy.state.casefold()
        if state == "disabled" or not _modern_clients(policy):
            continue
        who = audience(policy)
        if who is None or (ctx.user is not None and not applies_to_user(policy, ctx.user)):
            continue
        for app in ctx.apps:
            target = app_targeting(policy, app.service_principal.app_id, features)
            if target is not None:
                _judge(ctx, out, policy, app.service_principal, target, who)


@dataclass(frozen=True)
class _Effect:
    code: str
    detail: str
    change: str
    features: tuple[str, ...]


def _every(policy: ConditionalAccessPolicy) -> str | None:
    session = policy.session_controls
    sif = session.sign_in_frequency if session else None
    if sif is None or not sif.is_enabled:
        return None
    if (sif.frequency_interval or "").casefold() == "everytime":
        return "every time"
    unit = (sif.type or "").rstrip("s")
    return f"every {sif.value} {unit}{'' if sif.value == 1 else 's'}"


def _requires_mfa(policy: ConditionalAccessPolicy) -> bool:
    grant = policy.grant_controls
    if grant is None:
        return False
    return grant.authentication_strength is not None or "mfa" in {
        x.casefold() for x in grant.built_in_controls
    }


MEDIUM = " (Medium confidence: Entra evaluates {what}.)"


def _effects(
    ctx: AuditContext,
    policy: ConditionalAccessPolicy,
    sp: ServicePrincipal,
    target: Targeting,
    who: str,
) -> list[_Effect]:
    """What an applying policy does to Recruitee, as findings-to-be (state not considered).

    Background sync (``target.features``) and connecting (``target.at_connect``) are judged
    separately: only a plain block stops connecting; device and location controls are met on
    the person's own device and network when they connect, but not by Recruitee's servers.
    """
    subject = ctx.user.user_principal_name if ctx.user else who
    if len(ctx.apps) > 1:
        subject = f"{subject}, app {ctx.app_label(sp)}"
    name = policy.display_name or policy.id
    narrowing = _narrowing(policy)
    when = f" (only for {'; '.join(narrowing)})" if narrowing else ""
    grant = policy.grant_controls
    blocks = grant is not None and "block" in {x.casefold() for x in grant.built_in_controls}
    background = target.features
    effects: list[_Effect] = []
    if blocks and not _location_gated(policy) and not _risk_only(policy):
        features = tuple(ctx.feature_names) if target.at_connect else background
        what = (
            "connecting: people cannot connect Recruitee (the policy applies to the sign-in "
            "when they connect), and those connected keep syncing only until they must "
            "reconnect"
            if target.at_connect and not background
            else "Recruitee's token requests, so sync cannot run"
        )
        effects.append(
            _Effect(
                "CA_POLICY_BLOCKS",
                f"Policy '{name}' blocks {target.reason} for {subject}{when}. It stops {what}.",
                "exclude the users who sync (excluding Recruitee itself does not exempt its "
                "Exchange or directory token requests), or narrow its conditions.",
                features,
            )
        )
    elif blocks and _location_gated(policy) and background:
        effects.append(
            _Effect(
                "CA_POLICY_REQUIRES",
                f"Policy '{name}' blocks {target.reason} outside trusted or named locations "
                f"({subject}){when}. People can connect from the office, but Recruitee refreshes "
                "tokens from its own servers, outside those locations, so background sync fails "
                "(AADSTS53003)."
                + MEDIUM.format(what="the IP address of the token request: Recruitee's servers"),
                "add Recruitee's egress IPs as a trusted named location, or exclude the users "
                "who sync.",
                background,
            )
        )
    elif (blocks or _unsatisfiable(policy)) and background:
        needs = _unsatisfiable(policy) or ["a low-risk sign-in"]
        effects.append(
            _Effect(
                "CA_POLICY_REQUIRES",
                f"Policy '{name}' requires {' and '.join(needs)} for {target.reason} ({subject})"
                f"{when}. Recruitee refreshes tokens from its own servers, which cannot meet that, "
                "so background sync fails (AADSTS53000/53003) even after a successful connect."
                + MEDIUM.format(
                    what="the device state fixed at the interactive sign-in, and a server "
                    "has no broker for app-based controls"
                ),
                "exclude the users who sync from the device or risk controls, or require MFA "
                "instead.",
                background,
            )
        )
    every = _every(policy)
    if every is not None:
        effects.append(
            _Effect(
                "CA_POLICY_SIGNIN_FREQUENCY",
                f"Policy '{name}' requires {subject} to sign in again {every} for "
                f"{target.reason}{when}. On confidential clients such as Recruitee, sign-in "
                "frequency on non-interactive sign-ins is deferred until the next interactive "
                "sign-in: background sync is not interrupted, and people sign in again when they "
                "next connect Recruitee." + _refresh_failures_note(ctx, sp),
                "nothing to change for background sync; expect people to sign in again when "
                "they reconnect Recruitee.",
                (),
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


def _refresh_failures_note(ctx: AuditContext, sp: ServicePrincipal) -> str:
    part = ctx.snapshot.sign_ins
    if not part.ok:
        return ""
    failed = [
        s
        for s in part.data or []
        if s.status is not None
        and s.status.error_code == 70043
        and (s.app_id or "").casefold() == sp.app_id.casefold()
    ]
    if not failed:
        return ""
    return (
        f" The sign-in log nevertheless shows {len(failed)} Recruitee refresh failure(s) with "
        "AADSTS70043: see SIGNIN_FAILURES."
    )


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
        "background_features": list(target.features),
        "at_connect": target.at_connect,
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
                features=list(effect.features) if not report_only else [],
                app_object_id=sp.id,
                evidence=evidence,
                remediation=remediation.conditional_access(name, effect.change),
            )
        )


def mfa_features(ctx: AuditContext, sp: ServicePrincipal) -> tuple[str, ...]:
    """Features whose background token requests an enforced MFA policy covers (for the
    --user, if any): where AADSTS50076 from a refresh comes from."""
    part = ctx.snapshot.conditional_access_policies
    features = _feature_scopes(ctx)
    covered: set[str] = set()
    for policy in part.data or [] if part.ok else []:
        if policy.state.casefold() != "enabled" or not _requires_mfa(policy):
            continue
        if audience(policy) is None or (ctx.user and not applies_to_user(policy, ctx.user)):
            continue
        target = app_targeting(policy, sp.app_id, features)
        if target is not None:
            covered.update(target.features)
    return tuple(f for f in ctx.feature_names if f in covered)


EFFECT_WORDS = {
    "CA_POLICY_BLOCKS": "blocks Recruitee",
    "CA_POLICY_REQUIRES": "breaks background sync",
    "CA_POLICY_SIGNIN_FREQUENCY": "sign-in again at the next connect",
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
            target = app_targeting(policy, sp.app_id, _feature_scopes(ctx))
            if target is None:
                continue
            words = sorted({EFFECT_WORDS[e.code] for e in _effects(ctx, policy, sp, target, who)})
            if _requires_mfa(policy):
                words.append(
                    "MFA: met at connect"
                    if not target.features
                    else "MFA: met by the refresh token's MFA claim if the person did MFA when "
                    "connecting (AADSTS50076 in the sign-in log shows who did not)"
                )
            effect = ", ".join(words) or "none for Recruitee (satisfied when people connect)"
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
        severity = Severity.INFO
    else:
        detail = (
            f"Conditional Access policies could not be read ({part.status.value}"
            f"{': ' + part.message if part.message else ''}). Whether a policy blocks "
            "Recruitee or forces it to reconnect is unknown."
        )
        features = ctx.feature_names
        severity = Severity.WARNING
        out.unknown("conditional_access_policies", features)
    out.add(
        finding(
            "CA_UNREADABLE",
            detail,
            severity=severity,
            features=features,
            evidence={"status": part.status.value, "permission": part.permission},
            remediation=remediation.data_unavailable(
                part.permission or "Policy.Read.All",
                part.status.value,
                "consent-audit check"
                + (f" --user {ctx.user_lookup.query}" if ctx.user_lookup is not None else ""),
                licence=part.status is PartStatus.NOT_LICENSED,
            ),
        )
    )
