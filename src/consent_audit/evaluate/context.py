"""What every rule reads: the snapshot, the manifest, the audited user and derived facts.

Derived facts (which service principals are Recruitee, which grants are for Microsoft
Graph, which scopes each grant covers) are computed once here so that rules stay small and
agree with each other.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Generic, Literal, TypeVar

from consent_audit.catalog import PermissionCatalog
from consent_audit.evaluate.identity import AppIdentity, app_identity
from consent_audit.graph_objects import (
    ConditionalAccessPolicy,
    OAuth2PermissionGrant,
    ServicePrincipal,
)
from consent_audit.manifest import Feature, Manifest
from consent_audit.report import CaPrincipal, Finding
from consent_audit.scopes import ScopeSet, parse_scope_string
from consent_audit.snapshot import AuditedUser, RecruiteeApp, TenantSnapshot, UserLookup

if TYPE_CHECKING:
    from consent_audit.evaluate.ca_conditions import RecruiteeView

K = TypeVar("K")
V = TypeVar("V")


@dataclass(frozen=True)
class Unknown:
    """A decision a rule could not make because a snapshot part was unavailable."""

    part: str
    features: tuple[str, ...]
    app_object_id: str | None = None
    reason: str | None = None
    """Why the part, though read, does not decide (e.g. Graph answered null); shown by
    DATA_UNAVAILABLE."""


ChosenBy = Literal[
    "only_app", "app_id_option", "known_app_id", "sign_ins", "only_enabled_with_grants", "undecided"
]


@dataclass(frozen=True)
class AppInUse:
    """Which Recruitee service principal Recruitee actually uses, and how that was decided.

    ``app`` is None when several match and nothing tells them apart: then the worst app
    decides each headline verdict, and ``sentence`` says so.
    """

    app: RecruiteeApp | None
    chosen_by: ChosenBy
    sentence: str


@dataclass
class Outcome:
    """Where rules put findings and the decisions they could not make."""

    findings: list[Finding] = field(default_factory=list)
    unknowns: list[Unknown] = field(default_factory=list)

    def add(self, finding: Finding) -> None:
        self.findings.append(finding)

    def unknown(
        self,
        part: str,
        features: list[str] | tuple[str, ...],
        app_object_id: str | None = None,
        reason: str | None = None,
    ) -> None:
        self.unknowns.append(Unknown(part, tuple(features), app_object_id, reason))


class PerObject(Generic[K, V]):
    """``compute(obj)``, computed once per object of the snapshot and then kept.

    Keyed by the object's identity: the context holds the snapshot, and the snapshot every
    object, for the whole audit, so an id is never reused while kept (and the object is kept
    beside its result, checked with ``is``)."""

    def __init__(self, compute: Callable[[K], V]) -> None:
        self._compute = compute
        self._kept: dict[int, tuple[K, V]] = {}

    def __call__(self, obj: K) -> V:
        kept = self._kept.get(id(obj))
        if kept is None or kept[0] is not obj:
            kept = self._kept[id(obj)] = (obj, self._compute(obj))
        return kept[1]


@dataclass(frozen=True)
class AuditContext:
    snapshot: TenantSnapshot
    manifest: Manifest
    """The features being checked (after --feature)."""
    full_manifest: Manifest
    """Every feature the manifest knows: scopes outside it are extra (SCOPE_EXTRA)."""
    catalog: PermissionCatalog
    app_ids: tuple[str, ...] = ()
    user_lookup: UserLookup | None = None

    @property
    def feature_names(self) -> list[str]:
        return [f.name for f in self.manifest.features]

    @property
    def user(self) -> AuditedUser | None:
        return self.user_lookup.user.data if self.user_lookup else None

    # Conditional Access: the rules, the report's table and the MFA rule each read every
    # policy (up to 195, naming thousands of groups); what they read of one is computed once.

    @cached_property
    def ca_view(self) -> PerObject[ConditionalAccessPolicy, RecruiteeView]:
        """How each policy's conditions and controls meet Recruitee (ca_conditions.py)."""
        from consent_audit.evaluate.ca_conditions import recruitee_view

        return PerObject(recruitee_view)

    @cached_property
    def directory_names(self) -> dict[str, str]:
        """Object id (casefolded) -> display name, from everything the snapshot holds."""
        from consent_audit.evaluate.ca_names import directory_names

        return directory_names(self.snapshot)

    @cached_property
    def ca_included(self) -> PerObject[ConditionalAccessPolicy, list[CaPrincipal]]:
        """Every user, group and role each policy includes, named (ca_names.py)."""
        from consent_audit.evaluate.ca_names import assigned

        return PerObject(lambda policy: assigned(policy, self.directory_names, include=True))

    @cached_property
    def ca_excluded(self) -> PerObject[ConditionalAccessPolicy, list[CaPrincipal]]:
        """Every user, group and role each policy excludes, named (ca_names.py)."""
        from consent_audit.evaluate.ca_names import assigned

        return PerObject(lambda policy: assigned(policy, self.directory_names, include=False))

    @cached_property
    def candidate_apps(self) -> list[RecruiteeApp]:
        """Service principals that *claim* to be Recruitee: by --app-id if given, else by the
        manifest's known appIds *or* display name (case-insensitive), deduplicated by object
        id. A claim is not proof: see :attr:`apps` and :attr:`lookalike_apps`."""
        data = self.snapshot.recruitee_apps.data or []
        if self.app_ids:
            wanted = {a.casefold() for a in self.app_ids}
            chosen = [a for a in data if a.service_principal.app_id.casefold() in wanted]
        else:
            known = {a.casefold() for a in self.manifest.known_app_ids}
            name = self.manifest.app_display_name.casefold()
            chosen = [
                a
                for a in data
                if a.service_principal.app_id.casefold() in known
                or (a.service_principal.display_name or "").casefold() == name
            ]
        seen: set[str] = set()
        unique: list[RecruiteeApp] = []
        for app in sorted(chosen, key=lambda a: a.service_principal.id):
            if app.service_principal.id not in seen:
                seen.add(app.service_principal.id)
                unique.append(app)
        return unique

    def identity(self, sp: ServicePrincipal) -> AppIdentity:
        """Whose application ``sp`` is, by its owner tenant, audience and publisher."""
        return app_identity(sp, self.snapshot.tenant.id, self.manifest)

    def named_by_app_id(self, sp: ServicePrincipal) -> bool:
        """Whether ``sp``'s appId was named as Recruitee's (``--app-id`` or the manifest's
        known appIds) rather than found by display name."""
        named = {a.casefold() for a in (*self.app_ids, *self.manifest.known_app_ids)}
        return sp.app_id.casefold() in named

    def may_change(self, sp: ServicePrincipal) -> bool:
        """Whether a fix may grant to, enable or assign on ``sp``. Recruitee's application
        by owner and audience (or the manifest's pins) may; an ``unconfirmed`` one (Graph
        did not report its owner tenant or audience) only when its appId was named, since
        otherwise only its name says it is Recruitee's (entra-behaviour.md, "Remediation that
        does not make things worse": "Never grant to it on name alone")."""
        kind = self.identity(sp).kind
        if kind == "unconfirmed":
            return self.named_by_app_id(sp)
        return kind != "lookalike"

    @cached_property
    def apps(self) -> list[RecruiteeApp]:
        """Recruitee's service principals: the candidates that are not look-alikes. Only
        these are audited, can be the app in use, or receive a fix (evaluate/identity.py)."""
        return [
            a for a in self.candidate_apps if not self.identity(a.service_principal).is_lookalike
        ]

    @cached_property
    def lookalike_apps(self) -> list[RecruiteeApp]:
        """Candidates whose own properties show they are not Recruitee's application."""
        return [a for a in self.candidate_apps if self.identity(a.service_principal).is_lookalike]

    @cached_property
    def near_miss_apps(self) -> list[ServicePrincipal]:
        """Service principals in the snapshot that were *not* chosen (e.g. "Recruitee Mail")."""
        chosen = {a.service_principal.id for a in self.candidate_apps}
        return [
            a.service_principal
            for a in self.snapshot.recruitee_apps.data or []
            if a.service_principal.id not in chosen
        ]

    @cached_property
    def app_in_use(self) -> AppInUse:
        """The app Recruitee uses: the only one; else by --app-id; else the manifest's known
        appIds; else the one with recent successful Recruitee sign-ins; else the only enabled
        one that holds grants. Otherwise undecided (the worst app decides, and we say so)."""
        apps = self.apps
        if len(apps) <= 1:
            # --app-id narrows the audit to the apps it names (the others are not audited).
            only = apps[0] if apps else None
            return AppInUse(only, "app_id_option" if self.app_ids and only else "only_app", "")
        known = {a.casefold() for a in self.manifest.known_app_ids}
        by_known = _one_of(apps, lambda a: a.service_principal.app_id.casefold() in known)
        if by_known is not None:
            return AppInUse(
                by_known,
                "known_app_id",
                f"{self._describe(by_known)} is the one in use: its appId is one the manifest "
                "lists as Recruitee's.",
            )
        signed_in = self._successful_sign_in_app_ids()
        by_sign_ins = _one_of(apps, lambda a: a.service_principal.app_id.casefold() in signed_in)
        if by_sign_ins is not None:
            return AppInUse(
                by_sign_ins,
                "sign_ins",
                f"{self._describe(by_sign_ins)} is the one in use: it alone has recent "
                "successful Recruitee sign-ins.",
            )
        by_grants = _one_of(
            apps,
            lambda a: (
                a.service_principal.account_enabled is not False
                and bool(a.oauth2_permission_grants.data)
            ),
        )
        if by_grants is not None and all(a.oauth2_permission_grants.ok for a in apps):
            return AppInUse(
                by_grants,
                "only_enabled_with_grants",
                f"{self._describe(by_grants)} is the one in use: it is the only enabled one "
                "that holds permission grants.",
            )
        return AppInUse(
            None,
            "undecided",
            f"{len(apps)} Recruitee enterprise applications match and nothing shows which one "
            "Recruitee uses, so each verdict is that of the worst of them.",
        )

    @property
    def deciding_apps(self) -> list[RecruiteeApp]:
        """The apps whose state decides the headline: the one in use, or all when undecided."""
        chosen = self.app_in_use.app
        return [chosen] if chosen is not None else list(self.apps)

    def is_leftover(self, app: RecruiteeApp) -> bool:
        chosen = self.app_in_use.app
        return chosen is not None and chosen.service_principal.id != app.service_principal.id

    def _describe(self, app: RecruiteeApp) -> str:
        sp = app.service_principal
        return f"{sp.display_name or 'Recruitee'} (appId {sp.app_id})"

    def _successful_sign_in_app_ids(self) -> set[str]:
        part = self.snapshot.sign_ins
        if not part.ok:
            return set()
        return {
            (s.app_id or "").casefold()
            for s in part.data or []
            if s.status is not None and s.status.error_code == 0 and s.app_id
        }

    def app_label(self, sp: ServicePrincipal) -> str:
        """The app's name, with its appId when several Recruitee apps would read alike."""
        name = sp.display_name or sp.app_id
        return f"{name} (appId {sp.app_id})" if len(self.apps) > 1 else name

    @property
    def graph_sp(self) -> ServicePrincipal | None:
        return self.snapshot.graph_service_principal.data

    def graph_grants(self, app: RecruiteeApp) -> list[OAuth2PermissionGrant]:
        """Grants of this app on Microsoft Graph (resourceId is the Graph SP's object id)."""
        graph = self.graph_sp
        grants = app.oauth2_permission_grants.data or []
        if graph is None:
            return []
        return [g for g in grants if g.resource_id.casefold() == graph.id.casefold()]

    def admin_scopes(self, app: RecruiteeApp) -> ScopeSet:
        """Scopes granted for all users (admin consent: ``AllPrincipals``)."""
        return ScopeSet(
            s
            for g in self.graph_grants(app)
            if (g.consent_type or "").casefold() == "allprincipals"
            for s in parse_scope_string(g.scope)
        )

    def user_scopes(self, app: RecruiteeApp) -> ScopeSet:
        """Scopes the audited user consented to for themselves (``Principal`` grant)."""
        user = self.user
        if user is None:
            return ScopeSet()
        return ScopeSet(
            s
            for g in self.graph_grants(app)
            if (g.consent_type or "").casefold() == "principal"
            and (g.principal_id or "").casefold() == user.id.casefold()
            for s in parse_scope_string(g.scope)
        )

    def grants_readable(self, app: RecruiteeApp) -> bool:
        return app.oauth2_permission_grants.ok and self.graph_sp is not None

    def missing_admin(self, app: RecruiteeApp, feature: Feature) -> ScopeSet:
        return feature.scope_set.minus(self.admin_scopes(app))

    def missing(self, app: RecruiteeApp, feature: Feature) -> ScopeSet:
        """Scopes neither admin consent nor (with --user) the user's own consent covers."""
        return self.missing_admin(app, feature).minus(self.user_scopes(app))

    def canonical(self, scopes: ScopeSet) -> list[str]:
        return scopes.canonical(self.catalog)

    def own_grants(self, app: RecruiteeApp) -> dict[str, ScopeSet]:
        """Per person (principal id, casefolded): the scopes of their own Graph grants."""
        out: dict[str, ScopeSet] = {}
        for g in self.graph_grants(app):
            if (g.consent_type or "").casefold() != "principal" or not g.principal_id:
                continue
            key = g.principal_id.casefold()
            out[key] = out.get(key, ScopeSet()).union(parse_scope_string(g.scope))
        return out

    def people_covered(self, app: RecruiteeApp, feature: Feature) -> int | None:
        """How many people the admin grant plus their own grant covers for ``feature``
        (a person can sync only then: entra-docs consent-types-developer; Graph
        oauth2PermissionGrant). Only people with a grant of their own are counted.

        None when that cannot be counted: not every grant was read (``all_grants_read``), or
        Graph did not say whom a grant is for (``grants_placed``)."""
        if not self.all_grants_read(app) or not self.grants_placed(app):
            return None
        admin = self.admin_scopes(app)
        covered = sum(
            1
            for scopes in self.own_grants(app).values()
            if not feature.scope_set.minus(admin.union(scopes))
        )
        # Tenant-wide, a large tenant's per-user grants arrive counted per scope string
        # (snapshot.PrincipalGrantGroup); Graph keeps one grant per person and resource.
        graph = self.graph_sp
        if graph is not None:
            covered += sum(
                group.count
                for group in app.principal_grant_groups
                if group.resource_id.casefold() == graph.id.casefold()
                and not feature.scope_set.minus(admin.union(parse_scope_string(group.scope)))
            )
        return covered

    def grants_placed(self, app: RecruiteeApp) -> bool:
        """False when Graph answered null for a Graph grant's consentType, or for the
        principal of a per-user grant (the CSDL allows both): who that grant covers is
        unknown, so neither "the admin grant does not cover it" nor a count of the people
        covered can be stated."""
        for g in self.graph_grants(app):
            kind = (g.consent_type or "").casefold()
            if kind not in ("allprincipals", "principal"):
                return False
            if kind == "principal" and not g.principal_id:
                return False
        return True

    def all_grants_read(self, app: RecruiteeApp) -> bool:
        """False when the collector read only the admin grants and the audited user's own
        (every grant was read when they are all kept, or the per-user ones counted)."""
        return app.grants_coverage in ("all", "all_principals_and_groups")


def _one_of(apps: list[RecruiteeApp], keep: Callable[[RecruiteeApp], bool]) -> RecruiteeApp | None:
    chosen = [a for a in apps if keep(a)]
    return chosen[0] if len(chosen) == 1 else None
