"""Large generated manifests, for the bounds tests and bench/manifest_scale.py."""

from __future__ import annotations

import json

SCOPES = ["offline_access", "User.Read", "Mail.Send", "Calendars.ReadWrite", "User.ReadBasic.All"]


def manifest_with_features(count: int) -> str:
    """A valid manifest of ``count`` features, each needing two to five real Graph scopes."""
    lines = [
        "schema_version = 1",
        "[app]",
        'display_name = "Recruitee"',
        "known_app_ids = []",
        "[resource]",
        'display_name = "Microsoft Graph"',
        'app_id = "00000003-0000-0000-c000-000000000000"',
    ]
    for n in range(count):
        scopes = ", ".join(json.dumps(s) for s in SCOPES[: 2 + n % 4])
        lines += ["[[feature]]", f'name = "f{n}"', f'title = "Feature {n}"', f"scopes = [{scopes}]"]
    return "\n".join(lines) + "\n"


def manifest_with_unknown_scopes(count: int) -> str:
    """One feature listing ``count`` distinct misspellings, each close to Mail.ReadWrite."""
    head = manifest_with_features(0)
    scopes = ", ".join(f'"Mail.ReadWite{n}"' for n in range(count))
    return head + f'[[feature]]\nname = "typos"\nscopes = [{scopes}]\n'
