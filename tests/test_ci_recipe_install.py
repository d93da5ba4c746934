"""Each CI recipe's pin, install and audit steps, run for real in a plain shell (no container).

The recipes build a wheel from one pinned commit of consent-audit and install it. Here the
upstream repository is a git repository made from a copy of this checkout, with a newer
commit on top of the pinned one; each recipe's own lines that check and check out
``CONSENT_AUDIT_COMMIT`` run as written (GitLab's clone too; Azure's after a full clone, as
its checkout step with ``fetchDepth: 0`` leaves it; GitHub's check, its checkout being an
action), then the shell lines that call pip run in a fresh virtual environment, and each
recipe's audit command runs from that environment with the live sign-in options replaced by
``--demo``. The fresh environment sees the already installed dependencies (typer, rich,
pydantic, msal, requests, ...) through a ``.pth`` file and never this checkout's editable
install, so it is the wheel that is exercised; building the wheel needs only the package
index (for setuptools), as in CI.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sysconfig
import venv
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.test_ci_recipes import (
    BASELINE_IF,
    LIVE_OPTIONS,
    PIN,
    PIN_CHECK,
    PLACEHOLDER,
    RECIPES,
    SCRIPTED,
    _load,
    _outputs,
    _strings,
    audit_block,
    bootstrap_and_gated,
    shell_lines,
)

ROOT = Path(__file__).resolve().parents[1]
INSTALL = [
    "python -m pip wheel --no-deps --wheel-dir dist ./consent-audit",
    "python -m pip install dist/consent_audit-*.whl",
]
NOT_SHIPPED = (
    ".venv",
    ".git",
    "build",
    "dist",
    "*.egg-info",
    "tests",
    "bench",
    "examples",
    "__pycache__",
    ".*_cache",
)
AFTER_PIN = "NEWER_THAN_THE_PIN.txt"
"""A file only the upstream's newer commit has: a checkout of the pin must not."""


@dataclass(frozen=True)
class Upstream:
    url: str
    pinned: str
    newer: str


