"""The GitHub Action (action.yml at the repository root), its steps run for real in bash.

Like tests/test_ci_recipe_install.py for the recipes: the action's directory is a checkout of
the pinned commit of a local copy of this repository (what the runner unpacks for
``uses: <org>/consent-audit@<sha>`` or ``uses: ./consent-audit``), and each ``run:`` step is
executed with bash the way the composite runner does it: its ``env:`` with ``${{ inputs.* }}``
and ``${{ runner.temp }}`` filled in, ``GITHUB_ACTION_PATH``, ``RUNNER_TEMP``, the
``GITHUB_ENV`` / ``GITHUB_OUTPUT`` / ``GITHUB_STEP_SUMMARY`` files, and what a step appends to
``GITHUB_ENV`` carried into the next. The install step makes its own virtual environment and
pip-installs the action's checkout (dependencies from the package index, as on a runner).

Sign-in is the real workload identity federation: a local stand-in for GitHub's OIDC token
endpoint (``ACTIONS_ID_TOKEN_REQUEST_URL``) issues a JWT, and MSAL exchanges it at the
emulator's identity endpoints over HTTPS (tests/emulator/identity.py, a test CA in
``REQUESTS_CA_BUNDLE``); the Graph emulator accepts only the token that exchange issued.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import jwt
import pytest
import yaml
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.emulator import GraphEmulator
from tests.emulator.identity import (
    FEDERATED_AUDIENCE,
    ConfidentialClient,
    FederatedCredential,
    IdentityEmulator,
)
from tests.emulator.tls import TLSFiles, make_test_tls
from tests.test_ci_recipe_install import Upstream, _git, upstream  # noqa: F401 (fixture)
from tests.test_ci_recipes import PIN_CHECK, _load, shell_lines

ROOT = Path(__file__).resolve().parents[1]
ACTION = ROOT / "action.yml"
TENANT_FILE = ROOT / "examples" / "tenants" / "never-consented.json"
CLIENT_ID = "0b1c2d3e-4f50-4617-8283-949596979899"
ISSUER = "https://token.actions.githubusercontent.com"
SUBJECT = "repo:contoso/audits:ref:refs/heads/main"
REQUEST_TOKEN = "runner-request-token"
EXPRESSION = re.compile(r"\$\{\{\s*([^}]*?)\s*\}\}")

pytestmark = pytest.mark.skipif(
    os.name == "nt" or shutil.which("bash") is None or shutil.which("curl") is None,
    reason="the action's steps run in bash with curl, as on GitHub's Linux runners",
)


def _action() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(ACTION.read_text(encoding="utf-8"))
    return loaded


class _OidcHandler(BaseHTTPRequestHandler):
    """GitHub's OIDC token endpoint for one job: the request token, then a JWT for the
    audience asked (docs: 'Configuring OpenID Connect in cloud providers')."""

    key: rsa.RSAPrivateKey
    audiences: list[str]

    def do_GET(self) -> None:
        query = parse_qs(urlparse(self.path).query)
        if self.headers.get("Authorization") != f"bearer {REQUEST_TOKEN}":
            self._answer(401, {"message": "bad request token"})
            return
        audience = query.get("audience", [""])[0]
        self.audiences.append(audience)
        now = int(time.time())
        claims = {"iss": ISSUER, "sub": SUBJECT, "aud": audience, "iat": now, "exp": now + 300}
        token = jwt.encode(claims, self.key, algorithm="RS256", headers={"kid": "gh"})
        self._answer(200, {"count": 1, "value": token})

    def _answer(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        return


@dataclass
class Runner:
    """One job on a runner: its temp dir, workspace and the files the steps write to."""

    base: Path
    action_path: Path
    job_env: dict[str, str]
    env_file: Path = field(init=False)
    summary: Path = field(init=False)

    def __post_init__(self) -> None:
        self.workspace = self.base / "workspace"
        self.temp = self.base / "runner-temp"
        for folder in (self.workspace, self.temp):
            folder.mkdir(parents=True, exist_ok=True)
        self.env_file = self.temp / "github-env"
        self.summary = self.temp / "step-summary.md"
        self.env_file.touch()
        self.summary.touch()

    def _carried(self) -> dict[str, str]:
        """What earlier steps appended to GITHUB_ENV (NAME=value lines)."""
        lines = self.env_file.read_text(encoding="utf-8").splitlines()
        return dict(line.split("=", 1) for line in lines if "=" in line)

    def run_step(
        self, step: dict[str, Any], inputs: dict[str, str], index: int
    ) -> tuple[subprocess.CompletedProcess[str], dict[str, str]]:
        """Run one ``run:`` step as the composite runner does; its outputs as a dict."""
        assert step["shell"] == "bash"
        output = self.temp / f"github-output-{index}"
        output.write_text("")
        env = {**self.job_env, **self._carried()}
        env.update(
            {
                "GITHUB_ACTION_PATH": str(self.action_path),
                "GITHUB_WORKSPACE": str(self.workspace),
                "RUNNER_TEMP": str(self.temp),
                "GITHUB_ENV": str(self.env_file),
                "GITHUB_OUTPUT": str(output),
                "GITHUB_STEP_SUMMARY": str(self.summary),
            }
        )
        for name, value in (step.get("env") or {}).items():
            env[name] = EXPRESSION.sub(lambda m: self._expression(m.group(1), inputs), value)
        # The runner's bash invocation for `shell: bash` (docs: 'jobs.<job_id>.steps[*].shell').
        proc = subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]],
            cwd=self.workspace,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        outputs = dict(
            line.split("=", 1) for line in output.read_text().splitlines() if "=" in line
        )
        return proc, outputs

    def _expression(self, expression: str, inputs: dict[str, str]) -> str:
        if expression == "runner.temp":
            return str(self.temp)
        if expression.startswith("inputs."):
            return inputs[expression.removeprefix("inputs.")]
        raise AssertionError(f"expression the test runner does not know: {expression}")


def _inputs(given: dict[str, str]) -> dict[str, str]:
    """The action's inputs as the runner passes them: the defaults, then what `with:` gave."""
    declared = _action()["inputs"]
    missing = [n for n, spec in declared.items() if spec.get("required") and n not in given]
    assert not missing, f"required inputs not given: {missing}"
    unknown = set(given) - set(declared)
    assert not unknown, f"not inputs of the action: {unknown}"
    return {n: str(given.get(n, spec.get("default", ""))) for n, spec in declared.items()}


