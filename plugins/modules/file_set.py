#!/usr/bin/python
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: file_set
short_description: Make a set of directories and text files what they should be, in one round trip
version_added: 0.1.0
description:
  - Makes each directory of O(directories) exist with its mode, owner and group, in the order given, then writes
    each file of O(files) with its content, mode, owner and group. A file is only written when its content differs,
    and then atomically (a temporary file beside it, renamed over it); a mode, owner or group that differs is set.
  - "One task and one module call for what would otherwise be one C(ansible.builtin.file), C(copy) or C(template)
    call per item: a role that installs a program of many files, its configuration and its units checks them all
    in a single round trip to the host, which is what makes a run that has nothing to change fast."
  - Each file's content is given as text in O(files[].content) (from C(lookup('ansible.builtin.template', ...)) for
    a template), or as O(files[].src), a file or a directory of files on the controller that the action plugin
    reads and turns into content (a role's C(files/) directory is searched first, as C(ansible.builtin.copy) does).
  - Returns the paths it changed, so that a handler or a later task can tell which ones did.
  - A missing directory above a listed path is made with the mode C(0755), owned by the user the module runs as,
    as C(ansible.builtin.file) makes parents; list a directory to give it another mode or owner.
  - "Nothing is removed: a file or directory on the host that is not in the set is left alone."
author:
  - homelab.stack maintainers (@homelab-stack)
attributes:
  action:
    support: full
    description: The action plugin reads O(files[].src) on the controller.
  check_mode:
    support: full
    description: Reports what would change and changes nothing.
  diff_mode:
    support: full
    description: Shows each changed file's content (and each new directory) before and after. Use C(no_log) on a task whose files hold secrets.
  platform:
    support: full
    platforms: posix
    description: Any POSIX host with Python; owners and groups are looked up by name on the host.
options:
  directories:
    description:
      - Directories to make, in this order (a parent before its children).
    type: list
    elements: dict
    default: []
    suboptions:
      path:
        description: Absolute path of the directory.
        type: path
        required: true
      mode:
        description: Its mode, as an octal string such as V("0755").
        type: str
        required: true
      owner:
        description: Its owning user's name.
        type: str
        default: root
      group:
        description: Its group's name.
        type: str
        default: root
  files:
    description:
      - Files to write after the directories are made. Exactly one of O(files[].content) and O(files[].src) per file.
    type: list
    elements: dict
    default: []
    suboptions:
      path:
        description:
          - Absolute path of the file.
          - With a directory as O(files[].src), the directory on the host that receives its files (each at its
            relative path; subdirectories are made with the mode C(0755)).
        type: path
        required: true
      content:
        description: The file's text (UTF-8), written as given.
        type: str
      src:
        description:
          - A text file, or a directory of text files, on the controller, read by the action plugin. A relative path
            is looked up in the role's C(files/) directory first. C(__pycache__) directories and C(.pyc) files are skipped.
        type: path
      mode:
        description: Its mode, as an octal string such as V("0644").
        type: str
        required: true
      owner:
        description: Its owning user's name.
        type: str
        default: root
      group:
        description: Its group's name.
        type: str
        default: root
      validate:
        description:
          - A command that checks the new content before it replaces the file, with C(%s) where the path of a
            temporary file holding it goes (as C(ansible.builtin.copy)'s O(ansible.builtin.copy#module:validate)).
          - When it fails, the task fails naming the file and showing the command's output, the old file is left as it
            was, and no file after it in the list is written. Not run in check mode, when nothing is written.
        type: str
notes:
  - Text files only. A binary file has no place in O(files[].content); use C(ansible.builtin.copy) for it.
seealso:
  - module: ansible.builtin.copy
  - module: ansible.builtin.file
"""

EXAMPLES = r"""
- name: Install the runner, its configuration and its unit
  homelab.stack.file_set:
    directories:
      - {path: /usr/local/lib/homelab-backup, mode: "0755"}
      - {path: /etc/homelab-backup, mode: "0700"}
    files:
      - {path: /usr/local/lib/homelab-backup/homelab_backup, src: homelab_backup, mode: "0644"}
      - {path: /usr/local/sbin/homelab-backup, src: homelab-backup, mode: "0755"}
      - path: /etc/homelab-backup/config.json
        content: "{{ lookup('ansible.builtin.template', 'config.json.j2') }}"
        mode: "0600"
  notify: Reload systemd

- name: Write the passwords (no_log keeps them out of the output and the diff)
  homelab.stack.file_set:
    files:
      - {path: /etc/homelab-backup/site-b.password, content: "{{ backup_password }}", mode: "0600"}
  no_log: true
"""

RETURN = r"""
changed_paths:
  description: The directories and files that were made or changed (or would be, in check mode), in the order given.
  returned: always
  type: list
  elements: str
  sample: [/etc/homelab-backup, /etc/homelab-backup/config.json]
"""

import os
import re
import stat
import tempfile

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_bytes, to_native

try:
    import grp
    import pwd
except ImportError:  # pragma: no cover - not on a POSIX host
    grp = pwd = None

MODE = re.compile(r"^0?[0-7]{3}$|^0[0-7]{4}$")


def plan(wanted, current):
    """What to do to make ``current`` into ``wanted``: a list of 'make', 'write', 'mode', 'owner'.

    Both are dicts: ``kind`` ('directory' or 'file'), ``mode`` (int), ``uid``, ``gid``, and for
    files ``content`` (bytes). ``current`` is None when nothing exists at the path. A new path
    only needs 'make' (it is made with the wanted mode and owner); an existing one lists what
    differs. Pure, so that the rules are tested without a host.
    """
    if current is None:
        return ["make"]
    actions = []
    if wanted["kind"] == "file" and current.get("content") != wanted["content"]:
        actions.append("write")
    if current["mode"] != wanted["mode"]:
        actions.append("mode")
    if (current["uid"], current["gid"]) != (wanted["uid"], wanted["gid"]):
        actions.append("owner")
    return actions


def problems(directories, files, user_ids, group_ids):
    """Each problem of the options as ``<option>[<index>].<field>: <problem>``; ids found are filled in.

    ``user_ids``/``group_ids`` map a name to its id, or to None when the host has no such
    user or group. Every problem is reported at once, before anything changes.
    """
    found = []
    seen = {}
    for option, entries in (("directories", directories), ("files", files)):
        for index, entry in enumerate(entries):
            where = f"{option}[{index}]"
            path = entry["path"]
            if not os.path.isabs(path):
                found.append(f"{where}.path: must be absolute, got {path!r}")
            elif os.path.normpath(path) in seen:
                found.append(f"{where}.path: {path} is already {seen[os.path.normpath(path)]}")
            else:
                seen[os.path.normpath(path)] = where
            if not MODE.match(entry["mode"] or ""):
                found.append(f"{where}.mode: must be an octal string such as '0644', got {entry['mode']!r}")
            if user_ids.get(entry["owner"]) is None:
                found.append(f"{where}.owner: no user {entry['owner']!r} on this host")
            if group_ids.get(entry["group"]) is None:
                found.append(f"{where}.group: no group {entry['group']!r} on this host")
            if option == "files" and entry.get("content") is None:
                found.append(f"{where}.content: required (or src, read by the action plugin)")
    return found


def _lookup(names, getter):
    ids = {}
    for name in names:
        try:
            ids[name] = getter(name)
        except KeyError:
            ids[name] = None
    return ids


def _current(path, kind):
    """The state at ``path`` as plan() reads it, or None when nothing is there."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return None
    is_kind = stat.S_ISDIR(info.st_mode) if kind == "directory" else stat.S_ISREG(info.st_mode)
    if not is_kind:
        return {"kind": "other"}
    current = {"kind": kind, "mode": stat.S_IMODE(info.st_mode), "uid": info.st_uid, "gid": info.st_gid}
    if kind == "file":
        with open(path, "rb") as handle:
            current["content"] = handle.read()
    return current


def _write(module, path, wanted, validate, where):
    """Write a file atomically, with its mode and owner set before it takes the name.

    ``validate`` (a command with %s) checks the temporary file first; a failure fails the
    task and leaves the old file.
    """
    descriptor, temporary = tempfile.mkstemp(prefix=".file_set.", dir=os.path.dirname(path))
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(wanted["content"])
        if validate:
            if "%s" not in validate:
                module.fail_json(msg=f"{where}.validate: must contain %s, where the file to check goes")
            rc, out, err = module.run_command(validate % temporary)
            if rc != 0:
                module.fail_json(msg=f"{where}.validate: {path} failed to validate, so it was not written (rc {rc}): {(err or out).strip()}",
                                 rc=rc, stdout=out, stderr=err)
        os.chown(temporary, wanted["uid"], wanted["gid"])
        os.chmod(temporary, wanted["mode"])
        module.atomic_move(temporary, path, unsafe_writes=False, keep_dest_attrs=False)
        # atomic_move gives a new file the umask's mode: ours is set again.
        os.chown(path, wanted["uid"], wanted["gid"])
        os.chmod(path, wanted["mode"])
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)


def _missing_parents(path, made):
    """The directories above ``path`` that do not exist yet (and are not made by this run), top first."""
    missing = []
    parent = os.path.dirname(path)
    while parent not in made and not os.path.isdir(parent):
        missing.insert(0, parent)
        parent = os.path.dirname(parent)
    return missing


def _diff(path, kind, current, wanted):
    if kind == "directory":
        return {"before_header": path, "after_header": path, "before": "", "after": f"directory {path}\n"}
    before = "" if current is None else to_native(current["content"], errors="surrogate_or_replace")
    return {"before_header": path, "after_header": path, "before": before,
            "after": to_native(wanted["content"], errors="surrogate_or_replace")}


def main():
    entry = {"path": {"type": "path", "required": True}, "mode": {"type": "str", "required": True},
             "owner": {"type": "str", "default": "root"}, "group": {"type": "str", "default": "root"}}
    module = AnsibleModule(
        argument_spec={
            "directories": {"type": "list", "elements": "dict", "default": [], "options": entry},
            "files": {"type": "list", "elements": "dict", "default": [],
                      "options": {**entry, "content": {"type": "str"}, "src": {"type": "path"},
                                  "validate": {"type": "str"}}},
        },
        supports_check_mode=True,
    )
    directories, files = module.params["directories"], module.params["files"]
    for index, wanted in enumerate(files):
        if wanted.get("src") is not None:
            module.fail_json(msg=f"files[{index}].src: is read by the action plugin; run the module as homelab.stack.file_set")
    entries = directories + files
    user_ids = _lookup({e["owner"] for e in entries}, lambda name: pwd.getpwnam(name).pw_uid)
    group_ids = _lookup({e["group"] for e in entries}, lambda name: grp.getgrnam(name).gr_gid)
    found = problems(directories, files, user_ids, group_ids)
    if found:
        module.fail_json(msg="; ".join(found), problems=found)

    changed, diffs, made = [], [], set()
    for kind, entries_of_kind in (("directory", directories), ("file", files)):
        for index, item in enumerate(entries_of_kind):
            path = os.path.normpath(item["path"])
            option = "directories" if kind == "directory" else "files"
            for parent in _missing_parents(path, made):
                changed.append(parent)
                made.add(parent)
                if not module.check_mode:
                    os.mkdir(parent, 0o755)
                    os.chmod(parent, 0o755)
            wanted = {"kind": kind, "mode": int(item["mode"], 8), "uid": user_ids[item["owner"]], "gid": group_ids[item["group"]]}
            if kind == "file":
                wanted["content"] = to_bytes(item["content"], errors="surrogate_or_strict")
            current = _current(path, kind)
            if current is not None and current["kind"] == "other":
                module.fail_json(msg=f"{option}[{index}].path: {path} exists and is not a {kind}")
            actions = plan(wanted, current)
            if not actions:
                continue
            changed.append(path)
            if kind == "directory" and current is None:
                made.add(path)
            if module._diff and ("make" in actions or "write" in actions):
                diffs.append(_diff(path, kind, current, wanted))
            if module.check_mode:
                continue
            if kind == "file" and ("make" in actions or "write" in actions):
                _write(module, path, wanted, item.get("validate"), f"{option}[{index}]")
                continue
            if "make" in actions:
                os.mkdir(path, wanted["mode"])
            if "owner" in actions or "make" in actions:
                os.chown(path, wanted["uid"], wanted["gid"])
            if "mode" in actions or "make" in actions:
                os.chmod(path, wanted["mode"])  # mkdir's mode is filtered by the umask

    module.exit_json(changed=bool(changed), changed_paths=changed, diff=diffs)


if __name__ == "__main__":
    main()
