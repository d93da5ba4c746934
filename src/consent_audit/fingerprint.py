"""A finding's identity: what it is about, and a fingerprint hashed from exactly that.

CI baselines, ``diff`` and JUnit history need to recognise "the same finding" in another
run. Prose, scope lists and severity change when the tenant changes (granting one scope
rewrites SCOPE_MISSING's title), so the fingerprint hashes only the rule code and the objects
the finding is about: the Recruitee app (appId), the feature, the Conditional Access policy
id, the audited user's object id, the snapshot part. Each code declares which of these
identify it; the feature list of a tenant-wide finding is *which features it affects*, which
moves with the tenant, so it is not part of the identity.

Users enter the hash in their redacted form (pseudonymous_ids.py), so a redacted snapshot and
the tenant it came from give the same fingerprints.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from enum import Enum

from consent_audit.pseudonymous_ids import stable_object_id
from consent_audit.report import Finding, FindingSubject

FINGERPRINT_VERSION = "consent-audit/fingerprint/v1"


class Subject(str, Enum):
    """The kinds of object a finding can be about."""

    APP = "app"
    FEATURE = "feature"
    POLICY = "policy"
    USER = "user"
    PART = "part"


_A, _F, _P, _U, _PART = Subject.APP, Subject.FEATURE, Subject.POLICY, Subject.USER, Subject.PART

SUBJECTS: dict[str, tuple[Subject, ...]] = {
    "APP_NOT_FOUND": (),
    "APP_DUPLICATE": (),
    "APP_DISABLED": (_A,),
    "APP_LOOKALIKE": (_A,),
    "APP_DISABLED_BY_MICROSOFT": (_A,),
    "SCOPE_MISSING": (_A, _F),
    "USER_CONSENT_DISABLED": (),
    "USER_CONSENT_RESTRICTED": (),
    "ADMIN_CONSENT_WORKFLOW_DISABLED": (),
    "ADMIN_CONSENT_NO_REVIEWERS": (),
    "ADMIN_CONSENT_REQUEST_PENDING": (_A,),
    "ASSIGNMENT_REQUIRED": (_A,),
    "ASSIGNMENT_REQUIRED_USER_NOT_ASSIGNED": (_A, _U),
    "CA_POLICY_BLOCKS": (_A, _P),
    "CA_POLICY_REQUIRES": (_A, _P),
    "CA_POLICY_SIGNIN_FREQUENCY": (_A, _P),
    "CA_POLICY_REPORT_ONLY": (_A, _P),
    "CA_POLICY_UNDETERMINED": (_A, _P),
    "CA_POLICY_CONDITIONAL": (_A, _P),
    "CA_WHAT_IF_DISAGREES": (_A, _P),
    "CA_UNREADABLE": (),
    "GRANT_REVOKED": (_A,),
    "SIGNIN_FAILURES": (_A,),
    "SCOPE_EXTRA": (_A,),
    "APP_REGISTRATION_DISABLED": (),
    # A user that does not exist has no object id; the query may be a pseudonym.
    "USER_NOT_FOUND": (),
    "USER_DISABLED": (_U,),
    "DATA_UNAVAILABLE": (_A, _PART),
    "DATA_PARTIAL": (_A, _PART),
}
"""Which objects identify each finding code (a test walks the registry against this)."""


def subject_of(finding: Finding, app_ids_by_object_id: Mapping[str, str]) -> FindingSubject:
    """The objects ``finding`` is about, read from its fields and evidence."""
    kinds = SUBJECTS.get(finding.id, (_A, _F, _P, _U, _PART))
    evidence = finding.evidence
    app_id: str | None = None
    if _A in kinds:
        oid = finding.app_object_id
        app_id = app_ids_by_object_id.get(oid.casefold()) if oid else None
        app_id = app_id or _text(evidence.get("app_id")) or oid
    feature = None
    if _F in kinds and len(finding.features) == 1:
        feature = finding.features[0]
    return FindingSubject(
        app_id=app_id,
        feature=feature,
        policy_id=_text(evidence.get("policy_id")) if _P in kinds else None,
        user_id=_text(evidence.get("user_id")) if _U in kinds else None,
        part=_text(evidence.get("part")) if _PART in kinds else None,
    )


def fingerprint(code: str, subject: FindingSubject, *, tenant_id: str, ids_redacted: bool) -> str:
    """16 hex digits of SHA-256 over the code and the subject -- nothing else.

    ``ids_redacted`` says the user id is already in its redacted form (a redacted snapshot);
    otherwise it is mapped to that form first, so both hash the same value.
    """
    user = subject.user_id
    if user is not None and not ids_redacted:
        user = stable_object_id(tenant_id, user)
    parts = [
        FINGERPRINT_VERSION,
        code,
        (subject.app_id or "").casefold(),
        (subject.feature or "").casefold(),
        (subject.policy_id or "").casefold(),
        (user or "").casefold(),
        subject.part or "",
    ]
    return hashlib.sha256(json.dumps(parts).encode()).hexdigest()[:16]


def with_fingerprints(
    findings: list[Finding],
    app_ids_by_object_id: Mapping[str, str],
    *,
    tenant_id: str,
    ids_redacted: bool,
) -> list[Finding]:
    """Each finding with its subject and fingerprint filled in."""
    lookup = {k.casefold(): v for k, v in app_ids_by_object_id.items()}
    result = []
    for f in findings:
        subject = subject_of(f, lookup)
        fp = fingerprint(f.id, subject, tenant_id=tenant_id, ids_redacted=ids_redacted)
        result.append(f.model_copy(update={"subject": subject, "fingerprint": fp}))
    return result


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None
