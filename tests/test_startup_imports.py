"""What a short run imports stays within a listed set, so the start-up gain does not erode.

Each run is a fresh interpreter running the CLI's entry point; what it has imported at the end
is checked against the lists below (issue 22, docs/performance.md). Python's standard library
is allowed except the network and concurrency modules listed in ``NEVER_STDLIB``; third-party
packages and consent-audit's own modules must be listed. A new import on these paths either
belongs here (add it, with what it costs in docs/performance.md) or belongs inside the command
that needs it.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

# Typer and what it imports (older Typer releases import click instead of their own copy);
# the setuptools editable-install hook and the interpreter's own entries.
TYPER = {"typer", "click", "shellingham", "annotated_doc", "_distutils_hack", "__main__"}
# pydantic and its parts; this Typer builds each parameter's converter with pydantic.
PYDANTIC = {
    "pydantic",
    "pydantic_core",
    "annotated_types",
    "typing_extensions",
    "typing_inspection",
}
RICH = {"rich", "markdown_it", "mdurl", "pygments"}
SITE = {"_sysconfigdata__linux_x86_64-linux-gnu", "_sysconfigdata__darwin_darwin", "tomli_w"}
SITE |= {"tomli"}  # Python 3.10 reads TOML with tomli

NEVER_STDLIB = {"ssl", "http", "asyncio", "concurrent", "sqlite3", "xml", "multiprocessing"}

HELP_OWN = {
    "consent_audit",
    "consent_audit.cli",
    "consent_audit.cli_diff",
    "consent_audit.cli_options",
    "consent_audit.cli_remediation",
    "consent_audit.cli_unredact",
    "consent_audit.errors",
    "consent_audit.gate",
    "consent_audit.gc_hold",
    "consent_audit.live_options",
    "consent_audit.stdio",
    "consent_audit.stdout_guard",
}
# A demo audit reads, evaluates and renders: any of consent-audit's modules but these.
DEMO_NEVER_OWN = (
    "consent_audit.live.",  # the Graph client, MSAL, requests
    "consent_audit.baseline",  # only with --baseline or --write-baseline
    "consent_audit.diff",
    "consent_audit.docs_gen",
    "consent_audit.report_schema",
    "consent_audit.redaction_key",
    "consent_audit.render.html",
    "consent_audit.render.junit",
    "consent_audit.render.markdown",
)

SCRIPT = """
import json, sys
from consent_audit.cli import main
sys.argv = ["consent-audit", *json.loads(sys.argv[1])]
try:
    main()
except SystemExit:
    pass
sys.stderr.write("\\nMODULES " + json.dumps(sorted(sys.modules)) + "\\n")
"""


def imported(argv: list[str]) -> set[str]:
    proc = subprocess.run(
        [sys.executable, "-c", SCRIPT, json.dumps(argv)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert "internal error" not in proc.stderr
    line = proc.stderr.rsplit("\nMODULES ", 1)[-1]
    return set(json.loads(line))


def outside(modules: set[str], third_party: set[str]) -> list[str]:
    """Modules neither in the standard library (less NEVER_STDLIB) nor in ``third_party``."""
    found = []
    for name in modules:
        top = name.split(".")[0]
        if top == "consent_audit":
            continue
        if top in sys.stdlib_module_names:
            if top in NEVER_STDLIB:
                found.append(name)
        elif top not in third_party:
            found.append(name)
    return sorted(found)


def test_help_imports_typer_and_the_command_modules_only() -> None:
    modules = imported(["--help"])
    assert outside(modules, TYPER | SITE) == []
    assert {m for m in modules if m.split(".")[0] == "consent_audit"} == HELP_OWN


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_demo_imports_the_listed_packages_and_no_live_code(fmt: str) -> None:
    modules = imported(["check", "--demo", "--fail-on", "never", "--format", fmt, "-q"])
    allowed = TYPER | PYDANTIC | SITE | (RICH if fmt == "text" else set())
    assert outside(modules, allowed) == []
    own = {m for m in modules if m.split(".")[0] == "consent_audit"}
    assert sorted(m for m in own if m == "consent_audit.live" or m.startswith(DEMO_NEVER_OWN)) == []
    # Nothing that signs in or talks HTTP, whatever else changes.
    assert not {"msal", "msal_extensions", "requests", "urllib3", "cryptography"} & {
        m.split(".")[0] for m in modules
    }


EXPLAIN_OWN = HELP_OWN | {
    "consent_audit.data",
    "consent_audit.evaluate",
    "consent_audit.evaluate.aadsts",
    "consent_audit.evaluate.mechanisms",
    "consent_audit.evaluate.registry",
    "consent_audit.render",
    "consent_audit.render.safe_text",
    "consent_audit.reported_phrases",
    "consent_audit.severity",
}


@pytest.mark.parametrize(
    "argv",
    [["explain", "AADSTS65001"], ["explain", "SCOPE_MISSING"], ["explain", "Need admin approval"]],
)
def test_explain_reads_the_catalogs_without_building_the_models(argv: list[str]) -> None:
    """explain needs the finding registry and the AADSTS catalog: no report, snapshot or Graph
    model, no rule (issue 22: it loaded every model through the evaluate package)."""
    modules = imported(argv)
    assert outside(modules, TYPER | PYDANTIC | SITE) == []
    assert {m for m in modules if m.split(".")[0] == "consent_audit"} <= EXPLAIN_OWN


def test_the_checker_sees_a_forbidden_import() -> None:
    """The lists bite: a live run's imports (requests, the Graph client) are outside them."""
    modules = {"requests", "requests.sessions", "urllib3", "ssl", "json", "typer"}
    assert outside(modules, TYPER | PYDANTIC) == ["requests", "requests.sessions", "ssl", "urllib3"]


