"""The command line of /usr/local/sbin/homelab-backup and /usr/local/sbin/homelab-restic.

    homelab-backup run SERVICE [--tag TAG]     back up a service now (exit 0, 3: partial, 1)
    homelab-backup prune                       retention of the clients' repositories (server)
    homelab-backup snapshots SERVICE [--volume V]
    homelab-backup verify [SERVICE...] [--read-data-subset 5%]
    homelab-backup restore SERVICE [--snapshot ID|latest] [--volume V] [--dry-run]
    homelab-restic [--repo NAME] RESTIC-ARGS...  restic with a repository's settings

The configuration is /etc/homelab/backup/config.json, or the file HOMELAB_BACKUP_CONFIG names.
"""

import argparse
import importlib
import json
import os
import sys

from homelab_backup import config as configuration
from homelab_backup import prune, restic, run, snapshots
from homelab_backup.volumes import VolumeError


def parser():
    commands = argparse.ArgumentParser(prog="homelab-backup", description="Backups of this host's catalog volumes.")
    sub = commands.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="back up every volume of a service to every repository")
    run.add_argument("service")
    run.add_argument("--tag", action="append", default=[], help="one more tag on the snapshots")
    sub.add_parser("prune", help="forget and prune the clients' snapshots by their policies (rest-server host)")
    snapshots = sub.add_parser("snapshots", help="a service's snapshots as JSON, per repository")
    snapshots.add_argument("service")
    snapshots.add_argument("--volume")
    verify = sub.add_parser("verify", help="check the repositories and restore each set's latest snapshot")
    verify.add_argument("services", nargs="*")
    verify.add_argument("--read-data-subset", default="5%")
    restore = sub.add_parser("restore", help="restore a service's volumes (after a pre-restore snapshot)")
    restore.add_argument("service")
    restore.add_argument("--snapshot", default="latest")
    restore.add_argument("--volume")
    restore.add_argument("--dry-run", action="store_true")
    return commands


def wrapper_args(argv):
    """(repository name or None, restic's arguments) of `homelab-restic [--repo NAME] ARGS...`:
    read by hand, since argparse would take restic's own options for its own."""
    if argv[:1] == ["--repo"] and len(argv) > 1:
        return argv[1], argv[2:]
    if argv[:1] and argv[0].startswith("--repo="):
        return argv[0][len("--repo="):], argv[1:]
    return None, argv


def main(argv):
    """Run one subcommand (``restic`` is homelab-restic's); its exit code. Expected failures are
    one line on stderr, no traceback."""
    command = argv[0] if argv[:1] == ["restic"] else None
    options = None if command else parser().parse_args(argv)
    command = command or options.command
    try:
        config = configuration.load(os.environ.get("HOMELAB_BACKUP_CONFIG", configuration.DEFAULT_PATH))
        if command == "restic":
            return _restic(config, *wrapper_args(argv[1:]))
        return COMMANDS[command](config, options)
    except (configuration.ConfigError, restic.ResticError, VolumeError) as error:
        print("homelab-%s: %s" % ("restic" if command == "restic" else "backup " + command, error), file=sys.stderr)
        return 1


def _run(config, options):
    return run.run(config, options.service, options.tag)


def _prune(config, _options):
    return prune.prune(config)


def _snapshots(config, options):
    print(json.dumps(snapshots.list_snapshots(config, options.service, options.volume), indent=2))
    return 0


def _part(name):
    """verify and restore, separate modules of the package, imported when asked for: the
    other subcommands work without them."""
    try:
        return importlib.import_module("homelab_backup." + name)
    except ModuleNotFoundError as error:
        if error.name != "homelab_backup." + name:
            raise
        raise configuration.ConfigError("homelab_backup.%s is not installed" % name) from None


def _verify(config, options):
    verify = _part("verify")
    rows = verify.verify(config, services=options.services or None, read_data_subset=options.read_data_subset)
    print(json.dumps(rows, indent=2))
    return 0 if all(row["result"] == "ok" for row in rows) else 1


def _restore(config, options):
    restore = _part("restore")
    try:
        result = restore.restore(config, options.service, snapshot=options.snapshot, volume=options.volume,
                                 dry_run=options.dry_run)
    except restore.RestoreError as error:
        print("homelab-backup restore: %s" % error, file=sys.stderr)
        return 1
    print(json.dumps(result, indent=2))
    return 0


def _restic(config, name, args):
    """exec restic with the repository's environment: its output and exit code are restic's
    own, and the password reaches it only through the environment (a file's name)."""
    repository = configuration.repository(config, name)
    argv = configuration.restic_argv(config, repository, args)
    env = configuration.restic_environment(repository)
    try:
        os.execvpe(argv[0], argv, env)
    except OSError as error:
        raise configuration.ConfigError("restic: %s: %s" % (argv[0], error.strerror)) from None
    return 1  # not reached: exec replaced this process


COMMANDS = {"run": _run, "prune": _prune, "snapshots": _snapshots, "verify": _verify, "restore": _restore}
