# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""homelab.stack.proxmox and its API client against the fake Proxmox VE API.

The fake (tests/fakes/pve/) checks every request against the PVE 9.1 API schema in
tests/fixtures/pve-apidata-subset.json. Covered: the fake's own contract, the client
(auth, retries, errors, request counting), and the plugin run by Ansible both through
its Python API (InventoryManager) and as ``ansible-inventory``: hosts, variables, groups,
request budget, every fault the plugin must survive, and the cache.
"""

from __future__ import annotations

import json
import os
import time

import pytest
import requests
import yaml
from ansible import constants as C
from ansible.errors import AnsibleParserError
from ansible.inventory.data import InventoryData
from ansible.parsing.dataloader import DataLoader
from ansible.plugins.doc_fragments import constructed as constructed_fragment
from ansible.plugins.doc_fragments import inventory_cache as inventory_cache_fragment

from ansible_collections.homelab.stack.plugins.doc_fragments import proxmox as proxmox_fragment
from ansible_collections.homelab.stack.plugins.inventory import proxmox as plugin_module
from ansible_collections.homelab.stack.plugins.inventory.proxmox import InventoryModule
from ansible_collections.homelab.stack.plugins.module_utils.proxmox import (
    ProxmoxAuthError,
    ProxmoxClient,
    ProxmoxConnectionError,
    ProxmoxError,
)
from ansible_run import ansible_inventory, inventory_manager, listed
from fakes.pve import PASSWORD, TOKEN_SECRET, USER, FakePVE, Schema, check_returns, make_cluster

AGENT = r"/nodes/[^/]+/qemu/\d+/agent/network-get-interfaces"
LXC_INTERFACES = r"/nodes/[^/]+/lxc/\d+/interfaces"


# Fixtures and helpers

@pytest.fixture
def cluster():
    """4 nodes, 40 guests (28 running), 2 templates."""
    return make_cluster(nodes=4, guests=40, templates=2)


@pytest.fixture
def pve(cluster):
    with FakePVE(cluster) as fake:
        yield fake


def expected_guest_hosts(cluster):
    return [guest for guest in cluster.guests if not guest.template]


def running_online(cluster):
    """The guests the plugin must ask for addresses: running, on an online node."""
    return [guest for guest in expected_guest_hosts(cluster) if cluster.status_of(guest) == "running"]


def write_source(directory, pve, name="lab.proxmox.yml", **options):
    """An inventory source for the fake with a valid API token, plus ``options``."""
    config = {"plugin": "homelab.stack.proxmox", "url": pve.url, "user": USER, "token_id": "inventory",
              "token_secret": TOKEN_SECRET}
    config.update(options)
    path = directory / name
    path.write_text(json.dumps(config, indent=2))
    return path


def load_plugin():
    """The plugin, prepared as Ansible's plugin loader prepares it.

    The loader cannot load collection plugins in a process that already imported the
    collection as plain packages (as pytest does), so its one job that matters here is done
    the same way: the option definitions are the plugin's DOCUMENTATION options merged
    over those of its doc fragments, registered under the plugin's name.
    """
    options = {}
    for fragment in (proxmox_fragment, constructed_fragment, inventory_cache_fragment):
        options.update(yaml.safe_load(fragment.ModuleDocFragment.DOCUMENTATION)["options"])
    options.update(yaml.safe_load(plugin_module.DOCUMENTATION)["options"])
    C.config.initialize_plugin_configuration_definitions("inventory", InventoryModule.NAME, options)
    plugin = InventoryModule()
    plugin._load_name = plugin.ansible_name = InventoryModule.NAME  # pylint: disable=protected-access
    return plugin


def plugin_parse(source, cache=True):
    """Run the plugin in this process: (plugin, InventoryData). Errors propagate."""
    plugin = load_plugin()
    data = InventoryData()
    plugin.parse(data, DataLoader(), str(source), cache=cache)
    if plugin.get_option("cache"):
        plugin.update_cache_if_changed()  # what InventoryManager does after each source
    return plugin, data


@pytest.fixture
def warnings(monkeypatch):
    """Every warning Ansible's display prints, as a list of messages."""
    from ansible.utils.display import Display  # pylint: disable=import-outside-toplevel

    seen = []
    original = Display.warning

    def record(self, msg, *args, **kwargs):
        seen.append(msg)
        return original(self, msg, *args, **kwargs)

    monkeypatch.setattr(Display, "warning", record)
    return seen


