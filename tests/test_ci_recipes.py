"""The CI recipes in examples/ci/ are valid YAML, pin one commit and run a real CLI command.

Each `consent-audit ...` command line is run through the CLI with the live sign-in options
replaced by --demo (no network here), from a temporary directory: it must parse, write the
JSON, JUnit and Markdown reports it names, and exit 0 or 1 (never 2 = bad usage).

Failing safe (issue 20, item 7): every recipe gates with ``--fail-on unknown`` (a CI identity
that lost a permission turns the job red) and shows the baseline bootstrap: a run started by
hand with a reason writes ``consent-audit-baseline.toml``, the scheduled run reads it. The
scripted recipes hold both commands in one ``if``; GitHub's passes the action ``baseline`` and
``baseline-reason`` (the action decides, tests/test_action.py runs it).

Pinning (README "In CI: pin a version"): the repository has no release tags, so each recipe
names one commit by its full sha in ``CONSENT_AUDIT_COMMIT``, shipped as a placeholder that
a check stops the job at before consent-audit is built; every checkout uses it.
"""

from __future__ import annotations

import json
import re
import shlex
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from consent_audit.cli import app

ROOT = Path(__file__).resolve().parents[1]
CI = ROOT / "examples" / "ci"
RECIPES = ["github-actions.yml", "azure-pipelines.yml", "gitlab-ci.yml"]
SCRIPTED = ["azure-pipelines.yml", "gitlab-ci.yml"]
"""Recipes whose own script builds, installs and runs consent-audit; GitHub's runs the
repository's action (action.yml, run for real by tests/test_action.py)."""
ACTION = ROOT / "action.yml"
PIN = "CONSENT_AUDIT_COMMIT"
PLACEHOLDER = "<40-character sha of the consent-audit commit you reviewed>"
PIN_CHECK = "must be the full 40-character sha"
"""What the check before the checkout says when ``CONSENT_AUDIT_COMMIT`` is not a sha."""
CHECKOUT_PIN = 'checkout --quiet "$CONSENT_AUDIT_COMMIT"'
# Options that only matter for a live sign-in, with whether they take a value.
BASELINE_FILE = "consent-audit-baseline.toml"
BASELINE_IF = (
    "if [ -n \"$(printf '%s' \"${CONSENT_AUDIT_BASELINE_REASON:-}\" | tr -d '[:space:]')\" ]; then"
)
"""The scripted recipes' choice between the bootstrap and the gated audit (the same in both)."""
LIVE_OPTIONS = {
    "--auth": True,
    "--tenant": True,
    "--client-id": True,
    "--cloud": True,
    "--graph-url": True,
    "--with-logs": False,
}


def _load(name: str) -> Any:
    return yaml.safe_load((CI / name).read_text(encoding="utf-8"))


def _strings(node: Any) -> Iterator[str]:
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for value in node.values():
            yield from _strings(value)
    elif isinstance(node, list):
        for value in node:
            yield from _strings(value)


def _commands(name: str) -> list[list[str]]:
    commands = []
    for text in _strings(_load(name)):
        joined = text.replace("\\\n", " ")
        for line in joined.splitlines():
            line = line.split(" #", 1)[0].strip()
            if line.startswith("consent-audit "):
                command = line.split("||", 1)[0]
                commands.append(shlex.split(command)[1:])
    return commands


def _offline(argv: list[str]) -> list[str]:
    out: list[str] = []
    skip = False
    for arg in argv:
        if skip:
            skip = False
            continue
        option = arg.split("=", 1)[0]
        if option in LIVE_OPTIONS:
            skip = LIVE_OPTIONS[option] and "=" not in arg
            continue
        out.append(arg)
    return [*out, "--demo"]


def shell_lines(name: str) -> list[str]:
    """Every line of every shell script in the recipe, in order (GitLab's list items too)."""
    return [
        line.strip().removeprefix("- ")
        for text in _strings(_load(name))
        for line in text.splitlines()
        if line.strip()
    ]


