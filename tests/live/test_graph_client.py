from __future__ import annotations

import pytest
import requests
import responses

from consent_audit.errors import AccessError, InputError
from consent_audit.live.graph_client import GraphCall, parse_retry_after, retry_backoff
from consent_audit.live.graph_errors import (
    BAD_RESPONSE,
    CONNECTION_FAILED,
    FOREIGN_NEXT_LINK,
    NEXT_LINK_LOOP,
    RETRIES_EXHAUSTED,
    GraphError,
)
from consent_audit.snapshot import PartStatus

from .fakes import BATCH_URL, ROOT, FakeGraph, FakeTokens, Raw, Sleeper, error_body, make_client


def test_first_page_is_batched_the_next_pages_are_plain_gets(
    rsps: responses.RequestsMock,
) -> None:
    graph = FakeGraph().install(rsps)
    graph.add("/things", {"value": [1, 2], "@odata.nextLink": f"{ROOT}/v1.0/things?$skiptoken=X"})
    graph.add("/things?$skiptoken=X", {"value": [3], "@odata.nextLink": f"{ROOT}/v1.0/things?p=3"})
    graph.add("/things?p=3", {"value": [4]})
    graph.add("/other", {"value": ["o"]})
    client = make_client()
    out = client.run([GraphCall("a", "/things"), GraphCall("b", "/other")])
    assert out["a"] == {"value": [1, 2, 3, 4]}
    assert out["b"] == {"value": ["o"]}
    assert graph.urls() == ["/things", "/other", "/things?$skiptoken=X", "/things?p=3"]
    assert len(graph.batches) == 1
    assert [url for url, _ in graph.gets] == ["/things?$skiptoken=X", "/things?p=3"]
    assert [call.request.method for call in rsps.calls] == ["POST", "GET", "GET"]
    assert (client.stats.http_requests, client.stats.page_requests) == (3, 2)


def test_a_read_with_a_body_travels_in_the_batch_as_a_post_with_its_content_type(
    rsps: responses.RequestsMock,
) -> None:
    """json-batching.md: a request with a body needs its Content-Type header; the What-If
    (POST /identity/conditionalAccess/evaluate) is such a read."""
    graph = FakeGraph().install(rsps)
    graph.add("/identity/conditionalAccess/evaluate", {"value": [{"id": "p"}]})
    graph.add("/things", {"value": [1]})
    body = {"signInConditions": {"clientAppType": "browser"}}
    prefer = {"Prefer": "include-unknown-enum-members"}
    out = make_client().run(
        [
            GraphCall(
                "w", "/identity/conditionalAccess/evaluate", prefer, method="POST", body=body
            ),
            GraphCall("t", "/things"),
        ]
    )
    assert out == {"w": {"value": [{"id": "p"}]}, "t": {"value": [1]}}
    [batch] = graph.batches
    sent = {r["id"]: r for r in batch}
    assert sent["w"]["method"] == "POST"
    assert sent["w"]["body"] == body
    assert sent["w"]["headers"] == {**prefer, "Content-Type": "application/json"}
    assert sent["t"]["method"] == "GET"
    assert "body" not in sent["t"]
    assert "headers" not in sent["t"]


def test_page_gets_carry_the_calls_headers_and_version(rsps: responses.RequestsMock) -> None:
    """ConsistencyLevel (advanced queries) and Prefer must be on every page's request; a beta
    call's pages are read from beta."""
    graph = FakeGraph().install(rsps)
    graph.add("/groups", {"value": [1], "@odata.nextLink": f"{ROOT}/v1.0/groups?$skiptoken=G"})
    graph.add("/groups?$skiptoken=G", {"value": [2]})
    graph.add("/beta/logs", {"value": ["a"], "@odata.nextLink": f"{ROOT}/beta/logs?$skiptoken=L"})
    graph.add("/beta/logs?$skiptoken=L", {"value": ["b"]})
    advanced = {"ConsistencyLevel": "eventual"}
    out = make_client(tokens=FakeTokens(["tok"])).run(
        [GraphCall("g", "/groups", advanced), GraphCall("l", "/logs", version="beta")]
    )
    assert out == {"g": {"value": [1, 2]}, "l": {"value": ["a", "b"]}}
    gets = dict(graph.gets)
    assert gets["/groups?$skiptoken=G"]["ConsistencyLevel"] == "eventual"
    assert gets["/groups?$skiptoken=G"]["Authorization"] == "Bearer tok"
    assert "ConsistencyLevel" not in gets["/beta/logs?$skiptoken=L"]
    gets_sent = [c.request for c in rsps.calls if c.request.method == "GET"]
    beta_get = [r.url for r in gets_sent if "logs" in str(r.url)]
    assert beta_get == [f"{ROOT}/beta/logs?$skiptoken=L"]