def python_api(source):
    """{"hosts": {name: vars}, "groups": {name: [hosts]}} from InventoryManager over the source."""
    inventory = inventory_manager(source, env=dict(os.environ, ANSIBLE_INVENTORY_ENABLED="auto", ANSIBLE_INVENTORY_UNPARSED_FAILED="true"))
    return {"hosts": {name: host["vars"] for name, host in inventory["hosts"].items()}, "groups": inventory["groups"]}


def statuses(pve):
    return sorted({entry["status"] for entry in pve.requests})


# The fake itself follows the contract

def test_fake_rejects_an_unknown_parameter(pve):
    answer = requests.get(pve.url + "/api2/json/cluster/resources", params={"type": "vm", "full": "1"},
                          headers=pve.token_header(), timeout=5)
    assert answer.status_code == 400
    assert answer.reason == "Parameter verification failed."
    assert answer.json() == {"data": None, "message": "Parameter verification failed.\n", "errors": {
        "full": "property is not defined in schema and the schema does not allow additional properties"}}


def test_fake_checks_types_enums_and_paths(pve):
    headers = pve.token_header()
    wrong_type = requests.get(pve.url + "/api2/json/nodes/pve1/qemu/abc/config", headers=headers, timeout=5)
    assert wrong_type.status_code == 400
    assert wrong_type.json()["errors"] == {"vmid": "type check ('integer') failed - got 'abc'"}
    too_small = requests.get(pve.url + "/api2/json/nodes/pve1/qemu/99/config", headers=headers, timeout=5)
    assert too_small.json()["errors"] == {"vmid": "value must have a minimum value of 100"}
    wrong_enum = requests.get(pve.url + "/api2/json/cluster/resources?type=guest", headers=headers, timeout=5)
    assert "enumeration" in wrong_enum.json()["errors"]["type"]
    unknown = requests.get(pve.url + "/api2/json/cluster/guests", headers=headers, timeout=5)
    assert (unknown.status_code, unknown.reason) == (501, "Method 'GET /cluster/guests' not implemented")
    # The schema has only DELETE at /nodes/{node}/qemu/{vmid}.
    method = requests.get(pve.url + "/api2/json/nodes/pve1/qemu/100", headers=headers, timeout=5)
    assert method.status_code == 501


def test_fake_authenticates_like_pveproxy(pve):
    url = pve.url + "/api2/json/version"
    assert requests.get(url, timeout=5).status_code == 401
    assert requests.get(url, headers={"Authorization": "PVEAPIToken=%s=wrong" % pve.token_id}, timeout=5).status_code == 401
    login = requests.post(pve.url + "/api2/json/access/ticket", data={"username": USER, "password": PASSWORD}, timeout=5)
    ticket = login.json()["data"]
    assert set(ticket) >= {"ticket", "CSRFPreventionToken", "username"}
    cookie = {"Cookie": "PVEAuthCookie=" + ticket["ticket"]}
    assert requests.get(url, headers=cookie, timeout=5).json()["data"]["release"] == "9.1"
    # Writes with a ticket need the CSRF token (the fake then says it does not model writes).
    write = requests.post(pve.url + "/api2/json/pools", data={"poolid": "new"}, headers=cookie, timeout=5)
    assert (write.status_code, write.reason) == (401, "Permission denied - invalid csrf token")
    write = requests.post(pve.url + "/api2/json/pools", data={"poolid": "new"},
                          headers=dict(cookie, CSRFPreventionToken=ticket["CSRFPreventionToken"]), timeout=5)
    assert write.status_code == 501 and "not implemented by the fake" in write.reason
    refused = requests.post(pve.url + "/api2/json/access/ticket", data={"username": USER, "password": "nope"}, timeout=5)
    assert (refused.status_code, refused.reason) == (401, "authentication failure")