def _index(lines: list[str], needle: str) -> int:
    found = [i for i, line in enumerate(lines) if needle in line]
    assert len(found) == 1, (needle, found)
    return found[0]


def _outputs(argv: list[str]) -> list[str]:
    return [argv[i + 1] for i, a in enumerate(argv) if a in ("-o", "--output")]


@pytest.mark.parametrize("name", RECIPES)
def test_recipe_is_valid_yaml(name: str) -> None:
    assert isinstance(_load(name), dict)


def bootstrap_and_gated(name: str) -> tuple[list[str], list[str]]:
    """The recipe's two audit commands: (writes the baseline, gated by it)."""
    commands = _commands(name)
    assert len(commands) == 2, commands
    [bootstrap] = [c for c in commands if "--write-baseline" in c]
    [gated] = [c for c in commands if "--baseline" in c]
    return bootstrap, gated


def with_env(argv: list[str], env: dict[str, str]) -> list[str]:
    """``argv`` with ``$VAR`` expanded from ``env`` as the shell would (values quoted)."""
    return [re.sub(r"\$(\w+)", lambda m: env.get(m.group(1), ""), arg) for arg in argv]


def audit_block(name: str) -> str:
    """The recipe's ``if ... fi`` choosing between the bootstrap and the gated audit."""
    lines = shell_lines(name)
    start = _index(lines, BASELINE_IF)
    end = next(i for i in range(start, len(lines)) if lines[i] == "fi")
    return "\n".join(lines[start : end + 1])


@pytest.mark.parametrize("name", SCRIPTED)
def test_recipe_gates_on_unknown_with_a_baseline_bootstrap(name: str) -> None:
    """Issue 20 item 7: --fail-on unknown in both commands; the bootstrap writes the baseline
    with the reason a person gave when starting the run, the other reads it."""
    bootstrap, gated = bootstrap_and_gated(name)
    for argv in (bootstrap, gated):
        assert argv[0] == "check"
        assert argv[argv.index("--auth") + 1] == "federated"
        assert argv[argv.index("--fail-on") + 1] == "unknown"
        assert {Path(o).suffix for o in _outputs(argv)} >= {".json", ".xml", ".md"}
    assert bootstrap[bootstrap.index("--reason") + 1] == "$CONSENT_AUDIT_BASELINE_REASON"
    assert "--baseline" not in bootstrap
    assert gated[gated.index("--baseline") + 1] == "$CONSENT_AUDIT_BASELINE"
    assert "--write-baseline" not in gated
    assert "--reason" not in gated
    text = (CI / name).read_text(encoding="utf-8")
    assert "--fail-on error" not in text
    assert BASELINE_FILE in text


def test_github_recipe_gates_on_unknown_with_a_baseline_bootstrap() -> None:
    """GitHub's recipe runs the action: fail-on unknown, the committed baseline, and the
    reason typed when the workflow is run by hand (empty on the schedule: gated run)."""
    recipe = _load("github-actions.yml")
    inputs = recipe[True]["workflow_dispatch"]["inputs"]  # YAML 1.1 reads `on:` as True
    assert inputs["baseline_reason"]["required"] is False
    steps = recipe["jobs"]["audit"]["steps"]
    [audit] = [s for s in steps if s.get("uses") == "./consent-audit"]
    assert audit["with"]["fail-on"] == "unknown"
    assert audit["with"]["baseline"] == BASELINE_FILE
    assert audit["with"]["baseline-reason"] == "${{ inputs.baseline_reason }}"
    own = [
        s for s in steps if s.get("uses", "").startswith("actions/checkout@") and "with" not in s
    ]
    assert own, "the workflow's own repository (it keeps the baseline) is checked out"
    assert steps.index(own[0]) < steps.index(audit)
    [keep] = [s for s in steps if s.get("uses", "").startswith("actions/upload-artifact@")]
    assert BASELINE_FILE in keep["with"]["path"]
    action = yaml.safe_load(ACTION.read_text(encoding="utf-8"))
    assert action["inputs"]["fail-on"]["default"] == "unknown"
    assert "baseline-reason" in action["inputs"]