def test_a_throttled_page_is_retried_after_retry_after_and_paging_goes_on(
    rsps: responses.RequestsMock,
) -> None:
    graph = FakeGraph().install(rsps)
    graph.add("/big", {"value": [1], "@odata.nextLink": f"{ROOT}/v1.0/big?p=2"})
    graph.add("/big?p=2", error_body("TooManyRequests", "later"), 429, {"Retry-After": "1.5"})
    graph.add("/big?p=2", error_body("ServiceUnavailable", "busy"), 503)
    graph.add("/big?p=2", {"value": [2], "@odata.nextLink": f"{ROOT}/v1.0/big?p=3"})
    graph.add("/big?p=3", {"value": [3]})
    sleeper = Sleeper()
    out = make_client(sleep=sleeper).run([GraphCall("1", "/big")])
    assert out["1"] == {"value": [1, 2, 3]}
    # Retry-After as given, then the back-off's second step (attempt 2 of this page: 1 s,
    # jittered by random 0.5 to 0.75 s), as for a request inside a batch.
    assert sleeper.calls == [1.5, 0.75]
    assert [url for url, _ in graph.gets] == ["/big?p=2"] * 3 + ["/big?p=3"]


def test_a_page_that_keeps_failing_ends_that_request_with_an_error(
    rsps: responses.RequestsMock,
) -> None:
    graph = FakeGraph().install(rsps)
    graph.add("/big", {"value": [1], "@odata.nextLink": f"{ROOT}/v1.0/big?p=2"})
    graph.add("/big?p=2", error_body("InternalServerError", "boom", "rid-7"), 500)
    graph.add("/small", {"value": ["ok"]})
    out = make_client(max_wait=3.0).run([GraphCall("1", "/big"), GraphCall("2", "/small")])
    error = out["1"]
    assert isinstance(error, GraphError)
    assert error.code == RETRIES_EXHAUSTED
    assert "rid-7" in error.describe()
    assert out["2"] == {"value": ["ok"]}


def test_a_page_cut_short_or_not_json_is_retried(rsps: responses.RequestsMock) -> None:
    graph = FakeGraph().install(rsps)
    graph.add("/big", {"value": [1], "@odata.nextLink": f"{ROOT}/v1.0/big?p=2"})
    graph.add("/big?p=2", requests.ConnectionError("reset"))
    graph.add("/big?p=2", Raw("<html>proxy</html>"))
    graph.add("/big?p=2", {"value": [2]})
    sleeper = Sleeper()
    out = make_client(sleep=sleeper).run([GraphCall("1", "/big")])
    assert out["1"] == {"value": [1, 2]}
    assert len(sleeper.calls) == 2


def test_a_page_that_never_arrives_is_a_connection_failure(rsps: responses.RequestsMock) -> None:
    graph = FakeGraph().install(rsps)
    graph.add("/big", {"value": [1], "@odata.nextLink": f"{ROOT}/v1.0/big?p=2"})
    graph.add("/big?p=2", requests.ConnectionError("refused"))
    out = make_client().run([GraphCall("1", "/big")])
    assert isinstance(out["1"], GraphError)
    assert out["1"].code == CONNECTION_FAILED
    assert sum(1 for c in rsps.calls if c.request.method == "GET") == 3


def test_a_401_on_a_page_gets_one_fresh_token_then_fails_clearly(
    rsps: responses.RequestsMock,
) -> None:
    graph = FakeGraph().install(rsps)
    graph.add("/big", {"value": [1], "@odata.nextLink": f"{ROOT}/v1.0/big?p=2"})
    graph.add("/big?p=2", error_body("InvalidAuthenticationToken", "expired"), 401)
    graph.add("/big?p=2", {"value": [2]})
    tokens = FakeTokens(["old", "new"])
    out = make_client(tokens=tokens).run([GraphCall("1", "/big")])
    assert out["1"] == {"value": [1, 2]}
    assert tokens.refreshes == 1
    assert graph.auth_headers == ["Bearer old", "Bearer old", "Bearer new"]

    graph = FakeGraph().install(rsps)
    graph.routes.clear()
    graph.add("/big", {"value": [1], "@odata.nextLink": f"{ROOT}/v1.0/big?p=2"})
    graph.add("/big?p=2", error_body("InvalidAuthenticationToken", "expired"), 401)
    with pytest.raises(AccessError, match="even after a refresh"):
        make_client().run([GraphCall("1", "/big")])


