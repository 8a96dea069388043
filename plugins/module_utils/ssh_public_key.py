# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""OpenSSH public keys as one line of ``authorized_keys``: is a text a usable key?

``ansible.posix.authorized_key`` writes whatever it is given, so a pasted private key, a
key cut in two or a fingerprint would reach the host, and the admin would find out only
when the login fails (possibly after password login was switched off). These checks run
in the base role's preflight, before any change.
"""

from __future__ import annotations

import base64
import binascii
import struct

# The key types OpenSSH 9.x/10 accepts by default, with how many wire strings follow the
# type name in the key data (RFC 4253 6.6, RFC 5656 3.1, RFC 8709 4, OpenSSH's PROTOCOL.u2f):
# a key cut short or with bytes appended fails this count. ssh-dss is left out on purpose:
# OpenSSH 10 removed DSA, and 9.x refuses it unless re-enabled.
KEY_FIELDS = {
    "ssh-ed25519": 1,                          # the 32-byte public key
    "ssh-rsa": 2,                              # e, n
    "ecdsa-sha2-nistp256": 2,                  # curve name, point
    "ecdsa-sha2-nistp384": 2,
    "ecdsa-sha2-nistp521": 2,
    "sk-ssh-ed25519@openssh.com": 2,           # key, application
    "sk-ecdsa-sha2-nistp256@openssh.com": 3,   # curve name, point, application
}
KEY_TYPES = tuple(KEY_FIELDS)

# RSA keys below this size are refused by OpenSSH 9.x/10 (RequiredRSASize).
MIN_RSA_BITS = 2048


def _read_string(blob: bytes, offset: int) -> tuple[bytes, int]:
    """One SSH wire-format string (RFC 4251: uint32 length, then the bytes) at ``offset``."""
    if offset + 4 > len(blob):
        raise ValueError("truncated")
    (length,) = struct.unpack(">I", blob[offset:offset + 4])
    end = offset + 4 + length
    if end > len(blob):
        raise ValueError("truncated")
    return blob[offset + 4:end], end


def _fields(blob: bytes, offset: int, count: int) -> list:
    """The ``count`` wire strings from ``offset``, which must be the whole rest of the blob."""
    fields = []
    for _index in range(count):
        field, offset = _read_string(blob, offset)
        fields.append(field)
    if offset != len(blob):
        raise ValueError("trailing data")
    return fields


def key_problem(text: object) -> str | None:
    """What is wrong with ``text`` as a public key line, or None when it is a usable key.

    A line is ``<type> <base64> [comment]`` (options belong in authorized_key's
    ``key_options``, not in the key). The base64 part is decoded and must start with the
    same type name: that is what tells a real key from a truncated or mixed-up paste.
    """
    if not isinstance(text, str):
        return f"must be a string, got {type(text).__name__}"
    if "PRIVATE KEY" in text:
        return "is a private key; give the public one (the .pub file)"
    words = text.split()
    if not words:
        return "is empty"
    if "\n" in text.strip():
        return "must be one line (one key per list item)"
    key_type = words[0]
    if key_type not in KEY_TYPES:
        return f"key type '{key_type}' is not one of {', '.join(KEY_TYPES)}"
    if len(words) < 2:
        return f"has the type '{key_type}' but no key data after it"
    try:
        blob = base64.b64decode(words[1], validate=True)
        inner_type, offset = _read_string(blob, 0)
        if inner_type.decode("ascii", "replace") != key_type:
            return f"the key data is of type '{inner_type.decode('ascii', 'replace')}', not '{key_type}'"
        fields = _fields(blob, offset, KEY_FIELDS[key_type])
        if key_type == "ssh-ed25519" and len(fields[0]) != 32:
            raise ValueError("not an ed25519 key")
        if key_type == "ssh-rsa" and len(fields[1].lstrip(b"\x00")) * 8 < MIN_RSA_BITS:
            return f"RSA key is shorter than {MIN_RSA_BITS} bits; make an ed25519 key (ssh-keygen -t ed25519)"
    except (binascii.Error, ValueError):
        return "the key data is not a whole base64 OpenSSH key (cut short or mistyped?)"
    return None


def user_key_problems(users: object, variable: str = "base_admin_users") -> list:
    """Every bad key of ``users`` (``[{name, keys}]``) as ``<variable>[<i>].keys[<j>]: <problem>``;
    [] when all are keys. Messages name the user, never repeat the key (a pasted private
    key must not reach the output)."""
    if not isinstance(users, (list, tuple)):
        return [f"{variable}: must be a list of users, got {type(users).__name__}"]
    problems = []
    for index, user in enumerate(users):
        keys = user.get("keys") if isinstance(user, dict) else None
        if not isinstance(keys, (list, tuple)) or not keys:
            problems.append(f"{variable}[{index}].keys: give at least one public key (the user logs in with keys only)")
            continue
        for position, key in enumerate(keys):
            problem = key_problem(key)
            if problem:
                problems.append(f"{variable}[{index}].keys[{position}] (user {user.get('name')}): {problem}")
    return problems