@pytest.mark.parametrize("name", SCRIPTED)
def test_recipe_commands_run_against_the_real_cli(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The bootstrap run exits 0 once the baseline is written (the demo's findings all
    accepted, each with the reason given); the scheduled run reads it and exits 0; without
    the file it stops with exit 2 naming it."""
    bootstrap, gated = bootstrap_and_gated(name)
    monkeypatch.chdir(tmp_path)
    baseline = tmp_path / BASELINE_FILE
    env = {"CONSENT_AUDIT_BASELINE": str(baseline)}
    missing = CliRunner().invoke(app, _offline(with_env(gated, env)))
    assert missing.exit_code == 2, missing.output
    assert BASELINE_FILE in missing.stderr

    env["CONSENT_AUDIT_BASELINE_REASON"] = "accepted at rollout, ticket 4711"
    argv = with_env(bootstrap, env)
    result = CliRunner().invoke(app, _offline(argv), env={"GITHUB_STEP_SUMMARY": ""})
    assert result.exit_code == 0, result.output  # written: the bootstrap step passes
    assert baseline.is_file()
    reasons = re.findall(r'^reason = "(.*)"$', baseline.read_text(), flags=re.M)
    assert reasons
    assert set(reasons) == {"accepted at rollout, ticket 4711"}
    for out in _outputs(bootstrap):
        assert (tmp_path / out).stat().st_size > 0, out

    result = CliRunner().invoke(
        app, _offline(with_env(gated, env)), env={"GITHUB_STEP_SUMMARY": ""}
    )
    assert result.exit_code == 0, result.output
    report = json.loads((tmp_path / "consent-audit.json").read_text())
    assert report["gate"]["fail_on"] == "unknown"
    assert report["gate"]["accepted"] == len(report["findings"]) > 0
    root = ET.parse(tmp_path / "consent-audit.xml").getroot()
    assert root.tag == "testsuites"
    assert not list(root.iter("skipped"))


@pytest.mark.parametrize("name", RECIPES)
def test_recipe_pins_one_commit_by_its_sha(name: str) -> None:
    """One CONSENT_AUDIT_COMMIT, shipped as the placeholder; no release tag (none exists), no
    branch clone; the check refusing anything but a full sha runs before the checkout."""
    text = (CI / name).read_text(encoding="utf-8")
    assert re.findall(rf"^\s*{PIN}: (.*)$", text, flags=re.M) == [f'"{PLACEHOLDER}"']
    assert not re.search(r"\bv\d+\.\d+", text), "a version tag: the repository has none"
    assert "--branch" not in text
    assert "refs/tags/" not in text
    lines = shell_lines(name)
    check = _index(lines, PIN_CHECK)
    if name == "github-actions.yml":
        # The checkout and the action are steps: see the tests below and tests/test_action.py.
        assert not any("pip " in line for line in lines)
        return
    install = _index(lines, "pip wheel")
    assert check < install
    checkout = _index(lines, CHECKOUT_PIN)
    assert check < checkout < install
    if name == "gitlab-ci.yml":
        assert check < _index(lines, "git clone") < checkout


def test_github_actions_checks_out_the_pinned_commit_after_checking_it() -> None:
    steps = _load("github-actions.yml")["jobs"]["audit"]["steps"]
    checkouts = [
        i
        for i, s in enumerate(steps)
        if s.get("uses", "").startswith("actions/checkout@")
        and s.get("with", {}).get("path") == "consent-audit"
    ]
    assert len(checkouts) == 1
    at = checkouts[0]
    assert steps[at]["with"]["ref"] == "${{ env.CONSENT_AUDIT_COMMIT }}"
    assert PIN_CHECK in steps[0].get("run", "")
    assert at > 0
    # What runs is the action in that checkout, after it: nothing from a moving ref.
    ran = [i for i, s in enumerate(steps) if "consent-audit" in s.get("uses", "")]
    assert ran == [at + 1]
    assert steps[at + 1]["uses"] == "./consent-audit"


def test_azure_pipelines_checks_out_the_commit_from_the_branch_history() -> None:
    """A repository resource's ``ref`` takes a branch or tag, not a sha: the recipe checks
    out the branch with its whole history, then the pinned commit in a script."""
    recipe = _load("azure-pipelines.yml")
    [resource] = recipe["resources"]["repositories"]
    assert resource["ref"].startswith("refs/heads/")
    steps = recipe["steps"]
    checkout = next(i for i, s in enumerate(steps) if s.get("checkout") == "consent_audit")
    assert steps[checkout]["fetchDepth"] == 0
    assert CHECKOUT_PIN in steps[checkout + 1]["script"]


def test_readme_explains_the_pin_the_recipes_use() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("### In CI: pin a version", 1)[1].split("\n#", 1)[0]
    assert PIN in section
    assert PLACEHOLDER in section
    assert "git rev-parse HEAD" in section
    assert not re.search(r"\bv\d+\.\d+", section)


def test_github_actions_uses_workload_identity_federation() -> None:
    recipe = _load("github-actions.yml")
    assert recipe["permissions"]["id-token"] == "write"
    job = recipe["jobs"]["audit"]
    steps = job["steps"]
    audit = next(i for i, s in enumerate(steps) if s.get("uses") == "./consent-audit")
    assert steps[audit]["with"]["tenant-id"] == "${{ vars.AZURE_TENANT_ID }}"
    assert steps[audit]["with"]["client-id"] == "${{ vars.AZURE_CLIENT_ID }}"
    action = yaml.safe_load(ACTION.read_text(encoding="utf-8"))
    scripts = "\n".join(s.get("run", "") for s in action["runs"]["steps"])
    assert "AZURE_FEDERATED_TOKEN_FILE" in scripts
    assert "api://AzureADTokenExchange" in scripts
    assert "--auth federated" in scripts
    assert "secrets." not in (CI / "github-actions.yml").read_text()
    assert not steps[audit].get("continue-on-error"), "the job must fail on findings"
    after = steps[audit + 1 :]
    junit = [s for s in after if "junit" in s.get("uses", "")]
    assert junit
    assert all("cancelled()" in s.get("if", "") for s in after), "publish even on failure"


def test_azure_pipelines_publishes_junit_even_on_failure() -> None:
    steps = _load("azure-pipelines.yml")["steps"]
    audit = next(s for s in steps if s.get("task") == "AzureCLI@2")
    assert audit["inputs"]["addSpnToEnvironment"] is True
    script = audit["inputs"]["inlineScript"]
    assert "AZURE_FEDERATED_TOKEN_FILE" in script
    assert "exit $status" in script
    publish = next(s for s in steps if s.get("task") == "PublishTestResults@2")
    assert publish["inputs"]["testResultsFormat"] == "JUnit"
    assert publish["inputs"]["testResultsFiles"] == "consent-audit.xml"
    assert publish["condition"] == "succeededOrFailed()"


def test_gitlab_ci_publishes_junit_and_uses_an_id_token() -> None:
    job = _load("gitlab-ci.yml")["consent-audit"]
    assert job["id_tokens"]["AZURE_ID_TOKEN"]["aud"] == "api://AzureADTokenExchange"
    assert "AZURE_FEDERATED_TOKEN_FILE" in "\n".join(job["script"])
    assert job["artifacts"]["when"] == "always"
    assert job["artifacts"]["reports"]["junit"] == "consent-audit.xml"
    assert not job.get("allow_failure")


def test_offline_substitution() -> None:
    argv = ["check", "--auth", "federated", "--tenant=x", "--with-logs", "-o", "r.json"]
    assert _offline(argv) == ["check", "-o", "r.json", "--demo"]
