"""`homelab-backup run SERVICE`: back up every volume of a service to every repository.

A file volume is backed up from its Podman mountpoint; a database volume (``dump``) is
the output of its dump_command, streamed by restic itself (--stdin-from-command), so a
dump that fails makes no snapshot rather than a truncated one. Snapshots carry the
contract's conventions: host = the config's host, tags service:<name> and volume:<name>.
"""

import contextlib
import fcntl
import json
import os
import subprocess
import sys
import time

from homelab_backup import config as configuration
from homelab_backup import metrics, restic
from homelab_backup.volumes import VolumeError, mountpoint

# restic 0.17+ exit code 3: the snapshot exists but lacks files it could not read.
PARTIAL = 3
# A run's status -> the runner's exit code (3 as restic's own, for a partial snapshot).
EXIT_CODES = {"ok": 0, "partial": 3, "failed": 1}
# What to do about the errors restic has an exit code for.
HINTS = {
    "no_repository": "the repository does not exist yet: the backup role initialises it (restic_repository)",
    "locked": "another restic process held the repository's lock for 5 minutes",
    "wrong_password": "the password file does not open this repository",
}


@contextlib.contextmanager
def locked(config, service):
    """One run of ``service`` at a time (a timer's and a manual or restore's): an exclusive
    flock on <state_dir>/<service>.lock, waited for. Not re-entrant: a caller that holds it
    must not call backup_service."""
    os.makedirs(config["state_dir"], mode=0o700, exist_ok=True)
    with open(os.path.join(config["state_dir"], "%s.lock" % service), "a", encoding="utf-8") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


@contextlib.contextmanager
def paused(config, unit, pause):
    """The unit stopped while the block runs when ``pause``, and started again afterwards
    even when the block fails. Raises RuntimeError when it cannot be stopped."""
    if not pause:
        yield
        return
    try:
        _systemctl(config, "stop", unit)
        yield
    finally:
        _systemctl(config, "start", unit)


def backup_args(config, service, volume, extra_tags=(), source=None):
    """`restic backup` for one volume: of ``source`` (a directory), or of the volume's
    dump_command when it has a dump."""
    args = ["backup", "--host", config["host"], "--tag", "service:%s" % service, "--tag", "volume:%s" % volume["volume"]]
    for tag in extra_tags:
        args += ["--tag", tag]
    args += ["--json", "--retry-lock", "5m"]
    if volume.get("dump"):
        return args + ["--stdin-from-command", "--stdin-filename", "%s.sql" % volume["volume"], "--"] + volume["dump_command"]
    return args + [source]


def backup_service(config, service, extra_tags=()):
    """Back up every volume of ``service`` to every repository and write its metrics file.

    Returns ``{"service", "status": "ok"|"partial"|"failed", "snapshots": [{"volume",
    "repository", "status", "snapshot" (full id, or None), "bytes_added",
    "duration_seconds", "message"}], "error"}``: one row per volume and repository;
    ``error`` says why the unit could not be stopped or started again (else None). Raises
    ConfigError for an unknown service or a config without repositories.
    """
    entry = configuration.service(config, service)
    if not config["repositories"]:
        raise configuration.ConfigError("repositories: none configured, nothing to back up to")
    rows, error = [], None
    with locked(config, service):
        try:
            with paused(config, entry["unit"], any(volume.get("pause") for volume in entry["volumes"])):
                for volume in entry["volumes"]:
                    rows += _backup_volume(config, service, volume, extra_tags)
        except RuntimeError as failure:  # the unit could not be stopped, or not started again
            error = str(failure)
        # A volume left out because the unit would not stop failed: a copy of files the
        # service may be writing is not the consistent backup it asked for.
        done = {row["volume"] for row in rows}
        rows += [_row(volume, repository, "failed", message=error) for volume in entry["volumes"]
                 if volume["volume"] not in done for repository in config["repositories"]]
        _write_metrics(config, service, entry, rows)
    statuses = {row["status"] for row in rows}
    status = "failed" if error or "failed" in statuses else "partial" if "partial" in statuses else "ok"
    return {"service": service, "status": status, "snapshots": rows, "error": error}


