"""The retry policy the HTTP clients share (module_utils/http_retry.py), without a server."""

import pytest
import requests
from urllib3.exceptions import MaxRetryError, NewConnectionError, ReadTimeoutError
from urllib3.response import HTTPResponse

from ansible_collections.homelab.stack.plugins.module_utils import http_retry
from ansible_collections.homelab.stack.plugins.module_utils.http_retry import RetryPolicy, mount_retries


def answer(status, retry_after=None):
    headers = {"Retry-After": retry_after} if retry_after is not None else {}
    return HTTPResponse(body=b"", headers=headers, status=status, preload_content=False)


def policy(session=None, **options):
    """The RetryPolicy that mount_retries puts on a session, and the retries it counted."""
    counted = []
    options.setdefault("retries", 2)
    options.setdefault("backoff", 0.5)
    options.setdefault("statuses", (502, 503))
    session = mount_retries(session or requests.Session(), on_retry=lambda: counted.append(1), **options)
    retry = session.get_adapter("https://pve.lan").max_retries
    assert isinstance(retry, RetryPolicy)
    return retry, counted


def test_the_nth_retry_waits_backoff_times_two_to_the_n_minus_one():
    retry, _counted = policy(backoff=0.5)
    assert retry.get_backoff_time() == 0
    retry = retry.increment("GET", "/x", response=answer(502))
    assert retry.get_backoff_time() == 0.5
    retry = retry.increment("GET", "/x", response=answer(502))
    assert retry.get_backoff_time() == 1.0


def test_backoff_is_capped_by_max_wait():
    retry, _counted = policy(backoff=10, retries=5, max_wait=15)
    for _attempt in range(3):
        retry = retry.increment("GET", "/x", response=answer(502))
    assert retry.get_backoff_time() == 15


def test_each_granted_retry_is_counted_and_the_last_answer_is_not_retried():
    retry, counted = policy(retries=2)
    retry = retry.increment("GET", "/x", response=answer(503))
    retry = retry.increment("GET", "/x", response=answer(503))
    assert len(counted) == 2
    with pytest.raises(MaxRetryError):
        retry.increment("GET", "/x", response=answer(503))
    assert len(counted) == 2


def test_only_the_given_methods_and_statuses_are_retried():
    retry, _counted = policy(methods=("GET", "HEAD"))
    assert retry.is_retry("GET", 502) and not retry.is_retry("POST", 502) and not retry.is_retry("GET", 500)
    every_method, _counted = policy(methods=None)
    assert every_method.is_retry("POST", 502)


def test_retry_after_is_waited_as_asked_even_zero(monkeypatch):
    slept = []
    monkeypatch.setattr(http_retry.time, "sleep", slept.append)
    retry, _counted = policy(backoff=5)
    retry = retry.increment("GET", "/x", response=answer(503, "0"))
    retry.sleep(answer(503, "0"))
    retry.sleep(answer(503, "2"))
    retry.sleep(answer(503, "not a date"))  # unreadable: the backoff applies
    assert slept == [0, 2, 5]


def test_a_retry_after_longer_than_max_wait_ends_the_retries_at_once():
    retry, counted = policy(max_wait=60)
    with pytest.raises(MaxRetryError, match="Retry-After asks for 3600 s"):
        retry.increment("GET", "/x", response=answer(503, "3600"))
    assert counted == []


def test_a_read_timeout_is_never_retried():
    retry, counted = policy(retry_connection_errors=True)
    timeout = ReadTimeoutError(None, "/x", "read timed out")
    with pytest.raises(ReadTimeoutError):
        retry.increment("GET", "/x", error=timeout)
    assert counted == []


def test_connection_errors_are_retried_only_when_asked():
    refused = NewConnectionError(None, "connection refused")
    retry, counted = policy(retry_connection_errors=True)
    retry.increment("POST", "/x", error=refused)  # nothing reached the server: any method
    assert counted == [1]
    retry, counted = policy(retry_connection_errors=False)
    with pytest.raises(MaxRetryError):
        retry.increment("GET", "/x", error=refused)
    assert counted == []


def test_the_pool_is_sized_to_the_caller():
    session = mount_retries(requests.Session(), 1, 0, (503,), pool_size=8)
    assert session.get_adapter("http://pve.lan")._pool_maxsize == 8  # pylint: disable=protected-access
