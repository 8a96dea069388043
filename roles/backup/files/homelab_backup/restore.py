"""`homelab-backup restore`: put a service's volumes back as a snapshot holds them.

Everything the restore needs is validated before anything changes (the service, its
volumes, the snapshot and whose it is, the volumes' mountpoints, a dump's completeness):
a typo must never stop a service. Then nothing is lost even when the wrong snapshot is
chosen: the current data is first backed up as a `pre-restore` snapshot (restoring that
one by its id undoes the restore), and only once the runner reports that snapshot complete
in the repository the restore reads is the unit stopped. A file volume is restored with `--delete`, so files added since the
snapshot go too and the volume is the snapshot; a database dump is loaded into the
running database through the volume's load command. The unit is started again whatever
happened. Waiting until the service is healthy is the playbook's job.
"""

import re
import subprocess

from homelab_backup import restic, run
from homelab_backup.volumes import VolumeError, mountpoint
from homelab_backup.verify import CommandError, DumpShape, pipe_dump, restic_run, snapshots

LATEST = "latest"
SAFETY_TAG = "pre-restore"
# restic's snapshot ids are 64 hex digits; a unique prefix of 8 or more (its short id) is accepted
SNAPSHOT_ID = re.compile(r"[0-9a-f]{8,64}")


class RestoreError(Exception):
    """The restore cannot be done as asked, or failed; the message says what and what state is left."""


def restore(config, service, snapshot=LATEST, volume=None, dry_run=False):
    """Restore ``service``'s volumes (only ``volume`` when given) from ``snapshot`` (an id or
    "latest"); returns {"service", "restored", "safety_snapshots", "changed", "dry_run"}.

    An id names one snapshot and so one volume; "latest" takes, per volume, the newest
    snapshot of the set in any repository that is not itself a pre-restore safety snapshot
    (those are restored by their id). ``dry_run`` validates and returns what would be done.
    Raises RestoreError before anything changes when the input is wrong.
    """
    plan = _plan(config, service, snapshot, volume)
    result = {"service": service, "restored": [], "safety_snapshots": [], "changed": False, "dry_run": dry_run}
    if dry_run:
        result["restored"] = [_entry(step) for step in plan]
        unit = config["services"][service]["unit"]
        result["steps"] = (["back up the current data as pre-restore snapshots"]
                           + (["stop %s" % unit] if any(step["kind"] == "files" for step in plan) else [])
                           + ["restore %s from snapshot %s (%s)" % (step["volume"], step["snapshot"]["short_id"],
                                                                    step["kind"]) for step in plan]
                           + (["start %s" % unit] if any(step["kind"] == "files" for step in plan) else []))
        return result
    result["safety_snapshots"] = _safety_snapshots(config, service, plan)
    # the service's backup lock (taken by backup_service too, so only after it): no timer's
    # backup of the volumes while they are being replaced
    with run.locked(config, service):
        result["restored"] = _restore_files(config, service, plan, result["safety_snapshots"])
        for step in (step for step in plan if step["kind"] == "dump"):
            try:
                pipe_dump(config, step["repository"], step["snapshot"]["id"], step["volume"], step["load_command"])
            except (CommandError, restic.ResticError) as error:
                done = "".join("; restored before that: %s" % entry["volume"] for entry in result["restored"])
                raise RestoreError("volume %s: loading the dump of snapshot %s failed: %s%s; %s"
                                   % (step["volume"], step["snapshot"]["short_id"], error, done,
                                      _undo_hint(result["safety_snapshots"]))) from None
            result["restored"].append(_entry(step))
    result["changed"] = bool(result["restored"])
    return result


def _entry(step):
    return {"volume": step["volume"], "snapshot": step["snapshot"]["short_id"], "kind": step["kind"],
            "repository": step["repository"]["name"]}


