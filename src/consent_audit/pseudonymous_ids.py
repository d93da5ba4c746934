"""How a user's or group's object id looks in a redacted snapshot -- and in every fingerprint.

Object ids are random GUIDs Entra assigns: nobody can guess one, so an unkeyed hash scoped
to the tenant is enough to hide it from anyone without read access to that directory (who
could list the people anyway). Being unkeyed, it is the same on every machine, in every run
and with or without a redaction key, which is what lets a finding's fingerprint be identical
for a redacted snapshot and the live tenant it came from: redaction writes this value, and
fingerprints of an unredacted report hash the same value (see fingerprint.py).

Names, UPNs and e-mail addresses are guessable (first.last@domain), so they are pseudonymised
with a keyed hash instead (live/redact.py).
"""

from __future__ import annotations

import hashlib
import uuid

_NAMESPACE = "consent-audit/object-id/v1"


def stable_object_id(tenant_id: str, object_id: str) -> str:
    """The redacted form of ``object_id``: a GUID derived from the tenant and the id."""
    message = f"{_NAMESPACE}\0{tenant_id.strip().casefold()}\0{object_id.strip().casefold()}"
    digest = hashlib.sha256(message.encode()).digest()
    return str(uuid.UUID(bytes=digest[:16], version=4))
