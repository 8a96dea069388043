# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Semaphore UI in the catalog: the ``semaphore`` kind, where the playbooks are run from.

A user writes ``{name: semaphore, host: jove, platform: semaphore, secrets:
{SEMAPHORE_ADMIN_PASSWORD: ..., SEMAPHORE_ACCESS_KEY_ENCRYPTION: ...}}`` and the entry gets
Semaphore's official image on its port 3000, behind an ``auth: sso`` route (people sign in
at the edge first), with:

- its database in SQLite (the image's ``sqlite`` dialect, supported since 2.16, so no
  database container) in the volume ``data`` at :data:`DATA_DIR`, beside the
  ``config.json`` the image's wrapper writes on the first start (:data:`CONFIG_PATH`): kept
  there, the session cookies' keys survive a restart. The volume is backed up daily with the
  service paused for the copy: a SQLite file copied while it is written may not restore.
- its admin user (``admin`` unless ``env`` says otherwise) and that user's first password,
  and the key that encrypts the Key Store, as Podman secrets (:data:`REQUIRED_SECRETS`):
  never in the unit. Without an encryption key Semaphore would keep the keys only base64
  encoded, so the key is required and must be a base64 AES key (:func:`settle`).
- its port published on the host's loopback (:data:`API_BINDING`): the semaphore role
  reaches the API there, since the route's SSO stands in front of every request that
  comes through the edge.
- a health check on its ``/api/ping`` (the image has curl). Semaphore has no Prometheus
  endpoint, so no ``metrics``; the route is probed like every route.

Every field the user sets wins; ``env`` key by key over the made one (:func:`settle`).
"""

from __future__ import annotations

import base64
import binascii
import re

from ansible_collections.homelab.stack.plugins.plugin_utils.catalog.errors import _error

KIND = "semaphore"
# The official image, pinned to the release line of the API contract the
# semaphore_project module is tested against (api-docs.yml 2.16, tests/fixtures/semaphore):
# 2.16.50 is the last good release of that line (2.16.51 shipped a broken entrypoint).
IMAGE = "docker.io/semaphoreui/semaphore:v2.16.50"
PORT = 3000
# The image's data path (its wrapper's SEMAPHORE_DB_PATH), holding database.sqlite.
DATA_DIR = "/var/lib/semaphore"
DATA_VOLUME = "data"
CONFIG_PATH = DATA_DIR
# Where the role reaches the API on the host (the route is behind SSO).
API_ADDRESS = "127.0.0.1"
API_BINDING = f"{API_ADDRESS}:{PORT}:{PORT}"
PING_PATH = "/api/ping"

ADMIN = "SEMAPHORE_ADMIN"
ADMIN_PASSWORD = "SEMAPHORE_ADMIN_PASSWORD"
ACCESS_KEY_ENCRYPTION = "SEMAPHORE_ACCESS_KEY_ENCRYPTION"
REQUIRED_SECRETS = {KIND: (ADMIN_PASSWORD, ACCESS_KEY_ENCRYPTION)}
# AES-128, -192 or -256: the key sizes Semaphore's cipher accepts.
KEY_SIZES = (16, 24, 32)

DEFAULTS = {
    KIND: {
        "image": IMAGE,
        "port": PORT,
        "route": {"auth": "sso"},
        "publish": [API_BINDING],
        "volumes": [{"name": DATA_VOLUME, "mount": DATA_DIR, "backup": {"schedule": "daily", "pause": True}}],
        "healthcheck": {"cmd": f"curl -fsS -o /dev/null http://127.0.0.1:{PORT}{PING_PATH}", "interval": "30s",
                        "start_period": "30s"},
    },
}
# The environment the image's wrapper reads on its first start (setup) and the server on every one.
ENV = {
    "SEMAPHORE_DB_DIALECT": "sqlite",
    "SEMAPHORE_DB_PATH": DATA_DIR,
    "SEMAPHORE_CONFIG_PATH": CONFIG_PATH,
    ADMIN: "admin",
    "SEMAPHORE_ADMIN_NAME": "Semaphore admin",
    "SEMAPHORE_ADMIN_EMAIL": "admin@localhost",
}

_PUBLISH = re.compile(r"(?P<address>[0-9.]+):(?P<host_port>\d+):(?P<port>\d+)(?:/tcp)?")


def _is_aes_key(text: str) -> bool:
    try:
        return len(base64.b64decode(text, validate=True)) in KEY_SIZES
    except (binascii.Error, ValueError):
        return False


def api_port(service: dict) -> int | None:
    """The host port on :data:`API_ADDRESS` that the entry publishes its port on, or None."""
    for text in service["publish"]:
        match = _PUBLISH.fullmatch(text)
        if match and match["address"] == API_ADDRESS and int(match["port"]) == service["port"]:
            return int(match["host_port"])
    return None


def settle(services: list) -> None:
    """Give each Semaphore entry its environment under the variables it does not set
    itself, and refuse what the role or Semaphore cannot work with: an encryption key
    that is not a base64 AES key (the value is never shown), and no loopback binding of
    its port, where the role reaches the API. Run after the fields were checked."""
    for service in services:
        if service["platform"] != KIND:
            continue
        name = service["name"]
        service["env"] = {**ENV, **service["env"]}
        key = service["secrets"].get(ACCESS_KEY_ENCRYPTION)
        if key is not None and not _is_aes_key(key):
            raise _error(name, "secrets", f"{ACCESS_KEY_ENCRYPTION} is not a key of 16, 24 or 32 bytes in base64;"
                         " make one with: head -c32 /dev/urandom | base64")
        if service["port"] is None:
            raise _error(name, "port", f"is needed: platform {KIND} listens on {PORT}")
        if service["state"] == "present" and api_port(service) is None:
            raise _error(name, "publish", f"needs {API_ADDRESS}:<port>:{service['port']}: the semaphore role reaches"
                         " the API on the host's loopback (the route is behind SSO)")