@pytest.mark.parametrize(
    "later",
    [{}, {"value": "x"}, {"value": [2], "@odata.nextLink": 5}, Raw("<html>login</html>")],
    ids=["empty", "value_not_a_list", "next_link_not_a_url", "html"],
)
def test_an_unusable_later_page_makes_the_request_an_error_not_a_short_list(
    later: object, rsps: responses.RequestsMock
) -> None:
    """A list cut short by an unusable page would read as complete (issue #19 item 5)."""
    graph = FakeGraph().install(rsps)
    graph.add("/things", {"value": [1], "@odata.nextLink": f"{ROOT}/v1.0/things?p=2"})
    graph.add("/things?p=2", later)
    out = make_client().run([GraphCall("a", "/things")])
    assert isinstance(out["a"], GraphError)
    assert out["a"].code == BAD_RESPONSE


def test_an_unusable_answer_inside_the_batch_is_an_error(rsps: responses.RequestsMock) -> None:
    graph = FakeGraph().install(rsps)
    graph.add("/html", "<html>proxy</html>")
    graph.add("/null", None)
    graph.add("/link", {"value": [], "@odata.nextLink": ["x"]})
    out = make_client().run([GraphCall(k, f"/{k}") for k in ("html", "null", "link")])
    for key in ("html", "null", "link"):
        assert isinstance(out[key], GraphError), key
        assert out[key].code == BAD_RESPONSE


def test_next_link_seen_before_stops_with_loop_error(rsps: responses.RequestsMock) -> None:
    graph = FakeGraph().install(rsps)
    link = f"{ROOT}/v1.0/things?$skiptoken=A"
    graph.add("/things", {"value": [1], "@odata.nextLink": link})
    graph.add("/things?$skiptoken=A", {"value": [2], "@odata.nextLink": link})
    out = make_client().run([GraphCall("a", "/things")])
    assert isinstance(out["a"], GraphError)
    assert out["a"].code == NEXT_LINK_LOOP
    assert len(graph.batches) == 1
    assert [url for url, _ in graph.gets] == ["/things?$skiptoken=A"]


def test_foreign_next_link_on_a_later_page_is_refused(rsps: responses.RequestsMock) -> None:
    graph = FakeGraph().install(rsps)
    graph.add("/things", {"value": [1], "@odata.nextLink": f"{ROOT}/v1.0/things?p=2"})
    graph.add("/things?p=2", {"value": [2], "@odata.nextLink": "https://evil.example/v1.0/t?p=3"})
    out = make_client().run([GraphCall("a", "/things")])
    assert isinstance(out["a"], GraphError)
    assert out["a"].code == FOREIGN_NEXT_LINK
    assert all(str(c.request.url).startswith(ROOT + "/") for c in rsps.calls)
    assert len(rsps.calls) == 2


def test_foreign_next_link_is_refused_and_no_token_leaves(rsps: responses.RequestsMock) -> None:
    graph = FakeGraph().install(rsps)
    graph.add("/things", {"value": [1], "@odata.nextLink": "https://evil.example/v1.0/things?p=2"})
    graph.add("/other", {"value": [1], "@odata.nextLink": "http://graph.microsoft.com/v1.0/x"})
    out = make_client().run([GraphCall("a", "/things"), GraphCall("b", "/other")])
    for key in ("a", "b"):
        assert isinstance(out[key], GraphError)
        assert out[key].code == FOREIGN_NEXT_LINK
    assert all(call.request.url == BATCH_URL for call in rsps.calls)
    assert len(rsps.calls) == 1


def test_inner_429_is_retried_alone_after_the_longest_retry_after(
    rsps: responses.RequestsMock,
) -> None:
    graph = FakeGraph().install(rsps)
    graph.add("/ok", {"value": []})
    graph.add("/slow", error_body("TooManyRequests", "later"), 429, {"Retry-After": "2.128"})
    graph.add("/slow", {"id": "done"})
    graph.add("/busy", error_body("ServiceUnavailable", "busy"), 503, {"retry-after": "1"})
    graph.add("/busy", {"id": "busy-done"})
    sleeper = Sleeper()
    client = make_client(sleep=sleeper)
    out = client.run([GraphCall("1", "/ok"), GraphCall("2", "/slow"), GraphCall("3", "/busy")])
    assert out == {"1": {"value": []}, "2": {"id": "done"}, "3": {"id": "busy-done"}}
    assert sleeper.calls == [2.128]
    assert sorted(r["id"] for r in graph.batches[1]) == ["2", "3"]
    assert client.stats.http_requests == 2
    assert client.stats.waves == 1


