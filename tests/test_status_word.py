"""The word printed for each status is defined once (report.py, beside the statuses), so the
prediction's "After step 2: Mailbox PASS" and every report format cannot drift apart."""

from __future__ import annotations

import re
from pathlib import Path

from consent_audit import report
from consent_audit.evaluate import prediction
from consent_audit.render import common

SRC = Path(report.__file__).resolve().parent


def test_status_words_have_one_definition() -> None:
    defined = [
        path.relative_to(SRC).as_posix()
        for path in sorted(SRC.rglob("*.py"))
        if re.search(r"^STATUS_WORD\b.*=", path.read_text(encoding="utf-8"), re.MULTILINE)
    ]
    assert defined == ["report.py"]
    assert prediction.STATUS_WORD is report.STATUS_WORD
    assert common.STATUS_WORD is report.STATUS_WORD
    assert set(report.STATUS_WORD) == set(report.VerdictStatus)
