#!/usr/bin/python
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: internal_ca
short_description: Keep an internal CA and the edge certificate it signs, in one call
version_added: 0.1.0
description:
  - Keeps, in the directory O(path), an ECC CA (C(ca.key) on P-384, C(ca.pem) self-signed, valid O(ca_days) days)
    whose name constraints permit only O(domain) and its subdomains, and the edge's key (C(edge.key) on P-256) with a
    certificate (C(edge.crt)) that the CA signs for C(*.<domain>) with exactly the names O(names), for server
    authentication, valid O(certificate_days) days.
  - "What is kept: a key that is an unencrypted EC key on its curve; a CA certificate of the CA key with the name
    O(name) and those extensions; an edge certificate of the edge key with those names, signed by the current CA and
    valid O(renew_days) days ahead. Anything else is made again: a new CA key or CA certificate reissues the edge
    certificate too. Key identifiers are added to new certificates and not compared."
  - Optionally copies the CA certificate to O(export_path) for clients to trust.
  - "One module call for what the traefik role did with eight community.crypto tasks: a run with nothing to change
    reads the five files and writes nothing. Runs where the CA lives, the controller (C(delegate_to: localhost));
    the CA key never leaves it."
author:
  - homelab.stack maintainers (@homelab-stack)
requirements:
  - python cryptography 3.4 or newer where the module runs
attributes:
  check_mode:
    support: full
    description: Reports what would change and writes nothing; RV(pending) says that keys are still to be made.
  diff_mode:
    support: full
    description: Lists each file that changes, with the subject and end of a certificate, never a key's content.
  platform:
    support: full
    platforms: posix
    description: Any POSIX host with python cryptography; it is meant to run on the controller.
options:
  path:
    description: The directory that keeps the keys and certificates; made with the mode C(0700) when missing.
    type: path
    required: true
  name:
    description: The CA's common name.
    type: str
    required: true
  domain:
    description: The domain the CA may vouch for, and of the edge certificate's wildcard C(*.<domain>).
    type: str
    required: true
  names:
    description: Every DNS name of the edge certificate (its subject alternative names), in order.
    type: list
    elements: str
    required: true
  certificate_days:
    description: How many days a new edge certificate is valid.
    type: int
    required: true
  renew_days:
    description: The edge certificate is reissued when it would no longer be valid this many days ahead.
    type: int
    required: true
  ca_days:
    description: How many days a new CA certificate is valid.
    type: int
    default: 3650
  export_path:
    description: Where to copy the CA certificate (mode C(0644)); nothing is copied when empty.
    type: path
    default: ""
notes:
  - The keys are written with the mode C(0600), the certificates with C(0644), each atomically.
seealso:
  - module: community.crypto.x509_certificate
"""

EXAMPLES = r"""
- name: Keep the internal CA and the edge certificate
  homelab.stack.internal_ca:
    path: "{{ playbook_dir }}/ca"
    name: Homelab internal CA
    domain: home.example.org
    names: ["*.home.example.org", home.example.org, grafana.site-b.home.example.org]
    certificate_days: 365
    renew_days: 30
    export_path: "{{ playbook_dir }}/homelab-ca.pem"
  delegate_to: localhost
  run_once: true
"""

RETURN = r"""
changed_paths:
  description: The directory and files that were made or changed (or would be, in check mode).
  returned: always
  type: list
  elements: str
  sample: [/srv/ca/edge.crt]
pending:
  description: In check mode, whether a key is still to be made, so that no certificate can be issued yet.
  returned: always
  type: bool
  sample: false
