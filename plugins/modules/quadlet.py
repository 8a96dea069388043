#!/usr/bin/python
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: quadlet
short_description: Write Podman Quadlet units, validated by the real generator
version_added: 0.1.0
description:
  - Writes (or removes) Podman Quadlet unit files such as C(web.container), C(data.volume) or
    C(homelab.network), from structured options or raw text.
  - Before a file is written, the Quadlet generator itself checks it in dry-run mode over a copy
    of the unit directory, so a misspelt key, a missing C(Image=) or a reference to a network that
    does not exist fails the task with the generator's message and nothing is written.
  - Reloads systemd after a change, so the generated service can be started at once.
  - Several units can be applied in one call with O(units); they are validated together and
    systemd is reloaded once, which saves a round trip per unit.
  - Requires Podman 4.4 or newer (Quadlet) on the target.
author:
  - homelab.stack maintainers (@homelab-stack)
attributes:
  check_mode:
    support: full
    description: Validation runs in check mode too; nothing is written, removed or reloaded.
  diff_mode:
    support: full
    description: Shows the unit text before and after.
  platform:
    support: full
    platforms: posix
    description: Hosts with systemd and Podman 4.4 or newer.
extends_documentation_fragment:
  - ansible.builtin.files
options:
  name:
    description:
      - Base name of the unit, without its type suffix (C(web) for C(web.container)).
      - Required unless O(units) is given.
    type: str
  type:
    description: Quadlet unit type; it names the file suffix and the main section.
    type: str
    choices: [container, network, volume, pod, image, kube, build]
    default: container
  state:
    description:
      - V(present) writes the unit; V(absent) removes the file, and first stops its service
        when systemd generated that service from this very file (its C(SourcePath=)); a
        service of the same name from another directory or unit is left alone.
    type: str
    choices: [present, absent]
    default: present
  scope:
    description:
      - V(system) for root's units, V(user) for rootless units of the connecting user.
    type: str
    choices: [system, user]
    default: system
  path:
    description:
      - Directory of the unit files.
      - Defaults to C(/etc/containers/systemd) for O(scope=system) and
        C(~/.config/containers/systemd) for O(scope=user).
    type: path
  unit:
    description: Options of the C([Unit]) section, in order.
    type: dict
  spec:
    description:
      - Options of the type's main section (C([Container]), C([Volume]), ...), in order.
      - A value may be a string, number or boolean; a list repeats the key once per item.
      - "For C(Environment), C(Label) and C(Annotation) a dict of C(KEY: value) pairs may be
        given; each pair is quoted so that spaces, quotes, backslashes, C($), C(%) and
        backticks arrive in the container exactly as written. Plain string values are written
        as they are, so systemd specifiers such as C(%h) keep working there."
      - No value, key or O(content) may hold a control character other than TAB (NUL, CR,
        VT, FF, FS/GS/RS, U+0085, ...), U+2028, U+2029 or a lone surrogate. Each ends a line
        or a string for systemd or one of its readers, so the unit would say something else
        than was written. The task fails naming the field, before anything is written.
    type: dict
  service:
    description: Options of the C([Service]) section, in order.
    type: dict
  install:
    description: Options of the C([Install]) section, in order.
    type: dict
  content:
    description:
      - The whole unit file as text, instead of O(unit), O(spec), O(service) and O(install).
    type: str
  units:
    description:
      - Several units applied in order in one call, each a dict with the per-unit options
        O(name), O(type), O(state), O(unit), O(spec), O(service), O(install) and O(content).
      - Write dependencies (networks, volumes) before the units that use them.
    type: list
    elements: dict
  quadlet_executable:
    description:
      - The Quadlet generator used for validation.
      - Found at the standard paths (C(/usr/libexec/podman/quadlet), C(/usr/lib/podman/quadlet))
        when not given.
    type: path
  validate:
    description: Check new unit text with the generator before writing it.
    type: bool
    default: true
  daemon_reload:
    description: Run C(systemctl daemon-reload) (with C(--user) for O(scope=user)) after a change.
    type: bool
    default: true
notes:
  - Files are written atomically, and only when their content or attributes differ; the same
    options always render the same bytes.
  - Units that are already in the directory take part in validation (so references to them
    resolve), but their own errors do not fail this task.
  - O(mode) defaults to V(0644). O(mode), O(owner), O(group), O(path) and every item of
    O(units) are checked before the first file is written.
  - Only regular files are read or replaced at a unit's path; a symbolic link, FIFO,
    directory or device there fails the task before it is opened.
  - A unit name may not end like a unit file (V(data.volume)) and its service name must
    fit systemd's 255 characters.