def test_whole_batch_429_retries_everything_after_retry_after(
    rsps: responses.RequestsMock,
) -> None:
    graph = FakeGraph().install(rsps)
    graph.outer.append((429, error_body("TooManyRequests", "slow down"), {"Retry-After": "3"}))
    graph.add("/a", {"id": "a"}).add("/b", {"id": "b"})
    sleeper = Sleeper()
    out = make_client(sleep=sleeper).run([GraphCall("1", "/a"), GraphCall("2", "/b")])
    assert out == {"1": {"id": "a"}, "2": {"id": "b"}}
    assert sleeper.calls == [3.0]
    assert len(graph.batches) == 2


def test_whole_batch_424_is_treated_as_throttling(rsps: responses.RequestsMock) -> None:
    graph = FakeGraph().install(rsps)
    graph.outer.append((424, error_body("FailedDependency", "throttled"), {}))
    graph.add("/a", {"id": "a"})
    out = make_client().run([GraphCall("1", "/a")])
    assert out == {"1": {"id": "a"}}


def test_server_errors_back_off_and_give_up_within_the_wait_budget(
    rsps: responses.RequestsMock,
) -> None:
    graph = FakeGraph().install(rsps)
    graph.add("/down", error_body("InternalServerError", "boom", "rid-9"), 500)
    sleeper = Sleeper()
    out = make_client(sleep=sleeper, max_wait=3.0).run([GraphCall("1", "/down")])
    error = out["1"]
    assert isinstance(error, GraphError)
    assert error.code == RETRIES_EXHAUSTED
    assert error.part_status is PartStatus.ERROR
    assert "boom" in error.message
    assert sum(sleeper.calls) <= 3.0
    assert sleeper.calls == sorted(sleeper.calls)  # exponential
    assert len(sleeper.calls) >= 2


def test_backoff_base_scales_every_step_and_keeps_the_attempts(
    rsps: responses.RequestsMock,
) -> None:
    """CONSENT_AUDIT_RETRY_BACKOFF scales the back-off; the attempts Graph sees are the same."""
    graph = FakeGraph().install(rsps)
    graph.add("/down", error_body("InternalServerError", "boom"), 500)
    default, quick = Sleeper(), Sleeper()
    make_client(sleep=default).run([GraphCall("1", "/down")])
    sent_default = len(rsps.calls)
    make_client(sleep=quick, backoff=0.01).run([GraphCall("1", "/down")])
    assert len(rsps.calls) - sent_default == sent_default  # same number of tries
    assert default.calls[:3] == [0.375, 0.75, 1.5]  # 0.5 s doubling, jitter fixed at 0.75
    assert quick.calls == pytest.approx([c / 50 for c in default.calls])


@pytest.mark.parametrize(
    ("raw", "seconds"), [(None, 0.5), ("", 0.5), ("0", 0.0), (" 2.5 ", 2.5), ("60", 60.0)]
)
def test_retry_backoff_reads_the_environment(raw: str | None, seconds: float) -> None:
    env = {} if raw is None else {"CONSENT_AUDIT_RETRY_BACKOFF": raw}
    assert retry_backoff(env) == seconds


@pytest.mark.parametrize("raw", ["soon", "-1", "nan", "inf", "61"])
def test_retry_backoff_rejects_nonsense(raw: str) -> None:
    with pytest.raises(InputError, match="CONSENT_AUDIT_RETRY_BACKOFF"):
        retry_backoff({"CONSENT_AUDIT_RETRY_BACKOFF": raw})


def test_unreachable_graph_becomes_connection_failure(rsps: responses.RequestsMock) -> None:
    rsps.add(responses.POST, BATCH_URL, body=requests.ConnectionError("refused"))
    sleeper = Sleeper()
    out = make_client(sleep=sleeper, max_wait=1.0).run([GraphCall("1", "/a")])
    assert isinstance(out["1"], GraphError)
    assert out["1"].code == CONNECTION_FAILED
    assert out["1"].is_connection_failure
    assert sum(sleeper.calls) <= 1.0