def run(config, service, extra_tags=()):
    """The `run` subcommand: back up, print a line per volume and repository, return the exit code."""
    result = backup_service(config, service, extra_tags)
    if result["error"]:
        print("%s: FAILED: %s" % (service, result["error"]), file=sys.stderr)
    for row in result["snapshots"]:
        where = "%s -> %s" % (row["volume"], row["repository"])
        if row["status"] == "failed":
            print("%s: FAILED: %s" % (where, row["message"]), file=sys.stderr)
            continue
        line = "%s: snapshot %s, %s added, %.1f s" % (
            where, row["snapshot"][:8], human_size(row["bytes_added"]), row["duration_seconds"])
        if row["status"] == "partial":
            line += " (INCOMPLETE: %s)" % row["message"]
        print(line, file=sys.stderr if row["status"] == "partial" else sys.stdout)
    return EXIT_CODES[result["status"]]


def human_size(size):
    """Bytes as restic prints them: B, KiB, MiB, GiB, TiB."""
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024:
            return "%d B" % size if unit == "B" else "%.1f %s" % (size, unit)
        size /= 1024.0
    return "%.1f TiB" % size


def parse_summary(stdout):
    """The summary object of `restic backup --json` (its last line), or None when it made none."""
    for line in reversed(stdout.splitlines()):
        try:
            message = json.loads(line)
        except ValueError:
            continue
        if isinstance(message, dict) and message.get("message_type") == "summary":
            return message
    return None


def _backup_volume(config, service, volume, extra_tags):
    """One row per repository for ``volume``."""
    source = None
    if not volume.get("dump"):
        try:
            source = mountpoint(config, volume["volume"])
        except VolumeError as error:
            return [_row(volume, repository, "failed", message=str(error)) for repository in config["repositories"]]
    return [_backup_to(config, repository, backup_args(config, service, volume, extra_tags, source), volume)
            for repository in config["repositories"]]


def _backup_to(config, repository, args, volume):
    started = time.monotonic()
    try:
        command = configuration.restic_argv(config, repository, args)
        result = subprocess.run(command, env=configuration.restic_environment(repository), capture_output=True,
                                text=True, check=False)
    except configuration.ConfigError as error:
        return _row(volume, repository, "failed", message=str(error))
    except OSError as error:
        return _row(volume, repository, "failed", message="%s: %s" % (config["restic"], error.strerror))
    duration = time.monotonic() - started
    summary = parse_summary(result.stdout)
    if result.returncode in (0, PARTIAL) and summary and summary.get("snapshot_id"):
        # data_added_packed: what the repository grew by, after compression.
        added = summary.get("data_added_packed", summary.get("data_added", 0))
        partial = result.returncode == PARTIAL
        return _row(volume, repository, "partial" if partial else "ok", summary["snapshot_id"], added, duration,
                    restic.error_detail(result.stderr) if partial else "")
    error = restic.error_for(result.returncode or 1, result.stderr, "backup", result.stdout)
    message = str(error)
    if error.kind in HINTS:
        message += ": " + HINTS[error.kind]
    return _row(volume, repository, "failed", duration=duration, message=message)


def _row(volume, repository, status, snapshot=None, bytes_added=0, duration=0.0, message=""):
    return {"volume": volume["volume"], "repository": repository["name"], "status": status, "snapshot": snapshot,
            "bytes_added": bytes_added, "duration_seconds": duration, "message": message}


def _write_metrics(config, service, entry, rows):
    """One sample set per volume: ok only when every repository got a full snapshot."""
    filename = metrics.path(config, service)
    previous = metrics.read_previous(filename)
    volumes = []
    for volume in entry["volumes"]:
        mine = [row for row in rows if row["volume"] == volume["volume"]]
        statuses = {row["status"] for row in mine}
        status = "failed" if "failed" in statuses or not mine else "partial" if "partial" in statuses else "ok"
        volumes.append(metrics.volume_metrics(previous, volume["volume"], volume["interval_seconds"], status,
                                              sum(row["duration_seconds"] for row in mine),
                                              sum(row["bytes_added"] for row in mine), time.time()))
    metrics.write(filename, service, volumes)


def _systemctl(config, action, unit):
    try:
        result = subprocess.run([config["systemctl"], action, unit], capture_output=True, text=True, timeout=600,
                                check=False)
    except OSError as error:
        raise RuntimeError("%s %s %s: %s" % (config["systemctl"], action, unit, error.strerror)) from None
    if result.returncode != 0:
        raise RuntimeError("%s %s %s: %s (exit %d)" % (config["systemctl"], action, unit,
                                                       result.stderr.strip() or "no message", result.returncode))
