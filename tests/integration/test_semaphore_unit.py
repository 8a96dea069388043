# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Semaphore entry's units, as the service role writes them, through the real Quadlet
generator: the official image, SQLite in the data volume, the API on the host's loopback,
the health check on /api/ping, and the admin password and the Key Store's encryption key
as Podman secrets only. Semaphore itself cannot run here (no image, no package), so the
units are validated, not started.
"""

from __future__ import annotations

from quadlet_generator import generate_host_units

from ansible_collections.homelab.stack.plugins.filter.validate_catalog import FilterModule as CatalogFilter
from ansible_collections.homelab.stack.plugins.module_utils.quadlet import read_key

validate_catalog = CatalogFilter().filters()["validate_catalog"]

ADMIN_PASSWORD = "pw-5e0c7a"
KEY = "gs72mPntFATGJs9qK0pQ0rKtfidlexiMjYCH9gWKhTU="
CATALOG = [
    {"name": "traefik", "host": "localhost", "platform": "traefik"},
    {"name": "semaphore", "host": "localhost", "platform": "semaphore",
     "secrets": {"SEMAPHORE_ADMIN_PASSWORD": ADMIN_PASSWORD, "SEMAPHORE_ACCESS_KEY_ENCRYPTION": KEY}},
]


def test_the_semaphore_units_pass_the_real_generator(generator, tmp_path):
    catalog = validate_catalog(CATALOG, ["localhost"], edge="localhost")
    units, generated = generate_host_units(generator, tmp_path, catalog, "localhost")
    assert sorted(generated) == sorted(units)
    assert "semaphore-data.volume" in generated
    start = read_key(generated["semaphore.container"], "Service", "ExecStart")
    assert start.endswith("docker.io/semaphoreui/semaphore:v2.16.50")
    assert "-v semaphore-data:/var/lib/semaphore" in start
    assert "--publish 127.0.0.1:3000:3000" in start
    assert "--env SEMAPHORE_DB_DIALECT=sqlite" in start
    assert "--env SEMAPHORE_DB_PATH=/var/lib/semaphore" in start
    assert "--env SEMAPHORE_ADMIN=admin" in start
    assert "--secret semaphore-semaphore-admin-password,type=env,target=SEMAPHORE_ADMIN_PASSWORD" in start
    assert ("--secret semaphore-semaphore-access-key-encryption,type=env,target=SEMAPHORE_ACCESS_KEY_ENCRYPTION"
            in start)
    assert "--health-cmd \"curl -fsS -o /dev/null http://127.0.0.1:3000/api/ping\"" in start
    text = "\n".join(units.values()) + "\n".join(generated.values())
    assert ADMIN_PASSWORD not in text and KEY not in text
