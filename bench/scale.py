"""Scale benchmark: `check` on a generated 100,000-grant tenant, beside hand-written clients.

    python bench/scale.py [--grants 1000 100000] [--page-size 999] [--groups 5000]
                          [--policies 195] [--skip-tracemalloc] [--repeat N]
                          [--python NAME=PATH ...] [--json rows.json]

The tenant (tests/security/big_tenant.py) is built in memory: N per-user (Principal) grants
for Recruitee plus one AllPrincipals grant, 5,000 groups assigned to Recruitee and named in CA
policies, 195 Conditional Access policies (the per-tenant maximum). The emulator runs in this
process; everything measured runs in a child process, so its memory is the tool's alone.

Yardsticks, each GETting every page of what a tenant-wide audit reads (grants, assignments,
CA policies, consent policies) and keeping every page's JSON:

* ``stdlib``: written with the standard library only (``urllib.request``, ``json``): what a
  bare hand-written client costs, start-up included (issue 22).
* ``floor``: the stdlib client after importing the brief's libraries (requests, Typer,
  pydantic: FLOOR_IMPORTS says why these) and using none of them: the least any tool built
  on them can cost. ``floor/stdlib`` is what those imports alone add.
* ``floor-requests``: the same imports, the GETs through requests: requests' own per-request
  cost is in it (the brief reads Graph with requests).
* ``naive``: the yardstick of issue #10, the GETs through requests with nothing else imported.

``check``: the installed ``consent-audit check --format json`` as a subprocess (what a user
runs), tenant-wide and with ``--user``, for each ``--python NAME=PATH`` (the python of a venv
it is installed in; default this python). CPU seconds (user + system), wall time and peak RSS
come from ``os.wait4`` in a small launcher process (see Launcher), so they are the measured
program's own. Each round runs every yardstick, then every version (taking turns at going
first); a ratio pairs runs of one round, and the figures are the median run and the median of
the paired ratios with their range, because on a shared machine other work moves CPU seconds
by a fifth or more between minutes. The load average is printed before and after.

With two or more versions their JSON reports (of the first round) are compared, the clocks
aside (``generated_at``, ``source.collected_at``): every version with the first, or the pairs
given as ``--same-report A=B`` (e.g. main without a change and main with it, when the first
version is older and others' work changed what it says). The run says how many were
identical, and exits 1 showing the first difference otherwise.

``breakdown`` (this python only): the same pipeline in a child Python process -- collection
(split into time inside HTTP calls = network + emulator, and the rest = our parsing and
validation), evaluate() and JSON rendering -- with its peak RSS and, unless
``--skip-tracemalloc``, the tracemalloc peak; with ``--user``, how many requests read the
whole grant list (``/servicePrincipals/{id}/oauth2PermissionGrants``) versus filtered
``/oauth2PermissionGrants?$filter=...`` requests, and the grants kept.

The emulator deep-copies its whole state on every list request (fine for tests, ~0.5 s per
page at 100k grants); here it shallow-copies instead, which changes no answer, only the
emulator's own time. Measured, not asserted: docs/performance.md records the figures.
"""

from __future__ import annotations

import argparse
import copy as copy_module
import difflib
import json
import os
import resource
import statistics
import subprocess
import sys
import time
import types
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

TOKEN = "bench-token"


# -- child: one in-process run, timings as a JSON line -----------------------------------------


def naive(url: str, sp_ids: list[str]) -> None:
    """The yardstick: plain GETs of every page a tenant-wide audit needs, JSON kept."""
    import requests

    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {TOKEN}"
    kept: list[Any] = []
    paths = [f"/servicePrincipals/{sp}/oauth2PermissionGrants" for sp in sp_ids]
    paths += [f"/servicePrincipals/{sp}/appRoleAssignedTo" for sp in sp_ids]
    paths += ["/identity/conditionalAccess/policies", "/policies/permissionGrantPolicies"]
    for path in paths:
        link: str | None = f"{url}/v1.0{path}"
        while link:
            page = session.get(link, timeout=120).json()
            kept.append(page)
            link = page.get("@odata.nextLink")
    items = sum(len(p.get("value") or []) for p in kept)
    print(json.dumps({"pages": len(kept), "items": items}))


