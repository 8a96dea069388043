"""What roles/base writes, checked by the real tools it validates with: sshd -t on the sshd
drop-in, visudo -c on the sudoers drop-in, nft -c on the firewall table (a dry run in the
kernel: it needs root, as the role has). Debian packages: openssh-server, sudo, nftables
(tests/lab/setup-controller.sh installs them)."""

import os
import pathlib
import re
import subprocess
import sys

import pytest

from ansible_collections.homelab.stack.plugins.filter.firewall_ruleset import firewall_ruleset
from ansible_collections.homelab.stack.plugins.filter.firewall_ports import FilterModule as FirewallPorts
from ansible_collections.homelab.stack.plugins.filter.validate_catalog import FilterModule as ValidateCatalog

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "unit" / "roles" / "base"))
from base_role import render, role_variables  # noqa: E402 pylint: disable=wrong-import-position

firewall_ports = FirewallPorts().filters()["firewall_ports"]
validate_catalog = ValidateCatalog().filters()["validate_catalog"]


def tool(path, package):
    assert os.access(path, os.X_OK), f"{path} is missing: apt-get install {package}"
    return path


def openssh_version():
    banner = subprocess.run([tool("/usr/bin/ssh", "openssh-client"), "-V"], capture_output=True, text=True,
                            check=True).stderr
    return tuple(int(n) for n in re.search(r"OpenSSH_(\d+)\.(\d+)", banner).groups())


def sshd_check(tmp_path, text):
    tool("/usr/sbin/sshd", "openssh-server")
    os.makedirs("/run/sshd", mode=0o755, exist_ok=True)  # sshd -t wants its privilege separation directory
    conf = tmp_path / "00-homelab-base.conf"
    conf.write_text(text)
    return subprocess.run(["/usr/sbin/sshd", "-T", "-f", str(conf)], capture_output=True, text=True, check=False)


def chosen_kex():
    """The key exchange list the preflight picks for this machine's OpenSSH."""
    kex = role_variables()["base_ssh_modern_kex"]
    return kex["9.9"] if openssh_version() >= (9, 9) else kex["9.0"]


@pytest.mark.parametrize("root", [False, "prohibit-password"])
def test_sshd_accepts_the_drop_in_and_it_means_keys_only(tmp_path, root):
    result = sshd_check(tmp_path, render("sshd.conf.j2", base_ssh_permit_root_login=root, base_sshd_kex=chosen_kex()))
    assert result.returncode == 0, result.stderr
    effective = dict(line.split(None, 1) for line in result.stdout.splitlines() if " " in line)
    assert effective["passwordauthentication"] == "no"
    assert effective["kbdinteractiveauthentication"] == "no"
    # sshd -T prints prohibit-password by its old name on OpenSSH 9.x.
    assert effective["permitrootlogin"] in (("prohibit-password", "without-password") if root else ("no",))
    assert effective["kexalgorithms"] == ",".join(chosen_kex())


def test_sshd_refuses_an_algorithm_it_does_not_know(tmp_path):
    # Why the preflight picks the list by version: an unknown name makes sshd -t (and sshd) fail.
    result = sshd_check(tmp_path, render("sshd.conf.j2", base_sshd_kex=["no-such-kex@example.org"]))
    assert result.returncode != 0
    assert "no-such-kex@example.org" in result.stderr


def test_visudo_accepts_the_sudoers_drop_in(tmp_path):
    sudoers = tmp_path / "homelab-admins"
    sudoers.write_text(render("sudoers.j2", base_admin_users=[{"name": "root", "keys": []}]))
    result = subprocess.run([tool("/usr/sbin/visudo", "sudo"), "-cf", str(sudoers)], capture_output=True, text=True,
                            check=False)
    assert result.returncode == 0, result.stdout + result.stderr


CATALOG = [
    {"name": "traefik", "host": "jove", "platform": "traefik", "image": "localhost/traefik:1"},
    {"name": "files", "host": "kronos", "image": "localhost/app:1", "port": 8080, "route": {"auth": "none"}},
    {"name": "backup-b", "host": "kronos", "platform": "rest_server", "image": "localhost/rest-server:1"},
    {"name": "dns", "host": "kronos", "image": "localhost/dns:1", "publish": ["53:53/udp", "53:53/tcp"]},
]
ZONES = [{"name": "mesh", "interfaces": ["tailscale0", "eth0"]},
         {"name": "management", "interfaces": ["eth1"], "sources": ["192.168.10.0/24", "fd00:10::/64"]},
         {"name": "office", "sources": ["10.20.0.0/16"]}]


def nft_check(text, tmp_path):
    rules = tmp_path / "firewall.nft"
    rules.write_text(text)
    return subprocess.run([tool("/usr/sbin/nft", "nftables"), "-c", "-f", str(rules)], capture_output=True, text=True,
                          check=False)


@pytest.mark.parametrize("host", ["jove", "kronos", "vesta"])
def test_nft_accepts_the_firewall_table(tmp_path, host):
    catalog = validate_catalog(CATALOG, ["jove", "kronos", "vesta"], edge="jove")
    variables = role_variables()
    text = firewall_ruleset(firewall_ports(catalog, host), ZONES, host_ports=variables["base_firewall_host_ports"],
                            controller={"address": "2001:db8::7", "port": 22},
                            container_interfaces=variables["base_firewall_container_interfaces"])
    result = nft_check(text, tmp_path)
    assert result.returncode == 0, result.stderr + "\n" + text


def test_nft_refuses_a_broken_table(tmp_path):
    # The same check as the role's validate: a bad file never replaces the loaded one.
    result = nft_check("table inet homelab {\n\tchain input {\n\t\ttcp dport accept\n\t}\n}\n", tmp_path)
    assert result.returncode != 0
