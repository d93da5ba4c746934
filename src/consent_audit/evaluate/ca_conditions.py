"""Does a Conditional Access policy's *conditions* cover a Recruitee token request, and what do
its *controls* mean for it? One policy at a time, no tenant I/O, so the static rules
(conditional_access.py) and Microsoft's What-If answers can both use it.

Two requests are judged apart, because Entra sees them differently:

- the **refresh**: Recruitee's servers redeem a person's refresh token (a confidential client,
  from Recruitee's own network, with no device of the person's and nobody to answer a prompt);
- the **connect**: the person signs in to Recruitee in their own browser, on their own device
  and network.

Rules encoded (MicrosoftDocs/entra-docs, docs/identity/conditional-access/):

- concept-conditional-access-conditions.md, "Client apps": "Browser ... include[s] web-based
  applications that use protocols like SAML, WS-Federation, OpenID Connect, or services
  registered as an OAuth confidential client". Both requests are *browser*: a policy limited
  to ``mobileAppsAndDesktopClients`` does not apply; ``exchangeActiveSync``/``easSupported``
  and ``other`` are legacy authentication and do not either.
- concept-assignment-network.md (and -conditions.md, "Locations"): a policy whose include list
  names selected locations applies only to sign-ins from there, so for a refresh it depends on
  where Recruitee's servers are (unknown, not a failure); "any location" with trusted or
  selected locations excluded applies to Recruitee's servers, which are not in the tenant's
  trusted ranges.
- concept-conditional-access-conditions.md, "Sign-in risk", "User risk" (and insider risk,
  how-to-policy-insider-risk.md): a risk condition applies only while risk at that level is
  detected: context, never a standing failure.
- concept-conditional-access-conditions.md, "Device platforms": "Conditional Access identifies
  the device platform by using information provided by the device, such as user agent strings
  ... this information is unverified". Which platform Entra reads from Recruitee's servers is
  not documented: a policy limited to platforms is unknown for a refresh.
- concept-condition-filters-for-devices.md: "For a device that is unregistered with Microsoft
  Entra ID, all device properties are considered as null ... If you were to use a positive
  operator, the filter rule would only apply when a device exists in the directory". A
  server-side refresh has no registered device: a rule of positive operators matches nothing,
  one of negative operators matches; a mixed rule is unknown.
- concept-filter-for-applications.md: an application filter targets apps by custom security
  attributes the policy does not show: unknown. concept-authentication-flows.md: an
  authentication-flows condition follows how the person first signed in: unknown.
- Authentication strength (Graph authenticationStrengthPolicy, list example): only the built-in
  "Multifactor authentication" strength, id 00000000-0000-0000-0000-000000000002, is the MFA
  control; any other strength needs methods a refresh token's MFA claim may not show: unknown.
- concept-token-protection.md: token protection accepts only device-bound sign-in session
  tokens from supported native clients; what it does to a confidential client's refresh is not
  documented: unknown. So are application-enforced restrictions and Defender for Cloud Apps
  session control (concept-conditional-access-session.md) for a server-side API call.
- concept-session-lifetime.md: sign-in frequency on confidential clients is deferred to the
  next interactive sign-in (judged in conditional_access.py, not here).
- Anything else the policy carries that this tool does not know (a property, condition,
  control or enum member newer than it) makes the verdict unknown, named, never a pass.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from enum import Enum
from typing import Any

from consent_audit.graph_objects import (
    ConditionalAccessFilter,
    ConditionalAccessObject,
    ConditionalAccessPolicy,
)

MFA_STRENGTH_ID = "00000000-0000-0000-0000-000000000002"
"""The built-in "Multifactor authentication" authentication strength (Graph
authenticationstrengthroot-list-policies.md): the only strength equal to the MFA control."""
UNKNOWN_FUTURE_VALUE = "unknownfuturevalue"
LEGACY_OR_NATIVE_CLIENTS = frozenset(
    {"mobileappsanddesktopclients", "exchangeactivesync", "eassupported", "other"}
)
BROWSER_CLIENTS = frozenset({"all", "browser"})
KNOWN_PLATFORMS = frozenset({"android", "ios", "windows", "windowsphone", "macos", "linux", "all"})
POSITIVE_OPERATORS = frozenset({"eq", "contains", "startswith", "endswith", "in"})
NEGATIVE_OPERATORS = frozenset({"ne", "notcontains", "notstartswith", "notendswith", "notin"})
CHECK_POLICY = (
    "in the Entra admin center (Conditional Access > Policies), or ask Microsoft's What-If "
    "for a Recruitee sign-in"
)
REFRESH_RESULT = (
    "look up the Conditional Access result of a Recruitee refresh in the non-interactive "
    "sign-in log"
)


class Applies(str, Enum):
    """Whether a policy's conditions cover a request (users and resources aside)."""

    YES = "applies"
    NO = "does_not_apply"
    ONLY_WHILE = "only_while"
    """Applies only while something transient holds (risk detected; for a connect, the
    person's location, platform or device)."""
    UNKNOWN = "unknown"


