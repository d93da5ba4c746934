"""The baseline file: findings a team has decided to live with, each with a reason.

A CI job that fails on every finding is switched off within a week. A baseline (as Trivy's
ignore file, Checkov's baseline, pip-audit's ``--ignore-vuln`` and ScubaGear's omissions)
lets the team accept a known finding *with a reason and, ideally, an end date*, so the job
fails only on what is new. Accepted findings stay in every output, marked; an expired entry
stops applying and says so; an entry that matches nothing is reported as stale, so a fixed
problem does not leave a silent hole in the gate.

Format (TOML)::

    version = 1

    [[accept]]
    fingerprint = "dba82584c1771f33"   # one finding (see the report's "fingerprint")
    reason = "Calendar sync is not used by this tenant"
    expires = 2026-12-31               # optional; the entry applies through that day

    [[accept]]
    code = "SCOPE_EXTRA"               # or by code, optionally narrowed by app and feature
    app_id = "b41d7a09-6e2c-4f85-9c3a-72e0f5d8a166"
    feature = "mailbox"
    reason = "Old scope kept until the vendor confirms it is unused"

An entry matches a finding when every key it gives (fingerprint, code, app_id, feature)
matches; ``note`` is free text for people and never matched.

The reason is a person's: ``--write-baseline`` takes it from ``--reason`` and never invents
one, and the sentence older versions filled in ("present when this baseline was written on
...") is refused when read, so a file committed unread cannot quietly accept everything.
Findings saying the data a verdict needs could not be read (gate.py's ``unknown`` level) are
never written into a baseline: they describe the CI identity's permissions, not a state of
the tenant a team can decide to live with.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import tomli_w

from consent_audit.errors import InputError
from consent_audit.files import read_text_input
from consent_audit.report import Acceptance, BaselineEntryResult, BaselineResult, Finding, Report

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

BASELINE_VERSION = 1
_FILLED_IN = re.compile(r"^present when this baseline was written on\b", re.IGNORECASE)
"""The reason consent-audit itself wrote before ``--reason`` existed: no person gave it."""
_MATCH_KEYS = ("fingerprint", "code", "app_id", "feature")
_KEYS = {*_MATCH_KEYS, "reason", "expires", "note"}


@dataclass(frozen=True)
class BaselineEntry:
    index: int
    reason: str
    expires: date | None = None
    fingerprint: str | None = None
    code: str | None = None
    app_id: str | None = None
    feature: str | None = None

    def expired(self, today: date) -> bool:
        return self.expires is not None and today > self.expires

    def matches(self, f: Finding) -> bool:
        subject = f.subject
        wanted = (
            (self.fingerprint, f.fingerprint),
            (self.code, f.id),
            (self.app_id, subject.app_id if subject else None),
            (self.feature, subject.feature if subject else None),
        )
        return all(
            want is None or (have is not None and want.casefold() == have.casefold())
            for want, have in wanted
        )


@dataclass(frozen=True)
class Baseline:
    path: str
    entries: tuple[BaselineEntry, ...]


def load_baseline(path: Path) -> Baseline:
    """Read and check a baseline file; any problem is one InputError (exit 2) naming the entry."""
    text, name = read_text_input(path, "baseline")
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(
            f"{name}: not valid TOML ({exc}).", fix="Fix the syntax; see docs/baseline.md."
        ) from None
    version = raw.get("version", BASELINE_VERSION)
    if version != BASELINE_VERSION:
        raise InputError(
            f"{name}: baseline version {version!r} is not supported.",
            fix=f"Use version = {BASELINE_VERSION}.",
        )
    unknown_top = sorted(set(raw) - {"version", "accept"})
    accepts = raw.get("accept", [])
    if unknown_top or not isinstance(accepts, list):
        raise InputError(
            f"{name}: expected only 'version' and [[accept]] entries"
            + (f" (found {', '.join(unknown_top)})." if unknown_top else "."),
            fix="Write each accepted finding as an [[accept]] table.",
        )
    return Baseline(name, tuple(_entry(name, n, e) for n, e in enumerate(accepts, 1)))


def _entry(name: str, index: int, raw: Any) -> BaselineEntry:
    where = f"{name}: [[accept]] entry {index}"
    if not isinstance(raw, dict):
        raise InputError(f"{where} is not a table.", fix="Write it as [[accept]] with keys.")
    extra = sorted(set(raw) - _KEYS)
    if extra:
        raise InputError(
            f"{where} has unknown key(s) {', '.join(extra)}.",
            fix=f"Use only {', '.join(sorted(_KEYS))}.",
        )
    for key in (*_MATCH_KEYS, "reason", "note"):
        if key in raw and not isinstance(raw[key], str):
            raise InputError(f"{where}: {key} must be a string.", fix=f'Write {key} = "...".')
    reason = str(raw.get("reason", "")).strip()
    if not reason:
        raise InputError(
            f"{where} has no reason.",
            fix='Say why the finding is accepted: reason = "..." (it is shown in every report).',
        )
    if _FILLED_IN.match(reason):
        raise InputError(
            f"{where}'s reason ({reason!r}) is the sentence consent-audit filled in, not a "
            "reason a person gave.",
            fix='Replace it with why the team accepts this finding (reason = "..."), or write '
            'the file again with --write-baseline FILE --reason "...".',
        )
    if not (raw.get("fingerprint") or raw.get("code")):
        raise InputError(
            f"{where} names no finding.",
            fix='Give fingerprint = "..." or code = "..." (optionally app_id and feature).',
        )
    return BaselineEntry(
        index=index,
        reason=reason,
        expires=_expires(where, raw.get("expires")),
        fingerprint=raw.get("fingerprint") or None,
        code=raw.get("code") or None,
        app_id=raw.get("app_id") or None,
        feature=raw.get("feature") or None,
    )


_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _expires(where: str, value: Any) -> date | None:
    if value is None:
        return None
    if isinstance(value, date) and not hasattr(value, "hour"):
        return value
    # YYYY-MM-DD only: Python 3.11 and later would also read 20261231 and 2026-W52-4, which
    # 3.10 refuses, and a baseline must mean the same on every Python we support.
    if isinstance(value, str) and _ISO_DATE.fullmatch(value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise InputError(
        f"{where}: expires {value!r} is not a date.",
        fix="Write expires = 2026-12-31 (the entry applies through that day).",
    )


def apply_baseline(
    baseline: Baseline, findings: list[Finding], today: date
) -> tuple[list[Finding], BaselineResult]:
    """Mark the findings the baseline accepts; say what each entry did.

    The first entry (in file order) that matches and has not expired accepts a finding.
    """
    matched: dict[int, list[str]] = {e.index: [] for e in baseline.entries}
    marked: list[Finding] = []
    for f in findings:
        acceptance = None
        for entry in baseline.entries:
            if not entry.matches(f):
                continue
            matched[entry.index].append(f.fingerprint or f.id)
            if acceptance is None and not entry.expired(today):
                acceptance = Acceptance(
                    reason=entry.reason, expires=entry.expires, entry=entry.index
                )
        marked.append(f.model_copy(update={"accepted": acceptance}))
    results = [
        BaselineEntryResult(
            entry=e.index,
            state="expired" if e.expired(today) else "applied" if matched[e.index] else "stale",
            reason=e.reason,
            expires=e.expires,
            fingerprint=e.fingerprint,
            code=e.code,
            app_id=e.app_id,
            feature=e.feature,
            matched=matched[e.index],
        )
        for e in baseline.entries
    ]
    return marked, BaselineResult(path=baseline.path, entries=results)


def check_reason(reason: str | None) -> str:
    """The ``--reason`` given with ``--write-baseline``: required, and a person's own words."""
    text = " ".join((reason or "").split())
    if not text:
        raise InputError(
            "--write-baseline needs --reason: every accepted finding carries why it is accepted.",
            fix='Add --reason "..." (e.g. "accepted at rollout, ticket 4711"); it is written '
            "into each entry and shown in every report.",
        )
    if _FILLED_IN.match(text):
        raise InputError(
            "--reason repeats the sentence consent-audit used to fill in.",
            fix="Say why the team accepts these findings.",
        )
    return text


