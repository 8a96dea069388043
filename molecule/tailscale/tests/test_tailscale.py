"""Verify roles/tailscale on a lab host: real apt install from a signed repository, the
fake tailscale CLI (tests/fakes/tailscale_cli) standing in for Tailscale."""

import json

import pytest

KEYRING = "/etc/apt/keyrings/tailscale-archive-keyring.gpg"
DROP_IN = "/etc/sysctl.d/99-tailscale.conf"


@pytest.fixture(scope="module")
def auth_key(host):
    return host.ansible.get_variables()["tailscale_auth_key"]


def test_repository_source_is_signed_by_the_fetched_key(host):
    sources = host.file("/etc/apt/sources.list.d/tailscale.sources")
    assert sources.user == "root"
    assert sources.mode == 0o644
    lines = sources.content_string.splitlines()
    assert "URIs: file:///srv/tailscale-repo/debian" in lines
    assert "Suites: trixie" in lines
    assert f"Signed-By: {KEYRING}" in lines
    assert host.file(KEYRING).sha256sum == host.file("/srv/tailscale-repo/debian/trixie.noarmor.gpg").sha256sum


def test_apt_rejects_the_repository_without_its_key(host):
    # The same source signed-by Debian's keyring instead: sqv must refuse the InRelease.
    cmd = (
        "d=$(mktemp -d) && mkdir $d/sources $d/lists && "
        "sed 's|^Signed-By:.*|Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg|' "
        "/etc/apt/sources.list.d/tailscale.sources > $d/sources/t.sources && "
        "apt-get update -o Dir::Etc::SourceList=/dev/null -o Dir::Etc::SourceParts=$d/sources "
        "-o Dir::State::Lists=$d/lists 2>&1; rc=$?; rm -rf $d; exit $rc"
    )
    result = host.run(cmd)
    assert result.rc != 0, result.stdout
    assert "is not signed" in result.stdout, result.stdout


def test_package_installed_from_the_repository(host):
    package = host.package("tailscale")
    assert package.is_installed
    assert package.version == "1.76.1-fake1"
    assert host.file("/var/lib/apt/lists/_srv_tailscale-repo_debian_dists_trixie_InRelease").exists


def test_tailscaled_enabled_and_running(host):
    service = host.service("tailscaled")
    assert service.is_enabled
    assert service.is_running


@pytest.mark.parametrize("key", ["net.ipv4.ip_forward", "net.ipv6.conf.all.forwarding"])
def test_forwarding_on_and_kept(host, key):
    assert host.sysctl(key) == 1
    assert f"{key}=1" in host.file(DROP_IN).content_string.replace(" ", "").splitlines()


def test_node_is_site_a_router(host):
    status = json.loads(host.check_output("tailscale status --json"))
    prefs = json.loads(host.check_output("tailscale debug prefs"))
    assert status["BackendState"] == "Running"
    assert status["Self"]["HostName"] == "site-a-router"
    assert prefs["AdvertiseRoutes"] == ["10.231.1.0/24"]
    assert prefs["CorpDNS"] is False
    assert prefs["WantRunning"] is True
    assert prefs["LoggedOut"] is False


def test_auth_key_stored_nowhere(host, auth_key):
    # The pattern matches the key without containing it, so this check's own command line
    # (which Ansible logs to the journal) does not count as a find.
    pattern = "%s[%s]" % (auth_key[:-1], auth_key[-1])
    found = host.run("grep -rlaE -- %s /etc /var /srv /root /home /tmp /usr/local /run", pattern)
    assert found.rc == 1, found.stdout
    journal = host.check_output("journalctl --no-pager -o cat")
    assert auth_key not in journal
    # Modules log their arguments to the journal ("Invoked with ..."), so it is a place
    # the key could leak to; no_log keeps tailscale_node from logging them at all.
    assert "Invoked with" in journal