seealso:
  - name: podman-systemd.unit(5)
    description: The Quadlet unit file format.
    link: https://docs.podman.io/en/latest/markdown/podman-systemd.unit.5.html
"""

EXAMPLES = r"""
- name: A network for the host's services
  homelab.stack.quadlet:
    name: homelab
    type: network
    spec:
      NetworkName: homelab

- name: A container with labels that Traefik reads
  homelab.stack.quadlet:
    name: whoami
    unit:
      Description: whoami demo
      After: homelab-network.service
    spec:
      Image: docker.io/traefik/whoami:v1.10
      Network: homelab.network
      Environment:
        GREETING: "hello $USER, it's 100% literal"
      Label:
        traefik.http.routers.whoami.rule: Host(`whoami.lab.example.com`)
    service:
      Restart: always
    install:
      WantedBy: multi-user.target

- name: A volume and a container in one call, one validation and one reload
  homelab.stack.quadlet:
    units:
      - {name: paperless-data, type: volume, spec: {VolumeName: paperless-data}}
      - name: paperless
        spec:
          Image: ghcr.io/paperless-ngx/paperless-ngx:2.14
          Volume: paperless-data.volume:/usr/src/paperless/data

- name: A unit written as text
  homelab.stack.quadlet:
    name: sleeper
    content: |
      [Container]
      Image=docker.io/library/busybox:1.37
      Exec=sleep infinity

- name: Remove a unit (its service is stopped first)
  homelab.stack.quadlet:
    name: sleeper
    state: absent
"""

RETURN = r"""
changed:
  description: Whether any unit file was written or removed.
  returned: always
  type: bool
path:
  description: Path of the unit file (single-unit form).
  returned: when O(name) is given
  type: str
  sample: /etc/containers/systemd/whoami.container
service_name:
  description: The systemd service the generator makes from the unit (single-unit form).
  returned: when O(name) is given
  type: str
  sample: whoami.service
generated:
  description: The service unit the generator produced, when the unit was validated.
  returned: when O(name) is given and the unit was written or would be written
  type: str
results:
  description: One entry per unit of O(units), with C(name), C(type), C(state), C(changed), C(path), C(service_name) and, when validated, C(generated).
  returned: when O(units) is given
  type: list
  elements: dict
diff:
  description: Before and after text of each changed unit file.
  returned: when changed and diff mode is on
  type: raw
