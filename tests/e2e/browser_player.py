"""Plays the person at the system browser for MSAL's interactive sign-in.

MSAL opens the authorize URL with Python's ``webbrowser``, which runs ``$BROWSER URL`` and waits
for it to exit; MSAL only starts answering its loopback listener afterwards. So, like a real
browser launcher (``xdg-open``), this returns at once and does the browsing in a detached
child: GET the authorize URL from the identity emulator (trusting ``REQUESTS_CA_BUNDLE``), read
the form_post page Entra answers with, and POST its fields to the form's ``action`` - the
loopback ``http://localhost:<port>`` redirect URI. Each step is appended as a JSON line to
``$BROWSER_PLAYER_LOG``.

``install(directory)`` writes the executable ``$BROWSER`` points at (``webbrowser`` takes the
variable's value as one program path, without arguments).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

LOG_VAR = "BROWSER_PLAYER_LOG"


class _Form(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.action: str | None = None
        self.fields: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        if tag == "form" and self.action is None:
            self.action = values.get("action")
        elif tag == "input" and values.get("type") == "hidden" and "name" in values:
            self.fields[values["name"]] = values.get("value", "")


def _log(entry: dict[str, Any]) -> None:
    path = os.environ.get(LOG_VAR)
    if path:
        with open(path, "a", encoding="utf-8") as out:
            out.write(json.dumps(entry) + "\n")


def browse(url: str) -> None:
    import requests

    _log({"step": "open", "url": url})
    page = requests.get(url, timeout=10, allow_redirects=False)
    form = _Form()
    form.feed(page.text)
    _log({"step": "authorize", "status": page.status_code, "action": form.action})
    if page.status_code != 200 or not form.action:
        return
    answer = requests.post(form.action, data=form.fields, timeout=10)
    _log(
        {
            "step": "redirect",
            "action": form.action,
            "fields": sorted(form.fields),
            "status": answer.status_code,
            "page": answer.text[:200],
        }
    )


def install(directory: Path) -> Path:
    """An executable launcher for ``$BROWSER`` that runs this file with this Python."""
    directory.mkdir(parents=True, exist_ok=True)
    launcher = directory / "test-browser"
    launcher.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{Path(__file__)}" "$1"\n')
    launcher.chmod(0o755)
    return launcher


def main(argv: list[str]) -> int:
    if len(argv) == 3 and argv[1] == "--browse":
        try:
            browse(argv[2])
        except Exception as exc:  # recorded for the test to show; nobody reads our stderr
            _log({"step": "error", "error": f"{type(exc).__name__}: {exc}"})
        return 0
    if len(argv) != 2:
        return 2
    subprocess.Popen(
        [sys.executable, __file__, "--browse", argv[1]],
        start_new_session=True,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