def test_fake_answers_fit_the_contract(cluster):
    """Every read answer the two inventory plugins use matches its ``returns`` schema."""
    cluster = make_cluster(nodes=3, guests=12, offline_nodes=1, templates=1, agent_faults={"error_result": 1})
    schema = Schema.load()
    paths = ["/cluster/resources", "/cluster/status", "/nodes", "/version", "/pools", "/pools?poolid=prod", "/cluster/nextid"]
    for guest in cluster.guests:
        if cluster.status_of(guest) == "unknown":
            continue
        base = "/nodes/%s/%s/%d" % (guest.node, guest.type, guest.vmid)
        paths += ["/nodes/%s/%s" % (guest.node, guest.type), base + "/config", base + "/status/current"]
        if guest.status == "running":
            paths.append(base + ("/agent/network-get-interfaces" if guest.type == "qemu" else "/interfaces"))
    with FakePVE(cluster) as fake:
        for path in paths:
            answer = requests.get(fake.url + "/api2/json" + path, headers=fake.token_header(), timeout=5)
            assert answer.status_code == 200, (path, answer.reason)
            template, info, _params = schema.match(path.split("?")[0])
            assert check_returns(info["GET"]["returns"], answer.json()["data"]) == [], template


def test_fake_offline_node_answers_595(pve, cluster):
    cluster.nodes[-1].online = False
    guest = next(g for g in cluster.guests if g.node == cluster.nodes[-1].name)
    answer = requests.get(pve.url + "/api2/json/nodes/%s/%s/%d/config" % (guest.node, guest.type, guest.vmid),
                          headers=pve.token_header(), timeout=5)
    assert (answer.status_code, answer.reason) == (595, "No route to host")


# The API client

def test_client_counts_requests_and_reuses_connections(pve):
    with ProxmoxClient(pve.url, user=USER, token_id="inventory", token_secret=TOKEN_SECRET, pool_size=2) as client:
        for _round in range(5):
            assert isinstance(client.get("/cluster/resources"), list)
        assert client.requests_made == 5
    assert len({entry["connection"] for entry in pve.requests}) == 1


def test_client_password_login_and_csrf(pve):
    with ProxmoxClient(pve.url, user=USER, password=PASSWORD) as client:
        assert client.get("/version")["version"] == "9.1.3"
        # The fake answers 501 for writes it does not model; reaching it means auth and CSRF passed.
        with pytest.raises(ProxmoxError) as failure:
            client.post("/pools", data={"poolid": "new"})
        assert failure.value.status == 501
        assert client.requests_made == 3
    assert [(entry["method"], entry["path"]) for entry in pve.requests][0] == ("POST", "/access/ticket")


def test_client_auth_errors_name_the_credentials_not_the_secret(pve):
    with ProxmoxClient(pve.url, user=USER, token_id="inventory", token_secret="wrong-secret-1234") as client:
        with pytest.raises(ProxmoxAuthError) as failure:
            client.get("/cluster/resources")
    message = str(failure.value)
    assert "API token root@pam!inventory" in message and "HTTP 401" in message
    assert "wrong-secret-1234" not in message
    with ProxmoxClient(pve.url, user=USER, password="wrong-password-5678") as client:
        with pytest.raises(ProxmoxAuthError) as failure:
            client.get("/cluster/resources")
    assert "user root@pam (password)" in str(failure.value) and "wrong-password-5678" not in str(failure.value)
    pve.fail(403, path="/cluster/status", message="Permission check failed (/, Sys.Audit)")
    with ProxmoxClient(pve.url, user=USER, token_id="inventory", token_secret=TOKEN_SECRET) as client:
        with pytest.raises(ProxmoxAuthError, match=r"permission denied .*Sys.Audit"):
            client.get("/cluster/status")


def test_client_error_carries_method_path_status_and_pve_text(pve):
    with ProxmoxClient(pve.url, user=USER, token_id="inventory", token_secret=TOKEN_SECRET) as client:
        with pytest.raises(ProxmoxError) as failure:
            client.get("/cluster/resources", params={"bogus": "1"})
    error = failure.value
    assert (error.method, error.path, error.status) == ("GET", "/cluster/resources", 400)
    assert error.errors == {"bogus": "property is not defined in schema and the schema does not allow additional properties"}
    assert "Parameter verification failed." in str(error) and "bogus" in str(error)


