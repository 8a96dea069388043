"""One HTTP(S) request to a proxy by address, with the host name as SNI and Host header:
what a browser does once DNS has answered (tests have no DNS for the lab's names)."""

import http.client
import socket
import ssl


def get(port, host, path="/", headers=None, cafile=None, tls=True, context=None, address="127.0.0.1", timeout=10):
    """GET http(s)://<host>:<port><path> at ``address``: (status, headers, body).

    With ``tls`` the certificate must verify against ``cafile`` (or ``context``) for ``host``.
    """
    sock = socket.create_connection((address, port), timeout=timeout)
    if tls:
        context = context or ssl.create_default_context(cafile=cafile)
        sock = context.wrap_socket(sock, server_hostname=host)
    connection = http.client.HTTPConnection(host, port, timeout=timeout)
    connection.sock = sock
    try:
        connection.request("GET", path, headers=dict(headers or {}))
        response = connection.getresponse()
        return response.status, response.headers, response.read()
    finally:
        connection.close()