def _git(*args: str, cwd: Path) -> str:
    return subprocess.run(
        [
            "git",
            "-c",
            "user.name=ci",
            "-c",
            "user.email=ci@example.invalid",
            "-c",
            "commit.gpgsign=false",
            *args,
        ],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()


def _pin_lines(name: str) -> list[str]:
    """The recipe's own lines that check the pin and fetch and check out consent-audit."""
    return [
        line
        for line in shell_lines(name)
        if line.startswith(("if [", "git ")) and line != BASELINE_IF
    ]


def _run_pin(
    name: str, work: Path, upstream: Upstream, commit: str
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update({PIN: commit, "CONSENT_AUDIT_REPO": upstream.url})
    if name == "azure-pipelines.yml":
        # What `checkout: consent_audit` with fetchDepth 0 leaves: the branch tip, all history.
        _git("clone", "--quiet", upstream.url, "consent-audit", cwd=work)
    script = "set -eu\n" + "\n".join(_pin_lines(name)) + "\n"
    return subprocess.run(
        ["bash", "-c", script], cwd=work, env=env, capture_output=True, text=True, timeout=120
    )


@pytest.fixture(scope="module")
def upstream(tmp_path_factory: pytest.TempPathFactory) -> Upstream:
    """consent-audit's repository as a CI job would fetch it: the pinned commit, then a newer."""
    if os.name == "nt" or shutil.which("git") is None:
        pytest.skip("the recipes' shell steps run on Linux agents with git")
    repo = tmp_path_factory.mktemp("upstream") / "consent-audit"
    shutil.copytree(ROOT, repo, ignore=shutil.ignore_patterns(*NOT_SHIPPED))
    _git("init", "--quiet", cwd=repo)
    _git("add", "--all", cwd=repo)
    _git("commit", "--quiet", "-m", "the reviewed commit", cwd=repo)
    pinned = _git("rev-parse", "HEAD", cwd=repo)
    (repo / AFTER_PIN).write_text("not reviewed\n", encoding="utf-8")
    _git("add", AFTER_PIN, cwd=repo)
    _git("commit", "--quiet", "-m", "a newer commit", cwd=repo)
    return Upstream(url=str(repo), pinned=pinned, newer=_git("rev-parse", "HEAD", cwd=repo))


def _install_lines(name: str) -> list[str]:
    return [
        line.strip().removeprefix("- ")
        for text in _strings(_load(name))
        for line in text.splitlines()
        if "python -m pip" in line
    ]


@pytest.mark.parametrize("name", RECIPES)
def test_recipe_installs_a_wheel_built_from_its_checkout(name: str) -> None:
    text = (ROOT / "examples" / "ci" / name).read_text(encoding="utf-8")
    if name == "github-actions.yml":
        # The action installs its own checkout (the pinned commit) into a fresh venv.
        assert _install_lines(name) == []
        action = (ROOT / "action.yml").read_text(encoding="utf-8")
        assert '-m pip install --quiet --disable-pip-version-check "$GITHUB_ACTION_PATH"' in action
        return
    assert _install_lines(name) == INSTALL
    assert "pip install consent-audit" not in text  # not on PyPI


@pytest.mark.parametrize("name", RECIPES)
def test_recipe_checks_out_exactly_the_pinned_commit(
    name: str, upstream: Upstream, tmp_path: Path
) -> None:
    proc = _run_pin(name, tmp_path, upstream, upstream.pinned)
    assert proc.returncode == 0, proc.stderr
    if name == "github-actions.yml":
        return  # actions/checkout fetches `ref: ${{ env.CONSENT_AUDIT_COMMIT }}` itself
    checkout = tmp_path / "consent-audit"
    assert _git("rev-parse", "HEAD", cwd=checkout) == upstream.pinned != upstream.newer
    assert not (checkout / AFTER_PIN).exists()


@pytest.mark.parametrize("name", RECIPES)
@pytest.mark.parametrize(
    "value", ["main", PLACEHOLDER, "short", ""], ids=["branch", "placeholder", "short", "empty"]
)
def test_recipe_stops_at_anything_but_a_full_sha(
    name: str, value: str, upstream: Upstream, tmp_path: Path
) -> None:
    commit = upstream.pinned[:12] if value == "short" else value
    proc = _run_pin(name, tmp_path, upstream, commit)
    assert proc.returncode != 0
    assert f"{PIN} {PIN_CHECK}" in proc.stderr
    checkout = tmp_path / "consent-audit"
    if name == "gitlab-ci.yml":
        assert not checkout.exists()  # the check runs before the clone
    elif name == "azure-pipelines.yml":
        assert _git("rev-parse", "HEAD", cwd=checkout) == upstream.newer  # left as fetched


def _deps_dir(target: Path) -> Path:
    """This environment's packages except consent-audit itself, for the fresh venv to see."""
    target.mkdir()
    site = Path(sysconfig.get_paths()["purelib"])
    for entry in site.iterdir():
        lowered = entry.name.casefold()
        if "consent_audit" in lowered or lowered.startswith(("__editable__", "_distutils_hack")):
            continue
        if entry.suffix == ".pth":
            continue
        (target / entry.name).symlink_to(entry)
    return target


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory, upstream: Upstream) -> tuple[Path, Path]:
    """(work dir, venv bin dir) after GitLab's recipe fetched the pinned commit and the
    recipes' install lines ran in a shell."""
    base = tmp_path_factory.mktemp("recipe")
    work = base / "work"
    work.mkdir()
    pinned = _run_pin("gitlab-ci.yml", work, upstream, upstream.pinned)
    assert pinned.returncode == 0, pinned.stderr
    env_dir = base / "venv"
    # No ensurepip (~8 s of CPU): the recipe's `python -m pip` is this suite's own pip, seen
    # through the same .pth as the dependencies; it installs into the venv it runs in.
    venv.EnvBuilder(with_pip=False).create(env_dir)
    bin_dir = env_dir / "bin"
    purelib = subprocess.run(
        [
            str(bin_dir / "python"),
            "-c",
            "import sysconfig; print(sysconfig.get_paths()['purelib'])",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    (Path(purelib) / "recipe-deps.pth").write_text(str(_deps_dir(base / "deps")) + "\n")
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("VIRTUAL_ENV", "PYTHON"))},
        "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
    }
    script = "set -eu\n" + "\n".join(INSTALL) + "\n"
    proc = subprocess.run(
        ["bash", "-c", script], cwd=work, env=env, capture_output=True, text=True, timeout=600
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return work, bin_dir


def test_the_installed_package_is_the_wheel(installed: tuple[Path, Path]) -> None:
    _work, bin_dir = installed
    where = subprocess.run(
        [str(bin_dir / "python"), "-c", "import consent_audit; print(consent_audit.__file__)"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert str(bin_dir.parent) in where
    assert str(ROOT / "src") not in where


SHIM = """#!{python}
import os, sys
live = {live!r}
args, skip = [], False
for arg in sys.argv[1:]:
    if skip:
        skip = False
        continue
    option = arg.split("=", 1)[0]
    if option in live:
        skip = live[option] and "=" not in arg
        continue
    args.append(arg)
os.execv({real!r}, [{real!r}, *args, "--demo"])
"""


def _shim(bin_dir: Path, where: Path) -> Path:
    """A ``consent-audit`` first on PATH: the installed one, live sign-in options replaced by
    ``--demo`` (no network here), so the recipe's shell lines run as written."""
    where.mkdir()
    shim = where / "consent-audit"
    shim.write_text(
        SHIM.format(
            python=bin_dir / "python", live=LIVE_OPTIONS, real=str(bin_dir / "consent-audit")
        ),
        encoding="utf-8",
    )
    shim.chmod(0o755)
    return where


def _run_audit_step(
    name: str, cwd: Path, home: Path, **step_env: str
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AZURE_", "CONSENT_AUDIT_"))}
    env.update({"HOME": str(home), "CI": "true", "GITHUB_STEP_SUMMARY": "", **step_env})
    env["PATH"] = f"{home / 'shim'}{os.pathsep}{env.get('PATH', '')}"
    # Azure's inline script keeps the exit code in $status and exits with it after the summary.
    script = f"set -eu\nstatus=0\n{audit_block(name)}\nexit $status\n"
    return subprocess.run(
        ["bash", "-c", script], cwd=cwd, env=env, capture_output=True, text=True, timeout=240
    )


@pytest.mark.parametrize("name", SCRIPTED)  # GitHub's: tests/test_action.py
def test_recipe_audit_step_runs_from_the_installed_wheel(
    name: str, installed: tuple[Path, Path], tmp_path: Path
) -> None:
    """The recipe's own audit lines in bash, from the installed wheel: the scheduled run
    without a committed baseline stops (exit 2, naming it); the run started by hand with a
    reason writes it and exits 0; the scheduled run gated by it exits 0 with every finding
    accepted with that reason, and JUnit has no skipped case."""
    _work, bin_dir = installed
    home = tmp_path / "home"
    home.mkdir()
    _shim(bin_dir, home / "shim")
    team = tmp_path / "team"  # the team's repository, where the baseline is committed
    team.mkdir()
    baseline = team / "consent-audit-baseline.toml"
    bootstrap, gated = bootstrap_and_gated(name)
    scheduled = {"CONSENT_AUDIT_BASELINE": str(baseline)}

    proc = _run_audit_step(name, team, home, **scheduled)
    assert proc.returncode == 2, proc.stderr
    assert "consent-audit-baseline.toml" in proc.stderr
    assert "Traceback" not in proc.stderr

    reason = "accepted at rollout, ticket 4711"
    proc = _run_audit_step(name, team, home, **scheduled, CONSENT_AUDIT_BASELINE_REASON=reason)
    assert proc.returncode == 0, proc.stderr  # written: the bootstrap step passes
    assert "Traceback" not in proc.stderr
    for out in _outputs(bootstrap):
        assert (team / out).stat().st_size > 0, out
    assert baseline.is_file()
    text = baseline.read_text(encoding="utf-8")
    assert text.count(f'reason = "{reason}"') == text.count("[[accept]]") > 0

    proc = _run_audit_step(name, team, home, **scheduled)
    assert proc.returncode == 0, proc.stderr
    report = json.loads((team / "consent-audit.json").read_text())
    assert report["gate"]["fail_on"] == "unknown"
    assert report["gate"]["exit_code"] == 0
    assert report["gate"]["accepted"] == len(report["findings"]) > 0
    assert {f["accepted"]["reason"] for f in report["findings"]} == {reason}
    root = ET.parse(team / "consent-audit.xml").getroot()
    assert root.tag == "testsuites"
    assert not list(root.iter("skipped"))
    for out in _outputs(gated):
        assert (team / out).stat().st_size > 0, out
