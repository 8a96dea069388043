"""`homelab-backup verify`: the restore drill that proves the backups can be read back.

restic's own `check` proves the repository is consistent; it cannot prove that what a
host backed up is what comes back. So each set's latest snapshot is also restored into a
scratch directory and compared with what the snapshot lists, and each file's content with a
second, independent read of the snapshot (`restic dump`). A database dump is streamed out and
loaded into a scratch database when the configuration says how (``verify_load_command``),
else checked to be a whole pg_dumpall script: a dump cut short by a failing database is
the typical silent loss.

This file also holds the repository helpers restore.py shares (running restic on a
repository, listing a set's snapshots, streaming a dump into a command).
"""

import hashlib
import json
import os
import shutil
import stat
import subprocess
import tarfile
import tempfile
import time

from homelab_backup import config as configuration
from homelab_backup import restic

# pg_dumpall's first and last comment lines (PostgreSQL 9.x to 17): a script without its
# footer was cut off, whatever the reason.
DUMP_HEADER = b"-- PostgreSQL database cluster dump"
DUMP_FOOTER = b"-- PostgreSQL database cluster dump complete"
CHUNK = 1 << 16
# restic's node types (`ls --json`'s "type") as the file system shows them after a restore
NODE_TYPES = ((stat.S_ISREG, "file"), (stat.S_ISDIR, "dir"), (stat.S_ISLNK, "symlink"), (stat.S_ISFIFO, "fifo"),
              (stat.S_ISCHR, "chardev"), (stat.S_ISBLK, "dev"), (stat.S_ISSOCK, "socket"))


class CommandError(Exception):
    """A command of the drill failed; the message is worded for the user, without secrets."""


def restic_process(config, repository, args, **popen):
    """restic started on ``repository`` (a config.json repository entry) with the runner's
    environment and CA file for it: secrets go through the environment, never the command line."""
    try:
        env = configuration.restic_environment(repository)
    except configuration.ConfigError as error:
        raise CommandError(str(error)) from None
    command = configuration.restic_argv(config, repository, args)
    try:
        return subprocess.Popen(command, env=env, **popen)  # pylint: disable=consider-using-with
    except OSError as error:
        raise CommandError("restic: cannot run %s: %s" % (command[0], error.strerror)) from None


