# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The edge's internal CA and its certificate, as X.509 objects (python cryptography).

What the traefik role's internal TLS mode keeps on the controller: an ECC CA (P-384) that
may only vouch for names of the homelab's domain, and the edge's ECC key (P-256) with a
certificate that CA signs for the domain's wildcard and the names it does not cover.
The functions here say whether an existing key or certificate is still the one wanted
(so that a run with nothing to change reissues nothing), and make new ones. The rules are
those of the community.crypto modules the role used before (openssl_privatekey,
x509_certificate with its selfsigned and ownca providers), so that their files are kept:
extensions those modules add (key identifiers) are made too, and not compared.
"""

from __future__ import annotations

import datetime

try:
    from cryptography import x509
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
except ImportError:  # pragma: no cover - the module reports it
    x509 = None

CURVES = {"secp384r1": "SECP384R1", "secp256r1": "SECP256R1"}


def _now():
    return datetime.datetime.now(datetime.timezone.utc)


def key_matches(pem, curve):
    """Whether ``pem`` is an unencrypted EC private key on ``curve`` (a name of CURVES)."""
    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError):
        return False
    return isinstance(key, ec.EllipticCurvePrivateKey) and key.curve.name == curve


def new_key(curve):
    """A new EC private key on ``curve``, as unencrypted PKCS#8 PEM."""
    key = ec.generate_private_key(getattr(ec, CURVES[curve])())
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def _public(key):
    return key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def _extension(certificate, kind):
    try:
        return certificate.extensions.get_extension_for_class(kind)
    except x509.ExtensionNotFound:
        return None


def _ca_extensions(domain):
    """(extension, critical) of the CA: only CAs of no further CA, only names of ``domain``."""
    return [
        (x509.BasicConstraints(ca=True, path_length=0), True),
        (x509.KeyUsage(digital_signature=False, content_commitment=False, key_encipherment=False,
                       data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
                       encipher_only=False, decipher_only=False), True),
        (x509.NameConstraints(permitted_subtrees=[x509.DNSName(domain)], excluded_subtrees=None), False),
    ]


def _edge_extensions(names):
    return [
        (x509.SubjectAlternativeName([x509.DNSName(name) for name in names]), False),
        (x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), False),
    ]


def _has(certificate, extensions):
    for value, critical in extensions:
        found = _extension(certificate, type(value))
        if found is None or found.value != value or found.critical != critical:
            return False
    return True


def _subject(common_name):
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _load(pem):
    try:
        return x509.load_pem_x509_certificate(pem)
    except ValueError:
        return None


def ca_matches(certificate_pem, key_pem, name, domain):
    """Whether ``certificate_pem`` is the CA wanted: self-signed by the key, the name, the extensions."""
    certificate = _load(certificate_pem) if certificate_pem else None
    if certificate is None:
        return False
    key = serialization.load_pem_private_key(key_pem, password=None)
    return (_public(certificate) == _public(key) and certificate.subject == _subject(name)
            and certificate.issuer == certificate.subject and _has(certificate, _ca_extensions(domain)))


def edge_matches(certificate_pem, key_pem, ca_pem, domain, names, renew_days, now=None):
    """Whether ``certificate_pem`` is the edge certificate wanted, and not due for renewal.

    Wanted: the edge key's, for ``*.<domain>`` with exactly ``names``, for server
    authentication, signed by the CA of ``ca_pem``, and still valid ``renew_days`` ahead.
    """
    certificate = _load(certificate_pem) if certificate_pem else None
    if certificate is None:
        return False
    key = serialization.load_pem_private_key(key_pem, password=None)
    ca = _load(ca_pem)
    try:
        certificate.verify_directly_issued_by(ca)
    except (InvalidSignature, ValueError, TypeError):
        return False
    ahead = (now or _now()) + datetime.timedelta(days=renew_days)
    return (_public(certificate) == _public(key) and certificate.subject == _subject("*." + domain)
            and _has(certificate, _edge_extensions(names)) and certificate.not_valid_after_utc >= ahead)


def _build(subject, issuer, public_key, days, extensions, now):
    builder = (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer).public_key(public_key)
               .serial_number(x509.random_serial_number()).not_valid_before(now)
               .not_valid_after(now + datetime.timedelta(days=days)))
    for value, critical in extensions:
        builder = builder.add_extension(value, critical=critical)
    return builder.add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)


def new_ca(key_pem, name, domain, days, now=None):
    """A self-signed CA certificate (PEM) of ``key_pem``, valid ``days``."""
    key = serialization.load_pem_private_key(key_pem, password=None)
    now = now or _now()
    builder = _build(_subject(name), _subject(name), key.public_key(), days, _ca_extensions(domain), now)
    return builder.sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM)


def new_edge(key_pem, ca_pem, ca_key_pem, domain, names, days, now=None):
    """The edge certificate (PEM) of ``key_pem`` for ``names``, signed by the CA, valid ``days``."""
    key = serialization.load_pem_private_key(key_pem, password=None)
    ca = x509.load_pem_x509_certificate(ca_pem)
    ca_key = serialization.load_pem_private_key(ca_key_pem, password=None)
    now = now or _now()
    builder = _build(_subject("*." + domain), ca.subject, key.public_key(), days, _edge_extensions(names), now)
    builder = builder.add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
                                    critical=False)
    return builder.sign(ca_key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM)
