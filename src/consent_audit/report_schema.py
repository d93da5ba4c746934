"""Print the report's JSON Schema (committed as docs/report.schema.json; `make schema`)."""

from __future__ import annotations

import json

from consent_audit.report import Report


def report_schema_json() -> str:
    return (
        json.dumps(Report.model_json_schema(mode="serialization"), indent=2, sort_keys=True) + "\n"
    )


if __name__ == "__main__":
    print(report_schema_json(), end="")
