# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one retry policy of the collection's HTTP API clients (Proxmox VE, Tailscale).

Each client sends through a ``requests`` session on which ``mount_retries`` mounts an
``HTTPAdapter`` with a connection pool of the caller's size and a urllib3 ``Retry``
(``RetryPolicy``): which methods, which statuses, how many times, how long to wait and
whether a connection that failed is tried again are the client's parameters; the rules
below are the same for both.
"""

from __future__ import annotations

import time

try:
    from requests.adapters import HTTPAdapter
    from urllib3.exceptions import InvalidHeader, MaxRetryError, ReadTimeoutError, ResponseError
    from urllib3.util.retry import Retry
except ImportError:  # ansible-test sanity imports module_utils without extra packages
    HTTPAdapter = None
    Retry = object
    HAS_URLLIB3 = False
else:
    HAS_URLLIB3 = True


class RetryPolicy(Retry):
    """urllib3's ``Retry`` with the collection's rules on top of urllib3's own.

    - A read timeout is never repeated: the server took the request and went quiet, and
      another try would likely wait as long again (the caller's timeout bounds the wait).
    - A ``Retry-After`` answer is waited as asked, ``0`` meaning at once; one asking for
      more than ``max_wait`` seconds ends the retries and the caller gets that answer.
    - Otherwise the n-th retry waits ``backoff_factor`` x 2**(n-1) seconds, at most
      ``max_wait`` (urllib3 alone would not wait before the first retry).
    - ``on_retry`` is called for each retry granted, so a client can count every request
      it sends, retries included.
    """

    def __init__(self, *args, max_wait=None, on_retry=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.max_wait = max_wait
        self.on_retry = on_retry

    def new(self, **kwargs):
        retry = super().new(**kwargs)
        retry.max_wait = self.max_wait
        retry.on_retry = self.on_retry
        return retry

    def increment(self, method=None, url=None, response=None, error=None, _pool=None, _stacktrace=None):
        if isinstance(error, ReadTimeoutError):
            raise error.with_traceback(_stacktrace)
        if response is not None and self.max_wait is not None:
            wait = self.get_retry_after(response)
            if wait is not None and wait > self.max_wait:
                raise MaxRetryError(_pool, url, ResponseError("Retry-After asks for %d s, more than %s s" % (wait, self.max_wait)))
        retry = super().increment(method=method, url=url, response=response, error=error, _pool=_pool, _stacktrace=_stacktrace)
        if self.on_retry is not None:
            self.on_retry()
        return retry

    def get_retry_after(self, response):
        header = response.headers.get("Retry-After")
        if header is None:
            return None
        try:
            return self.parse_retry_after(header)
        except InvalidHeader:  # unreadable: the backoff applies
            return None

    def sleep_for_retry(self, response):
        wait = self.get_retry_after(response)
        if wait is None:
            return False
        time.sleep(wait)
        return True

    def get_backoff_time(self):
        if not self.history:
            return 0
        wait = self.backoff_factor * (2 ** (len(self.history) - 1))
        return wait if self.max_wait is None else min(wait, self.max_wait)


def mount_retries(session, retries, backoff, statuses, methods=None, retry_connection_errors=False,
                  max_wait=None, pool_size=10, on_retry=None):
    """Mount on ``session`` an HTTPAdapter with ``pool_size`` kept-alive connections per host
    and the retry policy; return the session.

    ``statuses`` are the HTTP statuses retried up to ``retries`` times for ``methods``
    (None: every method). With ``retry_connection_errors``, a connection that could not be
    made is tried again for any method (the server saw nothing) and one that broke while
    the answer came is tried again for ``methods``; TLS errors are never retried.
    """
    again = retries if retry_connection_errors else 0
    retry = RetryPolicy(total=retries, connect=again, read=again, other=0, status=retries,
                        status_forcelist=frozenset(statuses), allowed_methods=frozenset(methods) if methods else None,
                        backoff_factor=backoff, raise_on_status=False, respect_retry_after_header=True,
                        max_wait=max_wait, on_retry=on_retry)
    adapter = HTTPAdapter(pool_connections=1, pool_maxsize=max(1, int(pool_size)), max_retries=retry)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session
