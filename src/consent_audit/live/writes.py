"""Graph writes for ``fix --apply``: one request at a time, in plan order, stopping at the first
that is not made.

Writes are few and ordered (enable the app before assigning users to it; every step is safe
in the order printed only if the ones before it were made), so they are sent one by one
rather than batched, each retried on 429/503/504 honouring Retry-After, and the first write
that fails stops the run: the steps after it are reported "not sent", never attempted. Each
answer is read within the same size and time bounds as the reads (live/transport.py), and
the token is sent only to the configured Graph host. A 403 names the permission and the
least-privileged role for it (report.LEAST_PRIVILEGED_ROLE: Cloud Application Administrator or
Application Administrator for delegated grants, app changes and assignments; entra-docs
grant-admin-consent.md, assign-user-or-group-access-portal.md).

The run's deadline (``--deadline``, shared with the reads and the re-audit) stops the writes
between two of them: none starts, and no retry waits, past it. A write already sent is not cut
at the deadline: its answer is awaited within its own bound (twice the read timeout), so its
outcome is known. A write sent without a complete answer (cut at that bound, the connection
lost) has an unknown outcome, and says so: Graph may have made it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import requests

from consent_audit.graph_ids import IdKind, is_valid, path_segment
from consent_audit.live.graph_client import DEFAULT_BACKOFF, TokenProvider, parse_retry_after
from consent_audit.live.graph_errors import GraphError, parse_graph_error
from consent_audit.live.scrub import remember
from consent_audit.live.transport import (
    DEADLINE_EXCEEDED,
    RESPONSE_TIME_FACTOR,
    Answer,
    Deadline,
    TransportError,
    environment_session,
    exchange,
)
from consent_audit.report import LEAST_PRIVILEGED_ROLE as ROLES_FOR
from consent_audit.report import PlanStep

RETRYABLE = {429, 503, 504}

Segment = str | IdKind
WRITES: tuple[tuple[str, tuple[Segment, ...], dict[str, IdKind]], ...] = (
    ("PATCH", ("servicePrincipals", IdKind.OBJECT_ID), {}),
    ("PATCH", ("oauth2PermissionGrants", IdKind.GRANT_ID), {}),
    (
        "POST",
        ("oauth2PermissionGrants",),
        {"clientId": IdKind.OBJECT_ID, "resourceId": IdKind.OBJECT_ID},
    ),
    (
        "POST",
        ("servicePrincipals", IdKind.OBJECT_ID, "appRoleAssignedTo"),
        {
            "principalId": IdKind.OBJECT_ID,
            "resourceId": IdKind.OBJECT_ID,
            "appRoleId": IdKind.OBJECT_ID,
        },
    ),
)
"""Every write ``fix --apply`` can send: method, path segments (literal, or an id of a kind)
and the ids its body must carry. A step matching none of them is never sent."""


class UnsafeWrite(Exception):
    """A planned write whose target is not one of WRITES with valid ids: never sent. The
    message never repeats the offending value (it is tenant text)."""


def write_path(method: str, path: str, body: dict[str, Any] | None = None) -> str:
    """The path to send, rebuilt from its validated parts, each id percent-encoded alone.

    The plan's path is not sent as written: it is split into segments, matched against the
    writes consent-audit makes, and every id segment must be of its kind (object ids GUIDs,
    grant ids base64url, graph_ids.py) before it is encoded with nothing kept. ``/../``,
    ``?``, ``#`` or ``%2F`` in an id can therefore never change where a write goes
    (issue #19: a grant id ``x/../../servicePrincipals/<id>?$select=id#`` sent the PATCH to
    the service principal)."""
    segments = path.split("/")
    if segments[0] != "":
        raise UnsafeWrite("the request path is not absolute")
    segments = segments[1:]
    for planned_method, template, body_ids in WRITES:
        if planned_method != method or len(template) != len(segments):
            continue
        built: list[str] = []
        for want, got in zip(template, segments, strict=True):
            if isinstance(want, IdKind):
                if not is_valid(want, got):
                    raise UnsafeWrite(f"its {want.value} is not valid, so it could go elsewhere")
                built.append(path_segment(want, got))
            elif want == got:
                built.append(want)
            else:
                break
        else:
            for key, kind in body_ids.items():
                if not is_valid(kind, (body or {}).get(key)):
                    raise UnsafeWrite(f"its body's {key} is not a valid {kind.value}")
            return "/" + "/".join(built)
    raise UnsafeWrite("the request is not one of the writes consent-audit plans")


@dataclass(frozen=True)
class ActionResult:
    """What became of one planned write: made (``ok``), failed (Graph answered and made
    nothing), not sent (``sent`` False: an earlier write failed, or the run's deadline passed,
    so this one was never attempted), or sent with no complete answer (``known`` False: Graph
    may or may not have made it)."""

    action: PlanStep
    ok: bool
    message: str
    sent: bool = True
    known: bool = True


class NoAnswer(Exception):
    """A write was sent and no complete answer came back: its outcome is unknown."""


def deadline_passed(actions: Sequence[PlanStep], deadline: Deadline) -> list[ActionResult]:
    """Every Graph step of ``actions`` not sent, because the run's deadline passed first."""
    return [
        ActionResult(a, False, _too_late(deadline), sent=False)
        for a in actions
        if a.method is not None and a.path is not None
    ]


