#!/usr/bin/python
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: restic_repository
short_description: Make a restic repository exist and prove that it opens (and optionally that its data is intact)
version_added: 0.1.0
description:
  - Opens the repository with C(restic cat config). When it does not exist, runs C(restic init); an existing
    repository is never initialized again, whatever its state.
  - A repository that exists but does not open with the given password, a backend that cannot be reached or
    refuses the credentials, a repository locked by another restic process and a failed O(check) fail the task
    with a message naming the option to look at (O(password), O(password_file), O(env) or O(repository)).
  - Optionally runs C(restic check), reading a subset of the stored data with O(read_data_subset).
  - Returns the repository's ID, its number of snapshots, the time of the newest one and the bytes it stores.
  - Secrets never appear on restic's command line. The password is given as E(RESTIC_PASSWORD) or
    E(RESTIC_PASSWORD_FILE), the repository as E(RESTIC_REPOSITORY) (a C(rest:) URL may carry a password),
    and O(env) as environment variables.
  - Works with restic 0.14 and newer. restic 0.17 and newer tell errors apart by exit code (10 no repository,
    11 locked, 12 wrong password); older releases exit 1 and the module reads restic's message instead.
author:
  - homelab.stack maintainers (@homelab-stack)
attributes:
  check_mode:
    support: full
    description:
      - Reports that a missing repository would be initialized and initializes nothing.
      - An existing repository is still opened and read, and O(check) still runs on it (C(restic check) changes
        no data; it only takes a lock while it runs).
  diff_mode:
    support: full
    description: Shows whether the repository is initialized before and after (C(initialized) false, then true, for a new one).
  platform:
    support: full
    platforms: posix
    description: Hosts with restic 0.14 or newer installed.
