"""--fail-on (with 'unknown'), the baseline file and --write-baseline, through the CLI."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from consent_audit.baseline import apply_baseline, load_baseline
from consent_audit.cli import app
from consent_audit.errors import InputError
from consent_audit.evaluate import evaluate
from consent_audit.gate import FailOn, decide
from consent_audit.manifest import load_manifest
from consent_audit.snapshot import load_snapshot
from tests.evaluate.builders import healthy, recruitee_app, sign_in, with_apps, with_sign_ins
from tests.evaluate.builders import run as evaluate_snapshot

ROOT = Path(__file__).resolve().parents[1]
TENANTS = ROOT / "examples" / "tenants"
CA_UNREADABLE = str(TENANTS / "ca-unreadable.json")
PARTIAL = str(TENANTS / "partial-scopes.json")
DISABLED = str(TENANTS / "disabled-app.json")  # one error: APP_DISABLED
runner = CliRunner()


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def check_json(*args: str) -> tuple[int, dict[str, object]]:
    code, out, _ = run("check", "--format", "json", *args)
    return code, json.loads(out)


# ------------------------------------------------------------------ --fail-on unknown


def test_fail_on_unknown_turns_an_unreadable_tenant_red() -> None:
    code, report = check_json("-s", CA_UNREADABLE)
    assert code == 0  # nothing is an error
    assert any(f["status"] == "unknown" for f in report["features"])  # type: ignore[union-attr]
    code, report = check_json("-s", CA_UNREADABLE, "--fail-on", "unknown")
    assert code == 1
    gate = report["gate"]
    assert gate["fail_on"] == "unknown"  # type: ignore[index]
    assert gate["exit_code"] == 1  # type: ignore[index]
    assert "CA_UNREADABLE" in gate["reason"]  # type: ignore[index]
    # The headline stays the worst verdict; only the exit code and the gate follow --fail-on.
    assert report["summary"]["status"] == "unknown"  # type: ignore[index]


def test_unknown_sits_between_warning_and_error() -> None:
    report = evaluate(load_snapshot(TENANTS / "ca-unreadable.json"), load_manifest())
    unreadable = [f for f in report.findings if f.id == "CA_UNREADABLE"]
    assert unreadable
    assert unreadable[0].severity.value == "warning"
    codes = {level: decide(report, level).gate.exit_code for level in FailOn}
    assert codes == {
        FailOn.INFO: 1,
        FailOn.WARNING: 1,
        FailOn.UNKNOWN: 1,
        FailOn.ERROR: 0,
        FailOn.NEVER: 0,
    }


def test_summary_status_is_the_worst_verdict_whatever_fail_on_says() -> None:
    """Issue 20 item 4: on d583756 --fail-on never turned JSON summary.status into warn while
    text and HTML said FAIL. The gate block alone follows --fail-on."""
    _, default = check_json("-s", PARTIAL)
    _, never = check_json("-s", PARTIAL, "--fail-on", "never")
    assert default["summary"]["status"] == "fail"  # type: ignore[index]
    assert default["gate"]["exit_code"] == 1  # type: ignore[index]
    assert never["summary"]["status"] == "fail"  # type: ignore[index]
    assert never["gate"]["exit_code"] == 0  # type: ignore[index]
    assert "0 whatever is found" in never["gate"]["reason"]  # type: ignore[index]


def test_fail_on_unknown_counts_items_graph_sent_that_could_not_be_read() -> None:
    """DATA_PARTIAL (a verdict part read in part: items Graph sent that the collector could
    not read) is data unreadable as much as DATA_UNAVAILABLE: ``--fail-on unknown`` fails on
    it, ``--fail-on error`` does not. On a log part no verdict depends on, it stays a warning."""
    app = recruitee_app()
    grants = app.oauth2_permission_grants.model_copy(
        update={"gaps": ["unreadable item g-bad (resourceId)"]}
    )
    report = evaluate_snapshot(
        with_apps(healthy(), app.model_copy(update={"oauth2_permission_grants": grants}))
    )
    partial = [f for f in report.findings if f.id == "DATA_PARTIAL"]
    assert len(partial) == 1
    assert partial[0].features
    assert [f.id for f in report.findings if f.severity.value != "info"] == ["DATA_PARTIAL"]
    gated = decide(report, FailOn.UNKNOWN)
    assert gated.gate.exit_code == 1
    assert gated.gate.failing == [partial[0].fingerprint]
    assert "DATA_PARTIAL (data unreadable)" in gated.gate.reason
    assert decide(report, FailOn.ERROR).gate.exit_code == 0
    assert decide(report, FailOn.WARNING).gate.exit_code == 1

    refused = ["background (non-interactive) sign-ins could not be read from Graph beta: 403"]
    snap = with_sign_ins(healthy(), sign_in(0))
    snap = snap.model_copy(update={"sign_ins": snap.sign_ins.model_copy(update={"gaps": refused})})
    logs_only = evaluate_snapshot(snap)
    assert [f.features for f in logs_only.findings if f.id == "DATA_PARTIAL"] == [[]]
    assert decide(logs_only, FailOn.UNKNOWN).gate.exit_code == 0
    assert decide(logs_only, FailOn.WARNING).gate.exit_code == 1


@pytest.mark.parametrize("path", sorted(TENANTS.glob("*.json")), ids=lambda p: p.stem)
def test_every_unknown_verdict_has_a_finding_that_fail_on_unknown_counts(path: Path) -> None:
    report = decide(evaluate(load_snapshot(path), load_manifest()), FailOn.UNKNOWN)
    for feature in report.features:
        if feature.status.value == "unknown":
            assert any(
                feature.name in f.features and f.fingerprint in report.gate.failing
                for f in report.findings
            ), feature.name


# ------------------------------------------------------------------ baseline


def _write(tmp_path: Path, text: str) -> str:
    path = tmp_path / "baseline.toml"
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_write_baseline_exits_0_once_written_with_the_reason_given(tmp_path: Path) -> None:
    """Issue 20 item 7: the bootstrap step passes (exit 0 once written; it was 1), every entry
    carries the --reason a person gave, and a run with the file exits 0 too."""
    written = tmp_path / "b.toml"
    reason = "Accepted at rollout, ticket 4711"
    code, out, err = run(
        "check",
        "-s",
        PARTIAL,
        "--write-baseline",
        str(written),
        "--reason",
        reason,
        "--format",
        "json",
    )
    assert code == 0, err
    assert json.loads(out)["gate"]["exit_code"] == 0  # the report says what the exit code does
    text = written.read_text(encoding="utf-8")
    base = load_baseline(written)
    report = evaluate(load_snapshot(Path(PARTIAL)), load_manifest())
    assert [e.fingerprint for e in base.entries] == [f.fingerprint for f in report.findings]
    assert {e.reason for e in base.entries} == {reason}
    assert "present when" not in text
    assert "SCOPE_MISSING" in text
    code, accepted = check_json("-s", PARTIAL, "--baseline", str(written))
    assert code == 0
    findings = accepted["findings"]
    assert len(findings) == len(report.findings)  # accepted findings stay in the report
    assert {f["accepted"]["reason"] for f in findings} == {reason}  # type: ignore[index]
    assert accepted["gate"]["accepted"] == len(findings)  # type: ignore[index]
    assert accepted["gate"]["failing"] == []  # type: ignore[index]


@pytest.mark.parametrize("reason", [None, "", "   "])
def test_write_baseline_without_a_reason_is_refused_before_any_work(
    tmp_path: Path, reason: str | None
) -> None:
    written = tmp_path / "b.toml"
    args = ["check", "-s", PARTIAL, "--write-baseline", str(written)]
    if reason is not None:
        args += ["--reason", reason]
    code, out, err = run(*args)
    assert code == 2
    assert "--reason" in err
    assert not written.exists()
    assert out == ""


def test_a_baseline_never_accepts_data_that_could_not_be_read(tmp_path: Path) -> None:
    """CA_UNREADABLE describes the CI identity's permissions, not a tenant state to accept:
    left out of the written baseline, so --fail-on unknown stays red for it, and the
    bootstrap run says so with exit 1 rather than hiding it."""
    written = tmp_path / "b.toml"
    code, _, err = run(
        "check",
        "-s",
        CA_UNREADABLE,
        "--fail-on",
        "unknown",
        "--write-baseline",
        str(written),
        "--reason",
        "rollout",
    )
    assert code == 1
    assert "left out 1" in err
    assert "CA_UNREADABLE" not in written.read_text(encoding="utf-8")
    code, report = check_json(
        "-s", CA_UNREADABLE, "--fail-on", "unknown", "--baseline", str(written)
    )
    assert code == 1
    assert "CA_UNREADABLE" in report["gate"]["reason"]  # type: ignore[index]


def test_rewriting_a_baseline_keeps_the_reasons_people_gave(tmp_path: Path) -> None:
    report = evaluate(load_snapshot(Path(PARTIAL)), load_manifest())
    first = report.findings[0]
    old = _write(
        tmp_path,
        f'[[accept]]\nfingerprint = "{first.fingerprint}"\nreason = "Vendor ticket 4711"\n'
        "expires = 2099-12-31\n",
    )
    written = tmp_path / "new.toml"
    code, _, _ = run(
        "check",
        "-s",
        PARTIAL,
        "--baseline",
        old,
        "--write-baseline",
        str(written),
        "--reason",
        "the rest at rollout",
    )
    assert code == 0
    entries = {e.fingerprint: e for e in load_baseline(written).entries}
    assert entries[first.fingerprint].reason == "Vendor ticket 4711"
    assert entries[first.fingerprint].expires == date(2099, 12, 31)
    others = {e.reason for fp, e in entries.items() if fp != first.fingerprint}
    assert others == {"the rest at rollout"}


def test_an_entry_with_the_reason_consent_audit_used_to_fill_in_is_refused(
    tmp_path: Path,
) -> None:
    """Older versions wrote "present when this baseline was written on <date>" into every
    entry; a file committed unread would accept everything. Refused, naming the fix."""
    report = evaluate(load_snapshot(Path(PARTIAL)), load_manifest())
    baseline = _write(
        tmp_path,
        f'[[accept]]\nfingerprint = "{report.findings[0].fingerprint}"\n'
        'reason = "present when this baseline was written on 2026-11-30"\n',
    )
    code, out, err = run("check", "-s", PARTIAL, "--baseline", baseline)
    assert code == 2
    assert out == ""
    assert "entry 1" in err
    assert "not a reason a person gave" in err
    assert "--reason" in err


def test_an_accepted_finding_is_marked_in_every_format(tmp_path: Path) -> None:
    report = evaluate(load_snapshot(Path(PARTIAL)), load_manifest())
    error = next(f for f in report.findings if f.severity.value == "error")
    baseline = _write(
        tmp_path,
        f'[[accept]]\nfingerprint = "{error.fingerprint}"\nreason = "Vendor ticket 4711"\n',
    )
    outputs = [tmp_path / n for n in ("r.txt", "r.md", "r.html", "r.xml", "r.json")]
    args = ["check", "-s", PARTIAL, "--baseline", baseline, "--fail-on", "never"]
    for out in outputs:
        args += ["-o", str(out)]
    assert run(*args)[0] == 0
    for out in outputs:  # text wraps at spaces: compare words
        assert "Vendor ticket 4711" in " ".join(out.read_text(encoding="utf-8").split()), out.name


def test_baseline_by_code_app_and_feature(tmp_path: Path) -> None:
    report = evaluate(load_snapshot(Path(PARTIAL)), load_manifest())
    missing = [f for f in report.findings if f.id == "SCOPE_MISSING"]
    assert len(missing) == 1
    subject = missing[0].subject
    assert subject is not None
    errors = {f.id for f in report.findings if f.severity.value == "error"}
    assert errors == {"SCOPE_MISSING", "USER_CONSENT_DISABLED"}
    consent = '[[accept]]\ncode = "USER_CONSENT_DISABLED"\nreason = "Company policy"\n'
    baseline = _write(
        tmp_path,
        f'version = 1\n[[accept]]\ncode = "SCOPE_MISSING"\napp_id = "{subject.app_id}"\n'
        f'feature = "{subject.feature}"\nreason = "Mailbox sync not used"\n' + consent,
    )
    code, out = check_json("-s", PARTIAL, "--baseline", baseline)
    assert code == 0
    entry = out["gate"]["baseline"]["entries"][0]  # type: ignore[index]
    assert entry["state"] == "applied"
    assert entry["matched"] == [missing[0].fingerprint]
    other = _write(
        tmp_path,
        '[[accept]]\ncode = "SCOPE_MISSING"\nfeature = "calendar"\nreason = "x"\n' + consent,
    )
    assert check_json("-s", PARTIAL, "--baseline", other)[0] == 1  # the wrong feature


def test_expired_entry_stops_applying_and_the_report_says_so(tmp_path: Path) -> None:
    report = evaluate(load_snapshot(Path(DISABLED)), load_manifest())
    errors = [f for f in report.findings if f.severity.value == "error"]
    assert [f.id for f in errors] == ["APP_DISABLED"]
    fp = errors[0].fingerprint
    today = date.today()
    future = _write(
        tmp_path,
        f'[[accept]]\nfingerprint = "{fp}"\nreason = "r"\n'
        f"expires = {(today + timedelta(days=30)).isoformat()}\n",
    )
    assert run("check", "-s", DISABLED)[0] == 1
    assert check_json("-s", DISABLED, "--baseline", future)[0] == 0
    past = _write(
        tmp_path,
        f'[[accept]]\nfingerprint = "{fp}"\nreason = "r"\n'
        f"expires = {(today - timedelta(days=2)).isoformat()}\n",
    )
    code, out = check_json("-s", DISABLED, "--baseline", past)
    assert code == 1
    entry = out["gate"]["baseline"]["entries"][0]  # type: ignore[index]
    assert entry["state"] == "expired"
    assert all(f["accepted"] is None for f in out["findings"])  # type: ignore[index]
    code, text, _ = run("check", "-s", DISABLED, "--baseline", past)
    assert "expired on" in text


def test_an_entry_matching_nothing_is_reported_stale(tmp_path: Path) -> None:
    baseline = _write(
        tmp_path,
        '[[accept]]\nfingerprint = "0000000000000000"\nreason = "fixed long ago"\n',
    )
    code, out = check_json("-s", PARTIAL, "--baseline", baseline)
    assert code == 1
    assert out["gate"]["baseline"]["entries"][0]["state"] == "stale"  # type: ignore[index]
    _, text, _ = run("check", "-s", PARTIAL, "--baseline", baseline)
    assert "matches no finding (stale)" in text


def test_first_live_entry_accepts_and_the_expired_one_is_still_listed() -> None:
    report = evaluate(load_snapshot(Path(PARTIAL)), load_manifest())
    from consent_audit.baseline import Baseline, BaselineEntry

    fp = report.findings[0].fingerprint
    base = Baseline(
        "b",
        (
            BaselineEntry(1, "old", expires=date(2020, 1, 1), fingerprint=fp),
            BaselineEntry(2, "new", fingerprint=fp),
        ),
    )
    marked, result = apply_baseline(base, report.findings, date(2026, 1, 1))
    assert marked[0].accepted is not None
    assert marked[0].accepted.entry == 2
    assert [e.state for e in result.entries] == ["expired", "applied"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[[accept]]\nfingerprint = 'x'\n", "has no reason"),
        ("[[accept]]\nfingerprint = 'x'\nreason = '  '\n", "has no reason"),
        ("[[accept]]\nreason = 'r'\n", "names no finding"),
        ("[[accept]]\ncode = 'X'\nreason = 'r'\nexpires = 'soon'\n", "is not a date"),
        # Python 3.11+'s date.fromisoformat reads these, 3.10's does not: refused on every one.
        ("[[accept]]\ncode = 'X'\nreason = 'r'\nexpires = '20261231'\n", "is not a date"),
        ("[[accept]]\ncode = 'X'\nreason = 'r'\nexpires = '2026-W52-4'\n", "is not a date"),
        ("[[accept]]\ncode = 'X'\nreason = 'r'\nreasn = 'typo'\n", "unknown key"),
        ("[[accept]]\ncode = 1\nreason = 'r'\n", "must be a string"),
        ("version = 2\n", "not supported"),
        ("ignore = []\n", "expected only"),
        ("[[accept]\n", "not valid TOML"),
    ],
)
def test_bad_baseline_is_one_clear_error_exit_2(tmp_path: Path, text: str, message: str) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(InputError, match=message):
        load_baseline(Path(path))
    code, out, err = run("check", "-s", PARTIAL, "--baseline", path)
    assert code == 2
    assert out == ""
    assert err.startswith("error: ")
    assert message in err
    assert "Traceback" not in err


def test_missing_baseline_file_is_exit_2() -> None:
    code, _, err = run("check", "--demo", "--baseline", "/nonexistent/baseline.toml")
    assert code == 2
    assert "no such baseline file" in err


def test_the_docs_say_how_ci_fails_safe() -> None:
    """Issue 20 item 7, docs: README and docs/baseline.md tell CI users to gate with
    --fail-on unknown, that --write-baseline takes --reason and exits 0 once written, how the
    recipes bootstrap a baseline, and that JUnit never marks a finding skipped."""
    readme = " ".join((ROOT / "README.md").read_text(encoding="utf-8").split())
    guide = " ".join((ROOT / "docs" / "baseline.md").read_text(encoding="utf-8").split())
    for text in (readme, guide):
        assert "--fail-on unknown" in text
        assert "--reason" in text
        assert "exits 0 once written" in text or "0 once written" in text
        assert "consent-audit-baseline.toml" in text
    assert "skipped" in readme
    assert "never `<skipped>`" in guide
    assert "present when this baseline was written on" in guide  # refused, and says so
    assert "replace each reason" not in readme