@dataclass
class Job:
    runner: Runner
    identity: IdentityEmulator
    graph: GraphEmulator
    audiences: list[str]

    def run_action(self, given: dict[str, str]) -> tuple[int, dict[str, str], str]:
        """The audit part of the action (OIDC token, audit), after the module's install:
        (exit code of the last step run, the action's outputs, stderr)."""
        inputs = _inputs(given)
        action = _action()
        steps = action["runs"]["steps"][1:]
        outputs: dict[str, str] = {}
        proc = None
        for index, step in enumerate(steps, start=1):
            proc, step_outputs = self.runner.run_step(step, inputs, index)
            if step.get("id"):
                outputs.update({f"{step['id']}.{k}": v for k, v in step_outputs.items()})
            if proc.returncode != 0:
                break
        assert proc is not None
        declared = {
            name: EXPRESSION.sub(
                lambda m: outputs.get(
                    m.group(1).removeprefix("steps.").replace(".outputs", ""), ""
                ),
                spec["value"],
            )
            for name, spec in action["outputs"].items()
        }
        return proc.returncode, declared, proc.stderr


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> TLSFiles:
    return make_test_tls(tmp_path_factory.mktemp("tls"))


@pytest.fixture(scope="module")
def installed_runner(
    tmp_path_factory: pytest.TempPathFactory,
    upstream: Upstream,  # noqa: F811 (the imported fixture)
) -> Runner:
    """A runner that checked out the pinned commit as the action and ran its install step."""
    base = tmp_path_factory.mktemp("runner")
    action_path = base / "consent-audit"
    _git("clone", "--quiet", upstream.url, str(action_path), cwd=base)
    _git("checkout", "--quiet", "--detach", upstream.pinned, cwd=action_path)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AZURE_", "CONSENT_AUDIT_"))}
    for name in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME", "GITHUB_ENV", "GITHUB_OUTPUT"):
        env.pop(name, None)
    runner = Runner(base, action_path, env)
    install = _action()["runs"]["steps"][0]
    proc, _ = runner.run_step(install, _inputs({"tenant-id": "x", "client-id": "y"}), 0)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    return runner