"""

import os
import stat
import tempfile

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.homelab.stack.plugins.module_utils import internal_ca

KEYS = (("ca.key", "secp384r1"), ("edge.key", "secp256r1"))


def _read(path):
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except FileNotFoundError:
        return None


def _mode(path):
    try:
        return stat.S_IMODE(os.stat(path).st_mode)
    except FileNotFoundError:
        return None


class Directory:
    """The CA directory's files: each write or mode change noted, none made in check mode."""

    def __init__(self, module, path):
        self.module = module
        self.path = path
        self.changed = []
        self.diff = {"before": "", "after": ""}

    def keep(self, name, content, mode, summary):
        """Make the file ``name`` hold ``content`` (None: as it is) with ``mode``."""
        path = os.path.join(self.path, name) if not os.path.isabs(name) else name
        old = _read(path)
        if content is not None and content != old:
            self.changed.append(path)
            self.diff["before"] += f"{path}: {'absent' if old is None else 'replaced'}\n"
            self.diff["after"] += f"{path}: {summary}\n"
            if not self.module.check_mode:
                descriptor, temporary = tempfile.mkstemp(prefix=".internal_ca.", dir=os.path.dirname(path))
                try:
                    os.chmod(temporary, mode)
                    with os.fdopen(descriptor, "wb") as handle:
                        handle.write(content)
                    self.module.atomic_move(temporary, path, unsafe_writes=False, keep_dest_attrs=False)
                finally:
                    if os.path.exists(temporary):
                        os.unlink(temporary)
                os.chmod(path, mode)
        elif old is not None and _mode(path) != mode:
            self.changed.append(path)
            self.diff["before"] += f"{path}: mode {_mode(path):04o}\n"
            self.diff["after"] += f"{path}: mode {mode:04o}\n"
            if not self.module.check_mode:
                os.chmod(path, mode)


def run(module, options):
    """Keep the directory, keys and certificates; (changed paths, pending, diff)."""
    files = Directory(module, options["path"])
    if _mode(options["path"]) != 0o700:
        files.changed.append(options["path"])
        files.diff["after"] += f"{options['path']}: directory, mode 0700\n"
        if not module.check_mode:
            os.makedirs(options["path"], mode=0o700, exist_ok=True)
            os.chmod(options["path"], 0o700)

    keys = {}
    for name, curve in KEYS:
        old = _read(os.path.join(options["path"], name))
        keys[name] = old if old is not None and internal_ca.key_matches(old, curve) else None
        files.keep(name, keys[name] or internal_ca.new_key(curve), 0o600, f"new {curve} key")
    if module.check_mode and not all(keys.values()):
        # The certificates would be issued for keys that are not there yet.
        return files.changed, True, files.diff
    if not all(keys.values()):
        keys = {name: _read(os.path.join(options["path"], name)) for name, _curve in KEYS}

    ca = _read(os.path.join(options["path"], "ca.pem"))
    ca_kept = internal_ca.ca_matches(ca, keys["ca.key"], options["name"], options["domain"])
    if not ca_kept:
        ca = internal_ca.new_ca(keys["ca.key"], options["name"], options["domain"], options["ca_days"])
    files.keep("ca.pem", ca, 0o644, f"CA {options['name']}, {options['ca_days']} days")

    edge = _read(os.path.join(options["path"], "edge.crt"))
    if not ca_kept or not internal_ca.edge_matches(edge, keys["edge.key"], ca, options["domain"], options["names"],
                                                   options["renew_days"]):
        edge = internal_ca.new_edge(keys["edge.key"], ca, keys["ca.key"], options["domain"], options["names"],
                                    options["certificate_days"])
    files.keep("edge.crt", edge, 0o644,
               f"*.{options['domain']} for {', '.join(options['names'])}, {options['certificate_days']} days")

    if options["export_path"]:
        files.keep(options["export_path"], ca, 0o644, "the CA certificate")
    return files.changed, False, files.diff


def main():
    module = AnsibleModule(
        argument_spec={
            "path": {"type": "path", "required": True},
            "name": {"type": "str", "required": True},
            "domain": {"type": "str", "required": True},
            "names": {"type": "list", "elements": "str", "required": True},
            "certificate_days": {"type": "int", "required": True},
            "renew_days": {"type": "int", "required": True},
            "ca_days": {"type": "int", "default": 3650},
            "export_path": {"type": "path", "default": ""},
        },
        supports_check_mode=True,
    )
    if internal_ca.x509 is None:
        module.fail_json(msg=missing_required_lib("cryptography"))
    options = module.params
    if not options["names"]:
        module.fail_json(msg="names: at least one DNS name is needed")
    if not options["certificate_days"] > options["renew_days"] > 0:
        module.fail_json(msg="certificate_days must be greater than renew_days, which must be greater than 0 "
                             f"(got {options['certificate_days']} and {options['renew_days']})")
    if options["ca_days"] <= 0:
        module.fail_json(msg=f"ca_days: must be greater than 0, got {options['ca_days']}")
    try:
        changed, pending, diff = run(module, options)
    except OSError as error:
        module.fail_json(msg=f"path: {error}")
    module.exit_json(changed=bool(changed), changed_paths=changed, pending=pending, diff=diff)


if __name__ == "__main__":
    main()