FIRST_CONNECT = """
import json, os, sys
def hook(event, args):
    if event == "socket.connect":
        own = sorted(m for m in sys.modules if m.startswith("consent_audit"))
        os.write(2, ("\\nAT-FIRST-CONNECT " + json.dumps(own) + "\\n").encode())
        os._exit(0)
sys.addaudithook(hook)
from consent_audit.cli import main
sys.argv = ["consent-audit", "check", "--format", "json", "--fail-on", "never"]
main()
"""


def test_a_live_check_sends_its_first_request_before_building_report_models() -> None:
    """With the token from the environment, a live run asks Graph before it loads the report
    models, the renderers or the evaluation: those wait for the answers (issue 22)."""
    import os

    from tests.emulator import GraphEmulator

    tenant = "examples/tenants/assignment-required.json"
    with GraphEmulator(tenant, token="startup-token") as emu:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AZURE_", "CONSENT_"))}
        env |= {"CONSENT_AUDIT_GRAPH_URL": emu.url, "CONSENT_AUDIT_ACCESS_TOKEN": "startup-token"}
        proc = subprocess.run(
            [sys.executable, "-c", FIRST_CONNECT],
            capture_output=True,
            text=True,
            timeout=120,
            env=env,
            check=False,
        )
    assert "AT-FIRST-CONNECT " in proc.stderr, proc.stderr[-2000:]
    own = set(json.loads(proc.stderr.rsplit("AT-FIRST-CONNECT ", 1)[1].splitlines()[0]))
    assert "consent_audit.live.graph_client" in own  # the check did reach the live path
    assert (
        sorted(
            own
            & {"consent_audit.report", "consent_audit.evaluate", "consent_audit.render.json_format"}
        )
        == []
    )


BUILT = """
import json, sys
import typer.main
built = []
original = typer.main.get_command_from_info
def counting(command_info, *args, **kwargs):
    command = original(command_info, *args, **kwargs)
    built.append(command.name)
    return command
typer.main.get_command_from_info = counting
from consent_audit.cli import main
sys.argv = ["consent-audit", *json.loads(sys.argv[1])]
try:
    main()
except SystemExit:
    pass
sys.stderr.write("\\nBUILT " + json.dumps(sorted(built)) + "\\n")
"""


