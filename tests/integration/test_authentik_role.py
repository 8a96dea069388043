# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The identity provider without Authentik (it cannot run here: no image, no package).

Its three units, as the service role writes them, go through the real Quadlet generator;
roles/authentik runs on this machine over the local connection, writing into temporary
directories (the catalog's entries mount them): check mode on a fresh host changes
nothing, a converge installs the blueprint (checked against Authentik's blueprint schema)
and the data directory, a second converge changes nothing, and bad input fails before any
change. No secret reaches a unit, the blueprint or Ansible's output.
"""

from __future__ import annotations

import json
import pathlib
import re
import stat

import jsonschema
import pytest
import yaml

from ansible_run import ansible_playbook, run_role
from blueprint_tags import TAGS, TagLoader
from quadlet_generator import generate_host_units

from ansible_collections.homelab.stack.plugins.filter.validate_catalog import FilterModule as CatalogFilter
from ansible_collections.homelab.stack.plugins.module_utils.quadlet import read_key

ROOT = pathlib.Path(__file__).resolve().parents[2]
SCHEMA = json.loads((ROOT / "tests" / "fixtures" / "authentik" / "authentik-blueprint-schema.json").read_text())
RECAP = re.compile(r"^\S+\s+: ok=\d+\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", re.M)
validate_catalog = CatalogFilter().filters()["validate_catalog"]

SECRETS = {"AUTHENTIK_SECRET_KEY": "sk-7f3a9c", "AUTHENTIK_BOOTSTRAP_PASSWORD": "pw-51d0e2",
           "AUTHENTIK_BOOTSTRAP_TOKEN": "tk-a8b6c4", "AUTHENTIK_POSTGRESQL__PASSWORD": "db-93e1f7"}
APPS = [
    {"name": "nas", "host": "localhost", "image": "docker.io/library/nginx:1.27", "port": 80,
     "route": {"auth": "sso", "groups": ["family"]}},
    {"name": "grafana", "host": "localhost", "image": "docker.io/grafana/grafana:12.0.0", "port": 3000,
     "route": {"auth": "none"}, "oidc": {"redirect_paths": ["/login/generic_oauth"]}},
]


def authentik_entries(data_dir="/var/lib/homelab/authentik", blueprints_dir="/etc/homelab/authentik/blueprints"):
    """The user's entry, and the worker declared to mount other directories (as a test must)."""
    data = {"source": str(data_dir), "target": "/data"}
    return [
        {"name": "authentik", "host": "localhost", "platform": "authentik", "secrets": SECRETS, "mounts": [data]},
        {"name": "authentik-worker", "platform": "authentik_worker",
         "mounts": [data, {"source": str(blueprints_dir), "target": "/blueprints/custom", "readonly": True}]},
    ]


def test_the_three_units_pass_the_real_generator(generator, tmp_path):
    catalog = validate_catalog(authentik_entries() + APPS, ["localhost"])
    units, generated = generate_host_units(generator, tmp_path, catalog, "localhost")
    assert sorted(generated) == sorted(units)
    text = "\n".join(units.values()) + "\n".join(generated.values())
    assert not any(value in text for value in SECRETS.values())
    assert not re.search(r"OIDC_CLIENT_SECRET=[0-9a-f]", text)
    server = read_key(generated["authentik.container"], "Service", "ExecStart")
    worker = read_key(generated["authentik-worker.container"], "Service", "ExecStart")
    database = read_key(generated["authentik-postgresql.container"], "Service", "ExecStart")
    assert server.endswith("ghcr.io/goauthentik/server:2026.2.2 server")
    assert worker.endswith("ghcr.io/goauthentik/server:2026.2.2 worker")
    assert "--secret authentik-worker-authentik-bootstrap-token,type=env,target=AUTHENTIK_BOOTSTRAP_TOKEN" in worker
    assert "--secret authentik-worker-homelab-oidc-grafana-secret,type=env,target=HOMELAB_OIDC_GRAFANA_SECRET" in worker
    assert "-v /etc/homelab/authentik/blueprints:/blueprints/custom:ro" in worker
    assert "--health-cmd \"pg_isready -d authentik -U authentik\"" in database
    assert "-v authentik-postgresql-data:/var/lib/postgresql/data" in database
    for name in ("authentik", "authentik-worker"):
        for key in ("After", "Requires"):
            assert re.search(rf"^{key}=authentik-postgresql\.service$", generated[f"{name}.container"], re.M), name
    grafana = read_key(generated["grafana.container"], "Service", "ExecStart")
    assert "--secret grafana-oidc-client-secret,type=env,target=OIDC_CLIENT_SECRET" in grafana
    assert "--env OIDC_CLIENT_ID=grafana" in grafana


@pytest.fixture(name="site")
def site_fixture(tmp_path):
    """The role's variables; the data and blueprint directories start absent."""
    data, blueprints = tmp_path / "data", tmp_path / "etc" / "blueprints"
    variables = {"homelab_domain": "lab.test", "homelab_services": authentik_entries(data, blueprints) + APPS}
    return {"tmp": tmp_path, "data": data, "blueprints": blueprints, "vars": variables}


def converge(site, check=False, **overrides):
    """Run the role; (returncode, output, changed count)."""
    completed = run_role("homelab.stack.authentik", site["tmp"], dict(site["vars"], **overrides), check=check)
    output = completed.stdout + completed.stderr
    recap = RECAP.search(output)
    return completed.returncode, output, int(recap[1]) if recap else None


def read_blueprint(path):
    TAGS.clear()
    return yaml.load(path.read_text(), Loader=TagLoader)  # noqa: S506 - a SafeLoader with three constructors


def test_check_mode_on_a_fresh_host_changes_nothing(site):
    returncode, output, _changed = converge(site, check=True)
    assert returncode == 0, output
    assert not site["data"].exists() and not site["blueprints"].exists()


def test_a_converge_installs_the_blueprint_and_a_second_changes_nothing(site):
    returncode, output, changed = converge(site)
    assert returncode == 0 and changed > 0, output
    blueprint = site["blueprints"] / "homelab.yaml"
    data = read_blueprint(blueprint)
    jsonschema.Draft7Validator(SCHEMA).validate(data)
    models = [(entry["model"], entry.get("id")) for entry in data["entries"]]
    assert ("authentik_providers_proxy.proxyprovider", "provider-nas") in models
    assert ("authentik_providers_oauth2.oauth2provider", "provider-grafana-oidc") in models
    assert ("authentik_core.group", "group-family") in models
    assert ("!Env", "HOMELAB_OIDC_GRAFANA_SECRET") in TAGS
    assert data["entries"][-1]["attrs"]["config"] == {"authentik_host": "https://authentik.lab.test"}
    # The identity provider itself is no application of its own.
    assert not any(entry.get("id", "").startswith("app-authentik") for entry in data["entries"])
    text = blueprint.read_text()
    assert not any(value in text + output for value in SECRETS.values())
    assert stat.S_IMODE(blueprint.stat().st_mode) == 0o644
    assert (site["data"].stat().st_uid, stat.S_IMODE(site["data"].stat().st_mode)) == (1000, 0o750)

    returncode, output, changed = converge(site)
    assert returncode == 0 and changed == 0, output


def test_a_catalog_change_rewrites_the_blueprint(site):
    assert converge(site)[0] == 0
    apps = APPS + [{"name": "wiki", "host": "localhost", "image": "x/wiki:1", "port": 80, "route": True}]
    returncode, output, changed = converge(site, homelab_services=site["vars"]["homelab_services"][:2] + apps)
    assert returncode == 0 and changed == 1, output
    ids = [entry.get("id") for entry in read_blueprint(site["blueprints"] / "homelab.yaml")["entries"]]
    assert "provider-wiki" in ids


@pytest.mark.parametrize(("services", "message"), [
    (lambda entries: [dict(entries[0], secrets={k: v for k, v in SECRETS.items() if k != "AUTHENTIK_SECRET_KEY"}),
                      *entries[1:]],
     "service authentik: secrets: platform authentik needs AUTHENTIK_SECRET_KEY (from a vault)"),
    (lambda entries: [dict(entries[0], route={"auth": "sso"}), *entries[1:]],
     "service authentik: route: platform authentik needs a route with auth none"),
    (lambda entries: [dict(entries[0], host="elsewhere"), *entries[1:]], "service authentik: host: 'elsewhere' is not"),
    (lambda entries: entries[2:], "homelab_services has no identity provider: add {name: authentik, host: localhost"),
])
def test_bad_input_fails_before_any_change(site, services, message):
    returncode, output, _changed = converge(site, homelab_services=services(site["vars"]["homelab_services"]))
    assert returncode != 0 and message in output, output
    assert not site["data"].exists() and not site["blueprints"].exists()
    assert not any(value in output for value in SECRETS.values())


def test_a_wrong_variable_is_refused_by_the_argument_spec(site):
    returncode, output, _changed = converge(site, authentik_user_id="authentik")
    assert returncode != 0 and "authentik_user_id" in output, output
    assert not site["data"].exists()


def test_the_role_runs_on_the_identity_providers_host_only(site):
    services = [dict(site["vars"]["homelab_services"][0], host="kronos")] + site["vars"]["homelab_services"][1:]
    (site["tmp"] / "hosts.yml").write_text(yaml.safe_dump({"all": {"hosts": {"kronos": {}}}}))
    (site["tmp"] / "play.yml").write_text(json.dumps([{"hosts": "localhost", "gather_facts": False,
                                                       "roles": ["homelab.stack.authentik"]}]))
    (site["tmp"] / "vars.json").write_text(json.dumps(dict(site["vars"], homelab_services=services)))
    completed = ansible_playbook(site["tmp"] / "play.yml", "-i", str(site["tmp"] / "hosts.yml"),
                                 "-e", "@%s" % (site["tmp"] / "vars.json"))
    output = completed.stdout + completed.stderr
    assert completed.returncode != 0, output
    assert "authentik runs on the host of service authentik (kronos), not on localhost" in output
    assert not site["data"].exists() and not site["blueprints"].exists()
