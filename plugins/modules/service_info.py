#!/usr/bin/python
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: service_info
short_description: Read what a host runs for the service catalog, in one call
version_added: 0.1.0
description:
  - Reads, without changing anything, the state the M(homelab.stack.quadlet) units and the
    catalog's containers are in on a host, for the C(homelab.stack.service) role to decide
    what starts and what restarts from the actual state rather than from what one run wrote.
  - One C(systemctl show) for every service, one C(podman container inspect) for the
    catalog's containers, one C(podman images) and one C(podman secret inspect) (names,
    labels and times; never secret data), and the unit files' modification times,
    permissions and digests.
    Commands that do not depend on each other run at the same time.
author:
  - homelab.stack maintainers (@homelab-stack)
attributes:
  check_mode:
    support: full
    description: The module only reads; it runs the same in check mode.
  diff_mode:
    support: none
    description: Nothing changes, so there is nothing to show.
  platform:
    support: full
    platforms: posix
    description: Hosts with systemd and Podman 4.4 or newer.
options:
  services:
    description: Names of the container units (without C(.container)) whose state is read.
    type: list
    elements: str
    default: []
  path:
    description: Directory of the unit files.
    type: path
    default: /etc/containers/systemd
notes:
  - Containers are found by the C(homelab.service) label that the catalog's units set.
  - Times are seconds since the epoch on the host's clock, the same clock for unit files,
    containers and secrets.
seealso:
  - module: homelab.stack.quadlet
"""

EXAMPLES = r"""
- name: Read the state of this host's services
  homelab.stack.service_info:
    services: [web, api]
  register: service_state

- name: Show which services systemd has not reloaded since their unit changed
  ansible.builtin.debug:
    msg: "{{ service_state.services | dict2items | selectattr('value.need_daemon_reload') | map(attribute='key') }}"
"""

RETURN = r"""
services:
  description: Per service of O(services), systemd's view of C(<name>.service) and the container it runs.
  returned: always
  type: dict
  sample:
    web:
      load_state: loaded
      active_state: active
      sub_state: running
      need_daemon_reload: false
      container: {created: 1796212085.619142, image_id: 3f1e..., image_name: "localhost/app:latest",
                  health: healthy, running: true}
units:
  description:
    - Every C(.container), C(.volume) and C(.network) file of O(path), with its modification
      time, its permissions, the SHA-256 of its text (as M(homelab.stack.quadlet) reads it)
      and whether it carries the C(X-HomelabManaged=true) marker.
  returned: always
  type: dict
  sample: {web.container: {mtime: 1796212080.1, mode: "0644", digest: 9b0c..., managed: true}}
managed_units:
  description: Paths of the unit files of O(path) that carry the marker, sorted.
  returned: always
  type: list
  elements: str
images:
  description: Image id of every tagged image on the host, by reference.
  returned: always
  type: dict
  sample: {"localhost/app:latest": 3f1e...}
secrets:
  description: Podman secrets with name, labels and the time they were last created or updated; never their data.
  returned: always
  type: list
  elements: dict
  sample: [{name: web-api-token, created: 1796212070.5, labels: {homelab.managed: "true", homelab.service: web}}]
"""

import os
import stat
from concurrent.futures import ThreadPoolExecutor

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.homelab.stack.plugins.module_utils.quadlet import (
    QuadletError,
    read_key,
    read_unit_file,
    regular_file,
    text_digest,
)
from ansible_collections.homelab.stack.plugins.module_utils.service_state import (
    MANAGED_KEY,
    SERVICE_LABEL,
    UNIT_PROPERTIES,
    StateError,
    parse_containers,
    parse_images,
    parse_secrets,
    parse_units,
)

UNIT_SUFFIXES = tuple("." + kind for kind in ("container", "volume", "network"))


def read_units(directory):
    """{file name: {mtime, mode, digest, managed}} of the unit files in ``directory``
    (regular files only).

    The digest is of the text as M(homelab.stack.quadlet) reads it, so the role's plan
    can tell which units that module would rewrite without calling it.
    """
    units = {}
    if not os.path.isdir(directory):
        return units
    for entry in sorted(os.listdir(directory)):
        path = os.path.join(directory, entry)
        if not entry.endswith(UNIT_SUFFIXES) or not regular_file(path):
            continue
        status = os.lstat(path)
        text = read_unit_file(path)
        units[entry] = {"mtime": status.st_mtime, "mode": "%04o" % stat.S_IMODE(status.st_mode),
                        "digest": text_digest(text), "managed": read_key(text, "Unit", MANAGED_KEY) == "true"}
    return units


def run_all(module, commands):
    """Run independent read-only ``commands`` ({what: argv}) at the same time.

    Each podman call pays Podman's own start-up (configuration, storage, locks), which is
    most of a no-op run's time on the host; reads that do not depend on each other need
    not wait for each other. Returns {what: stdout}; fails naming the first that failed.
    """
    with ThreadPoolExecutor(max_workers=max(len(commands), 1)) as pool:
        futures = dict((what, pool.submit(module.run_command, argv)) for what, argv in commands.items())
    outputs = {}
    for what, future in futures.items():
        rc, out, err = future.result()
        if rc != 0:
            module.fail_json(msg="%s failed: %s" % (what, (err or out).strip()))
        outputs[what] = out
    return outputs


def main():
    module = AnsibleModule(
        argument_spec=dict(
            services=dict(type="list", elements="str", default=[]),
            path=dict(type="path", default="/etc/containers/systemd"),
        ),
        supports_check_mode=True,
    )
    services = module.params["services"]
    podman = module.get_bin_path("podman", required=True)
    systemctl = module.get_bin_path("systemctl", required=True)
    try:
        # Two rounds: the lists first, then the inspections of what they found.
        reads = {"podman ps": [podman, "ps", "--all", "--quiet", "--no-trunc", "--filter", "label=" + SERVICE_LABEL],
                 "podman images": [podman, "images", "--format", "json"],
                 "podman secret ls": [podman, "secret", "ls", "--quiet"]}
        if services:
            reads["systemctl show"] = ([systemctl, "show", "--property=" + ",".join(UNIT_PROPERTIES)]
                                       + [name + ".service" for name in services])
        listed = run_all(module, reads)
        ids, secret_ids = listed["podman ps"].split(), listed["podman secret ls"].split()
        inspections = {}
        if ids:
            inspections["podman container inspect"] = [podman, "container", "inspect"] + ids
        if secret_ids:
            inspections["podman secret inspect"] = [podman, "secret", "inspect"] + secret_ids
        inspected = run_all(module, inspections)
        units = parse_units(listed["systemctl show"], services) if services else {}
        containers = parse_containers(inspected["podman container inspect"]) if ids else {}
        images = parse_images(listed["podman images"])
        secrets = parse_secrets(inspected["podman secret inspect"]) if secret_ids else []
    except StateError as error:
        module.fail_json(msg=str(error))
    try:
        files = read_units(module.params["path"])
    except QuadletError as error:
        module.fail_json(msg=str(error))
    module.exit_json(
        changed=False,
        services={name: dict(units[name], container=containers.get(name)) for name in services},
        units=files,
        managed_units=[os.path.join(module.params["path"], name) for name, unit in files.items() if unit["managed"]],
        images=images,
        secrets=secrets,
    )


if __name__ == "__main__":
    main()
