# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""blackbox_exporter's configuration file, ``blackbox.yml``: the modules the probes use.

Routes are probed over HTTPS as a browser would reach them. An ``auth: none`` route must
answer 2xx (``http_2xx``). A single sign-on route must answer as it does to a stranger:
a redirect to sign in, a denial, or the edge's "sign-in unavailable" error; never 200,
which would mean the app answers without sign-in (``http_sso``, whose failure is the
RouteLeaking alert). Cross-site checks are ``icmp`` and ``tcp_connect``. Only options
that blackbox_exporter 0.23 (Debian 12) through the current release accept are written;
tests check the file with the real ``--config.check`` and probe with it.
"""

from __future__ import annotations

MODULES = ("http_2xx", "http_sso", "icmp", "tcp_connect")

# What an SSO route answers someone not signed in, in the monitoring contract: the redirect
# to sign in (302, 303, 307), a denial (401, 403), sign-in unavailable (500, the edge's page)
# or the edge unable to reach the app or the outpost (502, 503, 504). 200 is never one.
SSO_STATUSES = (302, 303, 307, 401, 403, 500, 502, 503, 504)


def _http(ca_file, **options):
    http = {"preferred_ip_protocol": "ip4", "fail_if_not_ssl": True}
    http.update(options)
    if ca_file:
        http["tls_config"] = {"ca_file": ca_file}
    return {"prober": "http", "http": http}


def blackbox_config(ca_file=None):
    """The modules, as a dict of blackbox_exporter's keys.

    ``ca_file`` is the CA certificate, as the exporter sees it, that signs the edge's
    certificate (an internal CA); None trusts the system's CAs. Every HTTP probe fails on
    plain HTTP or an untrusted certificate: the routes are HTTPS only. IPv4 is preferred
    (the mesh and most LANs), IPv6 used when a name has no IPv4 address.
    """
    return {"modules": {
        # No valid_status_codes: blackbox's default is any 2xx. Redirects are followed, as a
        # browser does, to the page that answers.
        "http_2xx": _http(ca_file),
        # The redirect itself is the answer to check: following it would reach the sign-in
        # page, which answers 200.
        "http_sso": _http(ca_file, valid_status_codes=list(SSO_STATUSES), follow_redirects=False),
        "icmp": {"prober": "icmp", "icmp": {"preferred_ip_protocol": "ip4"}},
        "tcp_connect": {"prober": "tcp", "tcp": {"preferred_ip_protocol": "ip4"}},
    }}
