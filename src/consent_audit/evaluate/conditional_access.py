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
  - a policy on Recruitee's own appId applies when a person connects: "Conditional Access
    applies to the resources requested by the client and the confidential client itself if
    it requests an ID token" (concept-conditional-access-cloud-apps.md, "Conditional Access
    for different client types"). The mailbox feature asks for ``openid``, so its refreshes
    may request an ID token too: whether such a policy covers them is not documented either
    way, so the tool says "may", never "does not" (mailbox unknown, CA_POLICY_UNDETERMINED,
    for controls a server cannot meet; MFA is met by the claim of that connect). A block
    there stops connecting;
  - excluding Recruitee from an All-resources policy does not exempt its Exchange or
    directory token requests ("Conditional Access continues to be enforced based on the
    SharePoint resource", same page), so it is never offered as the fix.
- Conditions (client app types, locations, risk, device platforms and filters, application
  filters, authentication flows) and what grant and session controls ask of a server-side
  refresh are judged per policy in ca_conditions.py, which cites the entra-docs pages
  (concept-conditional-access-conditions.md, concept-assignment-network.md,
  concept-condition-filters-for-devices.md, concept-token-protection.md); anything it cannot
  evaluate makes the verdict unknown (CA_POLICY_UNDETERMINED, naming the condition and what
  would settle it), never a pass. A risk condition is context (CA_POLICY_CONDITIONAL).
- Sign-in frequency: "On confidential clients, sign-in frequency enforcement on
  non-interactive sign-ins is deferred until the next interactive sign-in"
  (https://learn.microsoft.com/entra/identity/conditional-access/concept-session-lifetime):
  information only, it applies when the person next connects. Refresh failures in the sign-in
  log are the finding (audit_logs.SIGNIN_FAILURES).
- MFA (the control, or the built-in "Multifactor authentication" strength): a refresh token
  carries the MFA claim of the sign-in it came from ("MFA requirement satisfied by claim in the
  token"): met if the person did MFA when connecting; AADSTS50076 in the sign-in log shows who
  did not. A policy that requires MFA everywhere but trusted (excluded) locations applies to
  Recruitee's servers while a person connecting from the office is not asked: a warning.
- Locations: "any location" with trusted or selected ones excluded applies to Recruitee's
  servers (concept-assignment-network.md): a block there breaks background sync (AADSTS53003).
- Licences: "When licenses required for Conditional Access expire, policies aren't
  automatically disabled or deleted" (overview.md, License requirements): a tenant without P1
  today can still enforce policies, so unread policies are unknown, never "none can block".
- Group targeting in Conditional Access is evaluated on the user's transitive groups (unlike
  app assignment); roles are directory role template ids (conditionalaccessusers.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from consent_audit.evaluate import ca_names, remediation, what_if
from consent_audit.evaluate.availability import rerun_command
from consent_audit.evaluate.ca_conditions import (
    Applicability,
    Applies,
    ConditionNote,
    Need,
    RecruiteeView,
    excludes_locations,
)
from consent_audit.evaluate.context import AuditContext, Outcome
from consent_audit.evaluate.mechanisms import mechanism
from consent_audit.evaluate.registry import finding
from consent_audit.graph_objects import (
    ConditionalAccessPolicy,
    ConditionalAccessUsers,
    ServicePrincipal,
)
from consent_audit.report import ConditionalAccessRow, DecidedBy, RemediationStep, Severity
from consent_audit.snapshot import AuditedUser, PartStatus, WhatIfResource

EXCHANGE_ONLINE_APP_ID = "00000002-0000-0ff1-ce00-000000000000"
WINDOWS_AZURE_AD_APP_ID = "00000002-0000-0000-c000-000000000000"
EXCHANGE_RESOURCES = frozenset({"office365", EXCHANGE_ONLINE_APP_ID})
DIRECTORY_RESOURCES = frozenset({WINDOWS_AZURE_AD_APP_ID})
EXCHANGE_SCOPE_PREFIXES = ("mail.", "calendars.", "contacts.", "mailboxsettings.")
"""Scopes whose data lives in Exchange Online: a feature asking for one is Exchange-governed."""


@dataclass(frozen=True)
class Targeting:
    """What a policy's target resources reach for one Recruitee app.

    ``features``: the features whose background token requests it governs (by resource).
    ``at_connect``: it applies when a person connects (Recruitee's appId, or All resources).
    """

    features: tuple[str, ...]
    at_connect: bool
    reason: str
    decided_by: DecidedBy = DecidedBy.STATIC_RULES
    """Whether Entra's What-If or the static reading decided it (evaluate/what_if.py)."""


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
    flt = apps.application_filter
    filtered = flt is not None and bool(flt.rule) and (flt.mode or "").casefold() == "include"
    # An include filter may match any app by its attributes: judged as possibly everything,
    # and ca_conditions.conditions_for makes the verdict unknown, naming the filter.
    everything = "all" in include or filtered
    at_connect = (everything or app_id.casefold() in include) and app_id.casefold() not in exclude
    background = tuple(
        name
        for name, scopes in features.items()
        if (everything or governing_resources(scopes) & include)
        and not governing_resources(scopes) & exclude
    )
    if not background and not at_connect:
        return None
    if filtered and "all" not in include:
        why = "the resources its application filter matches"
    elif everything:
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


def _assigns_anyone(policy: ConditionalAccessPolicy) -> bool:
    """Whether the policy includes any user, group, role or guests (``None`` is nobody)."""
    users = policy.conditions.users
    if users is None:
        return False
    return bool(
        any(u.casefold() != "none" for u in users.include_users)
        or users.include_groups
        or users.include_roles
        or users.include_guests_or_external_users
    )


def audience(ctx: AuditContext, policy: ConditionalAccessPolicy) -> str | None:
    """Who a policy targets, in words, naming users, groups and roles by the best name the
    snapshot holds (ca_names.directory_names; else the object id), the first few of each
    kind; ``None`` when it targets nobody."""
    users = policy.conditions.users
    if users is None or not _assigns_anyone(policy):
        return None
    inc = [u for u in users.include_users if u.casefold() != "none"]
    parts: list[str] = []
    if any(u.casefold() == "all" for u in inc):
        parts.append("all users")
    else:
        parts.extend(ca_names.summary(policy, ctx.directory_names, include=True))
        if users.include_guests_or_external_users or any(
            u.casefold() == "guestsorexternalusers" for u in inc
        ):
            parts.append("guests")
    excluded = ca_names.summary(policy, ctx.directory_names, include=False)
    if users.exclude_guests_or_external_users or any(
        u.casefold() == "guestsorexternalusers" for u in users.exclude_users
    ):
        excluded.append("guests")
    text = "; ".join(parts)
    return f"{text} except {'; '.join(excluded)}" if excluded else text


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
        out.append(
            f"platforms {', '.join(c.platforms.include_platforms)}"
            + (
                f" except {', '.join(c.platforms.exclude_platforms)}"
                if c.platforms.exclude_platforms
                else ""
            )
        )
    device = c.devices.device_filter if c.devices else None
    if device is not None and device.rule:
        out.append(f"device filter {device.mode or ''} '{device.rule}'".replace("  ", " "))
    if c.sign_in_risk_levels:
        out.append(f"sign-in risk {', '.join(c.sign_in_risk_levels)}")
    if c.user_risk_levels:
        out.append(f"user risk {', '.join(c.user_risk_levels)}")
    if c.insider_risk_levels:
        out.append(f"insider risk {c.insider_risk_levels}")
    return out


def _legacy_only(ctx: AuditContext, policy: ConditionalAccessPolicy) -> bool:
    """Limited to client app types that never carry Recruitee's requests (both are browser):
    such a policy is left out of the report altogether."""
    return any(
        n.condition == "client app types" and n.effect is Applies.NO
        for n in ctx.ca_view(policy).refresh.notes
    )


def _feature_scopes(ctx: AuditContext) -> dict[str, tuple[str, ...]]:
    return {f.name: f.scopes for f in ctx.manifest.features}


def _left_out(ctx: AuditContext, policy: ConditionalAccessPolicy) -> str | None:
    """Why the static reading leaves this person out of a policy altogether, in words."""
    if policy.state.casefold() == "disabled":
        return "it is disabled"
    if _legacy_only(ctx, policy):
        return "its client app types leave out a confidential client (browser)"
    if not _assigns_anyone(policy):
        return "it assigns nobody"
    if ctx.user is not None and not applies_to_user(policy, ctx.user):
        return "its user, group and role assignments leave this person out"
    return None


def _feature_resources(features: dict[str, tuple[str, ...]]) -> dict[str, WhatIfResource]:
    """The What-If question each feature's background refreshes belong to."""
    return {
        name: WhatIfResource.EXCHANGE_ONLINE
        if governing_resources(scopes) == EXCHANGE_RESOURCES
        else WhatIfResource.DIRECTORY
        for name, scopes in features.items()
    }


def policy_targeting(
    ctx: AuditContext,
    policy: ConditionalAccessPolicy,
    sp: ServicePrincipal,
    features: dict[str, tuple[str, ...]],
    view: what_if.WhatIfView | None,
) -> tuple[Targeting | None, what_if.Decision]:
    """Whether ``policy`` covers this person's use of ``sp``: Entra's What-If decides where it
    answered (evaluate/what_if.py), the static reading elsewhere."""
    why = _left_out(ctx, policy)
    static = None if why else app_targeting(policy, sp.app_id, features)
    if why is None and static is None:
        why = "its target resources leave this access out"
    reading = what_if.StaticReading(
        static.features if static else (), static.at_connect if static else False, why
    )
    decision = what_if.decide(ctx, view, policy, sp, reading, _feature_resources(features))
    if decision.decided_by is DecidedBy.STATIC_RULES:
        return static, decision
    if not decision.features and not decision.at_connect:
        return None, decision
    same = static is not None and (static.features, static.at_connect) == (
        decision.features,
        decision.at_connect,
    )
    reason = static.reason if static is not None and same else "what Entra's What-If says it covers"
    return Targeting(decision.features, decision.at_connect, reason, decision.decided_by), decision


def check_conditional_access(ctx: AuditContext, out: Outcome) -> None:
    part = ctx.snapshot.conditional_access_policies
    if not part.ok:
        _unreadable(ctx, out)
        return
    if ctx.user is None and ctx.user_lookup is not None:
        return  # the user could not be read; USER_NOT_FOUND or DATA_UNAVAILABLE says so
    features = _feature_scopes(ctx)
    view = what_if.what_if_view(ctx)
    for policy in part.data or []:
        who = audience(ctx, policy) or "the users Entra's What-If names"
        for app in ctx.apps:
            target, decision = policy_targeting(ctx, policy, app.service_principal, features, view)
            for disagreement in decision.findings:
                out.add(disagreement)
            if target is not None:
                _judge(ctx, out, policy, app.service_principal, target, who)


@dataclass(frozen=True)
class PolicyEffect:
    """What one policy does to one Recruitee app, as a finding-to-be (state aside)."""

    code: str
    detail: str
    change: str
    """What helps: a key of remediation.CA_CHANGES (a change to the policy, stated with its
    tenant-wide effect), or the words of a step that changes nothing in the policy."""
    features: tuple[str, ...]
    unknown: tuple[ConditionNote, ...] = ()
    """Conditions or controls that could not be evaluated: the features' verdict is unknown."""
    title: str | None = None
    """The finding's title when the code's own (data/findings.toml) would say more than this
    policy does: what exactly it requires, and where."""


MEDIUM = " (Medium confidence: Entra evaluates {what}.)"


def _then(view: RecruiteeView) -> str:
    """What the controls do once the policy applies, in words."""
    need = view.controls.need
    if need is Need.BLOCK:
        return "it blocks Recruitee's token requests"
    if need is Need.UNMET:
        return f"it requires {' and '.join(view.controls.unmet)}, which a server cannot provide"
    if need is Need.MFA_CLAIM:
        return "refreshes need the MFA claim of the person's connect"
    return f"it requires {', '.join(view.controls.requirements) or 'session controls'}"


def _settle(notes: list[ConditionNote] | tuple[ConditionNote, ...]) -> str:
    """What would settle the unknown conditions, as one remediation sentence."""
    parts = [f"{n.settle} ({n.condition})" for n in notes if n.settle]
    return "to settle it, " + "; ".join(dict.fromkeys(parts)) + "."


TRUSTED = "alltrusted"
"""The location id that stands for every location marked trusted (Graph
conditionalAccessLocations; entra-docs concept-assignment-network.md)."""


def excluded_locations(policy: ConditionalAccessPolicy) -> str:
    """The locations a policy excludes, in words: "trusted locations" for ``AllTrusted``,
    otherwise the named locations' ids (the snapshot holds no named-location names)."""
    loc = policy.conditions.locations
    ids = loc.exclude_locations if loc else []
    named = [i for i in ids if i.casefold() != TRUSTED]
    parts = (["trusted locations"] if len(named) < len(ids) else []) + (
        [f"named location{'s' if len(named) > 1 else ''} {', '.join(named)}"] if named else []
    )
    return " and ".join(parts) or "the locations it excludes"


def _outside(where: str) -> str:
    """The title's words for where a policy applies: short, the detail names the ids."""
    return "trusted locations" if where == "trusted locations" else "the locations it excludes"


def _background_effect(
    policy: ConditionalAccessPolicy, view: RecruiteeView, target: Targeting, subject: str
) -> PolicyEffect | Literal["block"] | None:
    """The effect on background sync, ``"block"`` when it blocks it (merged with connecting
    by the caller), or None."""
    name = policy.display_name or policy.id
    need, state = view.controls.need, view.refresh.state
    background = target.features
    if not background or need is Need.NOTHING or state is Applies.NO:
        return None
    narrowing = _narrowing(policy)
    when = f" (only for {'; '.join(narrowing)})" if narrowing else ""
    unknown_conditions = view.refresh.with_effect(Applies.UNKNOWN)
    if state is Applies.UNKNOWN and not (
        need is Need.MFA_CLAIM and not any(n.unrecognised for n in unknown_conditions)
    ):
        why = "; ".join(n.detail for n in unknown_conditions)
        return PolicyEffect(
            "CA_POLICY_UNDETERMINED",
            f"Policy '{name}' targets {target.reason} ({subject}), but whether it covers "
            f"Recruitee's background refreshes cannot be told: {why}. If it does, {_then(view)}.",
            _settle(unknown_conditions),
            background,
            tuple(unknown_conditions),
        )
    if state is Applies.ONLY_WHILE:
        while_ = "; ".join(n.detail for n in view.refresh.with_effect(Applies.ONLY_WHILE))
        return PolicyEffect(
            "CA_POLICY_CONDITIONAL",
            f"Policy '{name}' applies to Recruitee's access to {target.reason} ({subject}) "
            f"{while_}; then {_then(view)}. It is not a standing failure: outside that "
            "condition Recruitee syncs as usual.",
            "nothing to change for Recruitee; if sync stops while the condition holds, "
            "resolve the condition (for risk: the person's risk in Identity Protection).",
            background,
        )
    if state is Applies.UNKNOWN:
        return None  # MFA whatever the conditions: met by the refresh token's MFA claim
    if need is Need.BLOCK:
        return "block"
    if need is Need.UNMET:
        unmet = " and ".join(view.controls.unmet)
        return PolicyEffect(
            "CA_POLICY_REQUIRES",
            f"Policy '{name}' requires {' and '.join(view.controls.unmet)} for "
            f"{target.reason} ({subject}){when}. Recruitee refreshes tokens from its own "
            "servers, which cannot provide that, so background sync fails (AADSTS53000) even "
            "after a successful connect."
            + MEDIUM.format(what="app-based controls through a broker on the person's phone"),
            "device",
            background,
            title=f"A Conditional Access policy requires {unmet}, which background sync "
            "cannot provide",
        )
    if need is Need.MFA_CLAIM and excludes_locations(policy):
        where = excluded_locations(policy)
        return PolicyEffect(
            "CA_POLICY_REQUIRES",
            f"Policy '{name}' requires MFA for {target.reason} ({subject}) everywhere except "
            f"{where}: it applies only outside them. Recruitee refreshes tokens from its own "
            "servers, outside those locations, so its refreshes need the MFA claim of the "
            "person's connect: someone who connected Recruitee from an excluded location "
            "without MFA has no such claim, and their refreshes fail with AADSTS50076 until "
            "they connect again with MFA. People who did MFA when they connected keep syncing.",
            "have each person who syncs connect Recruitee again with MFA (from a network "
            "outside the excluded locations, where Entra asks for it); AADSTS50076 in the "
            "sign-in log shows who is affected.",
            background,
            title=f"A Conditional Access policy requires MFA outside {_outside(where)}",
        )
    if need is Need.UNKNOWN:
        notes = view.controls.unknown
        return PolicyEffect(
            "CA_POLICY_UNDETERMINED",
            f"Policy '{name}' applies to Recruitee's access to {target.reason} ({subject})"
            f"{when}, but what it requires of a server-side refresh cannot be evaluated: "
            f"{'; '.join(n.detail for n in notes)}.",
            _settle(notes),
            background,
            tuple(notes),
        )
    return None


ID_TOKEN_SCOPE = "openid"


def id_token_features(ctx: AuditContext, target: Targeting) -> tuple[str, ...]:
    """Features a policy on Recruitee's own appId *may* cover on refresh as well as at
    connect: those whose scopes ask for an ID token (``openid``; the mailbox), when the
    policy covers the connect but not already their resource. Entra applies a policy to "the
    confidential client itself if it requests an ID token" (entra-docs
    concept-conditional-access-cloud-apps.md); whether a refresh that asks for ``openid``
    counts is not documented either way."""
    if not target.at_connect:
        return ()
    return tuple(
        f.name
        for f in ctx.manifest.features
        if f.name not in target.features and any(s.casefold() == ID_TOKEN_SCOPE for s in f.scopes)
    )


def _id_token_effect(
    policy: ConditionalAccessPolicy,
    view: RecruiteeView,
    features: tuple[str, ...],
    subject: str,
) -> PolicyEffect | None:
    """What a policy on Recruitee's appId may do to refreshes that ask for an ID token: the
    background reading with one more unknown condition (that it covers them at all)."""
    if not features or view.refresh.state is Applies.NO:
        return None
    note = ConditionNote(
        "Recruitee's own appId",
        Applies.UNKNOWN,
        "it targets Recruitee itself, and Microsoft applies such a policy to a confidential "
        "client that requests an ID token; Recruitee's "
        f"{', '.join(features)} refreshes ask for one ({ID_TOKEN_SCOPE}), so it may apply to "
        "them too (not documented either way)",
        "the sign-in log's non-interactive sign-ins of Recruitee show whether this policy was "
        "applied to its refreshes (Conditional Access tab)",
    )
    maybe = RecruiteeView(
        Applicability(Applies.UNKNOWN, (*view.refresh.notes, note)), view.connect, view.controls
    )
    target = Targeting(features, True, "Recruitee itself")
    effect = _background_effect(policy, maybe, target, subject)
    return effect if isinstance(effect, PolicyEffect) else None


def policy_effects(
    ctx: AuditContext,
    policy: ConditionalAccessPolicy,
    sp: ServicePrincipal,
    target: Targeting,
    who: str,
) -> list[PolicyEffect]:
    """What an applying policy does to Recruitee (state not considered).

    Background sync (``target.features``) and connecting (``target.at_connect``) are judged
    separately: only a block stops connecting (MFA and device controls are met on the
    person's own device when they connect); Recruitee's refreshes are judged by
    ca_conditions.py as a confidential client's, from its own servers. A policy on
    Recruitee's appId may also cover refreshes that ask for an ID token
    (:func:`id_token_features`): never said not to.
    """
    subject = ctx.user.user_principal_name if ctx.user else who
    if len(ctx.apps) > 1:
        subject = f"{subject}, app {ctx.app_label(sp)}"
    name = policy.display_name or policy.id
    view = ctx.ca_view(policy)
    narrowing = _narrowing(policy)
    when = f" (only for {'; '.join(narrowing)})" if narrowing else ""
    effects: list[PolicyEffect] = []
    background = _background_effect(policy, view, target, subject)
    connect = view.connect.state if target.at_connect else Applies.NO
    blocks = view.controls.need is Need.BLOCK
    maybe = id_token_features(ctx, target)
    may_refresh = None
    if background is None and not (blocks and connect is Applies.YES):
        background = may_refresh = _id_token_effect(policy, view, maybe, subject)
    if background == "block" or (blocks and connect is Applies.YES):
        at_connect = blocks and connect is Applies.YES
        features = tuple(ctx.feature_names) if at_connect else target.features
        what = (
            "connecting: people cannot connect Recruitee (the policy applies to the sign-in "
            + (
                "when they connect); those connected sync at most until they must reconnect, "
                f"and it may stop their {', '.join(maybe)} refreshes sooner (they ask for an ID "
                "token; not documented either way)"
                if maybe
                else "when they connect), and those connected keep syncing only until they must "
                "reconnect"
            )
            if at_connect and background != "block"
            else "Recruitee's token requests, so sync cannot run"
        )
        trusted = (
            " People can still connect from an excluded location, but Recruitee refreshes "
            "tokens from its own servers, which are outside them (AADSTS53003)."
            if excludes_locations(policy) and background == "block"
            else ""
        )
        effects.append(
            PolicyEffect(
                "CA_POLICY_BLOCKS",
                f"Policy '{name}' blocks {target.reason} for {subject}{when}. It stops {what}."
                + trusted,
                "location" if trusted else "block",
                features,
            )
        )
    elif isinstance(background, PolicyEffect):
        effects.append(background)
    if blocks and connect is Applies.UNKNOWN:
        notes = view.connect.with_effect(Applies.UNKNOWN)
        if effects and effects[0].code == "CA_POLICY_UNDETERMINED" and effects[0] != may_refresh:
            first = effects[0]
            effects[0] = PolicyEffect(
                first.code, first.detail, first.change, tuple(ctx.feature_names), first.unknown
            )
        elif not any(e.code == "CA_POLICY_BLOCKS" for e in effects):
            effects.append(
                PolicyEffect(
                    "CA_POLICY_UNDETERMINED",
                    f"Policy '{name}' blocks {target.reason} ({subject}), but whether it covers "
                    "people connecting Recruitee cannot be told: "
                    f"{'; '.join(n.detail for n in notes)}.",
                    _settle(notes),
                    tuple(ctx.feature_names),
                    tuple(notes),
                )
            )
    elif blocks and connect is Applies.ONLY_WHILE and all(e == may_refresh for e in effects):
        while_ = "; ".join(n.detail for n in view.connect.with_effect(Applies.ONLY_WHILE))
        effects.append(
            PolicyEffect(
                "CA_POLICY_CONDITIONAL",
                f"Policy '{name}' blocks connecting Recruitee ({subject}) {while_}. It is not a "
                "standing failure: people connecting outside that condition are not blocked.",
                "nothing to change for Recruitee; a person it blocks connects under other "
                "conditions (for risk: once their risk in Identity Protection is resolved).",
                (),
            )
        )
    every = _every(policy)
    if every is not None:
        effects.append(
            PolicyEffect(
                "CA_POLICY_SIGNIN_FREQUENCY",
                f"Policy '{name}' requires {subject} to sign in again {every} for "
                f"{target.reason}{when}. {mechanism('sign_in_frequency')}"
                + _refresh_failures_note(ctx, sp),
                "sign_in_frequency",
                (),
            )
        )
    return effects


def _every(policy: ConditionalAccessPolicy) -> str | None:
    session = policy.session_controls
    sif = session.sign_in_frequency if session else None
    if sif is None or not sif.is_enabled:
        return None
    if (sif.frequency_interval or "").casefold() == "everytime":
        return "every time"
    unit = (sif.type or "").rstrip("s")
    return f"every {sif.value} {unit}{'' if sif.value == 1 else 's'}"


def _requires_mfa(ctx: AuditContext, policy: ConditionalAccessPolicy) -> bool:
    """The MFA control, or the built-in MFA authentication strength (the same thing)."""
    return ctx.ca_view(policy).controls.need is Need.MFA_CLAIM


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
    evidence: dict[str, object] = {
        "policy_id": policy.id,
        "state": policy.state,
        "targets": target.reason,
        "background_features": list(target.features),
        "at_connect": target.at_connect,
        "users": who,
        "conditions": _narrowing(policy),
        "targeting_decided_by": target.decided_by.value,
    }
    for effect in policy_effects(ctx, policy, sp, target, who):
        code, severity, detail = effect.code, None, effect.detail
        features = list(effect.features)
        here = dict(evidence)
        if effect.unknown:
            here["not_evaluated"] = [
                {"condition": n.condition, "why": n.detail, "settled_by": n.settle}
                for n in effect.unknown
            ]
        if report_only:
            detail = f"Report-only today; if enforced: {detail}"
            code, severity, features = "CA_POLICY_REPORT_ONLY", Severity.INFO, []
        elif effect.unknown:
            out.unknown("conditional_access_policies", features, sp.id)
        elif code == "CA_POLICY_CONDITIONAL" or code == "CA_POLICY_SIGNIN_FREQUENCY":
            features = []
        out.add(
            finding(
                code,
                detail,
                severity=severity,
                features=features,
                app_object_id=sp.id,
                evidence=here,
                remediation=remediation.ca_change(policy, effect.change),
                title=None if report_only else effect.title,
            )
        )


def mfa_features(ctx: AuditContext, sp: ServicePrincipal) -> tuple[str, ...]:
    """Features whose background token requests an enforced MFA policy covers (for the
    --user, if any): where AADSTS50076 from a refresh comes from."""
    part = ctx.snapshot.conditional_access_policies
    features = _feature_scopes(ctx)
    view = what_if.what_if_view(ctx)
    covered: set[str] = set()
    for policy in part.data or [] if part.ok else []:
        if policy.state.casefold() != "enabled" or not _requires_mfa(ctx, policy):
            continue
        if ctx.ca_view(policy).refresh.state is Applies.NO:
            continue
        target, _decision = policy_targeting(ctx, policy, sp, features, view)
        if target is not None:
            covered.update(target.features)
    return tuple(f for f in ctx.feature_names if f in covered)


EFFECT_WORDS = {
    "CA_POLICY_BLOCKS": "blocks Recruitee",
    "CA_POLICY_REQUIRES": "breaks background sync",
    "CA_POLICY_UNDETERMINED": "unknown for Recruitee (not evaluated)",
    "CA_POLICY_CONDITIONAL": "only while its condition holds",
    "CA_POLICY_SIGNIN_FREQUENCY": "sign-in again at the next connect",
}


def _effect_words(effect: PolicyEffect) -> str:
    """A policy's effect in the table's few words: its own title's claim when it has one
    (MFA outside trusted locations does not break sync for people who did MFA)."""
    if effect.code == "CA_POLICY_REQUIRES" and effect.title:
        return effect.title.removeprefix("A Conditional Access policy ")
    return EFFECT_WORDS[effect.code]


def _controls(policy: ConditionalAccessPolicy) -> tuple[list[str], list[str]]:
    grant = policy.grant_controls
    controls = list(grant.built_in_controls) if grant else []
    if grant and grant.authentication_strength is not None:
        strength = grant.authentication_strength
        controls.append(f"authentication strength '{strength.display_name or strength.id}'")
    if grant and grant.terms_of_use:
        controls.append("terms of use")
    if grant and grant.custom_authentication_factors:
        controls.append("custom controls")
    if len(controls) > 1 and grant:
        controls = [f"{(grant.operator or 'OR').upper()}: " + ", ".join(controls)]
    session: list[str] = []
    every = _every(policy)
    if every:
        session.append(f"sign-in frequency {every}")
    sc = policy.session_controls
    persistent = sc.persistent_browser if sc else None
    if persistent is not None and persistent.is_enabled:
        session.append(f"persistent browser {persistent.mode or 'set'}")
    if sc is not None:
        for control, label in (
            (sc.secure_sign_in_session, "token protection"),
            (sc.application_enforced_restrictions, "application enforced restrictions"),
            (sc.cloud_app_security, "Conditional Access App Control"),
        ):
            if control is not None and control.is_enabled:
                session.append(label)
    return controls, session


def _row_effect(
    ctx: AuditContext,
    policy: ConditionalAccessPolicy,
    sp: ServicePrincipal,
    target: Targeting,
    who: str,
) -> str:
    view = ctx.ca_view(policy)
    words = sorted({_effect_words(e) for e in policy_effects(ctx, policy, sp, target, who)})
    refresh_no = not target.features or view.refresh.state is Applies.NO
    if _requires_mfa(ctx, policy) and not refresh_no:
        words.append(
            "MFA: met by the refresh token's MFA claim if the person did MFA when connecting "
            "(AADSTS50076 in the sign-in log shows who did not)"
        )
    elif _requires_mfa(ctx, policy) and target.at_connect:
        maybe = id_token_features(ctx, target)
        words.append(
            "MFA: met at connect"
            + (
                f"; may also apply to {', '.join(maybe)} refreshes (they ask for an ID token), "
                "met by the MFA claim of that connect"
                if maybe and view.refresh.state is not Applies.NO
                else ""
            )
        )
    if words:
        return ", ".join(words)
    if target.features and view.refresh.state is Applies.NO:
        why = "; ".join(n.detail for n in view.refresh.with_effect(Applies.NO))
        return f"does not apply to Recruitee's refreshes: {why}"
    return "none for Recruitee (satisfied when people connect)"


def ca_rows(ctx: AuditContext) -> list[ConditionalAccessRow]:
    """Every enabled or report-only policy that targets Recruitee, with what it does to it;
    with --user, whether it applies to that user."""
    part = ctx.snapshot.conditional_access_policies
    view = what_if.what_if_view(ctx)
    rows: list[ConditionalAccessRow] = []
    for policy in part.data or [] if part.ok else []:
        static_row = policy.state.casefold() != "disabled" and not _legacy_only(ctx, policy)
        who = audience(ctx, policy)
        controls, session = _controls(policy)
        conditions = _narrowing(policy)
        if policy.conditions.client_app_types:
            conditions.append(f"client apps {', '.join(policy.conditions.client_app_types)}")
        for app in ctx.apps:
            sp = app.service_principal
            target = app_targeting(policy, sp.app_id, _feature_scopes(ctx))
            applies = applies_to_user(policy, ctx.user) if ctx.user else None
            listed = static_row and who is not None
            decided_by, answers = DecidedBy.STATIC_RULES, []
            if view is not None:
                decided, decision = policy_targeting(ctx, policy, sp, _feature_scopes(ctx), view)
                decided_by, answers = decision.decided_by, list(decision.answers)
                if decided_by is not DecidedBy.STATIC_RULES:
                    applies = decided is not None
                    target = decided or target
                    listed = listed or applies
            if target is None or not listed:
                continue
            shown = who or "the users Entra's What-If names"
            effect = _row_effect(ctx, policy, sp, target, shown)
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
                    users=shown,
                    included=ctx.ca_included(policy),
                    excluded=ctx.ca_excluded(policy),
                    applies_to_user=applies,
                    grant_controls=controls,
                    session_controls=session,
                    conditions=conditions,
                    effect=effect,
                    decided_by=decided_by,
                    what_if=answers,
                )
            )
    return rows


LICENCE_EXPIRY = (
    "When the licence Conditional Access needs expires, Microsoft does not disable or delete "
    "the policies: those created while the tenant had it stay in force and can be viewed and "
    "deleted, but not updated"
)
"""entra-docs docs/identity/conditional-access/overview.md, "License requirements"."""


def _unreadable(ctx: AuditContext, out: Outcome) -> None:
    part = ctx.snapshot.conditional_access_policies
    features = ctx.feature_names
    out.unknown("conditional_access_policies", features)
    rerun = rerun_command(ctx)
    if part.status is PartStatus.NOT_LICENSED:
        detail = (
            "Conditional Access policies could not be read: Microsoft Graph answered that the "
            f"tenant has no Entra ID P1 licence. {LICENCE_EXPIRY}, so whether one blocks "
            "Recruitee is unknown until the list is seen."
        )
        steps = [
            RemediationStep(
                action=(
                    f"{LICENCE_EXPIRY}. Open the policy list: if it is empty, no policy "
                    "affects Recruitee; otherwise check each enabled policy that targets "
                    "Office 365, Exchange Online, Windows Azure Active Directory, All "
                    f"resources or Recruitee. With a licence, run `{rerun}` again."
                ),
                portal_path=remediation.CONDITIONAL_ACCESS,
            )
        ]
    else:
        detail = (
            f"Conditional Access policies could not be read ({part.status.value}"
            f"{': ' + part.message if part.message else ''}). Whether a policy blocks "
            "Recruitee or forces it to reconnect is unknown."
        )
        steps = remediation.data_unavailable(
            part.permission or "Policy.Read.All",
            part.status.value,
            rerun,
            app_only=ctx.snapshot.app_only,
        )
    out.add(
        finding(
            "CA_UNREADABLE",
            detail,
            severity=Severity.WARNING,
            features=features,
            evidence={"status": part.status.value, "permission": part.permission},
            remediation=steps,
        )
    )