def restic_run(config, repository, args, what):
    """stdout of restic ``args`` on ``repository``; raises restic.ResticError worded by error_for."""
    process = restic_process(config, repository, args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    stdout, stderr = process.communicate()
    error = restic.error_for(process.returncode, stderr, what, stdout="" if stderr else stdout)
    if error:
        raise error
    return stdout


def snapshots(config, repository, service=None, volume=None, latest=False, this_host=True):
    """Snapshots in ``repository``, newest last: this host's (every host's unless ``this_host``),
    only the set's when service and volume are given (its tags, as the runner writes them),
    only its newest when ``latest``."""
    args = ["snapshots", "--json", "--no-lock"] + (["--host", config["host"]] if this_host else [])
    if service is not None:
        args += ["--tag", "service:%s,volume:%s" % (service, volume)]
    if latest:
        args += ["--latest", "1"]
    text = restic_run(config, repository, args, "snapshots")
    try:
        found = json.loads(text or "null") or []
    except ValueError:
        raise CommandError("restic snapshots --json: did not print JSON") from None
    return sorted(found, key=lambda snapshot: restic.parse_time(snapshot["time"]))


def dump_path(volume):
    """Where a dump set's stream lives in its snapshot (the runner's --stdin-filename)."""
    return "/%s.sql" % volume


def pipe_dump(config, repository, snapshot_id, volume, command=None, inspect=None):
    """`restic dump` of the set's dump piped into ``command`` (an argv reading stdin; None: read
    only); ``inspect`` sees every chunk on the way. Raises CommandError naming the side that failed.

    Both sides' stderr go to temporary files, not pipes: a process writing much to stderr
    while the other still streams would otherwise block both.
    """
    with tempfile.TemporaryFile() as dump_errors, tempfile.TemporaryFile() as load_errors:
        dumper = restic_process(config, repository, ["dump", snapshot_id, dump_path(volume)],
                                stdout=subprocess.PIPE, stderr=dump_errors)
        loader = None
        if command:
            try:
                loader = subprocess.Popen(command, stdin=subprocess.PIPE,  # pylint: disable=consider-using-with
                                          stdout=subprocess.DEVNULL, stderr=load_errors)
            except OSError as error:
                dumper.kill()
                dumper.wait()
                raise CommandError("%s: cannot run it: %s" % (command[0], error.strerror)) from None
        broken = False
        with dumper.stdout:
            for chunk in iter(lambda: dumper.stdout.read(CHUNK), b""):
                if inspect:
                    inspect(chunk)
                if loader and not broken:
                    try:
                        loader.stdin.write(chunk)
                    except BrokenPipeError:
                        broken = True  # the loader gave up: its own message says why
        dumper.wait()
        if loader:
            try:
                loader.stdin.close()
            except BrokenPipeError:
                pass
            loader.wait()
        error = restic.error_for(dumper.returncode, _read(dump_errors), "dump")
        if error:
            raise CommandError(str(error))
        if loader and loader.returncode != 0:
            raise CommandError("%s exited %s: %s" % (command[0], loader.returncode,
                                                     restic.error_detail(_read(load_errors)) or "no message"))


def _read(stream):
    stream.seek(0)
    return stream.read().decode(errors="replace")


def verify(config, services=None, read_data_subset="5%"):
    """One row per repository and backup set of ``services`` (all when None), each with its
    latest snapshot's age and the drill's result: ok, stale (older than twice its interval),
    missing (no snapshot) or failed (with why in ``detail``).

    Every repository is checked once (`restic check --read-data-subset`); a failed check
    fails every set of that repository, whose data can no longer be trusted. A name in
    ``services`` the host does not back up is a failed row of its own.
    """
    subset = restic.check_read_data_subset(read_data_subset)
    known = config.get("services") or {}
    wanted = list(known) if services is None else list(services)
    rows = []
    for name in wanted:
        if name not in known:
            rows.append(_row(None, name, None, None, "failed", "service %s: not backed up on this host (known: %s)"
                             % (name, ", ".join(sorted(known)) or "none")))
    scratch_root = os.path.join(config["state_dir"], "verify")
    os.makedirs(scratch_root, mode=0o700, exist_ok=True)
    for repository in config["repositories"]:
        try:
            restic_run(config, repository, restic.check_args(subset), "check")
            check_problem = None
        except (restic.ResticError, CommandError) as error:
            check_problem = str(error)
        repository_rows = []
        for name in (name for name in wanted if name in known):
            for volume in known[name].get("volumes") or []:
                row = _verify_set(config, repository, name, volume, scratch_root)
                if check_problem:
                    row["result"] = "failed"
                    row["detail"] = "; ".join(filter(None, (check_problem, row["detail"])))
                repository_rows.append(row)
        if check_problem and not repository_rows:
            repository_rows.append(_row(repository["name"], None, None, None, "failed", check_problem))
        rows += repository_rows
    return rows


def _row(repository, service, volume, snapshot, result, detail, age=None, interval=None):
    return {"repository": repository, "service": service, "volume": volume, "snapshot": snapshot,
            "age_seconds": age, "interval_seconds": interval, "result": result, "detail": detail}


def _verify_set(config, repository, service, volume, scratch_root):
    name, interval = volume["volume"], volume.get("interval_seconds")
    try:
        latest = snapshots(config, repository, service, name, latest=True)
    except (restic.ResticError, CommandError) as error:
        return _row(repository["name"], service, name, None, "failed", str(error), interval=interval)
    if not latest:
        return _row(repository["name"], service, name, None, "missing", "no snapshot of this set", interval=interval)
    snapshot = latest[-1]
    age = max(0, int(time.time() - restic.parse_time(snapshot["time"]).timestamp()))
    row = _row(repository["name"], service, name, snapshot["short_id"], "ok", "", age=age, interval=interval)
    try:
        if volume.get("dump"):
            row["detail"] = _verify_dump(config, repository, snapshot, volume)
        else:
            row["detail"] = _verify_files(config, repository, snapshot, scratch_root)
    except (restic.ResticError, CommandError) as error:
        row.update(result="failed", detail=str(error))
        return row
    if interval and age > 2 * interval:
        row.update(result="stale", detail="latest snapshot is %d s old, more than twice the %d s interval; %s"
                   % (age, interval, row["detail"]))
    return row


def _listing(config, repository, snapshot_id):
    """{path: (type, size)} of every node `restic ls --json` lists for a snapshot."""
    nodes = {}
    for line in restic_run(config, repository, ["ls", "--json", snapshot_id], "ls").splitlines():
        node = json.loads(line) if line.strip() else {}
        if node.get("struct_type") == "node":
            nodes[node["path"]] = (node["type"], node.get("size", 0) if node["type"] == "file" else None)
    return nodes


def _restored(target):
    """{path: (type, size)} of what a restore wrote under ``target``, paths as the snapshot has them."""
    found = {}
    for top, dirs, files in os.walk(target):
        for entry in dirs + files:
            path = os.path.join(top, entry)
            info = os.lstat(path)
            kind = next((name for test, name in NODE_TYPES if test(info.st_mode)), "other")
            found["/" + os.path.relpath(path, target)] = (kind, info.st_size if kind == "file" else None)
    return found


def _dumped_digests(config, repository, snapshot_id):
    """{path: sha256} of every regular file, read through `restic dump` of the whole snapshot.

    One dump as a tar stream rather than one restic process per file: the same independent
    read of the snapshot, in time that does not grow with a process start per file.
    """
    process = restic_process(config, repository, ["dump", "--archive", "tar", snapshot_id, "/"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    digests = {}
    try:
        with tarfile.open(fileobj=process.stdout, mode="r|") as archive:
            for member in archive:
                if member.isfile():
                    digest = hashlib.sha256()
                    stream = archive.extractfile(member)
                    for chunk in iter(lambda: stream.read(CHUNK), b""):
                        digest.update(chunk)
                    digests["/" + member.name.lstrip("/")] = digest.hexdigest()
    except tarfile.TarError as error:
        process.kill()
        stderr = process.communicate()[1].decode(errors="replace")
        raise CommandError("restic dump: not a readable tar stream (%s) %s" % (error, restic.error_detail(stderr)))
    stderr = process.communicate()[1].decode(errors="replace")
    error = restic.error_for(process.returncode, stderr, "dump")
    if error:
        raise error
    return digests


def _sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for chunk in iter(lambda: stream.read(CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _verify_files(config, repository, snapshot, scratch_root):
    """Restore the snapshot into a scratch directory (removed afterwards, even on failure) and
    compare: the same paths, types and sizes as `restic ls`, the same content as `restic dump`."""
    target = tempfile.mkdtemp(prefix="%s-" % snapshot["short_id"], dir=scratch_root)
    try:
        restic_run(config, repository, ["restore", "--verify", snapshot["id"], "--target", target],
                   "restore")
        listed, restored = _listing(config, repository, snapshot["id"]), _restored(target)
        problems = []
        missing = sorted(set(listed) - set(restored))
        extra = sorted(set(restored) - set(listed))
        if missing:
            problems.append("not restored: %s" % ", ".join(missing[:5]))
        if extra:
            problems.append("restored but not in the snapshot: %s" % ", ".join(extra[:5]))
        differ = sorted(path for path in set(listed) & set(restored) if listed[path] != restored[path])
        if differ:
            problems.append("type or size differs from restic ls: %s" % ", ".join(differ[:5]))
        dumped = _dumped_digests(config, repository, snapshot["id"])
        files = sorted(path for path, (kind, _size) in restored.items() if kind == "file")
        unread = [path for path in files if path not in dumped]
        if unread:
            problems.append("not in restic dump: %s" % ", ".join(unread[:5]))
        changed = [path for path in files if path in dumped and _sha256(target + path) != dumped[path]]
        if changed:
            problems.append("content differs from restic dump: %s" % ", ".join(changed[:5]))
        if problems:
            raise CommandError("snapshot %s: %s" % (snapshot["short_id"], "; ".join(problems)))
        size = sum(restored[path][1] for path in files)
        return "restored %d files (%d bytes), sizes and sha256 match" % (len(files), size)
    finally:
        shutil.rmtree(target, ignore_errors=True)


class DumpShape:
    """What a dump stream looked like: its start, its last bytes and its length."""

    def __init__(self):
        self.head, self.tail, self.size = b"", b"", 0

    def __call__(self, chunk):
        if len(self.head) < 256:
            self.head = (self.head + chunk)[:256]
        self.tail = (self.tail + chunk)[-4096:]
        self.size += len(chunk)

    def problem(self):
        """Why the stream is not a whole pg_dumpall script, or None."""
        if DUMP_HEADER not in self.head.splitlines()[:4]:  # a line of its own: the footer starts the same
            return "does not start as a pg_dumpall script"
        if DUMP_FOOTER not in self.tail:
            return "has no %r footer: the dump was cut short" % DUMP_FOOTER.decode()
        return None


def _verify_dump(config, repository, snapshot, volume):
    """Load the dump into a scratch database (``verify_load_command``) or check its shape."""
    shape = DumpShape()
    command = volume.get("verify_load_command")
    pipe_dump(config, repository, snapshot["id"], volume["volume"], command, inspect=shape)
    problem = shape.problem()
    if problem:
        raise CommandError("snapshot %s: %s %s" % (snapshot["short_id"], dump_path(volume["volume"]), problem))
    if command:
        return "dump of %d bytes loaded by %s" % (shape.size, command[0])
    return "dump of %d bytes is a complete pg_dumpall script" % shape.size