@pytest.fixture
def job(installed_runner: Runner, tls: TLSFiles, tmp_path: Path) -> Iterator[Job]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    handler = type("Oidc", (_OidcHandler,), {"key": key, "audiences": []})
    oidc = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=oidc.serve_forever, daemon=True)
    thread.start()
    client = ConfidentialClient(CLIENT_ID, federated=FederatedCredential(ISSUER, SUBJECT, public))
    runner = Runner(tmp_path, installed_runner.action_path, dict(installed_runner.job_env))
    runner.env_file.write_text(installed_runner.env_file.read_text())  # the install's PATH line
    try:
        with (
            GraphEmulator(TENANT_FILE, token="only-the-issued-one") as graph,
            IdentityEmulator(
                tls, on_access_token=graph.accept_token, confidential_clients=[client]
            ) as identity,
        ):
            runner.job_env.update(
                {
                    "ACTIONS_ID_TOKEN_REQUEST_URL": (
                        f"http://127.0.0.1:{oidc.server_port}/token?api-version=2.0"
                    ),
                    "ACTIONS_ID_TOKEN_REQUEST_TOKEN": REQUEST_TOKEN,
                    # Where this job's Entra and Graph are: the emulators (docs/testing.md).
                    "AZURE_AUTHORITY_HOST": identity.url,
                    "REQUESTS_CA_BUNDLE": str(tls.ca_file),
                    "CONSENT_AUDIT_GRAPH_URL": graph.url,
                    "CONSENT_AUDIT_RETRY_BACKOFF": "0.01",
                    "HOME": str(tmp_path / "home"),
                    "CI": "true",
                }
            )
            yield Job(runner, identity, graph, handler.audiences)
    finally:
        oidc.shutdown()
        oidc.server_close()


def test_the_action_is_composite_and_keeps_inputs_out_of_its_scripts() -> None:
    """Inputs reach the scripts only through ``env:``: a value pasted into ``run:`` would be
    shell code (GitHub's 'Security hardening for GitHub Actions': script injection)."""
    action = _action()
    assert action["runs"]["using"] == "composite"
    assert {"tenant-id", "client-id", "app-id", "manifest", "fail-on", "baseline"} <= set(
        action["inputs"]
    )
    assert action["inputs"]["fail-on"]["default"] == "unknown"  # issue 20 item 7: fails safe
    assert {"json", "junit", "markdown", "html", "exit-code"} <= set(action["outputs"])
    for step in action["runs"]["steps"]:
        assert "uses" not in step, "no third-party action inside: the pin covers everything run"
        assert step["shell"] == "bash"
        assert "${{" not in step["run"], step["name"]


def test_the_action_audits_with_federation_and_sets_outputs_and_summary(job: Job) -> None:
    code, outputs, stderr = job.run_action(
        {"tenant-id": job.identity.tenant_domain, "client-id": CLIENT_ID}
    )
    assert code == 1, stderr  # never-consented has errors (default fail-on unknown)
    assert "Traceback" not in stderr
    assert job.audiences == [FEDERATED_AUDIENCE]
    [exchange] = job.identity.token_requests("client_credentials")
    assert exchange.outcome == "federated"
    workspace = job.runner.workspace
    assert outputs == {
        "json": "consent-audit-report/consent-audit.json",
        "junit": "consent-audit-report/consent-audit.xml",
        "markdown": "consent-audit-report/consent-audit.md",
        "html": "consent-audit-report/consent-audit.html",
        "exit-code": "1",
    }
    report = json.loads((workspace / outputs["json"]).read_text())
    assert report["gate"]["exit_code"] == 1
    assert report["source"]["kind"] == "live"
    assert ET.parse(workspace / outputs["junit"]).getroot().tag == "testsuites"
    assert "<html" in (workspace / outputs["html"]).read_text()
    markdown = (workspace / outputs["markdown"]).read_text()
    summary = job.runner.summary.read_text()
    assert markdown.strip()
    assert markdown.strip() in summary  # the job summary, written as the CLI always does
    token_file = Path(job.runner._carried()["AZURE_FEDERATED_TOKEN_FILE"])
    assert token_file.stat().st_mode & 0o077 == 0