def baseline_entries(report: Report, reason: str, today: date) -> list[dict[str, Any]]:
    """One entry per finding of ``report`` the team can accept, with ``reason``.

    A finding an earlier baseline accepted keeps that entry's reason and end date. Findings at
    gate.py's ``unknown`` level (data a verdict needs could not be read) are left out.
    """
    from consent_audit.gate import level

    entries = []
    for f in report.findings:
        if level(f) == "unknown":
            continue
        subject = f.subject
        entry: dict[str, Any] = {"fingerprint": f.fingerprint or "", "code": f.id}
        if subject and subject.app_id:
            entry["app_id"] = subject.app_id
        if subject and subject.feature:
            entry["feature"] = subject.feature
        entry["reason"] = f.accepted.reason if f.accepted else reason
        if f.accepted and f.accepted.expires:
            entry["expires"] = f.accepted.expires
        entry["note"] = f"{f.severity.value}: {f.title} (written {today.isoformat()})"
        entries.append(entry)
    return entries


def baseline_toml(entries: list[dict[str, Any]]) -> str:
    """The baseline file for ``entries`` (see :func:`baseline_entries`)."""
    header = (
        "# consent-audit baseline: findings accepted on purpose, each with a reason a person\n"
        "# gave; add expires = YYYY-MM-DD to make the build fail again after that day.\n"
        "# Use it with: consent-audit check --baseline FILE\n"
    )
    from consent_audit.render.safe_text import toml_safe

    return header + toml_safe(tomli_w.dumps({"version": BASELINE_VERSION, "accept": entries}))


def as_baseline(path: str, entries: list[dict[str, Any]]) -> Baseline:
    """The baseline ``entries`` make, as :func:`load_baseline` would read it back."""
    return Baseline(path, tuple(_entry(path, n, e) for n, e in enumerate(entries, 1)))
