# Fake upstream services (fake API servers) that the tests run against.
"""What every fake API server shares: serving on an ephemeral loopback port in a thread."""

import threading
from http.server import ThreadingHTTPServer


class FakeServer:
    """Life cycle of a fake: ``start()``/``stop()`` or ``with``, and its ``url``.

    Subclasses set ``handler_class`` (a BaseHTTPRequestHandler that reads the fake from
    its ``fake`` attribute) and ``thread_name``, and create ``self.stopping`` (an Event
    that hanging answers wait on) and ``self._server = None`` in ``__init__``.
    """

    handler_class = None
    thread_name = "fake"

    def start(self):
        """Listen on an ephemeral port of 127.0.0.1 and serve in a daemon thread."""
        handler = type("Handler", (self.handler_class,), {"fake": self})
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        self._server.block_on_close = False
        self._server.request_queue_size = 64
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
        """The base URL to give clients (``http://127.0.0.1:<port>``)."""
        return "http://127.0.0.1:%d" % self._server.server_address[1]


def plain(value):
    """ansible-inventory output with its ``{"__ansible_unsafe": ...}`` wrappers taken off."""
    if isinstance(value, dict):
        if set(value) == {"__ansible_unsafe"}:
            return value["__ansible_unsafe"]
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [plain(item) for item in value]
    return value