def test_the_action_passes_baseline_app_id_and_fail_on(job: Job, tmp_path: Path) -> None:
    """The baseline bootstrap through the action's inputs, as the GitHub recipe runs it:
    ``baseline`` with ``baseline-reason`` writes the file (every finding, that reason) and the
    step passes (exit 0 once written); the scheduled run with ``baseline`` alone reads it and
    passes; without the file it stops (exit 2). The app-id input picks Recruitee by appId;
    fail-on never passes whatever is found."""
    baseline = tmp_path / "consent-audit-baseline.toml"
    given = {"tenant-id": job.identity.tenant_domain, "client-id": CLIENT_ID}
    code, outputs, stderr = job.run_action({**given, "baseline": str(baseline)})
    assert (code, outputs["exit-code"]) == (2, "2"), stderr  # not committed yet: red
    assert "consent-audit-baseline.toml" in stderr
    reason = "accepted at rollout, ticket 4711"
    code, outputs, stderr = job.run_action(
        {**given, "baseline": str(baseline), "baseline-reason": reason}
    )
    assert (code, outputs["exit-code"]) == (0, "0"), stderr
    text = baseline.read_text(encoding="utf-8")
    assert text.count(f'reason = "{reason}"') == text.count("[[accept]]") > 0
    app_id = "5e6f7a8b-9c0d-4e1f-a2b3-c4d5e6f7a8b9"
    code, outputs, stderr = job.run_action({**given, "baseline": str(baseline), "app-id": app_id})
    assert code == 0, stderr
    assert outputs["exit-code"] == "0"
    report = json.loads((job.runner.workspace / outputs["json"]).read_text())
    assert report["gate"]["exit_code"] == 0
    assert report["gate"]["fail_on"] == "unknown"
    assert report["gate"]["baseline"] is not None
    assert report["gate"]["accepted"] == len(report["findings"]) > 0
    assert not list(ET.parse(job.runner.workspace / outputs["junit"]).getroot().iter("skipped"))
    targets = [r.target for r in job.graph.requests]
    assert any(f"appId in ('{app_id}')" in t for t in targets), "app-id reached the collector"

    code, outputs, stderr = job.run_action({**given, "baseline-reason": reason})
    assert (code, outputs["exit-code"]) == (2, "2")  # a reason needs the file to write
    assert "baseline-reason is given without baseline" in stderr

    code, outputs, _ = job.run_action({**given, "fail-on": "never"})
    assert (code, outputs["exit-code"]) == (0, "0")


def test_a_bad_input_is_one_message_and_never_shell_code(job: Job) -> None:
    """A manifest that does not exist is exit 2 with the outputs set; an input holding shell
    syntax is passed to consent-audit as one argument, never run."""
    code, outputs, stderr = job.run_action(
        {
            "tenant-id": job.identity.tenant_domain,
            "client-id": CLIENT_ID,
            "manifest": "no-such-manifest.toml",
        }
    )
    assert (code, outputs["exit-code"]) == (2, "2")
    assert "no-such-manifest.toml" in stderr
    marker = job.runner.workspace / "pwned"
    code, outputs, stderr = job.run_action(
        {
            "tenant-id": job.identity.tenant_domain,
            "client-id": CLIENT_ID,
            "app-id": "$(touch pwned)",
            "user": "`touch pwned`",
        }
    )
    assert code in (1, 2), stderr  # the values are data: an unknown app and user, or refused
    assert not marker.exists()
    assert "Traceback" not in stderr


def test_the_action_stops_without_an_oidc_token(job: Job) -> None:
    del job.runner.job_env["ACTIONS_ID_TOKEN_REQUEST_URL"]
    code, _outputs, stderr = job.run_action(
        {"tenant-id": job.identity.tenant_domain, "client-id": CLIENT_ID}
    )
    assert code == 2
    assert "id-token: write" in stderr
    assert job.identity.token_requests() == []


def test_the_github_recipe_runs_the_action_from_the_pinned_checkout() -> None:
    """The recipe checks the sha, checks out exactly that commit, then runs the action in it;
    the audit's exit code is the job's (no continue-on-error)."""
    steps = _load("github-actions.yml")["jobs"]["audit"]["steps"]
    uses = [s.get("uses", "") for s in steps]
    checkout = next(
        i for i, s in enumerate(steps) if s.get("with", {}).get("path") == "consent-audit"
    )
    action = uses.index("./consent-audit")
    assert PIN_CHECK in steps[0]["run"]
    assert 0 < checkout < action
    assert steps[action]["with"]["tenant-id"] == "${{ vars.AZURE_TENANT_ID }}"
    assert steps[action]["with"]["client-id"] == "${{ vars.AZURE_CLIENT_ID }}"
    assert not steps[action].get("continue-on-error")
    assert not any(line.startswith("consent-audit ") for line in shell_lines("github-actions.yml"))
    published = [s for s in steps[action + 1 :] if "junit" in s.get("uses", "")]
    assert published
    assert published[0]["with"]["report_paths"] == "consent-audit-report/consent-audit.xml"
