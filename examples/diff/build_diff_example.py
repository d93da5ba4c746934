"""Build before.json and after.json: one tenant, three days and two admin changes apart.

before.json is examples/tenants/partial-scopes.json (admin consent predates mailbox sync).
after.json is the same tenant after an administrator
  1. added Mail.Send and Mail.ReadWrite to Recruitee's admin (AllPrincipals) grant, and
  2. switched Conditional Access policy CA002 (require MFA) to report-only.
tests/test_diff.py checks that `consent-audit diff before.json after.json` lists exactly these.
Run: python examples/diff/build_diff_example.py (``--output-dir DIR``: write them into DIR;
tests/test_examples_reproduced.py compares those with the committed files).
"""

from __future__ import annotations

import argparse
import json
from datetime import datetime, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
SOURCE = HERE.parent / "tenants" / "partial-scopes.json"
ADDED_SCOPES = ("Mail.Send", "Mail.ReadWrite")
POLICY_ID = "39ac33a9-c23b-40b8-a579-7aeb6adaab7a"
NEW_STATE = "enabledForReportingButNotEnforced"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Build the consent-audit diff example.")
    parser.add_argument("--output-dir", type=Path, default=HERE, help="where to write them")
    out: Path = parser.parse_args(argv).output_dir
    before = json.loads(SOURCE.read_text(encoding="utf-8"))
    after = json.loads(json.dumps(before))
    collected = datetime.fromisoformat(before["collected_at"].replace("Z", "+00:00"))
    after["collected_at"] = (collected + timedelta(days=3)).isoformat().replace("+00:00", "Z")
    for app in after["recruitee_apps"]["data"]:
        for grant in app["oauth2_permission_grants"]["data"]:
            if grant["consentType"] == "AllPrincipals":
                grant["scope"] = " ".join([grant["scope"], *ADDED_SCOPES])
    for policy in after["conditional_access_policies"]["data"]:
        if policy["id"] == POLICY_ID:
            policy["state"] = NEW_STATE
    for name, data in (("before.json", before), ("after.json", after)):
        (out / name).write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
