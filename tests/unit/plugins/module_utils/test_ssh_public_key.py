"""The base role's key check: a usable OpenSSH public key, or a message that says what it is instead."""

import base64
import struct

import pytest

from ansible_collections.homelab.stack.plugins.filter import ssh_key_problems as ssh_key_problems_plugin
from ansible_collections.homelab.stack.plugins.module_utils.ssh_public_key import key_problem, user_key_problems

ssh_key_problems = ssh_key_problems_plugin.FilterModule().filters()["ssh_key_problems"]

# Made by ssh-keygen -t ed25519 / -t ecdsa (public halves only).
ED25519 = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJbIBHJNsq+QSlezOo190cUtIu7bHGZCx71L3cw9+oBW alice@laptop"
ECDSA = ("ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBGKVgU8cbmET27huSdh+pQ0m2XuBjwc4J"
         "nY8LtoRVsjkbnRFb+Kfa7CQVgYW+vbmWZo1Ei1ExQt1IdP4pH0XVe4=")


def wire(*parts):
    """SSH wire-format strings (uint32 length, bytes), as in a key blob."""
    return b"".join(struct.pack(">I", len(part)) + part for part in parts)


def rsa_key(bits):
    modulus = b"\x00" + b"\xc5" * (bits // 8)  # leading zero: the mpint's sign byte, not a bit of the key
    return "ssh-rsa " + base64.b64encode(wire(b"ssh-rsa", b"\x01\x00\x01", modulus)).decode() + " bob"


@pytest.mark.parametrize("key", [ED25519, ECDSA, ED25519.rsplit(" ", 1)[0], rsa_key(2048), rsa_key(4096),
                                 "  " + ED25519 + "\n"])
def test_real_public_keys_pass(key):
    assert key_problem(key) is None


@pytest.mark.parametrize(("key", "problem"), [
    ("", "is empty"),
    ("-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmU=\n-----END OPENSSH PRIVATE KEY-----",
     "is a private key"),
    ("SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU", "key type 'SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU'"),
    ("ssh-dss AAAAB3NzaC1kc3MAAACBAP", "key type 'ssh-dss' is not one of"),
    ("ssh-ed25519", "no key data"),
    (ED25519[:60] + " alice@laptop", "not a whole base64 OpenSSH key"),
    ("ssh-ed25519 not-base64!", "not a whole base64 OpenSSH key"),
    ("ssh-rsa " + ED25519.split()[1], "the key data is of type 'ssh-ed25519', not 'ssh-rsa'"),
    (rsa_key(1024), "shorter than 2048 bits"),
    (ED25519 + "\n" + ECDSA, "must be one line"),
    (42, "must be a string, got int"),
])
def test_what_is_not_a_key_says_what_is_wrong(key, problem):
    assert problem in key_problem(key)


def test_the_filter_names_user_and_item_and_never_the_key():
    users = [{"name": "alice", "keys": [ED25519]},
             {"name": "bob", "keys": [ECDSA, "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJbIBHJNsq"]},
             {"name": "carol", "keys": []}]
    problems = ssh_key_problems(users)
    assert problems == [
        "base_admin_users[1].keys[1] (user bob): the key data is not a whole base64 OpenSSH key (cut short or mistyped?)",
        "base_admin_users[2].keys: give at least one public key (the user logs in with keys only)",
    ]
    assert not any("AAAAC3" in problem for problem in problems)


def test_a_private_key_never_reaches_the_message():
    private = "-----BEGIN OPENSSH PRIVATE KEY-----\nSECRETSECRET\n-----END OPENSSH PRIVATE KEY-----"
    problems = user_key_problems([{"name": "alice", "keys": [private]}])
    assert len(problems) == 1 and "SECRETSECRET" not in problems[0]


def test_users_that_are_not_a_list_are_refused():
    assert user_key_problems({"name": "alice"}) == ["base_admin_users: must be a list of users, got dict"]
