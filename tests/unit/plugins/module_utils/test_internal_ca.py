# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The internal CA's rules: what is kept (so a no-op run reissues nothing) and what is made again."""

import datetime

import pytest
from cryptography import x509

from ansible_collections.homelab.stack.plugins.module_utils import internal_ca

DOMAIN = "lab.test"
NAMES = ["*.lab.test", "lab.test", "who.site-b.lab.test"]


@pytest.fixture(name="pki", scope="module")
def pki_fixture():
    ca_key, edge_key = internal_ca.new_key("secp384r1"), internal_ca.new_key("secp256r1")
    ca = internal_ca.new_ca(ca_key, "Test CA", DOMAIN, 3650)
    edge = internal_ca.new_edge(edge_key, ca, ca_key, DOMAIN, NAMES, 90)
    return {"ca_key": ca_key, "edge_key": edge_key, "ca": ca, "edge": edge}


def test_keys_are_kept_only_on_their_curve():
    key = internal_ca.new_key("secp256r1")
    assert internal_ca.key_matches(key, "secp256r1")
    assert not internal_ca.key_matches(key, "secp384r1")
    assert not internal_ca.key_matches(b"not a key", "secp256r1")


def test_a_new_ca_is_kept_and_may_vouch_only_for_the_domain(pki):
    assert internal_ca.ca_matches(pki["ca"], pki["ca_key"], "Test CA", DOMAIN)
    ca = x509.load_pem_x509_certificate(pki["ca"])
    constraints = ca.extensions.get_extension_for_class(x509.NameConstraints).value
    assert constraints.permitted_subtrees == [x509.DNSName(DOMAIN)]
    basic = ca.extensions.get_extension_for_class(x509.BasicConstraints)
    assert basic.critical and basic.value.ca and basic.value.path_length == 0


@pytest.mark.parametrize(("name", "domain", "key"), [
    ("Other CA", DOMAIN, "ca_key"),
    ("Test CA", "other.test", "ca_key"),
    ("Test CA", DOMAIN, "edge_key"),
])
def test_a_ca_of_another_name_domain_or_key_is_made_again(pki, name, domain, key):
    assert not internal_ca.ca_matches(pki["ca"], pki[key], name, domain)


def test_no_ca_or_garbage_is_made_again(pki):
    assert not internal_ca.ca_matches(None, pki["ca_key"], "Test CA", DOMAIN)
    assert not internal_ca.ca_matches(b"garbage", pki["ca_key"], "Test CA", DOMAIN)


def test_a_new_edge_certificate_is_kept_and_verifies_with_the_ca(pki):
    assert internal_ca.edge_matches(pki["edge"], pki["edge_key"], pki["ca"], DOMAIN, NAMES, 30)
    edge = x509.load_pem_x509_certificate(pki["edge"])
    edge.verify_directly_issued_by(x509.load_pem_x509_certificate(pki["ca"]))
    assert edge.extensions.get_extension_for_class(x509.SubjectAlternativeName).value.get_values_for_type(
        x509.DNSName) == NAMES


def test_the_edge_certificate_is_reissued_for_other_names_a_new_ca_or_its_renewal(pki):
    assert not internal_ca.edge_matches(pki["edge"], pki["edge_key"], pki["ca"], DOMAIN, NAMES[:2], 30)
    other_ca = internal_ca.new_ca(internal_ca.new_key("secp384r1"), "Test CA", DOMAIN, 3650)
    assert not internal_ca.edge_matches(pki["edge"], pki["edge_key"], other_ca, DOMAIN, NAMES, 30)
    assert not internal_ca.edge_matches(pki["edge"], pki["ca_key"], pki["ca"], DOMAIN, NAMES, 30)
    # 90 days valid: kept with a renewal 89 days ahead, reissued with one 91 days ahead.
    assert internal_ca.edge_matches(pki["edge"], pki["edge_key"], pki["ca"], DOMAIN, NAMES, 89)
    assert not internal_ca.edge_matches(pki["edge"], pki["edge_key"], pki["ca"], DOMAIN, NAMES, 91)
    later = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=70)
    assert not internal_ca.edge_matches(pki["edge"], pki["edge_key"], pki["ca"], DOMAIN, NAMES, 30, now=later)
    assert not internal_ca.edge_matches(None, pki["edge_key"], pki["ca"], DOMAIN, NAMES, 30)
