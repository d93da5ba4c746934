"""How serious a finding is: its own module, without pydantic.

The finding registry (``explain``) and the report both use it; here it costs nothing to
import, where report.py builds every report model (issue 22, docs/performance.md).
"""

from __future__ import annotations

from enum import Enum


class Severity(str, Enum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"

    @property
    def rank(self) -> int:
        return {"error": 3, "warning": 2, "info": 1}[self.value]
