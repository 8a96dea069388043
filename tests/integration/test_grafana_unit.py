# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Grafana entry's container unit, as the service role writes it, through the real
Quadlet generator: the official image, the provisioning mount read-only, the data volume,
the environment Grafana reads (``$__env{...}`` arriving unexpanded by systemd), the admin
password and the OIDC client secret as Podman secrets only. Grafana itself cannot run here
(no package, no image), so the unit is validated, not started.
"""

from __future__ import annotations

import re

from quadlet_generator import generate_host_units

from ansible_collections.homelab.stack.plugins.filter.validate_catalog import FilterModule as CatalogFilter
from ansible_collections.homelab.stack.plugins.module_utils.quadlet import read_key

validate_catalog = CatalogFilter().filters()["validate_catalog"]

ADMIN_PASSWORD = "pw-4c1e9b"
AUTHENTIK_SECRETS = {"AUTHENTIK_SECRET_KEY": "sk-7f3a9c", "AUTHENTIK_BOOTSTRAP_PASSWORD": "pw-51d0e2",
                     "AUTHENTIK_BOOTSTRAP_TOKEN": "tk-a8b6c4", "AUTHENTIK_POSTGRESQL__PASSWORD": "db-93e1f7"}
CATALOG = [
    {"name": "prometheus", "host": "localhost", "platform": "prometheus"},
    {"name": "authentik", "host": "localhost", "platform": "authentik", "secrets": AUTHENTIK_SECRETS},
    {"name": "grafana", "host": "localhost", "platform": "grafana", "route": {"auth": "none"},
     "secrets": {"GF_SECURITY_ADMIN_PASSWORD": ADMIN_PASSWORD}, "oidc": {"redirect_paths": ["/login/generic_oauth"]}},
]


def test_the_grafana_unit_passes_the_real_generator(generator, tmp_path):
    units, generated = generate_host_units(generator, tmp_path, validate_catalog(CATALOG, ["localhost"]), "localhost")
    assert sorted(generated) == sorted(units)
    start = read_key(generated["grafana.container"], "Service", "ExecStart")
    assert start.endswith("docker.io/grafana/grafana:12.3.0")
    assert "-v /etc/homelab/grafana:/etc/grafana/provisioning:ro" in start
    assert "-v grafana-data:/var/lib/grafana" in start
    assert "--env GF_AUTH_ANONYMOUS_ENABLED=false" in start
    assert "--env GF_AUTH_DISABLE_LOGIN_FORM=true" in start
    assert "--env GF_PATHS_CONFIG=/etc/grafana/provisioning/grafana.ini" in start
    # systemd turns $$ back into $: Grafana gets $__env{OIDC_CLIENT_SECRET} and expands it itself.
    assert re.search(r"--env \"?GF_AUTH_GENERIC_OAUTH_CLIENT_SECRET=\$\$__env\{OIDC_CLIENT_SECRET\}", start), start
    assert "--secret grafana-gf-security-admin-password,type=env,target=GF_SECURITY_ADMIN_PASSWORD" in start
    assert "--secret grafana-oidc-client-secret,type=env,target=OIDC_CLIENT_SECRET" in start
    assert "--health-cmd \"wget -q -O /dev/null http://127.0.0.1:3000/api/health\"" in start
    text = "\n".join(units.values()) + "\n".join(generated.values())
    assert ADMIN_PASSWORD not in text
    assert not re.search(r"OIDC_CLIENT_SECRET=[0-9a-f]", text)


def test_without_oidc_the_login_form_stays(generator, tmp_path):
    catalog = validate_catalog([CATALOG[0], dict(CATALOG[2], oidc=None)], ["localhost"])
    _units, generated = generate_host_units(generator, tmp_path, catalog, "localhost")
    start = read_key(generated["grafana.container"], "Service", "ExecStart")
    assert "--env GF_AUTH_DISABLE_LOGIN_FORM=false" in start
    assert "GF_AUTH_GENERIC_OAUTH_CLIENT_SECRET" not in start and "OIDC_CLIENT_SECRET" not in start