def test_client_retries_gateway_errors_a_bounded_number_of_times(pve):
    pve.fail(502, times=2, path="/version")
    with ProxmoxClient(pve.url, user=USER, token_id="inventory", token_secret=TOKEN_SECRET, backoff=0.01) as client:
        assert client.get("/version")["release"] == "9.1"
        assert client.requests_made == 3
        pve.fail(503, path="/cluster/status")
        with pytest.raises(ProxmoxError) as failure:
            client.get("/cluster/status")
        assert failure.value.status == 503
        assert client.requests_made == 6  # one try and two retries
        # Writes are not repeated once the server may have seen them.
        pve.fail(502, path="/pools")
        with pytest.raises(ProxmoxError):
            client.post("/pools", data={"poolid": "x"})
        assert client.requests_made == 7


def test_client_timeout_and_malformed_json(pve):
    pve.hang(path="/version", seconds=3)
    pve.malformed(path="/cluster/status")
    with ProxmoxClient(pve.url, user=USER, token_id="inventory", token_secret=TOKEN_SECRET, timeout=0.5) as client:
        started = time.monotonic()
        with pytest.raises(ProxmoxConnectionError, match="no answer within 0.5 s"):
            client.get("/version")
        assert time.monotonic() - started < 2.5  # a read timeout is not retried
        with pytest.raises(ProxmoxError, match="not valid JSON"):
            client.get("/cluster/status")


def test_client_tls_failure_is_not_retried(pve):
    with ProxmoxClient(pve.url.replace("http://", "https://"), user=USER, token_id="inventory", token_secret=TOKEN_SECRET,
                       validate_certs=False, backoff=0.01) as client:
        with pytest.raises(ProxmoxConnectionError, match="TLS with https://127.0.0.1:"):
            client.get("/version")
        assert client.requests_made == 1


def test_client_unreachable_api_is_retried_then_reported():
    with ProxmoxClient("http://127.0.0.1:9", user=USER, token_id="inventory", token_secret=TOKEN_SECRET, backoff=0.01) as client:
        with pytest.raises(ProxmoxConnectionError, match="cannot reach http://127.0.0.1:9"):
            client.get("/version")
        assert client.requests_made == 3


# The plugin: hosts, variables, groups, request budget

def test_inventory_through_ansible_python_api(tmp_path, pve, cluster):
    inventory = python_api(write_source(tmp_path, pve, ansible_host_preference=["100.64.0.0/10"]))
    hosts, groups = inventory["hosts"], inventory["groups"]
    guests = expected_guest_hosts(cluster)
    node_names = [node.name for node in cluster.nodes]
    assert sorted(hosts) == sorted([guest.name for guest in guests] + node_names)
    assert groups["proxmox_nodes"] == sorted(node_names)
    assert groups["proxmox_qemu"] == sorted(g.name for g in guests if g.type == "qemu")
    assert groups["proxmox_lxc"] == sorted(g.name for g in guests if g.type == "lxc")
    assert groups["proxmox_running"] == sorted(g.name for g in guests if g.status == "running")
    assert groups["proxmox_stopped"] == sorted(g.name for g in guests if g.status == "stopped")
    assert groups["proxmox_unknown"] == []
    assert groups["proxmox_pool_prod"] == sorted(g.name for g in guests if g.pool == "prod")
    assert groups["proxmox_tag_backup"] == sorted(g.name for g in guests if "backup" in g.tags)
    assert groups["proxmox_node_pve2"] == sorted(g.name for g in guests if g.node == "pve2")

    tailscale = cluster.guest(100)  # index 0: running, with a Tailscale address
    variables = hosts[tailscale.name]
    assert variables["ansible_host"] == "100.64.0.100"
    assert variables["proxmox_vmid"] == 100 and variables["proxmox_type"] == tailscale.type
    assert variables["proxmox_node"] == "pve1" and variables["proxmox_status"] == "running"
    assert variables["proxmox_tags"] == sorted(tailscale.tags.split(";")) and variables["proxmox_pool"] == "prod"
    assert variables["proxmox_name"] == tailscale.name
    assert "10.20.0.100" in variables["proxmox_ips"] and "127.0.0.1" not in variables["proxmox_ips"]
    assert "fd7a:115c:a1e0::64" in variables["proxmox_ips"]
    plain_guest = cluster.guest(102)  # running, no Tailscale address: the private IPv4 of eth0
    assert hosts[plain_guest.name]["ansible_host"] == "10.20.0.102"
    stopped = next(g for g in guests if g.status == "stopped")
    assert "ansible_host" not in hosts[stopped.name] and "proxmox_ips" not in hosts[stopped.name]
    assert (hosts["pve1"]["ansible_host"], hosts["pve1"]["proxmox_online"]) == ("192.168.10.11", True)
    assert pve.count() == 2 + len(running_online(cluster))


