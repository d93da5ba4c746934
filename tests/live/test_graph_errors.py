from __future__ import annotations

import json
from pathlib import Path

import pytest

from consent_audit.live.graph_errors import parse_graph_error
from consent_audit.snapshot import PartStatus

SAMPLES = Path("/work/shared/reference/graph-samples")


def test_403_envelope_is_typed_with_request_id() -> None:
    body = {
        "error": {
            "code": "Authorization_RequestDenied",
            "message": "Insufficient privileges to complete the operation.",
            "innerError": {"request-id": "93b6f17e", "date": "2025-02-13T10:17:06"},
        }
    }
    error = parse_graph_error(403, body)
    assert (error.status, error.code, error.request_id) == (
        403,
        "Authorization_RequestDenied",
        "93b6f17e",
    )
    assert error.part_status is PartStatus.FORBIDDEN
    assert "request-id 93b6f17e" in error.describe()


def test_lower_case_innererror_and_empty_code_are_read() -> None:
    body = {"error": {"code": "", "message": "nope", "innererror": {"request-id": "r2"}}}
    error = parse_graph_error(403, body)
    assert error.request_id == "r2"
    assert error.code == "HTTP403"


def test_throttling_sample_parses() -> None:
    if not SAMPLES.exists():
        pytest.skip("reference samples not present")
    body = json.loads((SAMPLES / "error-429-throttled.json").read_text())
    error = parse_graph_error(429, body)
    assert error.code == "TooManyRequests"
    assert error.request_id == "94fb3b52-452a-4535-a601-69e0a90e3aa2"
    assert error.part_status is PartStatus.ERROR


@pytest.mark.parametrize(
    ("status", "code", "message"),
    [
        (403, "Authentication_RequestFromNonPremiumTenantOrB2CTenant", "x"),
        (400, "AadPremiumLicenseRequired", "x"),
        (403, "Forbidden", "Tenant is not a B2C tenant and doesn't have premium license"),
    ],
)
def test_licence_errors_are_not_licensed_not_forbidden(
    status: int, code: str, message: str
) -> None:
    error = parse_graph_error(status, {"error": {"code": code, "message": message}})
    assert error.part_status is PartStatus.NOT_LICENSED


def test_non_json_body_still_gives_an_error_with_header_request_id() -> None:
    error = parse_graph_error(404, None, {"request-id": "h1"})
    assert error.part_status is PartStatus.NOT_FOUND
    assert error.request_id == "h1"
