"""Is a service principal named "Recruitee" really Recruitee's application?

A name proves nothing: any user allowed to register applications can create one called
"Recruitee" in the tenant, and an admin who grants it Mail.ReadWrite hands every mailbox to
whoever registered it. Recruitee syncs from its own servers for many customers, so its
application is registered in Recruitee's tenant and is multi-tenant:

- ``appOwnerOrganizationId`` "contains the tenant ID where the application is registered"
  (microsoft-graph-docs-contrib api-reference/v1.0/resources/serviceprincipal.md, v1.0,
  nullable Guid): Recruitee's is never this tenant's id;
- ``signInAudience`` (same page, v1.0, read-only, nullable) is ``AzureADMultipleOrgs`` or
  ``AzureADandPersonalMicrosoftAccount`` for a multi-tenant application; ``AzureADMyOrg`` is a
  single-tenant one (only usable in the tenant that registered it), ``PersonalMicrosoftAccount``
  serves no organisation;
- ``verifiedPublisher.verifiedPublisherId`` (same page; verifiedPublisher resource) is the
  publisher's Partner Center id, set only when Microsoft verified the publisher.

The manifest may pin the owner tenant ids and the verified publisher ids (``app.owner_tenant_ids``,
``app.verified_publisher_ids``): then any other owner or publisher, or one Graph did not report,
is a look-alike too (entra-behaviour.md: "owned by this tenant or by an unknown publisher is a
look-alike. Never grant to it on name alone").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from consent_audit.graph_objects import ServicePrincipal
from consent_audit.manifest import GUID, Manifest

MULTI_ORG_AUDIENCES = frozenset({"azureadmultipleorgs", "azureadandpersonalmicrosoftaccount"})

IdentityKind = Literal["pinned", "multi_tenant", "unconfirmed", "lookalike"]


@dataclass(frozen=True)
class AppIdentity:
    """What the service principal's own properties say about whose application it is.

    - ``pinned``: owner tenant and/or verified publisher match the manifest's pins;
    - ``multi_tenant``: a multi-tenant application another tenant owns (no pins to compare);
    - ``unconfirmed``: Graph did not report the owner or the audience (null), or this
      tenant's id is not known, so "not ours" cannot be checked; not proof of a look-alike,
      but only its name vouches for it: no fix writes to it and no consent URL links it
      unless its appId is named (``--app-id``, the manifest's known appIds);
    - ``lookalike``: registered in this tenant, not multi-tenant, or not matching a pin.
    """

    kind: IdentityKind
    reason: str

    @property
    def is_lookalike(self) -> bool:
        return self.kind == "lookalike"


def app_identity(sp: ServicePrincipal, tenant_id: str, manifest: Manifest) -> AppIdentity:
    owner = (sp.app_owner_organization_id or "").casefold()
    audience = sp.sign_in_audience
    publisher = sp.verified_publisher.verified_publisher_id if sp.verified_publisher else None
    tenant = tenant_id.casefold() if GUID.fullmatch(tenant_id) else ""
    if owner and owner == tenant:
        return AppIdentity(
            "lookalike",
            "it is registered in this tenant (appOwnerOrganizationId is this tenant's id): "
            "Recruitee's application is registered in Recruitee's own tenant",
        )
    if audience is not None and audience.casefold() not in MULTI_ORG_AUDIENCES:
        return AppIdentity(
            "lookalike",
            f"its sign-in audience is {audience}, not a multi-tenant one: Recruitee's "
            "application serves every customer's organisation",
        )
    owners = {t.casefold() for t in manifest.owner_tenant_ids}
    if owners and owner not in owners:
        return AppIdentity(
            "lookalike",
            f"its owner tenant ({sp.app_owner_organization_id or 'not reported by Graph'}) is "
            "not one the manifest pins for Recruitee",
        )
    publishers = set(manifest.verified_publisher_ids)
    if publishers and publisher not in publishers:
        return AppIdentity(
            "lookalike",
            f"its verified publisher id ({publisher or 'none'}) is not one the manifest pins "
            "for Recruitee",
        )
    if owners or publishers:
        return AppIdentity("pinned", "owner tenant and publisher match the manifest's pins")
    if not owner or audience is None or not tenant:
        missing = [
            name
            for name, absent in (
                ("its owner tenant", not owner),
                ("its sign-in audience", audience is None),
                ("this tenant's id", not tenant),
            )
            if absent
        ]
        return AppIdentity(
            "unconfirmed",
            f"Graph did not report {' or '.join(missing)}, so whether it is Recruitee's "
            "multi-tenant application cannot be checked; confirm its appId with Recruitee",
        )
    return AppIdentity(
        "multi_tenant",
        f"a multi-tenant application registered in tenant {sp.app_owner_organization_id}",
    )