def test_request_budget_is_two_plus_running_guests(tmp_path, pve, cluster):
    plugin, _data = plugin_parse(write_source(tmp_path, pve))
    budget = 2 + len(running_online(cluster))
    assert plugin.requests_made == pve.count() == budget
    assert pve.count("GET", "/cluster/resources") == 1 and pve.count("GET", "/cluster/status") == 1
    assert pve.count("GET", AGENT) + pve.count("GET", LXC_INTERFACES) == len(running_online(cluster))
    assert statuses(pve) == [200]  # nothing the contract refuses


def test_addresses_are_read_in_parallel_over_kept_alive_connections(tmp_path, cluster):
    with FakePVE(cluster, latency=0.1) as fake:
        started = time.monotonic()
        plugin_parse(write_source(tmp_path, fake, concurrency=4))
        elapsed = time.monotonic() - started
        connections = {entry["connection"] for entry in fake.requests}
    # 28 address requests of 0.1 s each: 2.8 s one by one, about 0.8 s four at a time.
    assert elapsed < 2.0
    assert len(connections) <= 4


def test_want_addresses_false_makes_two_requests(tmp_path, pve, cluster):
    plugin, data = plugin_parse(write_source(tmp_path, pve, want_addresses=False))
    assert plugin.requests_made == pve.count() == 2
    assert len(data.hosts) == len(expected_guest_hosts(cluster)) + len(cluster.nodes)
    assert all("proxmox_ips" not in host.vars for host in data.hosts.values())


def test_password_login_adds_one_request(tmp_path, pve, cluster):
    source = write_source(tmp_path, pve, token_id=None, token_secret=None, password=PASSWORD)
    plugin, data = plugin_parse(source)
    assert plugin.requests_made == pve.count() == 3 + len(running_online(cluster))
    assert len(data.hosts) == len(expected_guest_hosts(cluster)) + len(cluster.nodes)


def test_templates_are_not_hosts(tmp_path, pve, cluster):
    _plugin, data = plugin_parse(write_source(tmp_path, pve))
    templates = [guest.name for guest in cluster.guests if guest.template]
    assert templates and not set(templates) & set(data.hosts)


def test_duplicate_and_missing_names(tmp_path):
    cluster = make_cluster(nodes=2, guests=10, duplicate_names=1, unnamed=2)
    cluster.guest(101).name = "DB_001.lab.example"  # still unique once normalised: db-001
    cluster.guest(103).name = "web-000"
    with FakePVE(cluster) as fake:
        _plugin, data = plugin_parse(write_source(tmp_path, fake))
    hosts = set(data.hosts)
    # web-000 is the name of guests 100, 103 and 109 (duplicate_names=1 copied it to the last guest).
    assert {"web-000-100", "web-000-103", "web-000-109"} <= hosts and "web-000" not in hosts
    assert "db-001" in hosts and data.hosts["db-001"].vars["proxmox_name"] == "DB_001.lab.example"
    assert {"guest-105", "guest-106"} <= hosts  # no name, and "___"
    assert len(hosts) == 10 + 2


