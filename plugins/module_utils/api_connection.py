# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The connection options every module of a token-authenticated HTTP API takes (Authentik,
Semaphore UI): the address and the token, each with an environment variable as fallback, the
TLS check and the timeout; and the one check of them before a client is built."""

from __future__ import annotations

from ansible.module_utils.basic import env_fallback


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
