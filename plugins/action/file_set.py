# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of homelab.stack.file_set: reads each ``src`` on the controller into ``content``.

A directory as ``src`` becomes one file entry per text file under it, so a program of many
files still takes one module call on the host.
"""

from __future__ import annotations

import os

from ansible.errors import AnsibleActionFail, AnsibleError
from ansible.module_utils.common.text.converters import to_text
from ansible.plugins.action import ActionBase

SKIPPED_DIRECTORIES = {"__pycache__"}
SKIPPED_SUFFIXES = (".pyc",)


def expand(entry, source):
    """The file entries of one ``src``: itself, or each file under a directory at its relative path.

    Subdirectories of a source directory become directory entries (mode 0755, the entry's owner).
    Returns (directories, files), both with ``src`` replaced by the file's absolute controller path.
    """
    common = {key: value for key, value in entry.items() if key not in ("src", "path", "content")}
    if not os.path.isdir(source):
        return [], [{**common, "path": entry["path"], "src": source}]
    directories, files = [], []
    for here, subdirectories, names in os.walk(source):
        subdirectories[:] = sorted(d for d in subdirectories if d not in SKIPPED_DIRECTORIES)
        relative = os.path.relpath(here, source)
        target = entry["path"] if relative == "." else os.path.join(entry["path"], relative)
        directories.append({"path": target, "mode": "0755",
                            **{key: common[key] for key in ("owner", "group") if key in common}})
        for name in sorted(names):
            if not name.endswith(SKIPPED_SUFFIXES):
                files.append({**common, "path": os.path.join(target, name), "src": os.path.join(here, name)})
    return directories, files


def read_text(path, where):
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError as error:
        raise AnsibleActionFail(f"{where}.src: cannot read {path}: {error.strerror}") from error
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise AnsibleActionFail(f"{where}.src: {path} is not UTF-8 text; file_set writes text only") from error


class ActionModule(ActionBase):
    TRANSFERS_FILES = False

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        del tmp
        args = dict(self._task.args)
        directories = list(args.get("directories") or [])
        files = []
        for index, entry in enumerate(args.get("files") or []):
            where = f"files[{index}]"
            if not isinstance(entry, dict):
                raise AnsibleActionFail(f"{where}: must be a dictionary, got {type(entry).__name__}")
            if entry.get("src") is None:
                files.append(entry)
                continue
            if entry.get("content") is not None:
                raise AnsibleActionFail(f"{where}: give content or src, not both")
            if not entry.get("path"):
                raise AnsibleActionFail(f"{where}.path: required")
            try:
                source = self._find_needle("files", entry["src"])
            except AnsibleError as error:
                raise AnsibleActionFail(f"{where}.src: {to_text(error.message)}") from error
            more_directories, more_files = expand(entry, source)
            listed = {os.path.normpath(d.get("path") or "") for d in directories}
            directories += [d for d in more_directories if os.path.normpath(d["path"]) not in listed]
            for found in more_files:
                found["content"] = read_text(found.pop("src"), where)
                files.append(found)
        args["directories"], args["files"] = directories, files
        result.update(self._execute_module(module_name="homelab.stack.file_set", module_args=args, task_vars=task_vars))
        return result