def test_offline_node_guests_are_hosts_with_status_unknown(tmp_path, warnings):
    cluster = make_cluster(nodes=3, guests=30, offline_nodes=["pve3"])
    with FakePVE(cluster) as fake:
        plugin, data = plugin_parse(write_source(tmp_path, fake))
        on_pve3 = [guest for guest in cluster.guests if guest.node == "pve3"]
        assert fake.count(path=r"/nodes/pve3/.*") == 0  # no request can reach that node
        assert plugin.requests_made == 2 + len(running_online(cluster))
    for guest in on_pve3:
        host = data.hosts[guest.name]
        assert host.vars["proxmox_status"] == "unknown" and "ansible_host" not in host.vars
        assert "proxmox_unknown" in [group.name for group in host.groups]
    assert data.hosts["pve3"].vars["proxmox_online"] is False
    assert any("node pve3 is offline" in message and "10 guest(s)" in message for message in warnings)


def test_requests_that_reach_an_offline_node_are_a_warning(tmp_path, cluster, warnings):
    # /cluster/status still says online, the node is gone: pveproxy answers 595 for its guests.
    with FakePVE(cluster) as fake:
        source = write_source(tmp_path, fake)
        fake.fail(595, path=r"/nodes/pve2/.*", message="No route to host")
        _plugin, data = plugin_parse(source)
    on_pve2 = [g for g in running_online(cluster) if g.node == "pve2"]
    assert all("ansible_host" not in data.hosts[guest.name].vars for guest in on_pve2)
    assert any("no addresses for %d of" % len(on_pve2) in message and "HTTP 595 No route to host" in message for message in warnings)
    others = [g for g in running_online(cluster) if g.node != "pve2"]
    assert all("ansible_host" in data.hosts[guest.name].vars for guest in others)


def test_guest_agent_faults_are_one_warning(tmp_path, warnings):
    faults = {"not_running": 1, "unsupported": 1, "disabled": 1, "error_result": 1, "timeout": 1, "no_agent": 1}
    cluster = make_cluster(nodes=2, guests=30, agent_faults=faults)
    with FakePVE(cluster) as fake:
        plugin, data = plugin_parse(write_source(tmp_path, fake))
    faulty = {guest.agent_fault: guest for guest in cluster.guests if guest.agent_fault}
    assert set(faulty) == set(faults)
    for guest in faulty.values():
        assert guest.name in data.hosts and "ansible_host" not in data.hosts[guest.name].vars
    messages = [message for message in warnings if "no addresses for" in message]
    assert len(messages) == 1
    for text in ("QEMU guest agent is not running", "(Unsupported)", "(CommandDisabled)", "got timeout", "guest agent error Unsupported"):
        assert text in messages[0]
    # A guest whose agent is switched off is not a fault.
    assert "No QEMU guest agent configured" not in messages[0] and "5 of" in messages[0]
    assert plugin.requests_made == 2 + len(running_online(cluster))


def test_server_errors_timeouts_and_bad_json_of_single_guests(tmp_path, cluster, warnings):
    running = running_online(cluster)
    broken, hanging, garbled = running[0], running[1], running[2]
    with FakePVE(cluster) as fake:
        source = write_source(tmp_path, fake, timeout=1)
        fake.fail(500, path=r"/nodes/%s/%s/%d/.*" % (broken.node, broken.type, broken.vmid), message="internal error")
        fake.hang(path=r"/nodes/%s/%s/%d/.*" % (hanging.node, hanging.type, hanging.vmid), seconds=4)
        fake.malformed(path=r"/nodes/%s/%s/%d/.*" % (garbled.node, garbled.type, garbled.vmid))
        started = time.monotonic()
        _plugin, data = plugin_parse(source)
        assert time.monotonic() - started < 3.5
    for guest in (broken, hanging, garbled):
        assert guest.name in data.hosts and "ansible_host" not in data.hosts[guest.name].vars
    assert all("ansible_host" in data.hosts[guest.name].vars for guest in running[3:])
    message = next(message for message in warnings if "no addresses for 3 of" in message)
    assert "HTTP 500 internal error" in message and "no answer within 1 s" in message and "not valid JSON" in message