@pytest.mark.parametrize(
    ("argv", "built"),
    [
        (["check", "--demo", "--fail-on", "never", "-q", "--format", "json"], ["check"]),
        (["explain", "AADSTS65001"], ["explain"]),
        (["manifest", "show"], ["show", "validate"]),
    ],
)
def test_typer_builds_only_the_command_that_runs(argv: list[str], built: list[str]) -> None:
    """Typer builds every command's parameters before running one; a run that names its
    command builds that one (``--help`` and unknown names still see them all)."""
    proc = subprocess.run(
        [sys.executable, "-c", BUILT, json.dumps(argv)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert json.loads(proc.stderr.rsplit("BUILT ", 1)[1].splitlines()[0]) == built


def test_help_and_a_misspelt_command_still_see_every_command() -> None:
    help_text = subprocess.run(
        [sys.executable, "-c", BUILT, json.dumps(["--help"])],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    names = json.loads(help_text.stderr.rsplit("BUILT ", 1)[1].splitlines()[0])
    assert {"check", "snapshot", "login", "logout", "explain", "fix", "diff"} <= set(names)
    typo = subprocess.run(
        [sys.executable, "-m", "consent_audit", "chek"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert typo.returncode == 2
    assert "Did you mean 'check'?" in typo.stderr


FROZEN_AT_EXIT = """
import atexit, gc, sys
# atexit runs its handlers last-registered first: this one runs after any main() registers.
atexit.register(lambda: sys.stderr.write(f"\\nFROZEN {gc.get_freeze_count()}\\n"))
from consent_audit.cli import main
sys.argv = ["consent-audit", "check", "--demo", "--fail-on", "never", "--format", "json"]
main()
"""


def test_the_run_is_frozen_before_the_exit_collection() -> None:
    """The interpreter's exit ends with a full garbage collection over everything the run
    built (models, schemas, Typer's commands); frozen first, it is not scanned (~25-80 ms of
    CPU for check --demo, docs/performance.md)."""
    proc = subprocess.run(
        [sys.executable, "-c", FROZEN_AT_EXIT],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    frozen = int(proc.stderr.rsplit("FROZEN ", 1)[1].split()[0])
    assert frozen > 10_000  # the models, schemas, commands and report (~40,000 objects)


@pytest.mark.parametrize("columns", ["80", "52"])
def test_the_top_level_help_is_the_whole_apps_page(columns: str) -> None:
    """``--help`` lists the commands without building their parameters; the page is the one
    the whole app prints, at any width."""
    import os

    env = {**os.environ, "COLUMNS": columns}
    listed = subprocess.run(
        [sys.executable, "-c", "from consent_audit.cli import main; main()", "--help"],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        check=False,
    )
    whole = subprocess.run(
        [sys.executable, "-c", "from consent_audit.cli import app; app()", "--help"],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        check=False,
    )
    assert listed.returncode == whole.returncode == 0
    assert "Commands" in listed.stdout
    assert listed.stdout == whole.stdout


PARAMS_BUILT = """
import json, sys
import typer.main
built = {}
original = typer.main.get_command_from_info
def counting(command_info, *args, **kwargs):
    command = original(command_info, *args, **kwargs)
    built[command.name] = len(command.params)
    return command
typer.main.get_command_from_info = counting
from consent_audit.cli import main
sys.argv = ["consent-audit", "--help"]
try:
    main()
except SystemExit:
    pass
sys.stderr.write("\\nBUILT " + json.dumps(built) + "\\n")
"""


def test_the_top_level_help_builds_no_command_parameters() -> None:
    proc = subprocess.run(
        [sys.executable, "-c", PARAMS_BUILT],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    built = json.loads(proc.stderr.rsplit("BUILT ", 1)[1].splitlines()[0])
    assert built["check"] == 0
    assert built["explain"] == 0


BUILT_MODELS = """
import json, sys
import pydantic
from consent_audit.cli import main
sys.argv = ["consent-audit", *json.loads(sys.argv[1])]
try:
    main()
except SystemExit:
    pass
from consent_audit import graph_objects, report, snapshot
built = sorted(
    f"{module.__name__}.{name}"
    for module in (graph_objects, report, snapshot)
    for name, cls in vars(module).items()
    if isinstance(cls, type) and issubclass(cls, pydantic.BaseModel)
    and cls.__module__ == module.__name__ and cls.__pydantic_complete__
)
sys.stderr.write("\\nBUILT " + json.dumps(built) + "\\n")
"""


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_a_demo_run_builds_only_the_validators_it_uses(fmt: str) -> None:
    """Model classes build their validators when first used (``defer_build``): the Graph
    objects inside a snapshot are validated by ``TenantSnapshot``'s one validator, and report
    classes a run never makes stay unbuilt (issue 22: each built class cost ~0.3-0.6 ms)."""
    argv = ["check", "--demo", "--fail-on", "never", "-q", "--format", fmt]
    proc = subprocess.run(
        [sys.executable, "-c", BUILT_MODELS, json.dumps(argv)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    built = set(json.loads(proc.stderr.rsplit("BUILT ", 1)[1].splitlines()[0]))
    assert "consent_audit.snapshot.TenantSnapshot" in built  # the demo tenant was validated
    assert "consent_audit.report.Report" in built  # and reported
    never_alone = {
        "consent_audit.graph_objects.ServicePrincipal",
        "consent_audit.graph_objects.OAuth2PermissionGrant",
        "consent_audit.graph_objects.ConditionalAccessPolicy",
        "consent_audit.graph_objects.SignIn",
        "consent_audit.snapshot.RecruiteeApp",
        "consent_audit.snapshot.UserLookup",
        "consent_audit.report.BaselineResult",  # no --baseline
        "consent_audit.report.Acceptance",
    }
    assert sorted(built & never_alone) == []


def test_report_list_fields_avoid_the_builtin_list_factory() -> None:
    """pydantic inspects each ``default_factory``'s signature when the class is made, and
    ``inspect.signature(list)`` costs ~0.15 ms (1.5 ms the first time): the report's list
    fields use a named factory (report.py ``_no_items``), the same empty list."""
    from consent_audit import report

    slow = sorted(
        f"{name}.{field_name}"
        for name, cls in vars(report).items()
        if isinstance(cls, type) and issubclass(cls, report.ReportModel)
        for field_name, info in cls.model_fields.items()
        if info.default_factory is list
    )
    assert slow == []
    factory = report.Finding.model_fields["features"].default_factory
    assert factory is not None
    made = [factory(), factory()]  # type: ignore[call-arg]
    assert made == [[], []]
    assert made[0] is not made[1]


GC_DURING_RUN = """
import gc, json, sys
from consent_audit.cli import main
collections = []  # those main() starts: its module's own imports (Typer) come before it
gc.callbacks.append(lambda phase, info: phase == "start" and collections.append(info["generation"]))
sys.argv = ["consent-audit", *json.loads(sys.argv[1])]
try:
    main()
except SystemExit:
    pass
sys.stderr.write(f"\\nGC {len(collections)} {gc.isenabled()}\\n")
"""


@pytest.mark.parametrize(
    "argv",
    [
        ["check", "--demo", "--fail-on", "never", "-q", "--format", "json"],
        ["check", "--demo", "--fail-on", "never", "-q"],
        ["explain", "AADSTS65001"],
        ["--help"],
    ],
)
def test_no_automatic_collection_while_a_run_reads_only_bundled_data(argv: list[str]) -> None:
    """Start-up makes ~70,000 objects that live to the exit; the young-generation
    collections that would re-scan them (~100 in check --demo) wait (gc_hold.py), and
    collection is on again when main() returns."""
    proc = subprocess.run(
        [sys.executable, "-c", GC_DURING_RUN, json.dumps(argv)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    count, enabled = proc.stderr.rsplit("GC ", 1)[1].split()
    assert (int(count), enabled) == (0, "True")


PARSES = """
import json, sys
from consent_audit.evaluate import registry
parsed = []
parse = registry.parse_findings
def counting(text):
    parsed.append(len(text))
    return parse(text)
registry.parse_findings = counting
from consent_audit.cli import main
sys.argv = ["consent-audit", *json.loads(sys.argv[1])]
try:
    main()
except SystemExit:
    pass
sys.stderr.write("\\nPARSED " + json.dumps(parsed) + "\\n")
"""


@pytest.mark.parametrize(
    "argv",
    [
        ["check", "--demo", "--fail-on", "never", "-q", "--format", "json"],
        ["explain", "SCOPE_MISSING"],
    ],
)
def test_the_finding_registry_is_read_without_parsing_toml(argv: list[str]) -> None:
    """The registry loads findings.json (parsed by ``make docs``) instead of parsing
    findings.toml with the pure-Python tomllib at every run (~5 ms, issue 22)."""
    proc = subprocess.run(
        [sys.executable, "-c", PARSES, json.dumps(argv)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert "PARSED " in proc.stderr, proc.stderr[-2000:]
    assert json.loads(proc.stderr.rsplit("PARSED ", 1)[1].splitlines()[0]) == []
