"""roles/base templates render what the README promises. tests/integration/test_base_rendered.py
checks the same files with the real sshd -t, visudo -c and nft -c."""

import pytest

from base_role import render


def options(text):
    """sshd keywords and values, comments left out."""
    pairs = (line.split(None, 1) for line in text.splitlines() if line.strip() and not line.startswith("#"))
    return dict(pairs)


def test_sshd_defaults_are_keys_only_and_no_root():
    conf = options(render("sshd.conf.j2"))
    assert conf["PermitRootLogin"] == "no"
    assert conf["PasswordAuthentication"] == "no"
    assert conf["KbdInteractiveAuthentication"] == "no"
    assert conf["PubkeyAuthentication"] == "yes"
    assert conf["PermitEmptyPasswords"] == "no"


def test_sshd_algorithms_are_modern_only():
    conf = options(render("sshd.conf.j2"))
    assert conf["KexAlgorithms"].split(",")[0] == "mlkem768x25519-sha256"
    for weak in ("diffie-hellman-group14-sha1", "ecdh-sha2-nistp256", "cbc", "hmac-sha1", "-96"):
        assert weak not in conf["KexAlgorithms"] + conf["Ciphers"] + conf["MACs"]
    assert all(mac.endswith("-etm@openssh.com") for mac in conf["MACs"].split(","))


@pytest.mark.parametrize(("value", "rendered"), [("prohibit-password", "prohibit-password"), (False, "no")])
def test_root_login_is_the_owners_choice(value, rendered):
    assert options(render("sshd.conf.j2", base_ssh_permit_root_login=value))["PermitRootLogin"] == rendered


def test_sudoers_lists_each_admin_without_a_password_by_default():
    users = [{"name": "alice", "keys": []}, {"name": "bob", "keys": []}]
    lines = [line for line in render("sudoers.j2", base_admin_users=users).splitlines() if not line.startswith("#")]
    assert lines == ["alice ALL=(ALL:ALL) NOPASSWD: ALL", "bob ALL=(ALL:ALL) NOPASSWD: ALL"]
    lines = render("sudoers.j2", base_admin_users=users[:1], base_admin_sudo_nopasswd=False).splitlines()
    assert lines[-1] == "alice ALL=(ALL:ALL) ALL"


def test_unattended_upgrades_clear_debians_origins_and_keep_security_only():
    text = render("unattended-upgrades.j2")
    assert text.splitlines()[1] == "#clear Unattended-Upgrade::Origins-Pattern;"
    origins = [line.strip().strip('";') for line in text.splitlines() if line.startswith("        ")]
    assert origins and all("label=Debian-Security" in origin for origin in origins)
    assert 'Unattended-Upgrade::Automatic-Reboot "false";' in text


def test_timesyncd_gets_the_servers_or_keeps_the_distributions():
    assert "NTP=0.pool.example 1.pool.example" in render("timesyncd.conf.j2", base_ntp_servers=["0.pool.example", "1.pool.example"])
    assert "NTP=" not in render("timesyncd.conf.j2")


def test_the_firewall_unit_loads_the_file_and_never_flushes():
    text = render("homelab-firewall.service.j2")
    assert "ExecStart=/usr/sbin/nft -f /etc/homelab/firewall.nft" in text
    assert "Before=network-pre.target" in text
    assert "flush" not in text.replace('never runs "flush ruleset"', "")


def test_the_daily_run_is_turned_on():
    assert render("auto-upgrades.j2").splitlines()[1:] == ['APT::Periodic::Update-Package-Lists "1";',
                                                           'APT::Periodic::Unattended-Upgrade "1";']