def test_401_asks_for_a_fresh_token_once(rsps: responses.RequestsMock) -> None:
    graph = FakeGraph().install(rsps)
    graph.outer.append((401, error_body("InvalidAuthenticationToken", "expired"), {}))
    graph.add("/a", {"id": "a"})
    tokens = FakeTokens(["old", "new"])
    out = make_client(tokens=tokens).run([GraphCall("1", "/a")])
    assert out == {"1": {"id": "a"}}
    assert tokens.refreshes == 1
    assert graph.auth_headers == ["Bearer old", "Bearer new"]


def test_second_401_after_refresh_fails_clearly(rsps: responses.RequestsMock) -> None:
    graph = FakeGraph().install(rsps)
    for _ in range(2):
        graph.outer.append((401, error_body("InvalidAuthenticationToken", "nope"), {}))
    tokens = FakeTokens(["tok-old-xyz", "tok-new-xyz"])
    with pytest.raises(AccessError, match="refused the access token") as info:
        make_client(tokens=tokens).run([GraphCall("1", "/a")])
    assert "tok-new-xyz" not in str(info.value)
    assert "tok-old-xyz" not in str(info.value)
    assert tokens.refreshes == 1


def test_licence_401_is_not_a_token_problem(rsps: responses.RequestsMock) -> None:
    graph = FakeGraph().install(rsps)
    body = error_body(
        "Authentication_RequestFromNonPremiumTenantOrB2CTenant",
        "Neither tenant is B2C or tenant doesn't have premium license",
    )
    graph.add("/auditLogs/signIns", body, 401)
    tokens = FakeTokens()
    out = make_client(tokens=tokens).run([GraphCall("1", "/auditLogs/signIns")])
    assert isinstance(out["1"], GraphError)
    assert out["1"].part_status is PartStatus.NOT_LICENSED
    assert tokens.refreshes == 0


def test_more_than_twenty_requests_are_split_into_batches(rsps: responses.RequestsMock) -> None:
    graph = FakeGraph().install(rsps)
    graph.add("/x*", {"value": []})
    client = make_client()
    out = client.run([GraphCall(str(i), f"/x{i}") for i in range(45)])
    assert len(out) == 45
    assert [len(b) for b in graph.batches] == [20, 20, 5]
    assert client.stats.rounds == 1


def test_verbose_log_names_requests_but_never_the_token(rsps: responses.RequestsMock) -> None:
    graph = FakeGraph().install(rsps)
    graph.add("/a", {"id": "a"})
    lines: list[str] = []
    make_client(tokens=FakeTokens(["s3cr3t-token"]), log=lines.append).run([GraphCall("1", "/a")])
    text = "\n".join(lines)
    assert "POST https://graph.microsoft.com/v1.0/$batch 200" in text
    assert "GET /a 200" in text
    assert "s3cr3t" not in text
    assert "Bearer" not in text


def test_log_pages_are_capped_and_marked_truncated(rsps: responses.RequestsMock) -> None:
    graph = FakeGraph().install(rsps)
    graph.add("/logs", {"value": [1], "@odata.nextLink": f"{ROOT}/v1.0/logs?p=2"})
    graph.add("/logs?p=2", {"value": [2], "@odata.nextLink": f"{ROOT}/v1.0/logs?p=3"})
    out = make_client().run([GraphCall("1", "/logs", max_pages=2)])
    assert out["1"] == {"value": [1, 2], "truncated": True}


@pytest.mark.parametrize(
    ("value", "expected"),
    [("2.128", 2.128), ("10", 10.0), ("-1", 0.0), ("soon", None), (None, None)],
)
def test_retry_after_parsing(value: str | None, expected: float | None) -> None:
    assert parse_retry_after(value) == expected


def test_verbose_log_shows_a_hostile_next_link_as_escapes(
    rsps: responses.RequestsMock, capsys: pytest.CaptureFixture[str]
) -> None:
    """-v logs each page's path as Graph sent it: a terminal title sequence, a bell or a
    newline there (a hostile endpoint or proxy) reaches stderr escaped, one line per request."""
    from consent_audit.live.graph_client import GraphClient

    graph = FakeGraph().install(rsps)
    hostile = "/things?$skiptoken=\x1b]0;owned\x07\nGET /fake 200"
    graph.add("/things", {"value": [1], "@odata.nextLink": f"{ROOT}/v1.0{hostile}"})
    make_client(log=GraphClient.verbose_logger()).run([GraphCall("a", "/things")])
    err = capsys.readouterr().err
    assert err
    assert "\x1b" not in err
    assert "\x07" not in err
    assert not any(line.startswith("GET /fake") for line in err.splitlines()), err