def stdlib_naive(url: str, sp_ids: list[str]) -> None:
    """The same yardstick with only the standard library: urllib GETs, ``json.load``, kept.

    What a hand-written client costs with nothing to import: no requests, no pydantic, no CLI
    framework (issue 22: the tool's start-up against a bare client's).
    """
    import urllib.request

    headers = {"Authorization": f"Bearer {TOKEN}", "Accept": "application/json"}
    kept: list[Any] = []
    paths = [f"/servicePrincipals/{sp}/oauth2PermissionGrants" for sp in sp_ids]
    paths += [f"/servicePrincipals/{sp}/appRoleAssignedTo" for sp in sp_ids]
    paths += ["/identity/conditionalAccess/policies", "/policies/permissionGrantPolicies"]
    for path in paths:
        link: str | None = f"{url}/v1.0{path}"
        while link:
            request = urllib.request.Request(link, headers=headers)
            with urllib.request.urlopen(request, timeout=120) as response:
                page = json.load(response)
            kept.append(page)
            link = page.get("@odata.nextLink")
    items = sum(len(p.get("value") or []) for p in kept)
    print(json.dumps({"pages": len(kept), "items": items}))


FLOOR_IMPORTS = ("requests", "typer", "pydantic")
"""What any live run of a tool built on the brief's libraries must import, whatever it does:
requests (Graph is read with it), Typer (the CLI) and pydantic (the models, and Typer 0.29
converts its parameters through a pydantic ``TypeAdapter``). Not msal (the token comes from
the environment: no sign-in) and not rich (a JSON report to a pipe is not rendered by rich)."""


def floor_naive(url: str, sp_ids: list[str]) -> None:
    """The stdlib client after importing the brief's libraries and using none of them: the
    floor any tool built on requests, Typer and pydantic can reach (issue 22)."""
    import requests  # noqa: F401
    import typer  # noqa: F401
    from pydantic import BaseModel, TypeAdapter  # noqa: F401

    stdlib_naive(url, sp_ids)


def floor_requests_naive(url: str, sp_ids: list[str]) -> None:
    """The floor with the brief's HTTP client too: the same imports, the GETs through
    requests (the naive client). What requests costs per request is in this floor and not in
    the stdlib one: the brief reads Graph with requests."""
    import typer  # noqa: F401
    from pydantic import BaseModel, TypeAdapter  # noqa: F401

    naive(url, sp_ids)