def test_cluster_status_failures_leave_nodes_without_address(tmp_path, cluster, warnings):
    with FakePVE(cluster) as fake:
        source = write_source(tmp_path, fake)
        fake.fail(403, path="/cluster/status", message="Permission check failed (/, Sys.Audit)")
        _plugin, data = plugin_parse(source)
        fake.reset()
        fake.malformed(path="/cluster/status")
        _plugin, garbled = plugin_parse(source)
    for inventory in (data, garbled):
        assert len(inventory.hosts) == len(expected_guest_hosts(cluster)) + len(cluster.nodes)
        assert "ansible_host" not in inventory.hosts["pve1"].vars
        assert inventory.hosts["pve1"].vars["proxmox_online"] is True
    assert sum("cannot read /cluster/status" in message for message in warnings) == 2
    assert any("Sys.Audit" in message for message in warnings)


@pytest.mark.parametrize(
    ("fault", "expected"),
    [
        (("fail", 500), r"cannot list the guests of http://127\.0\.0\.1:\d+: GET /cluster/resources: HTTP 500"),
        (("fail", 503), r"GET /cluster/resources: HTTP 503 Service Unavailable"),
        (("malformed", None), r"GET /cluster/resources: the answer is not valid JSON"),
    ],
)
def test_cluster_resources_failure_is_an_error(tmp_path, pve, fault, expected):
    kind, status = fault
    if kind == "fail":
        pve.fail(status, path="/cluster/resources")
    else:
        pve.malformed(path="/cluster/resources")
    with pytest.raises(AnsibleParserError, match=expected):
        plugin_parse(write_source(tmp_path, pve))


def test_wrong_credentials_are_a_clear_error(tmp_path, pve):
    with pytest.raises(AnsibleParserError) as failure:
        plugin_parse(write_source(tmp_path, pve, token_secret="not-the-secret-0000"))
    message = str(failure.value)
    assert "authentication failed for API token root@pam!inventory" in message and "HTTP 401" in message
    assert "not-the-secret-0000" not in message
    with pytest.raises(AnsibleParserError, match=r"authentication failed for user root@pam \(password\)"):
        plugin_parse(write_source(tmp_path, pve, token_id=None, token_secret=None, password="wrong"))


def test_missing_url_and_bad_preference_are_clear_errors(tmp_path, pve, monkeypatch):
    monkeypatch.delenv("PROXMOX_URL", raising=False)
    with pytest.raises(AnsibleParserError, match="no Proxmox VE address: set url"):
        plugin_parse(write_source(tmp_path, pve, url=None))
    with pytest.raises(AnsibleParserError, match="'10.0.0.0/40' is not a network"):
        plugin_parse(write_source(tmp_path, pve, ansible_host_preference=["10.0.0.0/40"]))


def test_connection_settings_from_the_environment(tmp_path, pve, cluster, monkeypatch):
    monkeypatch.setenv("PROXMOX_URL", pve.url)
    monkeypatch.setenv("PROXMOX_USER", USER)
    monkeypatch.setenv("PROXMOX_TOKEN_ID", "inventory")
    monkeypatch.setenv("PROXMOX_TOKEN_SECRET", TOKEN_SECRET)
    source = tmp_path / "env.proxmox.yml"
    source.write_text("plugin: homelab.stack.proxmox\n")
    _plugin, data = plugin_parse(source)
    assert len(data.hosts) == len(expected_guest_hosts(cluster)) + len(cluster.nodes)


# Constructed features and the cache

def test_keyed_groups_groups_and_compose(tmp_path, pve, cluster):
    source = write_source(tmp_path, pve, strict=True,
                          keyed_groups=[{"key": "proxmox_tags | default([])", "prefix": "tag"},
                                        {"key": "proxmox_pool | default('none')", "prefix": "pool"}],
                          groups={"databases": "'db' in (proxmox_tags | default([]))"},
                          compose={"ansible_user": "'root' if proxmox_type | default('') == 'lxc' else 'debian'"})
    inventory = python_api(source)
    groups, hosts = inventory["groups"], inventory["hosts"]
    guests = expected_guest_hosts(cluster)
    assert groups["tag_db"] == groups["databases"] == sorted(g.name for g in guests if "db" in g.tags)
    assert groups["pool_lab"] == sorted(g.name for g in guests if g.pool == "lab")
    assert groups["pool_none"] == sorted([g.name for g in guests if not g.pool] + [node.name for node in cluster.nodes])
    lxc = next(g for g in guests if g.type == "lxc")
    qemu = next(g for g in guests if g.type == "qemu")
    assert hosts[lxc.name]["ansible_user"] == "root"
    assert hosts[qemu.name]["ansible_user"] == "debian"


