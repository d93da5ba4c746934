"""A reader that goes away is exit 5, quietly, on every OS (stdout_guard.py).

On Windows the closed pipe can surface as ``OSError`` ``EINVAL`` rather than
``BrokenPipeError`` (python/cpython#79935); elsewhere ``EINVAL`` is a real error and keeps
its message. The CLI's own ``main()`` runs against a stdout that fails like that.
"""

from __future__ import annotations

import errno
import sys
from typing import Any

import pytest

import consent_audit.stdout_guard as guard
from consent_audit.cli import main


class FailingStdout:
    """A text stream whose every write and flush fails with ``code``."""

    encoding = "utf-8"

    def __init__(self, code: int) -> None:
        self.code = code
        self.writes = 0

    def write(self, text: str) -> int:
        self.writes += 1
        raise OSError(self.code, "simulated")

    def flush(self) -> None:
        raise OSError(self.code, "simulated")

    def isatty(self) -> bool:
        return False

    def fileno(self) -> int:
        raise OSError(errno.EBADF, "no descriptor")


def _run_main(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], code: int, platform: str
) -> tuple[int, str, FailingStdout, list[Any]]:
    stdout = FailingStdout(code)
    silenced: list[Any] = []
    monkeypatch.setattr(sys, "stdout", stdout)
    monkeypatch.setattr(sys, "platform", platform)
    monkeypatch.setattr(
        sys, "argv", ["consent-audit", "check", "--demo", "--format", "json", "--fail-on", "never"]
    )
    # The real silence_stdout points fd 1 at the null device: not pytest's own stdout.
    monkeypatch.setattr(guard, "silence_stdout", lambda: silenced.append(True))
    with pytest.raises(SystemExit) as exited:
        main()
    return int(exited.value.code or 0), capsys.readouterr().err, stdout, silenced


def test_einval_on_windows_is_a_broken_pipe_exit_5_quietly(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, err, stdout, silenced = _run_main(monkeypatch, capsys, errno.EINVAL, "win32")
    assert stdout.writes >= 1  # the report was being written when the reader went away
    assert code == 5
    assert err == ""
    assert silenced == [True]


def test_einval_elsewhere_is_exit_5_with_its_message(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, err, _, silenced = _run_main(monkeypatch, capsys, errno.EINVAL, "linux")
    assert code == 5
    assert err.startswith("error: cannot write to standard output (Invalid argument).")
    assert "fix: write the report to a file with -o FILE." in err
    assert "Traceback" not in err
    assert silenced == [True]


@pytest.mark.parametrize("platform", ["win32", "linux", "darwin"])
def test_epipe_is_quiet_everywhere(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], platform: str
) -> None:
    code, err, _, _ = _run_main(monkeypatch, capsys, errno.EPIPE, platform)
    assert code == 5
    assert err == ""


@pytest.mark.parametrize(
    ("code", "platform", "quiet"),
    [
        (errno.EPIPE, "linux", True),
        (errno.EPIPE, "win32", True),
        (errno.EINVAL, "win32", True),
        (errno.EINVAL, "linux", False),
        (errno.EINVAL, "darwin", False),
        (errno.ENOSPC, "win32", False),
        (errno.EBADF, "win32", False),
    ],
)
def test_which_errors_mean_the_reader_went_away(
    monkeypatch: pytest.MonkeyPatch, code: int, platform: str, quiet: bool
) -> None:
    monkeypatch.setattr(sys, "platform", platform)
    wrapped = guard.GuardedStdout(FailingStdout(code))  # type: ignore[arg-type]
    with pytest.raises(guard.StdoutLost) as lost:
        wrapped.write("report")
    assert lost.value.errno == code
    assert lost.value.broken_pipe is quiet