_APPLIES_ORDER = {Applies.NO: 0, Applies.UNKNOWN: 1, Applies.ONLY_WHILE: 2, Applies.YES: 3}
"""Conditions are ANDed: one that does not apply decides; else an unknown one; else a
transient one."""


@dataclass(frozen=True)
class ConditionNote:
    """One condition or control, what it means for the request, and what would settle it."""

    condition: str
    effect: Applies
    detail: str
    settle: str | None = None
    unrecognised: bool = False
    """A property, condition or control this tool does not know."""


@dataclass(frozen=True)
class Applicability:
    state: Applies
    notes: tuple[ConditionNote, ...]

    def with_effect(self, *effects: Applies) -> list[ConditionNote]:
        return [n for n in self.notes if n.effect in effects]


def _combine(notes: list[ConditionNote]) -> Applicability:
    state = min((n.effect for n in notes), key=_APPLIES_ORDER.__getitem__, default=Applies.YES)
    return Applicability(state, tuple(notes))


# ----------------------------------------------------------------------------- unrecognised


def _configured(value: Any) -> bool:
    """True when a value carries a setting (not null, empty, false or an OData annotation)."""
    if isinstance(value, dict):
        return any(_configured(v) for k, v in value.items() if "@" not in k)
    if isinstance(value, list):
        return bool(value)
    return value not in (None, False, "")


def unrecognised(obj: ConditionalAccessObject, path: str) -> Iterator[str]:
    """Paths (Graph's names) of configured properties the models do not know, at any depth."""
    for key, value in (obj.model_extra or {}).items():
        if "@" not in key and _configured(value):
            yield f"{path}.{key}"
    for name in type(obj).model_fields:
        child = getattr(obj, name)
        if isinstance(child, ConditionalAccessObject):
            alias = type(obj).model_fields[name].alias or name
            yield from unrecognised(child, f"{path}.{alias}")


def _unrecognised_notes(paths: list[str]) -> list[ConditionNote]:
    return [
        ConditionNote(
            p,
            Applies.UNKNOWN,
            f"the policy sets '{p}', which this tool does not know",
            f"read what '{p}' sets {CHECK_POLICY}",
            unrecognised=True,
        )
        for p in paths
    ]


# ----------------------------------------------------------------------------- conditions


def _client_apps(policy: ConditionalAccessPolicy) -> ConditionNote | None:
    """Client apps (concept-conditional-access-conditions.md): "Browser" includes "services
    registered as an OAuth confidential client"; the others never carry Recruitee's requests."""
    types = list(policy.conditions.client_app_types)
    folded = {t.casefold() for t in types}
    if not folded or folded & BROWSER_CLIENTS:
        return None
    odd = [t for t in types if t.casefold() not in LEGACY_OR_NATIVE_CLIENTS]
    if odd:
        return ConditionNote(
            "client app types",
            Applies.UNKNOWN,
            f"it is limited to client app types {', '.join(types)}, including one this tool "
            "does not know",
            f"read which client apps {', '.join(odd)} covers {CHECK_POLICY}",
        )
    return ConditionNote(
        "client app types",
        Applies.NO,
        f"it is limited to client app types {', '.join(types)}; Entra classes a service "
        "registered as an OAuth confidential client, such as Recruitee, as a browser client",
    )


