"""Where consent-audit knowingly departs from Microsoft's Graph schema: the one list.

The schema check (tests/graph_schema/checker.py) fails on every departure that is not named
here, and on every entry here that no longer matches anything (a stale excuse is a failure
too). Each entry says why the departure is safe. Keys use the schema's own names: (Graph type,
property) or (Graph type, property, version).
"""

from __future__ import annotations

REQUIRED_THOUGH_NULLABLE: dict[tuple[str, str], str] = {
    ("servicePrincipal", "appId"): (
        "Nullable in the CSDL, but a service principal is the local instance of an application "
        "and is identified by that application's appId; the tool finds Recruitee by it. A "
        "service principal sent without one is skipped and named in the part's message "
        "(collector.py _values), never guessed."
    ),
}
"""Graph properties the CSDL leaves nullable that a model field does not accept as ``null``."""

ABSENT_FROM_VERSION: dict[tuple[str, str, str], str] = {
    ("permissionGrantConditionSet", "certifiedClientApplicationsOnly", "v1.0"): (
        "Beta only (absent from schemas/v1.0-Prod.csdl): the collector reads the same policies "
        "from /beta and merges this one property in (collector.py, permission grant policies); "
        "when beta cannot be read it stays null (unknown), never a default false."
    ),
}
"""Model fields for a property that one of the versions the model is read from lacks."""

DERIVED_TYPE_PROPERTIES: dict[tuple[str, str], str] = {
    ("directoryObject", "displayName"): (
        "/users/{id}/memberOf lists directory objects of several kinds (groups, directory "
        "roles, administrative units), each of its own type (@odata.type); $select=displayName "
        "is answered by the kinds that have it (all three do)."
    ),
    ("directoryObject", "roleTemplateId"): (
        "The same memberOf request selects a directory role's roleTemplateId (directoryrole.md) "
        "to recognise admin roles; groups simply come back without it."
    ),
    ("identity", "userPrincipalName"): (
        "A consent request's createdBy.user is declared identity (identitySet) and is open; "
        "Graph sends the person as a userIdentity, whose userPrincipalName names the requester "
        "(null when absent: then the id is shown)."
    ),
}
"""Properties read through a declared type that only a derived type (OData: a value may be
an instance of a type derived from the declared one) has. The field must accept null."""