def test_cache_answers_without_any_request_until_refreshed(tmp_path, pve, cluster):
    # The short name: the in-process plugin loader here resolves no collection names (see load_plugin).
    source = write_source(tmp_path, pve, cache=True, cache_plugin="jsonfile",
                          cache_connection=str(tmp_path / "cache"), ansible_host_preference=["100.64.0.0/10"])
    first, first_data = plugin_parse(source)
    budget = 2 + len(running_online(cluster))
    assert first.requests_made == pve.count() == budget

    second, second_data = plugin_parse(source)  # a new run: the cache file answers
    assert second.requests_made == 0 and pve.count() == budget
    assert sorted(second_data.hosts) == sorted(first_data.hosts)
    assert second_data.hosts[cluster.guest(100).name].vars["ansible_host"] == "100.64.0.100"

    refreshed, _data = plugin_parse(source, cache=False)  # meta: refresh_inventory
    assert refreshed.requests_made == budget and pve.count() == 2 * budget


# ansible-inventory, as a user runs it

def test_ansible_inventory_list(tmp_path, pve, cluster):
    source = write_source(tmp_path, pve, ansible_host_preference=["100.64.0.0/10"],
                          keyed_groups=[{"key": "proxmox_type", "prefix": "type"}])
    output = listed(ansible_inventory(source))
    hostvars = output["_meta"]["hostvars"]
    assert len(hostvars) == len(expected_guest_hosts(cluster)) + len(cluster.nodes)
    assert hostvars[cluster.guest(100).name]["ansible_host"] == "100.64.0.100"
    assert sorted(output["type_qemu"]["hosts"]) == sorted(output["proxmox_qemu"]["hosts"])
    assert sorted(output["proxmox_nodes"]["hosts"]) == [node.name for node in cluster.nodes]
    assert pve.count() == 2 + len(running_online(cluster))


def test_ansible_inventory_cache_and_flush(tmp_path, pve, cluster):
    source = write_source(tmp_path, pve, cache=True, cache_plugin="ansible.builtin.jsonfile",
                          cache_connection=str(tmp_path / "cache"))
    budget = 2 + len(running_online(cluster))
    first = listed(ansible_inventory(source))
    assert pve.count() == budget
    second = listed(ansible_inventory(source))
    assert pve.count() == budget and second == first
    listed(ansible_inventory(source, "--list", "--flush-cache"))
    assert pve.count() == 2 * budget


def test_ansible_inventory_reports_wrong_credentials_without_traceback(tmp_path, pve):
    source = write_source(tmp_path, pve, token_secret="not-the-secret-0000")
    result = ansible_inventory(source)
    assert result.returncode != 0
    assert "authentication failed for API token root@pam!inventory" in result.stderr
    assert "Traceback" not in result.stderr and "not-the-secret-0000" not in result.stderr


def test_ansible_inventory_survives_faults_with_warnings(tmp_path, pve, cluster):
    cluster.nodes[-1].online = False
    running = running_online(cluster)
    pve.fail(502, path=r"/nodes/%s/%s/%d/.*" % (running[0].node, running[0].type, running[0].vmid))
    output = listed(ansible_inventory(write_source(tmp_path, pve)))
    result_hosts = output["_meta"]["hostvars"]
    assert len(result_hosts) == len(expected_guest_hosts(cluster)) + len(cluster.nodes)
    assert "ansible_host" not in result_hosts[running[0].name]


def test_ansible_inventory_warnings_are_printed(tmp_path, pve, cluster):
    cluster.nodes[-1].online = False
    result = ansible_inventory(write_source(tmp_path, pve))
    listed(result)
    assert "node pve4 is offline" in result.stderr
