"""A tenant name outside the ANSI code page never crashes a redirected report."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from consent_audit.stdio import make_stdio_unicode_safe

ROOT = Path(__file__).resolve().parents[2]
NAME = "Recruitee 日本語"


def _redirected(monkeypatch: pytest.MonkeyPatch, encoding: str) -> tuple[io.BytesIO, io.BytesIO]:
    out, err = io.BytesIO(), io.BytesIO()
    monkeypatch.setattr(sys, "stdout", io.TextIOWrapper(out, encoding=encoding))
    monkeypatch.setattr(sys, "stderr", io.TextIOWrapper(err, encoding=encoding))
    return out, err


def test_windows_redirected_stdout_becomes_utf8(monkeypatch: pytest.MonkeyPatch) -> None:
    out, err = _redirected(monkeypatch, "cp1252")
    monkeypatch.setattr(sys, "platform", "win32")
    make_stdio_unicode_safe()
    print(NAME)
    print(NAME, file=sys.stderr)
    sys.stdout.flush()
    sys.stderr.flush()
    assert out.getvalue() == f"{NAME}\n".encode()
    assert err.getvalue() == f"{NAME}\n".encode()


def test_elsewhere_a_narrow_encoding_is_kept_and_escapes(monkeypatch: pytest.MonkeyPatch) -> None:
    out, _ = _redirected(monkeypatch, "latin-1")
    monkeypatch.setattr(sys, "platform", "linux")
    make_stdio_unicode_safe()
    print("Zoë " + NAME)
    sys.stdout.flush()
    assert out.getvalue() == "Zoë Recruitee \\u65e5\\u672c\\u8a9e\n".encode("latin-1")


def test_a_utf8_stream_is_left_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    _redirected(monkeypatch, "utf-8")
    before = sys.stdout
    make_stdio_unicode_safe()
    assert sys.stdout is before
    assert sys.stdout.errors == "strict"


def test_report_with_a_cjk_name_through_a_cp1252_pipe_exits_normally(tmp_path: Path) -> None:
    snapshot = json.loads((ROOT / "examples/tenants/disabled-app.json").read_text("utf-8"))
    text = json.dumps(snapshot, ensure_ascii=False).replace("Recruitee", NAME, 1)
    assert NAME in text
    path = tmp_path / "cjk.json"
    path.write_text(text, encoding="utf-8")
    env = {**os.environ, "PYTHONIOENCODING": "cp1252"}
    for fmt in ("text", "markdown"):
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "consent_audit",
                "check",
                "-s",
                str(path),
                "--fail-on",
                "never",
                "--format",
                fmt,
                "--details",  # the name appears in the details, not on the first screen
            ],
            capture_output=True,
            env=env,
            timeout=60,
            check=False,
        )
        assert proc.returncode == 0, proc.stderr.decode("cp1252", "replace")[-800:]
        assert b"\\u65e5\\u672c\\u8a9e" in proc.stdout
