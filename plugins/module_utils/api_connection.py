# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What every client of a token-authenticated JSON API shares (Authentik, Semaphore UI): the
connection options (the address and the token, each with an environment variable as fallback,
the TLS check and the timeout) and their check, the server's origin from the address, and the
``requests`` session with the bearer token and the collection's retry policy."""

from __future__ import annotations

from ansible.module_utils.basic import env_fallback
from ansible_collections.homelab.stack.plugins.module_utils.http_retry import mount_retries


def connection_argument_spec(url_env, token_env):
    """``api_url``, ``api_token`` (never logged), ``validate_certs`` and ``timeout``."""
    return dict(
        api_url=dict(type="str", fallback=(env_fallback, [url_env])),
        api_token=dict(type="str", no_log=True, fallback=(env_fallback, [token_env])),
        validate_certs=dict(type="bool", default=True),
        timeout=dict(type="int", default=30),
    )


def connection_problem(params, product, url_env, token_env):
    """The message naming the first missing or bad connection option, or None when they will do."""
    if not params.get("api_url"):
        return "api_url: no %s address given (set api_url or %s)" % (product, url_env)
    if not params.get("api_token"):
        return "api_token: no %s API token given (set api_token or %s)" % (product, token_env)
    if params["timeout"] <= 0:
        return "timeout: must be a positive number of seconds, got %s" % params["timeout"]
    return None


def api_origin(url, api_prefix):
    """The server's origin from ``api_url`` without a trailing slash (a trailing ``api_prefix`` is
    accepted too), or None when it is not an address with a scheme."""
    url = (url or "").strip().rstrip("/")
    if url.endswith(api_prefix):
        url = url[:-len(api_prefix)]
    return url if "://" in url else None


def bearer_session(session, token, validate_certs, retries, backoff, retry_statuses):
    """``session`` set up for a JSON API with a bearer token: the collection's retry policy for
    reads (http_retry: after ``retry_statuses`` and failed connections; writes never), TLS check."""
    session = mount_retries(session, max(0, int(retries)), backoff, retry_statuses, methods=("GET", "HEAD"),
                            retry_connection_errors=True)
    session.verify = validate_certs
    session.headers["Accept"] = "application/json"
    session.headers["Authorization"] = "Bearer %s" % token
    return session