options:
  repository:
    description:
      - Where the repository lives, as restic names it (its C(-r) option).
      - A local path (absolute, or C(local:/path)); C(sftp:[user@]host:/path) or C(sftp://[user@]host[:port]//path);
        C(rest:http://host:port/path) or C(rest:https://...) for restic's REST server; C(s3:host/bucket/path) or
        C(s3:https://host/bucket) for S3 and S3-compatible stores (MinIO, Backblaze B2's S3 API).
      - Any other C(scheme:) prefix is refused. A local path that contains a colon is written as C(./name:x) or
        as an absolute path.
    type: str
    required: true
  password:
    description:
      - The repository's password. Given to restic in its environment, never on its command line; never logged.
      - Exactly one of O(password) and O(password_file) is required.
    type: str
  password_file:
    description:
      - Path on the target of a file holding the repository's password (E(RESTIC_PASSWORD_FILE)); restic ignores
        the white space around it, such as the final newline.
      - Exactly one of O(password) and O(password_file) is required.
    type: path
  cacert:
    description:
      - A PEM file of CA certificates that restic trusts for an HTTPS backend (C(--cacert)), for a REST server or
        S3 store whose certificate is signed by the homelab's own CA.
      - Only for C(rest:https://) and C(s3:) repositories.
    type: path
  env:
    description:
      - Extra environment variables for restic, such as E(AWS_ACCESS_KEY_ID) and E(AWS_SECRET_ACCESS_KEY) for an
        C(s3:) repository (both or neither), or E(AWS_DEFAULT_REGION). Never logged.
      - E(RESTIC_PASSWORD*) and E(RESTIC_REPOSITORY*) are set from the other options and cannot be given here.
    type: dict
    default: {}
  state:
    description:
      - V(present) makes the repository exist (C(restic init) when it does not).
      - There is no V(absent); deleting backups is left to a person.
    type: str
    choices: [present]
    default: present
  check:
    description:
      - Run C(restic check) after making sure the repository exists; a repository with errors fails the task.
      - Without O(read_data_subset) it checks the structure (every pack the index names exists, every snapshot's
        trees are complete), which does not notice a pack whose content was altered.
    type: bool
    default: false
  read_data_subset:
    description:
      - With O(check=true), also read and verify this part of the stored data (C(--read-data-subset)).
      - C(n/t) reads group n of t (C(1/10)); C(x%) a random share (C(5%), C(2.5%)); a size with a
        C(K), C(M), C(G) or C(T) suffix (C(500M)) a random subset of about that many bytes.
    type: str
  summary:
    description:
      - Read the repository's snapshot count, newest snapshot time and stored size (RV(snapshot_count),
        RV(last_snapshot), RV(size_bytes)), which takes two more restic runs, each opening the repository (a key
        derivation).
      - V(false) when only the repository's existence matters (as in the backup role's layer); those values are
        then V(0), V(null) and V(0).
    type: bool
    default: true
  restic_binary:
    description: The restic command, looked up on E(PATH) unless it is a path.
    type: str
    default: restic
notes:
  - The module runs restic on the target; restic writes its cache under E(XDG_CACHE_HOME) (or C(~/.cache/restic))
    unless E(RESTIC_CACHE_DIR) is set (it can be set through O(env)).
  - RV(size_bytes) is the C(raw-data) size of C(restic stats), what the repository stores for its snapshots after
    deduplication and compression, close to what it takes on the backend. The C(restore-size) mode was not chosen
    because it counts data shared by several snapshots once per snapshot, so it grows with every unchanged backup.
seealso:
  - name: restic documentation, Preparing a new repository
    description: The repository locations restic accepts.
    link: https://restic.readthedocs.io/en/stable/030_preparing_a_new_repo.html
  - name: restic documentation, Scripting
    description: Testing whether a repository exists, and restic's exit codes.
    link: https://restic.readthedocs.io/en/stable/075_scripting.html
"""

EXAMPLES = r"""
- name: A local repository whose password is a root-only file
  homelab.stack.restic_repository:
    repository: /srv/backup/restic
    password_file: /etc/homelab/restic/local.password

- name: A repository on the other site's REST server, over HTTPS with the homelab's CA, checked weekly
  homelab.stack.restic_repository:
    repository: "rest:https://backup.site-b.lab.example:8000/{{ inventory_hostname }}/"
    password: "{{ vault_restic_password }}"
    cacert: /etc/homelab/ca.pem
    check: true
    read_data_subset: 5%
  register: offsite

- name: An S3-compatible bucket (MinIO)
  homelab.stack.restic_repository:
    repository: s3:https://minio.lab.example/restic/kronos
    password: "{{ vault_restic_password }}"
    env:
      AWS_ACCESS_KEY_ID: "{{ vault_minio_key_id }}"
      AWS_SECRET_ACCESS_KEY: "{{ vault_minio_secret }}"

- name: Over SFTP
  homelab.stack.restic_repository:
    repository: sftp:backup@nas.lab.example:/volume1/restic/kronos
    password_file: /etc/homelab/restic/nas.password
"""

RETURN = r"""
changed:
  description: Whether the repository was initialized (or would be, in check mode).
  returned: always
  type: bool
initialized:
  description: Whether this task initialized the repository (in check mode, whether it would).
  returned: always
  type: bool
repository_id:
  description: The repository's ID (C(restic cat config)); null in check mode when it does not exist yet.
  returned: always
  type: str
  sample: 188f28962cd45548e00d60ea4758a2cf450d308fe9432cca94ca16665de46f27
snapshot_count:
  description: Number of snapshots in the repository (0 when it does not exist yet, in check mode).
  returned: always
  type: int
  sample: 12
last_snapshot:
  description: Time of the newest snapshot as restic prints it (RFC 3339), or null when there is none.
  returned: always
  type: str
  sample: "2026-12-03T06:12:40.966560387Z"
size_bytes:
  description:
    - Bytes the repository stores for its snapshots, after deduplication and compression
      (C(restic stats --mode raw-data)); data no snapshot refers to any more (until C(restic prune)) is not counted.
  returned: always
  type: int
  sample: 1048576
checked:
  description: Whether C(restic check) ran and found no errors.
  returned: always
  type: bool
commands:
  description:
    - The restic commands run; in check mode also the C(restic init) that would run.
    - They never contain a secret, which restic receives through its environment.
  returned: always
  type: list
  elements: list
  sample: [[restic, cat, config, --no-lock], [restic, init]]
kind:
  description:
    - What went wrong, when restic failed - V(no_repository), V(wrong_password), V(locked), V(unreachable),
      V(denied) (the backend refused the credentials or the files' permissions), V(partial) or V(failed).
  returned: when restic failed
  type: str
  sample: wrong_password
diff:
  description: Whether the repository is initialized, before and after.
  returned: when diff mode is on
  type: dict
  sample: {before: {initialized: false}, after: {initialized: true}}
"""

import os

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.homelab.stack.plugins.module_utils.restic import (
    ResticError,
    check_args,
    check_env,
    check_read_data_subset,
    config_args,
    error_for,
    location_secrets,
    mask_location,
    parse_config,
    parse_repository,
    parse_snapshots,
    parse_stats,
    restic_command,
    restic_environment,
    snapshots_args,
    stats_args,
    uses_tls,
)


def plan(current, wanted):
    """(before, after, actions) for a repository: ``actions`` lists "init" and "check" in order.

    ``current`` is {"initialized": bool} as the repository was found; ``wanted`` holds the
    options state, check and read_data_subset. "init" comes only for a repository that
    does not exist: an existing one is never initialized again.
    """
    before = {"initialized": bool(current["initialized"])}
    after = {"initialized": True}
    actions = []
    if wanted.get("state", "present") == "present" and not before["initialized"]:
        actions.append("init")
    if wanted.get("check"):
        actions.append("check")
    return before, after, actions


def option_problems(params):
    """Problems of the options found without running restic, each naming its option."""
    problems = []
    try:
        backend, _location = parse_repository(params["repository"])
    except ResticError as error:
        return [str(error)]
    problems += check_env(params.get("env"), backend)
    if params.get("cacert") and not uses_tls(params["repository"]):
        problems.append("cacert: only used for rest:https:// and s3: repositories, not %s" % mask_location(params["repository"]))
    if params.get("read_data_subset") is not None:
        try:
            check_read_data_subset(params["read_data_subset"])
        except ResticError as error:
            problems.append(str(error))
        if not params.get("check"):
            problems.append("read_data_subset: only used with check: true")
    if params.get("password") is not None and not params["password"]:
        problems.append("password: must not be empty")
    return problems


class Restic:
    """restic run for one repository: the command line without secrets, the secrets in the environment."""

    def __init__(self, module):
        self.module = module
        params = module.params
        self.binary = self.find_binary(params["restic_binary"])
        self.environment = restic_environment(params["repository"], password=params.get("password"),
                                              password_file=params.get("password_file"), env=params.get("env"))
        self.cacert = params.get("cacert")
        self.location = mask_location(params["repository"])
        self.password_option = "password_file" if params.get("password_file") else "password"
        # where the credentials a backend refuses come from: S3 keys from env, a REST
        # server's user and password from the URL, file permissions from the location
        self.credentials_option = "env" if parse_repository(params["repository"])[0] == "s3" else "repository"
        self.commands = []

    def find_binary(self, name):
        if os.sep in name:
            if not os.access(name, os.X_OK):
                self.module.fail_json(msg="restic_binary: %s is not an executable file" % name)
            return name
        found = self.module.get_bin_path(name, required=False)
        if not found:
            self.module.fail_json(msg="restic_binary: %s was not found on PATH; install restic (Debian: apt-get install "
                                  "restic) or set restic_binary" % name)
        return found

    def run(self, args, record=True):
        """(rc, stdout, stderr) of one restic run; secrets only in its environment."""
        command = restic_command(self.binary, args, self.cacert)
        if record:
            self.commands.append([os.path.basename(self.binary)] + command[1:])
        return self.module.run_command(command, environ_update=self.environment)

    def run_or_fail(self, args, what):
        rc, out, err = self.run(args)
        error = error_for(rc, err, what, out)
        if error is not None:
            self.fail(error, what)
        return out

    def fail(self, error, what):
        """fail_json for a ResticError, naming the option to look at."""
        if error.kind == "wrong_password":
            msg = ("%s: %s does not open with this password (wrong password or no key found); an existing "
                   "repository is never initialized again" % (self.password_option, self.location))
        elif error.kind == "unreachable":
            msg = "repository: cannot reach %s: %s" % (self.location, error)
        elif error.kind == "denied":
            msg = "%s: %s refused access: %s" % (self.credentials_option, self.location, error)
        elif error.kind == "locked":
            msg = "repository: %s is locked by another restic process (see `restic list locks`): %s" % (self.location, error)
        elif error.kind == "no_repository":
            msg = "repository: there is no restic repository at %s: %s" % (self.location, error)
        elif what == "check":
            msg = "repository: restic check found errors in %s: %s" % (self.location, error)
        else:
            msg = "repository: %s" % error
        self.module.fail_json(msg=msg, kind=error.kind, rc=error.rc, stderr=mask_location(error.stderr),
                              commands=self.commands)

    def config(self):
        """The repository's config ({"id", "version"}), or None when there is no repository there."""
        rc, out, err = self.run(config_args())
        error = error_for(rc, err, "cat config", out)
        if error is None:
            return self.parse(parse_config, out)
        if error.kind == "no_repository":
            return None
        self.fail(error, "cat config")
        return None

    def parse(self, parser, text):
        try:
            return parser(text)
        except ResticError as error:
            self.module.fail_json(msg="repository: %s" % error, commands=self.commands)
        return None


def main():
    module = AnsibleModule(
        argument_spec=dict(
            repository=dict(type="str", required=True),
            password=dict(type="str", no_log=True),
            password_file=dict(type="path", no_log=False),
            cacert=dict(type="path"),
            env=dict(type="dict", default={}, no_log=True),
            state=dict(type="str", choices=["present"], default="present"),
            check=dict(type="bool", default=False),
            read_data_subset=dict(type="str"),
            summary=dict(type="bool", default=True),
            restic_binary=dict(type="str", default="restic"),
        ),
        mutually_exclusive=[("password", "password_file")],
        required_one_of=[("password", "password_file")],
        supports_check_mode=True,
    )
    params = module.params
    # a rest: URL's password is hidden like a no_log option, in the invocation and in messages
    module.no_log_values.update(location_secrets(params["repository"]))
    problems = option_problems(params)
    if problems:
        module.fail_json(msg="; ".join(problems))
    if params.get("password_file") and not os.access(params["password_file"], os.R_OK):
        module.fail_json(msg="password_file: %s does not exist or cannot be read" % params["password_file"])
    if params.get("cacert") and not os.access(params["cacert"], os.R_OK):
        module.fail_json(msg="cacert: %s does not exist or cannot be read" % params["cacert"])

    restic = Restic(module)
    config = restic.config()
    before, after, actions = plan({"initialized": config is not None}, params)
    result = dict(changed="init" in actions, initialized="init" in actions, repository_id=None, snapshot_count=0,
                  last_snapshot=None, size_bytes=0, checked=False)
    if "init" in actions:
        if module.check_mode:
            restic.commands.append([os.path.basename(restic.binary), "init"])
        else:
            restic.run_or_fail(["init"], "init")
            config = restic.config()
            if config is None:
                module.fail_json(msg="repository: restic init reported success but %s does not open" % restic.location,
                                 commands=restic.commands)
    if config is not None:
        if "check" in actions:
            subset = params.get("read_data_subset")
            restic.run_or_fail(check_args(check_read_data_subset(subset) if subset else None), "check")
            result["checked"] = True
        result["repository_id"] = config["id"]
        # Each restic run opens the repository, which costs a key derivation (about a second):
        # a repository made by this task has no snapshots, and with none there is nothing to size.
        if "init" not in actions and params["summary"]:
            result.update(restic.parse(parse_snapshots, restic.run_or_fail(snapshots_args(), "snapshots")))
        if result["snapshot_count"] and params["summary"]:
            result.update(restic.parse(parse_stats, restic.run_or_fail(stats_args(), "stats")))
    result["commands"] = restic.commands
    if module._diff:
        result["diff"] = dict(before=before, after=after)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