def _plan(config, service, snapshot, volume):
    """What to restore, one step per volume: {"volume", "kind", "repository", "snapshot",
    "mountpoint" | "load_command"}; raises RestoreError naming the bad input."""
    services = config.get("services") or {}
    if service not in services:
        raise RestoreError("service %s: not backed up on this host (backed-up services: %s)"
                           % (service, ", ".join(sorted(services)) or "none"))
    volumes = {entry["volume"]: entry for entry in services[service].get("volumes") or []}
    if not volumes:
        raise RestoreError("service %s: has no backed-up volume, so there is nothing to restore" % service)
    if volume is not None and volume not in volumes:
        raise RestoreError("volume %s: not a backed-up volume of service %s (its volumes: %s)"
                           % (volume, service, ", ".join(sorted(volumes))))
    if snapshot != LATEST and not SNAPSHOT_ID.fullmatch(str(snapshot)):
        raise RestoreError("snapshot %r: not a snapshot id (8 to 64 hex digits) or %r" % (snapshot, LATEST))
    if snapshot == LATEST:
        chosen = [(name,) + _latest(config, service, name) for name in ([volume] if volume else sorted(volumes))]
    else:
        chosen = [_by_id(config, service, volume, snapshot, volumes)]
    steps = []
    for name, repository, found in chosen:
        entry = volumes[name]
        step = {"volume": name, "repository": repository, "snapshot": found,
                "kind": "dump" if entry.get("dump") else "files"}
        if step["kind"] == "files":
            step["mountpoint"] = _mountpoint(config, name)
        else:
            step["load_command"] = entry.get("load_command")
            if not step["load_command"]:
                raise RestoreError("volume %s: a %s dump has no load_command to restore it with"
                                   % (name, entry.get("dump")))
            if entry.get("dump") == "postgres":
                _check_dump(config, step)
        steps.append(step)
    return steps


def _tag(snapshot, key):
    """The value of a snapshot's ``key:value`` tag (service, volume), or None."""
    for tag in snapshot.get("tags") or []:
        if tag.startswith(key + ":"):
            return tag[len(key) + 1:]
    return None


def _latest(config, service, volume):
    """(repository, snapshot): the newest snapshot of the set in any repository, safety
    snapshots left out."""
    newest = None
    for repository in config["repositories"]:
        found = [entry for entry in _snapshots(config, repository, service, volume)
                 if SAFETY_TAG not in (entry.get("tags") or [])]
        if found and (newest is None or restic.parse_time(found[-1]["time"]) > restic.parse_time(newest[1]["time"])):
            newest = (repository, found[-1])
    if newest is None:
        raise RestoreError("volume %s of service %s: no snapshot to restore in %s"
                           % (volume, service, ", ".join(repo["name"] for repo in config["repositories"])))
    return newest


def _by_id(config, service, volume, snapshot_id, volumes):
    """(volume, repository, snapshot) for an id: it must name exactly one snapshot, made on
    this host, of this service (and of ``volume`` when given)."""
    for repository in config["repositories"]:
        matches = [entry for entry in _snapshots(config, repository, this_host=False)
                   if entry["id"].startswith(snapshot_id)]
        if len(matches) > 1:
            raise RestoreError("snapshot %s: names %d snapshots in %s; give more of its id"
                               % (snapshot_id, len(matches), repository["name"]))
        if not matches:
            continue
        found = matches[0]
        owner = "service %s volume %s on host %s" % (_tag(found, "service"), _tag(found, "volume"), found.get("hostname"))
        if found.get("hostname") != config["host"]:
            raise RestoreError("snapshot %s: belongs to %s, not to this host %s" % (found["short_id"], owner, config["host"]))
        if _tag(found, "service") != service:
            raise RestoreError("snapshot %s: belongs to %s, not to service %s" % (found["short_id"], owner, service))
        name = _tag(found, "volume")
        if volume is not None and name != volume:
            raise RestoreError("snapshot %s: belongs to %s, not to volume %s" % (found["short_id"], owner, volume))
        if name not in volumes:
            raise RestoreError("snapshot %s: belongs to %s, which is no longer a backed-up volume of service %s"
                               % (found["short_id"], owner, service))
        return name, repository, found
    raise RestoreError("snapshot %s: no such snapshot in %s"
                       % (snapshot_id, ", ".join(repo["name"] for repo in config["repositories"])))


def _snapshots(config, repository, service=None, volume=None, this_host=True):
    try:
        return snapshots(config, repository, service, volume, this_host=this_host)
    except (restic.ResticError, CommandError) as error:
        raise RestoreError("repository %s: %s" % (repository["name"], error)) from None


def _mountpoint(config, volume):
    try:
        return mountpoint(config, volume)
    except VolumeError as error:
        raise RestoreError("volume %s: %s" % (volume, error)) from None