def _locations(policy: ConditionalAccessPolicy, refresh: bool) -> ConditionNote | None:
    """Network (concept-assignment-network.md; -conditions.md, "Locations"): selected
    locations depend on where the request comes from; "any location" minus trusted ones
    covers Recruitee's servers."""
    loc = policy.conditions.locations
    if loc is None or not loc.include_locations:
        return None
    include = list(loc.include_locations)
    excluded = f" except {', '.join(loc.exclude_locations)}" if loc.exclude_locations else ""
    if any(x.casefold() == "all" for x in include):
        if not loc.exclude_locations:
            return None
        return ConditionNote(
            "locations",
            Applies.YES,
            f"it applies in all locations{excluded}; Recruitee refreshes tokens from its own "
            "servers, which are not in the tenant's trusted or excluded locations, so it "
            "applies to them even when people connect from an excluded one",
        )
    if not refresh:
        return ConditionNote(
            "locations",
            Applies.ONLY_WHILE,
            f"only when the person connects from locations {', '.join(include)}{excluded}",
        )
    return ConditionNote(
        "locations",
        Applies.UNKNOWN,
        f"it applies only to sign-ins from locations {', '.join(include)}{excluded}; Recruitee "
        "refreshes tokens from its own servers",
        "ask Recruitee for the IP addresses or countries its sync runs from and compare them "
        "with these named locations",
    )


def _platforms(policy: ConditionalAccessPolicy, refresh: bool) -> ConditionNote | None:
    """Device platforms (concept-conditional-access-conditions.md): read from an unverified
    user agent; for Recruitee's servers not documented."""
    plat = policy.conditions.platforms
    if plat is None or not plat.include_platforms:
        return None
    include, exclude = list(plat.include_platforms), list(plat.exclude_platforms)
    everything = [*include, *exclude]
    odd = [p for p in everything if p.casefold() not in KNOWN_PLATFORMS]
    if odd:
        return ConditionNote(
            "device platforms",
            Applies.UNKNOWN,
            f"it names a device platform this tool does not know ({', '.join(odd)}; Graph "
            "answers 'unknownFutureValue' for a platform newer than the request asked for)",
            f"read which platforms the policy names {CHECK_POLICY}",
        )
    if any(p.casefold() == "all" for p in include) and not exclude:
        return None
    scope = (
        f"all device platforms except {', '.join(exclude)}"
        if any(p.casefold() == "all" for p in include)
        else f"device platforms {', '.join(include)}"
        + (f" except {', '.join(exclude)}" if exclude else "")
    )
    if not refresh:
        return ConditionNote(
            "device platforms", Applies.ONLY_WHILE, f"only when the person connects on {scope}"
        )
    return ConditionNote(
        "device platforms",
        Applies.UNKNOWN,
        f"it applies only on {scope}; Entra reads the platform from the request's unverified "
        "user agent, and which platform Recruitee's server requests show is not documented",
        "look up the device platform of a Recruitee refresh in the non-interactive sign-in "
        "log (Device info), or ask Recruitee which user agent its servers send",
    )


_OPERATOR = r"-([a-z]+)\b|(==|!=)"  # compiled (and cached by re) when a device filter is read


def filter_matches_unregistered(rule: str | None) -> bool | None:
    """Does a device-filter rule match a device that is not registered (every property
    null)? Positive operators never do, negative ones always do (concept-condition-filters-
    for-devices.md); ``None`` when the rule mixes them or uses ``-not`` (cannot tell)."""
    if not rule:
        return None
    found: set[str] = set()
    for word, symbol in re.findall(_OPERATOR, rule, re.IGNORECASE):
        op = (word or {"==": "eq", "!=": "ne"}[symbol]).casefold()
        if op in ("and", "or"):
            continue
        found.add(op)
    if not found or found - POSITIVE_OPERATORS - NEGATIVE_OPERATORS:
        return None
    if found <= POSITIVE_OPERATORS:
        return False
    if found <= NEGATIVE_OPERATORS:
        return True
    return None


