"""The CI recipes in examples/ci/ are valid YAML and run a command the real CLI accepts.

Each `consent-audit ...` command line is run through the CLI with the live sign-in options
replaced by --demo (no network here), from a temporary directory: it must parse, write the
JSON, JUnit and Markdown reports it names, and exit 0 or 1 (never 2 = bad usage).
"""

from __future__ import annotations

import json
import shlex
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from consent_audit.cli import app

CI = Path(__file__).resolve().parents[1] / "examples" / "ci"
RECIPES = ["github-actions.yml", "azure-pipelines.yml", "gitlab-ci.yml"]
# Options that only matter for a live sign-in, with whether they take a value.
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


def _outputs(argv: list[str]) -> list[str]:
    return [argv[i + 1] for i, a in enumerate(argv) if a in ("-o", "--output")]


@pytest.mark.parametrize("name", RECIPES)
def test_recipe_is_valid_yaml(name: str) -> None:
    assert isinstance(_load(name), dict)


@pytest.mark.parametrize("name", RECIPES)
def test_recipe_command_runs_against_the_real_cli(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    commands = _commands(name)
    assert len(commands) == 1, commands
    argv = commands[0]
    assert argv[0] == "check"
    assert argv[argv.index("--auth") + 1] == "federated"
    assert argv[argv.index("--fail-on") + 1] == "error"
    outputs = _outputs(argv)
    assert {Path(o).suffix for o in outputs} >= {".json", ".xml", ".md"}
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, _offline(argv), env={"GITHUB_STEP_SUMMARY": ""})
    assert result.exit_code in {0, 1}, result.output
    assert result.exit_code == 1  # the demo tenant has errors: the job would fail
    for out in outputs:
        assert (tmp_path / out).stat().st_size > 0, out
    json.loads((tmp_path / "consent-audit.json").read_text())
    assert ET.parse(tmp_path / "consent-audit.xml").getroot().tag == "testsuites"


def test_github_actions_uses_workload_identity_federation() -> None:
    recipe = _load("github-actions.yml")
    assert recipe["permissions"]["id-token"] == "write"
    job = recipe["jobs"]["audit"]
    assert {"AZURE_CLIENT_ID", "AZURE_TENANT_ID"} <= set(job["env"])
    scripts = "\n".join(s.get("run", "") for s in job["steps"])
    assert "AZURE_FEDERATED_TOKEN_FILE" in scripts
    assert "api://AzureADTokenExchange" in scripts
    assert "secrets." not in (CI / "github-actions.yml").read_text()
    steps = job["steps"]
    audit = next(i for i, s in enumerate(steps) if "consent-audit check" in s.get("run", ""))
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