def _too_late(deadline: Deadline, sent: str = "it was sent") -> str:
    return f"the run's --deadline of {deadline.seconds:g} s passed before {sent}"


class GraphWriter:
    def __init__(
        self,
        graph_root: str,
        tokens: TokenProvider,
        *,
        session: requests.Session | None = None,
        timeout: tuple[float, float] = (10.0, 60.0),
        attempts: int = 4,
        backoff: float = DEFAULT_BACKOFF,
        sleep: Callable[[float], None] = time.sleep,
        deadline: Deadline | None = None,
    ) -> None:
        self.base = f"{graph_root.rstrip('/')}/v1.0"
        self.deadline = deadline
        self.tokens = tokens
        self.session = session or environment_session(graph_root)
        self.timeout = timeout
        self.attempts = attempts
        self.sleep = sleep
        self.backoff = backoff

    def send(self, method: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """Send one write (retried on 401 once, and on 429/503/504); its answer, or GraphError
        when Graph did not make it, or NoAnswer when no complete answer came back."""
        refreshed = False
        for attempt in range(self.attempts):
            if attempt and self.deadline is not None and self.deadline.passed:
                # The last answer refused the write (401, 429, 503, 504): nothing was made.
                raise GraphError(
                    0, DEADLINE_EXCEEDED, _too_late(self.deadline, "it could be sent again")
                )
            token = self.tokens.token(refresh=refreshed)
            remember(token)
            try:
                response = exchange(
                    self.session,
                    method,
                    self.base + path,
                    body=body,
                    headers={"Authorization": f"Bearer {token}"},
                    timeout=self.timeout,
                    time_limit=RESPONSE_TIME_FACTOR * self.timeout[1],
                )
            except TransportError as exc:
                raise NoAnswer(f"{exc.code}: {exc.message}") from None
            if response.status_code == 401 and not refreshed:
                refreshed = True
                continue
            if response.status_code in RETRYABLE and attempt + 1 < self.attempts:
                delay = parse_retry_after(response.headers.get("Retry-After"))
                fallback = self.backoff * 2.0**attempt
                wait = min(delay if delay is not None else fallback, 30.0)
                if self.deadline is not None and wait >= self.deadline.remaining():
                    error = parse_graph_error(
                        response.status_code, _json(response), dict(response.headers)
                    )
                    raise GraphError(
                        error.status,
                        error.code,
                        f"{error.message} Not retried: the run's --deadline of "
                        f"{self.deadline.seconds:g} s passes before the {wait:g} s wait is over.",
                        error.request_id,
                    )
                self.sleep(wait)
                continue
            if 300 <= response.status_code < 400:
                # Redirects are not followed (the token would go elsewhere), so nothing was
                # written: a 3xx is a failure, never "done".
                raise GraphError(
                    response.status_code, "Redirected", "Graph answered with a redirect"
                )
            if not 200 <= response.status_code < 300:
                raise parse_graph_error(
                    response.status_code, _json(response), dict(response.headers)
                )
            return _json(response)
        raise GraphError(0, "RetriesExhausted", "Graph kept throttling the write")

    def apply(self, actions: Sequence[PlanStep]) -> list[ActionResult]:
        """Send each Graph step in order. After the first that is not made (failed, refused,
        its outcome unknown) or once the run's deadline has passed, send nothing more."""
        results: list[ActionResult] = []
        stop: str | None = None  # why the steps left are not sent
        for action in actions:
            if action.method is None or action.path is None:
                continue  # a manual step: a person's decision, never sent
            if stop is None and self.deadline is not None and self.deadline.passed:
                stop = _too_late(self.deadline)
            if stop is not None:
                results.append(ActionResult(action, False, stop, sent=False))
                continue
            after = (
                f"not sent: step {action.number} {{}}, and the steps after it are only safe "
                "once it is made"
            )
            try:
                path = write_path(action.method, action.path, action.body)
            except UnsafeWrite as refused:
                results.append(ActionResult(action, False, f"refused: {refused}", sent=False))
                stop = after.format("failed")
                continue
            try:
                self.send(action.method, path, action.body or {})
            except NoAnswer as lost:
                said = (
                    f"sent, but no complete answer came back ({lost}): Graph may or may not "
                    "have made this change; `consent-audit check` shows whether it did"
                )
                results.append(ActionResult(action, False, said, known=False))
                stop = after.format("may not have been made")
                continue
            except GraphError as error:
                hint = ""
                if error.status == 403:
                    hint = (
                        f" This change needs {action.permission} and the "
                        f"{ROLES_FOR.get(action.permission or '', 'right admin')} role."
                    )
                results.append(
                    ActionResult(
                        action, False, f"{error.status} {error.code}: {error.message}{hint}"
                    )
                )
                stop = after.format("failed")
                continue
            results.append(ActionResult(action, True, "done"))
        return results


def _json(response: Answer) -> dict[str, Any]:
    if not response.content:
        return {}
    try:
        data = response.json()
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}