def _device_filter(flt: ConditionalAccessFilter | None, refresh: bool) -> ConditionNote | None:
    """Filter for devices (concept-condition-filters-for-devices.md): a refresh from
    Recruitee's servers has no registered device, so every device property is null."""
    if flt is None or not (flt.rule or flt.mode):
        return None
    mode = (flt.mode or "").casefold()
    rule = flt.rule or ""
    if not refresh:
        return ConditionNote(
            "device filter",
            Applies.ONLY_WHILE,
            f"only for devices that {'match' if mode == 'include' else 'do not match'} "
            f"'{rule}' when the person connects",
        )
    matches = filter_matches_unregistered(rule)
    if mode not in ("include", "exclude") or matches is None:
        return ConditionNote(
            "device filter",
            Applies.UNKNOWN,
            f"its device filter ({flt.mode or 'no mode'}: '{rule}') mixes positive and "
            "negative operators or cannot be read, so whether it covers a request without "
            "a registered device, such as Recruitee's refresh, cannot be told",
            "ask Microsoft's What-If for a Recruitee sign-in without a device, or "
            f"{REFRESH_RESULT}",
        )
    applies = matches if mode == "include" else not matches
    kind = "negative" if matches else "positive"
    return ConditionNote(
        "device filter",
        Applies.YES if applies else Applies.NO,
        f"its device filter ({mode}: '{rule}') uses {kind} operators, which "
        f"{'match' if matches else 'do not match'} a device that is not registered in Entra; "
        f"Recruitee's server-side refresh has none, so the policy "
        f"{'applies' if applies else 'does not apply'} to it",
    )


def _risk(policy: ConditionalAccessPolicy) -> list[ConditionNote]:
    """Sign-in and user risk (concept-conditional-access-conditions.md), insider risk
    (how-to-policy-insider-risk.md), service principal risk: only while detected."""
    c = policy.conditions
    levels = {
        "sign-in risk": c.sign_in_risk_levels,
        "user risk": c.user_risk_levels,
        "service principal risk": c.service_principal_risk_levels or [],
        "insider risk": [c.insider_risk_levels] if c.insider_risk_levels else [],
    }
    return [
        ConditionNote(
            name,
            Applies.ONLY_WHILE,
            f"only while {name} {', '.join(values)} is detected for the person",
        )
        for name, values in levels.items()
        if values
    ]


def _other_conditions(policy: ConditionalAccessPolicy) -> list[ConditionNote]:
    """Authentication flows (concept-authentication-flows.md) and workload identities
    (client applications): not evaluated here, named."""
    c = policy.conditions
    notes: list[ConditionNote] = []
    flows = c.authentication_flows
    if flows is not None and (flows.transfer_methods or "").casefold() not in ("", "none"):
        notes.append(
            ConditionNote(
                "authentication flows",
                Applies.UNKNOWN,
                f"it applies to sign-ins using {flows.transfer_methods}, tracked on the tokens "
                "they produce; how each person first connected Recruitee is not known here",
                "look up how people connected Recruitee in the sign-in log (Authentication "
                "protocol), or ask Microsoft's What-If",
            )
        )
    apps = c.client_applications
    if apps is not None and _configured(apps.model_dump(by_alias=True)):
        notes.append(
            ConditionNote(
                "client applications (workload identities)",
                Applies.UNKNOWN,
                "it targets service principals (workload identities), which this tool does "
                "not evaluate",
                f"read which service principals it covers {CHECK_POLICY}",
            )
        )
    return notes


def conditions_for(policy: ConditionalAccessPolicy, *, refresh: bool) -> Applicability:
    """Whether the policy's conditions (client apps, locations, platforms, devices, risk,
    flows, anything unrecognised) cover Recruitee's refresh (``refresh=True``) or a person
    connecting Recruitee in their browser. Users and target resources are judged elsewhere
    (conditional_access.py, or Microsoft's What-If)."""
    c = policy.conditions
    notes = [
        n
        for n in (
            _client_apps(policy),
            _locations(policy, refresh),
            _platforms(policy, refresh),
            _device_filter(c.devices.device_filter if c.devices else None, refresh),
        )
        if n is not None
    ]
    notes += _risk(policy) + _other_conditions(policy)
    apps = c.applications
    if apps is not None and apps.application_filter is not None and apps.application_filter.rule:
        notes.append(
            ConditionNote(
                "application filter",
                Applies.UNKNOWN,
                f"it targets apps by custom security attributes ({apps.application_filter.mode}: "
                f"'{apps.application_filter.rule}'), which this tool does not read",
                "read the custom security attributes of Office 365 Exchange Online, Windows "
                "Azure Active Directory and Recruitee's service principal, or ask Microsoft's "
                "What-If",
            )
        )
    paths = list(unrecognised(c, "conditions"))
    paths += [k for k, v in (policy.model_extra or {}).items() if "@" not in k and _configured(v)]
    return _combine(notes + _unrecognised_notes(paths))


