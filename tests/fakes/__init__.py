# Fake upstream services (fake API servers) that the tests run against.
"""What every fake API server shares: serving on an ephemeral loopback port in a thread,
recording each request, and faults that tests inject into its answers."""

import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Fault:
    """One injected fault: its ``kind`` ('status', 'malformed' or 'hang'), how many requests it
    still takes (``remaining``; None: every one) and the paths it takes (``path``, a regex that
    must match the whole path; None: every path)."""

    def __init__(self, kind, times, path, status=500, message=None, retry_after=None, seconds=0.0, method=None):
        self.kind = kind
        self.remaining = times
        self.path = re.compile(path) if path is not None else None
        self.method = method
        self.status = status
        self.message = message
        self.retry_after = retry_after
        self.seconds = seconds

    def takes(self, path, method=None):
        """Whether this fault answers a request to ``path`` now (it still has requests to take)."""
        return ((self.remaining is None or self.remaining > 0) and (self.path is None or self.path.fullmatch(path))
                and (self.method is None or self.method == method))


class FakeServer:
    """Life cycle of a fake: ``start()``/``stop()`` or ``with``, and its ``url``; the requests it
    received (``requests``, ``count``) and the faults a test asks for (``fail``, ``malformed``,
    ``hang``), which the fake's handler plays through ``take_fault``.

    Subclasses set ``handler_class`` (a FakeHandler that reads the fake from its ``fake``
    attribute) and ``thread_name``, call ``super().__init__()``, and may change
    ``fault_times`` (how many requests a fault takes when the test does not say; None:
    every one) and ``hang_seconds``. An ``ssl_context`` (a server-side ``ssl.SSLContext``)
    makes it serve HTTPS.
    """

    handler_class = None
    thread_name = "fake"
    fault_times = 1
    hang_seconds = 30.0
    ssl_context = None

    def __init__(self):
        self.requests = []
        self._faults = []
        # Guards requests and faults: the server answers in several threads.
        self._lock = threading.Lock()
        # Set on stop: hanging answers wait on it.
        self.stopping = threading.Event()
        self._server = None
        self._thread = None

    def start(self):
        """Listen on an ephemeral port of 127.0.0.1 and serve in a daemon thread."""
        handler = type("Handler", (self.handler_class,), {"fake": self})
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        self._server.block_on_close = False
        self._server.request_queue_size = 64
        if self.ssl_context is not None:
            self._server.socket = self.ssl_context.wrap_socket(self._server.socket, server_side=True)
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name=self.thread_name, daemon=True)
        self._thread.start()
        return self

    def stop(self):
        """Stop serving; hanging answers are released."""
        self.stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._thread.join(timeout=10)
            self._server = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.stop()

    @property
    def url(self):
        """The base URL to give clients (``http://127.0.0.1:<port>``, ``https://`` with ``ssl_context``)."""
        return "%s://127.0.0.1:%d" % ("https" if self.ssl_context else "http", self._server.server_address[1])

    # What arrived

    def record(self, entry):
        """Note one request, a dict with at least ``method`` and ``path`` (the handler calls this)."""
        with self._lock:
            self.requests.append(entry)

    def count(self, method=None, path=None):
        """How many requests arrived, optionally only with this method and a path matching the regex ``path``."""
        pattern = re.compile(path) if path is not None else None
        with self._lock:
            return sum(1 for entry in self.requests
                       if (method is None or entry["method"] == method) and (pattern is None or pattern.fullmatch(entry["path"])))

    def reset(self):
        """Forget the recorded requests and the pending faults."""
        with self._lock:
            self.requests.clear()
            self._faults.clear()

    # Faults: ``times`` requests (default ``fault_times``) to paths matching the regex ``path``

    def fail(self, status=500, times=..., path=None, message=None, retry_after=None, method=None):
        """Answer with HTTP ``status``, the fake's error body (with ``message`` if given) and, if
        given, a Retry-After header; ``method`` limits it to requests with that method."""
        self._add(Fault("status", times, path, status=status, message=message, retry_after=retry_after, method=method))

    def malformed(self, times=..., path=None):
        """Answer with HTTP 200 and a body that is not valid JSON."""
        self._add(Fault("malformed", times, path, status=200))

    def hang(self, times=..., path=None, seconds=None, method=None):
        """Say nothing for ``seconds`` (default ``hang_seconds``) or until stop; what follows is the fake's choice."""
        self._add(Fault("hang", times, path, status=200, seconds=self.hang_seconds if seconds is None else seconds,
                        method=method))

    def _add(self, fault):
        if fault.remaining is ...:
            fault.remaining = self.fault_times
        with self._lock:
            self._faults.append(fault)

    def take_fault(self, path, method=None):
        """The fault to play for a ``method`` request to ``path``, if one is pending (it takes one request)."""
        with self._lock:
            for fault in self._faults:
                if fault.takes(path, method):
                    if fault.remaining is not None:
                        fault.remaining -= 1
                    return fault
        return None


class FakeHandler(BaseHTTPRequestHandler):
    """The request handler of a fake: every method goes to ``handle_request``; nothing is logged
    (tests read ``fake.requests``). ``fake`` is set on the per-server subclass."""

    fake = None
    protocol_version = "HTTP/1.1"  # keep-alive, as the real services
    # Headers and body go out as two writes: without this every keep-alive answer waits
    # for the client's delayed ACK (about 40 ms), and latency figures would be wrong.
    disable_nagle_algorithm = True

    def log_message(self, format, *args):  # pylint: disable=redefined-builtin
        """Quiet."""

    def do_GET(self):
        self.handle_request()

    def do_POST(self):
        self.handle_request()

    def do_PUT(self):
        self.handle_request()

    def do_DELETE(self):
        self.handle_request()

    def do_PATCH(self):
        self.handle_request()

    def read_body(self):
        """The request body (b"" when there is none)."""
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def handle_request(self):
        raise NotImplementedError


def plain(value):
    """ansible-inventory output with its ``{"__ansible_unsafe": ...}`` wrappers taken off."""
    if isinstance(value, dict):
        if set(value) == {"__ansible_unsafe"}:
            return value["__ansible_unsafe"]
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [plain(item) for item in value]
    return value
