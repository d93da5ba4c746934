"""Server text loses every token before it reaches an output (live/scrub.py, item 8 of issue
#19): the tokens this process sent, ``Bearer <b64token>`` and anything JWT-shaped."""

from __future__ import annotations

import pytest

from consent_audit.live.graph_client import GraphClient
from consent_audit.live.graph_errors import GraphError, parse_graph_error
from consent_audit.live.scrub import REDACTED, remember, scrub

JWT = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhZG1pbiJ9.c2lnbmF0dXJl"


@pytest.mark.parametrize(
    "text",
    [
        "Authorization: Bearer abc.DEF-ghi_jkl~mno+pqr/stu==",
        "authorization=bearer%20abc.DEF-ghi",
        "header was BEARER+abc.DEF-ghi",
        f"id_token={JWT}&x=1",
        f"{JWT[:-5]}",  # a JWT cut short is still JWT-shaped
    ],
)
def test_bearer_and_jwt_shaped_text_is_redacted(text: str) -> None:
    out = scrub(text)
    assert REDACTED in out
    assert "abc.DEF" not in out
    assert "eyJhbGci" not in out


def test_a_remembered_token_is_redacted_wherever_it_appears() -> None:
    token = "opaque-token-4711-not-a-jwt"
    remember(token)
    assert scrub(f"the token {token} was refused;{token}") == (
        f"the token {REDACTED} was refused;{REDACTED}"
    )


def test_short_strings_are_not_remembered_and_plain_text_is_untouched() -> None:
    remember("abc")
    text = "Insufficient privileges to complete the operation (abc)."
    assert scrub(text) == text


def test_a_graph_error_is_scrubbed_when_made() -> None:
    body = {
        "error": {
            "code": f"Denied{JWT}",
            "message": "Access denied: Authorization: Bearer abc.def.ghi",
            "innerError": {"request-id": f"rid {JWT}"},
        }
    }
    error = parse_graph_error(403, body)
    for text in (error.code, error.message, error.request_id or "", error.describe(), str(error)):
        assert "abc.def" not in text
        assert "eyJhbGci" not in text
    assert isinstance(error, GraphError)


def test_verbose_lines_are_scrubbed(capsys: pytest.CaptureFixture[str]) -> None:
    GraphClient.verbose_logger()(f"GET https://graph.microsoft.com/v1.0/x?access_token={JWT} 200")
    err = capsys.readouterr().err
    assert "eyJhbGci" not in err
    assert REDACTED in err