# ----------------------------------------------------------------------------- controls


class Need(str, Enum):
    """What the grant and session controls ask of a request, least to most demanding."""

    NOTHING = "nothing"
    MFA_CLAIM = "mfa_claim"
    """MFA: a refresh carries the MFA claim of the sign-in it came from."""
    UNKNOWN = "unknown"
    UNMET = "unmet"
    """Something a server cannot provide (an approved client app, app protection, a password
    change by the person)."""
    BLOCK = "block"


_NEED_ORDER = {Need.NOTHING: 0, Need.MFA_CLAIM: 1, Need.UNKNOWN: 2, Need.UNMET: 3, Need.BLOCK: 4}


@dataclass(frozen=True)
class ControlsMeaning:
    need: Need
    requirements: tuple[str, ...]
    """Each control, in words, for the report."""
    unknown: tuple[ConditionNote, ...]
    """Controls whose effect on a refresh cannot be evaluated, with what would settle them."""
    unmet: tuple[str, ...]


UNMET_CONTROLS = {
    "approvedapplication": "an approved client app",
    "compliantapplication": "an app protection policy",
    "passwordchange": "a password change by the person",
    "riskremediation": "risk remediation by the person",
}
DEVICE_CONTROLS = {
    "compliantdevice": "a compliant device",
    "domainjoineddevice": "a Microsoft Entra hybrid joined device",
}


def _grant_needs(policy: ConditionalAccessPolicy) -> list[tuple[Need, str, ConditionNote | None]]:
    """Grant controls (concept-conditional-access-grant.md), each with what it asks of a
    refresh; authentication strength per Graph's authenticationStrengthPolicy."""
    grant = policy.grant_controls
    if grant is None:
        return []
    out: list[tuple[Need, str, ConditionNote | None]] = []
    for control in grant.built_in_controls:
        key = control.casefold()
        if key == "block":
            out.append((Need.BLOCK, "block access", None))
        elif key == "mfa":
            out.append((Need.MFA_CLAIM, "multifactor authentication", None))
        elif key in UNMET_CONTROLS:
            out.append((Need.UNMET, UNMET_CONTROLS[key], None))
        elif key in DEVICE_CONTROLS:
            what = DEVICE_CONTROLS[key]
            out.append(
                (
                    Need.UNKNOWN,
                    what,
                    ConditionNote(
                        what,
                        Applies.UNKNOWN,
                        f"it requires {what}; how Entra judges a device on a server-side "
                        "refresh, which has no device of the person's, is not documented",
                        REFRESH_RESULT,
                    ),
                )
            )
        else:
            out.append(
                (
                    Need.UNKNOWN,
                    control,
                    ConditionNote(
                        f"grant control {control}",
                        Applies.UNKNOWN,
                        f"it requires grant control '{control}', which this tool does not know"
                        + (
                            " (Graph answers 'unknownFutureValue' for a control newer than the "
                            "request asked for)"
                            if key == UNKNOWN_FUTURE_VALUE
                            else ""
                        ),
                        f"read the policy's grant controls {CHECK_POLICY}",
                    ),
                )
            )
    strength = grant.authentication_strength
    if strength is not None and (strength.id or strength.display_name):
        name = f"authentication strength '{strength.display_name or strength.id}'"
        if (strength.id or "").casefold() == MFA_STRENGTH_ID:
            out.append((Need.MFA_CLAIM, name, None))
        else:
            out.append(
                (
                    Need.UNKNOWN,
                    name,
                    ConditionNote(
                        name,
                        Applies.UNKNOWN,
                        f"it requires {name}, which allows only some sign-in methods; whether "
                        "the method a person used when connecting Recruitee, carried by its "
                        "refresh token, meets it is not something the policy shows",
                        "compare the authentication details of each person's Recruitee connect "
                        "in the sign-in log with the strength's allowed combinations",
                    ),
                )
            )
    for label, values in (
        ("terms of use", grant.terms_of_use),
        ("custom controls", grant.custom_authentication_factors),
    ):
        if values:
            out.append(
                (
                    Need.UNKNOWN,
                    label,
                    ConditionNote(
                        label,
                        Applies.UNKNOWN,
                        f"it requires {label}, which this tool cannot evaluate for a "
                        "server-side refresh",
                        REFRESH_RESULT,
                    ),
                )
            )
    return out