def _check_dump(config, step):
    """A pg_dumpall script is loaded into a live database only when it is whole: read it once
    (nothing loaded) and look for its header and its completion footer."""
    shape = DumpShape()
    try:
        pipe_dump(config, step["repository"], step["snapshot"]["id"], step["volume"], inspect=shape)
    except (CommandError, restic.ResticError) as error:
        raise RestoreError("volume %s: the dump of snapshot %s cannot be read: %s"
                           % (step["volume"], step["snapshot"]["short_id"], error)) from None
    problem = shape.problem()
    if problem:
        raise RestoreError("volume %s: snapshot %s %s; not loading it into the database"
                           % (step["volume"], step["snapshot"]["short_id"], problem))


def _safety_snapshots(config, service, plan):
    """Back up the current data tagged pre-restore (the runner's own backup of every volume to
    every repository) and return the safety snapshot of each planned volume in the repository
    it will be restored from. Nothing is stopped or restored unless each one is complete."""
    try:
        outcome = run.backup_service(config, service, extra_tags=[SAFETY_TAG])
    except Exception as error:  # pylint: disable=broad-exception-caught  # whatever failed, nothing may change
        raise RestoreError("service %s: the pre-restore safety backup failed (%s); nothing was stopped or restored"
                           % (service, error)) from None
    made = []
    for step in plan:
        rows = [row for row in outcome["snapshots"]
                if row["volume"] == step["volume"] and row["repository"] == step["repository"]["name"]]
        if outcome.get("error") or not rows or rows[0]["status"] != "ok" or not rows[0]["snapshot"]:
            why = outcome.get("error") or (rows[0]["message"] if rows else "no backup of it was made")
            if rows and rows[0]["status"] == "partial":
                why = "the snapshot lacks files restic could not read: %s" % why
            raise RestoreError("volume %s: no complete pre-restore safety snapshot in %s (%s); nothing was stopped "
                               "or restored" % (step["volume"], step["repository"]["name"], why))
        made.append({"volume": step["volume"], "repository": step["repository"]["name"],
                     "snapshot": rows[0]["snapshot"][:8]})
    return made


def _undo_hint(safety):
    return "the data as it was before is in the pre-restore snapshot(s) %s" % ", ".join(
        "%s (%s in %s)" % (entry["snapshot"], entry["volume"], entry["repository"]) for entry in safety)


def _systemctl(config, verb, unit):
    """None when `systemctl verb unit` succeeded, else why not."""
    command = [config.get("systemctl", "systemctl"), verb, unit]
    try:
        completed = subprocess.run(command, capture_output=True, text=True, check=False)
    except OSError as error:
        return "cannot run %s: %s" % (command[0], error.strerror)
    if completed.returncode != 0:
        return "%s exited %s: %s" % (" ".join(command), completed.returncode, completed.stderr.strip())
    return None


def _restore_files(config, service, plan, safety):
    """Stop the unit, restore each file volume over its mountpoint (`--delete`: the volume
    becomes the snapshot), start the unit again even when a restore failed."""
    steps = [step for step in plan if step["kind"] == "files"]
    if not steps:
        return []
    unit = config["services"][service]["unit"]
    problem = _systemctl(config, "stop", unit)
    if problem:
        started = _systemctl(config, "start", unit)
        raise RestoreError("service %s: stopping %s failed (%s); nothing was restored%s"
                           % (service, unit, problem, "" if started is None else "; starting it again failed too: "
                              + started))
    restored, failure = [], None
    try:
        for step in steps:
            source = "%s:%s" % (step["snapshot"]["id"], step["snapshot"]["paths"][0])
            args = ["restore", source, "--target", step["mountpoint"], "--delete", "--verify"]
            try:
                restic_run(config, step["repository"], args, "restore")
            except (CommandError, restic.ResticError) as error:
                failure = "volume %s: restoring snapshot %s failed: %s" % (
                    step["volume"], step["snapshot"]["short_id"], error)
                break
            restored.append(_entry(step))
    finally:
        started = _systemctl(config, "start", unit)
    if failure or started:
        parts = [failure] if failure else []
        parts.append("%s was started again" % unit if started is None else "starting %s failed: %s" % (unit, started))
        if restored:
            parts.append("restored before that: %s" % ", ".join(entry["volume"] for entry in restored))
        parts.append(_undo_hint(safety))
        raise RestoreError("; ".join(parts))
    return restored