def child(url: str, user: str | None, trace: bool) -> None:
    import requests

    if trace:
        import tracemalloc

        tracemalloc.start()
    from consent_audit.evaluate import evaluate
    from consent_audit.live.bearer import StaticToken
    from consent_audit.live.collector import collect_with
    from consent_audit.live.graph_client import GraphClient
    from consent_audit.live_options import LiveOptions
    from consent_audit.manifest import load_manifest
    from consent_audit.render import OutputFormat, renderer

    class TimedSession(requests.Session):
        http_seconds = 0.0
        bytes_in = 0

        def request(self, *args: Any, **kwargs: Any) -> requests.Response:  # type: ignore[override]
            start = time.perf_counter()
            response = super().request(*args, **kwargs)
            _ = response.content  # read the body inside the timed span
            TimedSession.http_seconds += time.perf_counter() - start
            TimedSession.bytes_in += len(response.content)
            return response

    manifest = load_manifest()
    baseline = tracemalloc.get_traced_memory()[0] if trace else 0
    client = GraphClient(url, StaticToken(TOKEN), session=TimedSession())
    t0 = time.perf_counter()
    snapshot = collect_with(client, manifest, LiveOptions(user=user, quiet=True))
    t1 = time.perf_counter()
    report = evaluate(snapshot, manifest, user=user)
    t2 = time.perf_counter()
    text = renderer(OutputFormat.JSON)(report)
    t3 = time.perf_counter()
    grants = sum(
        len(app.oauth2_permission_grants.data or []) for app in snapshot.recruitee_apps.data or []
    )
    result = {
        "collect_s": t1 - t0,
        "http_s": TimedSession.http_seconds,
        "collect_cpu_s": (t1 - t0) - TimedSession.http_seconds,
        "evaluate_s": t2 - t1,
        "render_s": t3 - t2,
        "processing_s": (t1 - t0) - TimedSession.http_seconds + (t3 - t1),
        "http_requests": client.stats.http_requests,
        "page_requests": client.stats.page_requests,
        "rounds": client.stats.rounds,
        "bytes_in": TimedSession.bytes_in,
        "grants_in_snapshot": grants,
        "report_bytes": len(text),
        "findings": sorted({f.id for f in report.findings}),
        "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }
    if trace:
        import tracemalloc

        result["tracemalloc_peak_mb"] = (tracemalloc.get_traced_memory()[1] - baseline) / 2**20
    print(json.dumps(result))


# -- parent ------------------------------------------------------------------------------------


def _fast_emulator_copies() -> None:
    """Shallow copies in the emulator's router: same answers, far less emulator time."""
    from tests.emulator import router

    def shallow(value: Any, memo: Any = None) -> Any:
        if isinstance(value, list):
            return list(value)
        if isinstance(value, dict):
            return dict(value)
        return copy_module.copy(value)

    router.copy = types.SimpleNamespace(deepcopy=shallow)  # type: ignore[attr-defined]


def _env(url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AZURE_", "CONSENT_AUDIT_"))}
    env.update({"CONSENT_AUDIT_GRAPH_URL": url, "CONSENT_AUDIT_ACCESS_TOKEN": TOKEN, "CI": "true"})
    return env


class Launcher:
    """A small helper process that starts every measured program.

    Not this process: a child forked (or posix_spawn'ed) from it inherits its RSS -- the
    100k-grant tenant and the emulator -- into the ru_maxrss high-water mark, which exec does
    not reset. The launcher is started before anything big exists, so a measured child's
    ru_maxrss (``os.wait4``) is its own peak (floored at the launcher's ~20 MB).
    """

    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, __file__, "--launcher"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

    def run(self, argv: list[str], env: dict[str, str] | None = None) -> dict[str, Any]:
        assert self.proc.stdin is not None
        assert self.proc.stdout is not None
        self.proc.stdin.write(json.dumps({"argv": argv, "env": env}) + "\n")
        self.proc.stdin.flush()
        result: dict[str, Any] = json.loads(self.proc.stdout.readline())
        return result

    def close(self) -> None:
        if self.proc.stdin:
            self.proc.stdin.close()
        self.proc.wait(timeout=10)


def launcher_loop() -> None:
    import tempfile

    for line in sys.stdin:
        job = json.loads(line)
        with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
            start = time.perf_counter()
            proc = subprocess.Popen(
                job["argv"],
                env=job["env"] or dict(os.environ),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
            )
            _, status, usage = os.wait4(proc.pid, 0)  # this child's own rusage
            proc.returncode = os.waitstatus_to_exitcode(status)
            wall = time.perf_counter() - start
            out.seek(0)
            err.seek(0)
            result = {
                "code": proc.returncode,
                "out": out.read(),
                "err": err.read(),
                "wall": wall,
                "cpu": usage.ru_utime + usage.ru_stime,
                "rss": usage.ru_maxrss / 1024,
            }
        print(json.dumps(result), flush=True)


LAUNCHER: Launcher | None = None


def spawn(argv: list[str], env: dict[str, str] | None = None) -> dict[str, Any]:
    assert LAUNCHER is not None
    return LAUNCHER.run(argv, env)


def run_naive(url: str, sp_ids: list[str], flag: str = "--naive") -> dict[str, Any]:
    r = spawn([sys.executable, __file__, flag, url, *sp_ids])
    if r["code"] != 0:
        raise SystemExit(f"{flag} client exited {r['code']}: {r['err']}")
    counts = json.loads(r["out"].strip().splitlines()[-1])
    return {"cpu_s": r["cpu"], "wall_s": r["wall"], "maxrss_mb": r["rss"], **counts}


def cli_command(python: str) -> list[str]:
    """The ``consent-audit`` console script of the venv whose python this is."""
    script = Path(python).with_name("consent-audit")
    return [str(script)] if script.exists() else [python, "-m", "consent_audit"]


def run_cli(url: str, user: str | None, command: list[str]) -> dict[str, Any]:
    args = ["check", "--format", "json", "--fail-on", "never", "-q"]
    if user:
        args += ["--user", user]
    r = spawn([*command, *args], _env(url))
    if r["code"] not in (0, 1):
        raise SystemExit(f"consent-audit exited {r['code']}: {r['err']}")
    return {
        "cpu_s": r["cpu"],
        "wall_s": r["wall"],
        "maxrss_mb": r["rss"],
        "code": r["code"],
        "out": r["out"],
    }


def _comparable(out: str) -> str:
    """A JSON report without its clocks, for comparing two versions: ``generated_at`` and,
    for a live run, ``source.collected_at`` (when that run read Graph)."""
    data = json.loads(out)
    data.pop("generated_at", None)
    if isinstance(data.get("source"), dict):
        data["source"].pop("collected_at", None)
    return json.dumps(data, indent=1, sort_keys=True)


def run_child(url: str, user: str | None, trace: bool) -> dict[str, Any]:
    argv = [sys.executable, __file__, "--child", url]
    if user:
        argv += ["--child-user", user]
    if trace:
        argv.append("--child-trace")
    r = spawn(argv)
    code, out, err, rss = r["code"], r["out"], r["err"], r["rss"]
    if code != 0:
        raise SystemExit(err)
    data: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    data["maxrss_mb"] = rss
    return data


def grant_reads(emu: Any) -> dict[str, int]:
    """Grant-list requests, inside a ``$batch`` (first pages) or plain GETs (further pages)."""
    whole = sum(
        1
        for r in emu.requests
        if "/servicePrincipals/" in r.target and "oauth2PermissionGrants" in r.target
    )
    filtered = sum(1 for r in emu.requests if r.target.startswith("/v1.0/oauth2PermissionGrants?"))
    return {"sp_grant_list_requests": whole, "filtered_grant_requests": filtered}


def measure(
    grants: int, page_size: int, versions: dict[str, str], args: argparse.Namespace
) -> list[dict[str, Any]]:
    from tests.emulator.server import GraphEmulator
    from tests.security.big_tenant import build_tenant

    built = time.perf_counter()
    tenant = build_tenant(grants=grants, groups=args.groups, policies=args.policies)
    built = time.perf_counter() - built
    rows = []
    sp_ids = [a.service_principal.id for a in tenant.snapshot.recruitee_apps.data or []]
    names = list(versions)
    commands = {name: cli_command(python) for name, python in versions.items()}
    with GraphEmulator(tenant.snapshot, token=TOKEN, page_size=page_size) as emu:
        users = (None, tenant.audited_upn)
        yardsticks: dict[str, list[dict[str, Any]]] = {
            "naive": [],
            "stdlib": [],
            "floor": [],
            "floor-requests": [],
        }
        cli_runs = {(name, user): [] for name in names for user in users}
        reads: dict[str | None, dict[str, int]] = {}
        reports: dict[tuple[str, str | None], tuple[int, str]] = {}
        # Each round runs the yardsticks, then every version tenant-wide and with --user,
        # back to back: each ratio pairs runs made under the same machine load (2 shared
        # cores: other work moves CPU seconds by 20-30%). The versions take turns going first.
        for round_no in range(args.repeat):
            if not args.skip_naive:
                yardsticks["naive"].append(run_naive(emu.url, sp_ids))
                yardsticks["stdlib"].append(run_naive(emu.url, sp_ids, "--stdlib-naive"))
                yardsticks["floor"].append(run_naive(emu.url, sp_ids, "--floor-naive"))
                yardsticks["floor-requests"].append(
                    run_naive(emu.url, sp_ids, "--floor-requests-naive")
                )
            shift = round_no % len(names)
            for name in names[shift:] + names[:shift]:
                for user in users:
                    emu.clear_requests()
                    run = run_cli(emu.url, user, commands[name])
                    reports.setdefault((name, user), (run.pop("code"), _comparable(run.pop("out"))))
                    cli_runs[name, user].append(run)
                    reads.setdefault(user, grant_reads(emu))
        for user in users:
            emu.clear_requests()
            breakdown = run_child(emu.url, user, trace=False)
            if not args.skip_tracemalloc:
                breakdown["tracemalloc_peak_mb"] = run_child(emu.url, user, trace=True)[
                    "tracemalloc_peak_mb"
                ]
            for name in names:
                runs = cli_runs[name, user]
                ratios = {
                    f"{kind}_{what}_ratios": [
                        c[key] / n[key] for c, n in zip(runs, yard, strict=False)
                    ]
                    for kind, yard in yardsticks.items()
                    for what, key in (("cpu", "cpu_s"), ("rss", "maxrss_mb"))
                }
                rows.append(
                    {
                        "grants": grants,
                        "page_size": page_size,
                        "mode": row_mode(user),
                        "version": name,
                        "tenant_build_s": built,
                        "cli": _median_run(runs),
                        "cli_runs": runs,
                        **{kind: _median_run(yard) for kind, yard in yardsticks.items()},
                        **{f"{kind}_runs": yard for kind, yard in yardsticks.items()},
                        **{
                            f"{kind}_stdlib_cpu_ratios": [
                                f["cpu_s"] / n["cpu_s"]
                                for f, n in zip(yardsticks[kind], yardsticks["stdlib"], strict=True)
                            ]
                            for kind in ("floor", "floor-requests")
                        },
                        **ratios,
                        **reads[user],
                        "breakdown": breakdown,
                    }
                )
                REPORTS[grants, page_size, row_mode(user), name] = reports[name, user]
    return rows


REPORTS: dict[tuple[int, int, str, str], tuple[int, str]] = {}
"""(grants, page size, mode, version) -> the exit code and comparable JSON report of the
version's first run."""


def row_mode(user: str | None) -> str:
    return "--user" if user else "tenant-wide"


def compare_reports(pairs: list[tuple[str, str]]) -> None:
    """Each pair's reports the same (clocks aside) at every size and mode; exit 1 otherwise."""
    compared: list[str] = []
    for (grants, page_size, mode, name), (code, text) in REPORTS.items():
        for reference, other in pairs:
            if name != other:
                continue
            ref_code, ref_text = REPORTS[grants, page_size, mode, reference]
            where = f"{grants:,d} grants (page {page_size}) {mode}"
            if (code, text) != (ref_code, ref_text):
                diff = difflib.unified_diff(
                    ref_text.splitlines(True), text.splitlines(True), reference, other, n=2
                )
                print(
                    f"DIFFERENT: {where}: {other}'s report is not {reference}'s (exit "
                    f"{code} / {ref_code})"
                )
                sys.stdout.writelines(list(diff)[:60])
                raise SystemExit(1)
            compared.append(f"{where}: {other} = {reference}")
    print(
        f"{len(compared)} JSON reports identical (generated_at and source.collected_at "
        "aside): " + "; ".join(compared)
    )


def _median_run(runs: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The run with the median CPU time (the lower middle one of an even count)."""
    if not runs:
        return None
    return sorted(runs, key=lambda r: r["cpu_s"])[(len(runs) - 1) // 2]


def _ratios(ratios: list[float]) -> str:
    """The median of the paired CPU ratios, and their range when there are several."""
    if len(ratios) == 1:
        return f"{ratios[0]:.2f}x"
    return (
        f"{statistics.median(ratios):.2f}x (median of {len(ratios)}: "
        f"{min(ratios):.2f}-{max(ratios):.2f})"
    )


YARDSTICKS = ("stdlib", "floor", "floor-requests", "naive")


def show(row: dict[str, Any]) -> None:
    cli = row["cli"]
    line = (
        f"{row['grants']:>7,d} grants page {row['page_size']:>3d} {row['mode']:11s} "
        f"{row['version']:>8s} | check {cli['cpu_s']:5.2f} s CPU {cli['wall_s']:6.2f} s wall "
        f"{cli['maxrss_mb']:5.0f} MB"
    )
    for kind in YARDSTICKS:
        if row.get(kind):
            line += (
                f" | /{kind} CPU {_ratios(row[f'{kind}_cpu_ratios'])}, "
                f"RSS {_ratios(row[f'{kind}_rss_ratios'])}"
            )
    print(line, flush=True)


def show_yardsticks(row: dict[str, Any]) -> None:
    b = row["breakdown"]
    trace = f" tracemalloc {b['tracemalloc_peak_mb']:.0f} MB" if "tracemalloc_peak_mb" in b else ""
    line = f"{row['grants']:>7,d} grants page {row['page_size']:>3d} {row['mode']:11s} yardsticks"
    for kind in YARDSTICKS:
        run = row.get(kind)
        if run:
            line += (
                f" | {kind} {run['cpu_s']:5.2f} s CPU {run['wall_s']:5.2f} s wall "
                f"{run['maxrss_mb']:4.0f} MB ({run['pages']} GETs)"
            )
    for kind in ("floor", "floor-requests"):
        if row.get(kind):
            line += f" | {kind}/stdlib CPU {_ratios(row[f'{kind}_stdlib_cpu_ratios'])}"
    print(line, flush=True)
    print(
        f"{'':>33s} this version in-process: "
        f"http {b['http_s']:6.2f} s ({b['http_requests']} requests: "
        f"{b['http_requests'] - b['page_requests']} $batch + {b['page_requests']} page GETs, "
        f"{b['rounds']} rounds, "
        f"{b['bytes_in'] / 2**20:5.1f} MiB) | processing {b['processing_s']:5.2f} s "
        f"(collect {b['collect_cpu_s']:.2f} + evaluate {b['evaluate_s']:.2f} + "
        f"render {b['render_s']:.2f}) | rss {b['maxrss_mb']:.0f} MB{trace} | "
        f"grant reads: whole-list {row['sp_grant_list_requests']}, "
        f"filtered {row['filtered_grant_requests']}, kept {b['grants_in_snapshot']}",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--grants", type=int, nargs="+", default=[1000, 100_000])
    parser.add_argument("--page-size", type=int, nargs="+", default=[999])
    parser.add_argument("--groups", type=int, default=5000)
    parser.add_argument("--policies", type=int, default=195)
    parser.add_argument("--skip-tracemalloc", action="store_true")
    parser.add_argument("--skip-naive", action="store_true")
    parser.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="rounds of yardstick + check runs per size; figures are the median run (default 1)",
    )
    parser.add_argument(
        "--python",
        action="append",
        metavar="NAME=PATH",
        help="a version of consent-audit to measure: the python of a venv it is installed in "
        "(repeat to compare versions in the same rounds; default: this python). With two or "
        "more, their JSON reports are compared (--same-report)",
    )
    parser.add_argument(
        "--same-report",
        action="append",
        default=[],
        metavar="NAME=NAME",
        help="two versions whose reports must be identical (repeatable; default: every "
        "version and the first)",
    )
    parser.add_argument("--naive", nargs="+", help=argparse.SUPPRESS)
    parser.add_argument("--stdlib-naive", nargs="+", help=argparse.SUPPRESS)
    parser.add_argument("--floor-naive", nargs="+", help=argparse.SUPPRESS)
    parser.add_argument("--floor-requests-naive", nargs="+", help=argparse.SUPPRESS)
    parser.add_argument("--json", type=Path, help="also write all rows to this file")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--child-user", help=argparse.SUPPRESS)
    parser.add_argument("--child-trace", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--launcher", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.launcher:
        launcher_loop()
        return
    for flag, client in (
        (args.naive, naive),
        (args.stdlib_naive, stdlib_naive),
        (args.floor_naive, floor_naive),
        (args.floor_requests_naive, floor_requests_naive),
    ):
        if flag:
            client(flag[0], flag[1:])
            return
    if args.child:
        child(args.child, args.child_user, args.child_trace)
        return
    versions = dict(item.partition("=")[::2] for item in args.python or [f"cli={sys.executable}"])
    global LAUNCHER
    LAUNCHER = Launcher()
    _fast_emulator_copies()
    rows = []
    print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}", flush=True)
    for page_size in args.page_size:
        for grants in args.grants:
            found = measure(grants, page_size, versions, args)
            for index, row in enumerate(found):
                if index % len(versions) == 0:
                    show_yardsticks(row)
                show(row)
            rows.extend(found)
    LAUNCHER.close()
    print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}", flush=True)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2) + "\n", encoding="utf-8")
    if len(versions) > 1:
        first = next(iter(versions))
        pairs = [tuple(p.split("=", 1)) for p in args.same_report] or [
            (first, name) for name in versions if name != first
        ]
        compare_reports(pairs)  # type: ignore[arg-type]


if __name__ == "__main__":
    main()