def _session_unknowns(policy: ConditionalAccessPolicy) -> list[ConditionNote]:
    """Token protection (concept-token-protection.md), application enforced restrictions and
    App Control (concept-conditional-access-session.md): undocumented for a server-side
    refresh. Sign-in frequency (concept-session-lifetime.md) is judged in
    conditional_access.py; persistent browser and resilience defaults change nothing here."""
    session = policy.session_controls
    if session is None:
        return []
    named = (
        (
            session.secure_sign_in_session,
            "token protection",
            "it requires token protection (device-bound sign-in session tokens, supported for "
            "listed native clients on registered devices); what it does to a confidential "
            "client's server-side refresh is not documented",
        ),
        (
            session.application_enforced_restrictions,
            "application enforced restrictions",
            "it sets application enforced restrictions, which Exchange Online and SharePoint "
            "apply to browser sessions; their effect on a server-side API call is not documented",
        ),
        (
            session.cloud_app_security,
            "Conditional Access App Control",
            "it routes sessions through Defender for Cloud Apps; its effect on a server-side "
            "API call is not documented",
        ),
    )
    return [
        ConditionNote(
            label,
            Applies.UNKNOWN,
            detail,
            f"{REFRESH_RESULT} (session controls)",
        )
        for control, label, detail in named
        if control is not None and control.is_enabled
    ]


def controls_for_refresh(policy: ConditionalAccessPolicy) -> ControlsMeaning:
    """What the grant and session controls ask of Recruitee's refresh, honouring the
    AND/OR operator: with OR the easiest control decides, with AND the hardest. Sign-in
    frequency is not here: it is deferred to the next connect on confidential clients."""
    grants = _grant_needs(policy)
    operator = ((policy.grant_controls.operator if policy.grant_controls else None) or "OR").upper()
    pick = max if operator == "AND" else min
    need = pick((n for n, _w, _u in grants), key=_NEED_ORDER.__getitem__, default=Need.NOTHING)
    unknown = [u for n, _w, u in grants if n is Need.UNKNOWN and u is not None]
    if need is not Need.UNKNOWN:
        unknown = []
    paths: list[str] = []
    if policy.grant_controls is not None:
        paths += unrecognised(policy.grant_controls, "grantControls")
    if policy.session_controls is not None:
        paths += unrecognised(policy.session_controls, "sessionControls")
    session = _session_unknowns(policy) + _unrecognised_notes(paths)
    if session and _NEED_ORDER[need] < _NEED_ORDER[Need.UNKNOWN]:
        need = Need.UNKNOWN
    if need in (Need.UNKNOWN,):
        unknown += session
    return ControlsMeaning(
        need=need,
        requirements=tuple(w for _n, w, _u in grants),
        unknown=tuple(unknown),
        unmet=tuple(w for n, w, _u in grants if n is Need.UNMET),
    )


def excludes_locations(policy: ConditionalAccessPolicy) -> bool:
    """Applies in all locations but some (typically trusted ones): people connecting from an
    excluded location are not asked, Recruitee's servers are."""
    loc = policy.conditions.locations
    return bool(
        loc and any(x.casefold() == "all" for x in loc.include_locations) and loc.exclude_locations
    )


@dataclass(frozen=True)
class RecruiteeView:
    """A policy's conditions for Recruitee's refresh and for a person connecting, and what its
    controls ask of a refresh."""

    refresh: Applicability
    connect: Applicability
    controls: ControlsMeaning


def recruitee_view(policy: ConditionalAccessPolicy) -> RecruiteeView:
    """How the policy meets Recruitee, from its conditions and controls alone (rules read it
    once per audit: ``AuditContext.ca_view``)."""
    return RecruiteeView(
        conditions_for(policy, refresh=True),
        conditions_for(policy, refresh=False),
        controls_for_refresh(policy),
    )