"""

import grp
import os
import pwd
import stat
import tempfile

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible_collections.homelab.stack.plugins.module_utils.quadlet import (
    MINIMUM_PODMAN,
    SECTION_OPTIONS,
    UNIT_MODE,
    QuadletError,
    find_generator,
    parse_unit,
    parse_version,
    read_unit_file,
    service_name,
    unit_filename,
    unit_text,
    validate_units,
)

UNIT_OPTIONS = dict(
    name=dict(type="str"),
    type=dict(type="str", default="container", choices=["container", "network", "volume", "pod", "image", "kube", "build"]),
    state=dict(type="str", default="present", choices=["present", "absent"]),
    unit=dict(type="dict"),
    spec=dict(type="dict"),
    service=dict(type="dict"),
    install=dict(type="dict"),
    content=dict(type="str"),
)


class Unit:
    """One unit file: where it lives, what it holds now and what it should hold."""

    def __init__(self, directory, options, label):
        self.name = options["name"]
        self.type = options.get("type") or "container"
        self.state = options.get("state") or "present"
        self.label = label
        try:
            self.filename = unit_filename(self.name, self.type)
            self.desired = unit_text(options)
        except QuadletError as error:
            raise QuadletError("%s%s" % (label, error))
        self.path = os.path.join(directory, self.filename)
        self.current = read_unit_file(self.path, label)
        self.service_name = service_name(self.name, self.type, self.desired if self.state == "present" else (self.current or ""))
        self.generated = None

    @property
    def content_changes(self):
        if self.state == "absent":
            return self.current is not None
        return self.current != self.desired

    def result(self):
        data = dict(name=self.name, type=self.type, state=self.state, path=self.path, service_name=self.service_name)
        if self.generated is not None:
            data["generated"] = self.generated
        return data

    def diff(self):
        return dict(before=self.current or "", after=self.desired if self.state == "present" else "",
                    before_header=self.path, after_header=self.path)


def unit_options(options, label):
    """Check one item of ``units`` like AnsibleModule checks the top-level options.

    Returns the item with every option present (defaults filled); raises QuadletError
    naming the item and the option.
    """
    if not isinstance(options, dict):
        raise QuadletError("%smust be a mapping of unit options" % label)
    unknown = sorted(str(key) for key in set(options) - set(UNIT_OPTIONS))
    if unknown:
        raise QuadletError("%sunknown option %s (allowed: %s)" % (label, ", ".join(unknown), ", ".join(UNIT_OPTIONS)))
    if not options.get("name"):
        raise QuadletError("%sname is required" % label)
    if options.get("content") is not None and any(options.get(key) is not None for key in SECTION_OPTIONS):
        raise QuadletError("%scontent cannot be combined with unit, spec, service or install" % label)
    checked = ArgumentSpecValidator(UNIT_OPTIONS).validate(options)
    if checked.error_messages:
        raise QuadletError("%s%s" % (label, "; ".join(checked.error_messages)))
    return checked.validated_parameters


def check_file_arguments(module):
    """Refuse a bad mode, owner or group before anything is written, naming the option."""
    mode = module.params["mode"]
    if mode is not None and not isinstance(mode, int):
        try:
            if not str(mode).isdigit():
                # Ansible's own parser of symbolic modes, applied to a stand-in file.
                module._symbolic_mode_to_octal(os.stat_result((stat.S_IFREG | 0o644,) + (0,) * 9), mode)
            elif int(str(mode), 8) > 0o7777:
                raise ValueError(mode)
        except (ValueError, TypeError):
            module.fail_json(msg="mode: %r is not an octal (0644) or symbolic (u=rw,go=r) file mode" % (mode,))
    for option, lookup in (("owner", pwd.getpwnam), ("group", grp.getgrnam)):
        value = module.params[option]
        if value is not None and not str(value).isdigit():
            try:
                lookup(value)
            except KeyError:
                module.fail_json(msg="%s: %r is not a %s on this host" % (option, value, "user" if option == "owner" else "group"))


def unit_directory(module):
    if module.params["path"]:
        return module.params["path"]
    if module.params["scope"] == "user":
        home = os.environ.get("HOME") or pwd.getpwuid(os.getuid()).pw_dir
        return os.path.join(home, ".config", "containers", "systemd")
    return "/etc/containers/systemd"


def require_quadlet(module, generator=None):
    """Fail unless Quadlet is new enough: the generator's own version, else Podman's."""
    if generator:
        rc, out, dummy = module.run_command([generator, "-version"])
        if rc == 0 and parse_version(out):
            found, what = out.strip(), "the Quadlet generator %s is version" % generator
        else:
            generator = None
    if not generator:
        podman = module.get_bin_path("podman")
        if not podman:
            module.fail_json(msg="podman is not installed: Podman %d.%d or newer is needed for Quadlet" % MINIMUM_PODMAN)
        rc, out, err = module.run_command([podman, "--version"])
        if rc != 0 or not parse_version(out):
            module.fail_json(msg="could not read the Podman version: %s" % (err or out).strip())
        found, what = out.strip().split()[-1], "Podman"
    if parse_version(found) < MINIMUM_PODMAN:
        module.fail_json(msg="%s %s found, but Podman %d.%d or newer is needed for Quadlet"
                         % (what, found, MINIMUM_PODMAN[0], MINIMUM_PODMAN[1]))


def write_atomically(module, unit):
    directory = os.path.dirname(unit.path)
    handle, temp = tempfile.mkstemp(prefix=".%s." % unit.filename, dir=directory)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(unit.desired)
        module.atomic_move(temp, unit.path)
    finally:
        if os.path.exists(temp):
            os.unlink(temp)


def systemctl(module, *args):
    command = [module.get_bin_path("systemctl", required=True)]
    if module.params["scope"] == "user":
        command.append("--user")
    return module.run_command(command + list(args))


def generated_from(module, unit):
    """Whether the service systemd knows as ``unit.service_name`` was made from this file.

    Quadlet records the unit file in SourcePath=. A service of the same name that comes
    from elsewhere (another directory, a hand-written unit) is not this call's to stop.
    """
    rc, out, dummy = systemctl(module, "show", "--property=SourcePath", unit.service_name)
    source = parse_unit("[Service]\n" + out).get("Service", {}).get("SourcePath") if rc == 0 else None
    return bool(source) and os.path.realpath(source) == os.path.realpath(unit.path)


def apply_files(module, directory, to_write, to_remove):
    if to_write and not os.path.isdir(directory):
        os.makedirs(directory, 0o755)
    for unit in to_write:
        write_atomically(module, unit)
    for unit in to_remove:
        # A running service outlives its unit file: stop it while systemd still knows
        # it, and forget a failed state (a killed container exits non-zero) so that the
        # host does not stay degraded for a unit that no longer exists. Only a service
        # generated from this very file is stopped.
        if generated_from(module, unit):
            systemctl(module, "stop", unit.service_name)
            systemctl(module, "reset-failed", unit.service_name)
        os.unlink(unit.path)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            UNIT_OPTIONS,
            units=dict(type="list", elements="dict"),
            scope=dict(type="str", default="system", choices=["system", "user"]),
            path=dict(type="path"),
            quadlet_executable=dict(type="path"),
            validate=dict(type="bool", default=True),
            daemon_reload=dict(type="bool", default=True),
        ),
        mutually_exclusive=[("name", "units"), ("content", "unit"), ("content", "spec"), ("content", "service"),
                            ("content", "install"), ("units", "content"), ("units", "spec"), ("units", "unit"),
                            ("units", "service"), ("units", "install")],
        required_one_of=[("name", "units")],
        add_file_common_args=True,
        supports_check_mode=True,
    )
    params = module.params
    directory = unit_directory(module)
    single = params["units"] is None

    # Check every option and parse every unit before touching anything: bad input
    # changes nothing.
    if os.path.exists(directory) and not os.path.isdir(directory):
        module.fail_json(msg="path: %s is not a directory" % directory)
    check_file_arguments(module)
    try:
        if single:
            units = [Unit(directory, params, "")]
        else:
            units = [Unit(directory, unit_options(options, "units[%d]: " % index), "units[%d]: " % index)
                     for index, options in enumerate(params["units"])]
    except QuadletError as error:
        module.fail_json(msg=str(error))
    names = [u.filename for u in units]
    duplicates = sorted(set(n for n in names if names.count(n) > 1))
    if duplicates:
        module.fail_json(msg="units: %s listed more than once" % ", ".join(duplicates))

    to_write = [u for u in units if u.state == "present" and u.content_changes]
    to_remove = [u for u in units if u.state == "absent" and u.content_changes]

    if to_write and not params["validate"]:
        require_quadlet(module)
    if to_write and params["validate"]:
        try:
            generator = find_generator(params["quadlet_executable"])
            require_quadlet(module, generator)
            generated = validate_units(generator, directory, dict((u.filename, u.desired) for u in to_write),
                                       run=lambda args, env: module.run_command(args, environ_update=env),
                                       user=params["scope"] == "user")
        except QuadletError as error:
            module.fail_json(msg=str(error))
        for unit in to_write:
            unit.generated = generated[unit.filename]

    changed_units = set()
    if not module.check_mode:
        try:
            apply_files(module, directory, to_write, to_remove)
        except OSError as error:
            module.fail_json(msg="path: cannot change %s: %s" % (error.filename or directory, error.strerror),
                             changed=True)
    for unit in units:
        unit_changed = unit.content_changes
        if unit.state == "present" and (os.path.exists(unit.path) or not module.check_mode):
            file_args = module.load_file_common_arguments(params, path=unit.path)
            if file_args.get("mode") is None:
                file_args["mode"] = UNIT_MODE
            unit_changed = module.set_fs_attributes_if_different(file_args, unit_changed)
        if unit_changed:
            changed_units.add(unit.filename)
    changed = bool(changed_units)

    if (to_write or to_remove) and params["daemon_reload"] and not module.check_mode:
        rc, out, err = systemctl(module, "daemon-reload")
        if rc != 0:
            module.fail_json(msg="systemctl daemon-reload failed: %s" % (err or out).strip(), changed=True)

    result = dict(changed=changed)
    diffs = [u.diff() for u in units if u.filename in changed_units]
    if module._diff and diffs:
        result["diff"] = diffs[0] if single else diffs
    if single:
        result.update(units[0].result())
        del result["name"], result["type"], result["state"]
    else:
        result["results"] = [dict(u.result(), changed=u.filename in changed_units) for u in units]
    module.exit_json(**result)


if __name__ == "__main__":
    main()
