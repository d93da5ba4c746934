"""Live-only options on a replay: typed with --snapshot/--demo they are refused, set in the
environment they are not.

A replay reads nothing from Microsoft Graph, so ``--tenant``, ``--client-id``, ``--auth``,
``--cloud``, ``--graph-url`` and ``--deadline`` would be silently ignored there, and the run
would seem to honour them (``--tenant fabrikam`` replaying a snapshot of contoso). Each is
refused with one message, exit 2, like ``--with-logs`` (run_source.choose_source). A CI job
sets ``AZURE_TENANT_ID``, ``CONSENT_AUDIT_DEADLINE`` and the like for every step, so the same
values from the environment leave a replay alone. The installed CLI, each run its own process.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.e2e.cli_runner import Run, run_cli

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "tenants"
SNAPSHOT = str(EXAMPLES / "assignment-required.json")

LIVE_ONLY = {
    "--tenant": "contoso.onmicrosoft.com",
    "--client-id": "14d82eec-204b-4c2f-b7e8-296a70dab67e",
    "--auth": "device-code",
    "--cloud": "global",
    "--graph-url": "https://graph.microsoft.com",
    "--deadline": "5",
}
"""Each live-only option of check and fix, with a value a live run would accept."""

ENVIRONMENT = {
    "AZURE_TENANT_ID": "contoso.onmicrosoft.com",
    "AZURE_CLIENT_ID": "14d82eec-204b-4c2f-b7e8-296a70dab67e",
    "AZURE_CLIENT_SECRET": "not-a-real-secret",
    "CONSENT_AUDIT_GRAPH_URL": "https://graph.microsoft.com",
    "CONSENT_AUDIT_ACCESS_TOKEN": "test-token",
    "CONSENT_AUDIT_DEADLINE": "5",
    "CONSENT_AUDIT_HTTP_TIMEOUT": "3",
    "CONSENT_AUDIT_RETRY_BACKOFF": "0.01",
}
"""What a CI pipeline exports for its live steps (the token, the endpoint, the bounds)."""

SOURCES = {"snapshot": ["--snapshot", SNAPSHOT], "demo": ["--demo"]}


def _offline(args: list[str], tmp_path: Path, env: dict[str, str] | None = None) -> Run:
    """A run with no Graph and no token unless ``env`` sets them."""
    return run_cli(args, None, tmp_path, token=None, extra_env=env)


def _assert_refused(run: Run, option: str, source: str) -> None:
    assert run.code == 2, (run.stdout, run.stderr)
    assert run.stdout == ""
    lines = run.stderr.splitlines()
    assert len(lines) == 2, lines  # the problem and the fix, one line each
    error, fix = lines
    assert error.startswith(f"error: {option} "), error
    assert f"but {source} replays a saved tenant and reads nothing" in error
    assert error.endswith("so it has no effect."), error
    assert fix.startswith(f"fix: Drop {option} to replay the "), fix
    assert f"or drop {source} to audit the live tenant." in fix


@pytest.mark.parametrize("source", sorted(SOURCES))
@pytest.mark.parametrize("option", sorted(LIVE_ONLY))
@pytest.mark.parametrize("command", ["check", "fix"])
def test_a_live_only_option_on_a_replay_is_refused(
    command: str, option: str, source: str, tmp_path: Path
) -> None:
    run = _offline([command, *SOURCES[source], option, LIVE_ONLY[option]], tmp_path)
    _assert_refused(run, option, f"--{source}")


@pytest.mark.parametrize("command", ["check", "fix"])
def test_several_live_only_options_are_named_in_one_message(command: str, tmp_path: Path) -> None:
    args = [command, "--snapshot", SNAPSHOT, "--tenant", "contoso.onmicrosoft.com"]
    args += ["--auth", "device-code", "--deadline", "5"]
    run = _offline(args, tmp_path)
    assert run.code == 2
    assert run.stdout == ""
    assert run.stderr.splitlines() == [
        "error: --tenant, --auth and --deadline only matter when reading a live tenant, but "
        "--snapshot replays a saved tenant and reads nothing: they have no effect.",
        "fix: Drop --tenant, --auth and --deadline to replay the snapshot, or drop --snapshot "
        "to audit the live tenant.",
    ]


def test_a_live_only_option_with_its_value_after_an_equals_sign_is_refused(
    tmp_path: Path,
) -> None:
    run = _offline(["check", "--demo", "--tenant=contoso.onmicrosoft.com"], tmp_path)
    _assert_refused(run, "--tenant", "--demo")


@pytest.mark.parametrize("command", ["check", "fix"])
def test_the_environment_of_a_live_ci_job_leaves_a_replay_alone(
    command: str, tmp_path: Path
) -> None:
    """The same values set in the environment: the replay runs as without them (also with
    -v), while typed on the command line they are refused."""
    args = [command, "--snapshot", SNAPSHOT, "--user", "isaiah.langer@fabrikam.com"]
    if command == "check":
        args += ["--format", "json"]
    plain = _offline(args, tmp_path)
    with_env = _offline(args, tmp_path, ENVIRONMENT)
    verbose = _offline([*args, "-v"], tmp_path, ENVIRONMENT)
    assert plain.code == 1, plain.stderr  # the user is not assigned: an error finding
    assert (with_env.code, verbose.code) == (plain.code, plain.code)
    if command == "check":
        assert with_env.report["findings"] == plain.report["findings"]
        assert with_env.report["source"] == plain.report["source"]
    else:
        assert with_env.stdout == plain.stdout
    assert with_env.stderr == plain.stderr
    assert not [line for line in verbose.stderr.splitlines() if line.startswith("error:")]
    typed = _offline([*args, "--tenant", ENVIRONMENT["AZURE_TENANT_ID"]], tmp_path, ENVIRONMENT)
    _assert_refused(typed, "--tenant", "--snapshot")


def test_a_malformed_deadline_in_the_environment_stops_live_runs_not_replays(
    tmp_path: Path,
) -> None:
    """CONSENT_AUDIT_DEADLINE is checked when a live run starts (one message, exit 2); a
    replay never uses it, so a bad value there does not stop support replaying a snapshot."""
    env = {"CONSENT_AUDIT_DEADLINE": "ten minutes"}
    replay = _offline(["check", "--snapshot", SNAPSHOT, "--format", "json"], tmp_path, env)
    assert replay.code == 0, replay.stderr
    assert replay.report["source"]["kind"] == "snapshot"
    live = run_cli(["check"], "http://127.0.0.1:9", tmp_path, extra_env=env)
    assert live.code == 2
    assert live.stdout == ""
    assert live.stderr.splitlines() == [
        "error: --deadline / CONSENT_AUDIT_DEADLINE 'ten minutes' is not a number of seconds "
        "between 0 and 86400.",
        "fix: Pass e.g. --deadline 600, or leave it out for the default (900 s).",
    ]


def test_consent_url_keeps_the_tenant_and_cloud_that_check_refuses(tmp_path: Path) -> None:
    """consent-url builds the URL from --tenant and --cloud, also with --snapshot: there they
    have an effect and are not refused; check, which only audits the snapshot, refuses them."""
    refused = _offline(["check", "--snapshot", SNAPSHOT, "--cloud", "china"], tmp_path)
    _assert_refused(refused, "--cloud", "--snapshot")
    args = ["consent-url", "--snapshot", SNAPSHOT, "--tenant", "fabrikam.com", "--cloud", "china"]
    run = _offline(args, tmp_path)
    assert run.code == 0, run.stderr
    url = urlsplit(run.stdout.strip())
    assert (url.netloc, url.path) == ("login.chinacloudapi.cn", "/fabrikam.com/v2.0/adminconsent")


APPLY_ONLY = {"--yes": [], "--manual-steps-done": ["1"]}
"""The options of fix --apply, each with a value --apply would accept."""


@pytest.mark.parametrize("source", [*sorted(SOURCES), "live"])
@pytest.mark.parametrize("option", sorted(APPLY_ONLY))
def test_an_apply_option_without_apply_is_refused(option: str, source: str, tmp_path: Path) -> None:
    """Without --apply, fix only prints the plan: --yes or --manual-steps-done would be
    silently ignored (on a replay --apply is not even possible), so each is exit 2 with one
    message, before anything is read (live: the Graph address answers nothing)."""
    where = SOURCES.get(source, [])
    args = ["fix", *where, option, *APPLY_ONLY[option]]
    run = run_cli(args, "http://127.0.0.1:9", tmp_path)
    assert run.code == 2, (run.stdout, run.stderr)
    assert run.stdout == ""
    error, fix = run.stderr.splitlines()
    assert error.startswith(f"error: {option} "), error
    assert error.endswith("it has no effect."), error
    if source == "live":
        assert "without --apply fix only prints the plan and changes nothing" in error
        assert fix == f"fix: Add --apply to make the changes, or drop {option} to see the plan."
    else:
        assert f"--{source} plans from a saved tenant" in error
        assert fix == (
            f"fix: Drop {option} to see the plan of the {source}, or drop --{source} and add "
            "--apply to change the live tenant."
        )


def test_both_apply_options_are_named_in_one_message(tmp_path: Path) -> None:
    run = _offline(["fix", "--snapshot", SNAPSHOT, "-y", "--manual-steps-done", "2"], tmp_path)
    assert run.code == 2
    assert run.stdout == ""
    assert run.stderr.splitlines() == [
        "error: --yes and --manual-steps-done only matter with --apply, but --snapshot plans "
        "from a saved tenant and --apply changes only the live tenant: they have no effect.",
        "fix: Drop --yes and --manual-steps-done to see the plan of the snapshot, or drop "
        "--snapshot and add --apply to change the live tenant.",
    ]


@pytest.mark.parametrize("source", sorted(SOURCES))
def test_a_replayed_dry_run_does_not_offer_the_apply_it_refuses(
    source: str, tmp_path: Path
) -> None:
    """``fix`` on a saved tenant ends by pointing at a live ``fix --apply``, never at "run again
    with --apply", which a replay refuses (exit 2); nor does it repeat this plan's step numbers
    as if a live run, which reads the tenant (and its audit log) again, would number the same."""
    # Both tenants' plans hold Graph writes (partial-scopes: a grant to extend).
    args = ["--demo"] if source == "demo" else ["--snapshot", str(EXAMPLES / "partial-scopes.json")]
    run = _offline(["fix", *args], tmp_path)
    assert run.code in (0, 1), (run.stdout, run.stderr)
    assert "PATCH /v1.0/oauth2PermissionGrants/" in run.stdout
    told = " ".join(run.stderr.split())
    assert "Run again with --apply" not in told
    assert "--manual-steps-done" not in told
    assert "Nothing was changed" in told
    assert (
        f"run consent-audit fix --apply against the live tenant (without {SOURCES[source][0]})"
        in told
    )
    # What it points at is what the tool does: the same replay with --apply is refused.
    refused = _offline(["fix", *args, "--apply"], tmp_path)
    assert refused.code == 2
    assert "--apply works on the live tenant" in refused.stderr
