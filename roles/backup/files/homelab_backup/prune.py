"""`homelab-backup prune`: retention, applied where the repositories live.

Clients back up to an append-only rest-server and cannot delete anything; the host that
runs it forgets and prunes its clients' snapshots directly in the server's volume, one
keep policy per backup set (a client's service and volume), as the catalog gives it.
"""

import json
import os
import subprocess
import sys

from homelab_backup import config as configuration
from homelab_backup import restic
from homelab_backup.volumes import VolumeError, mountpoint


def prune_args(client, backup_set):
    """`restic forget --prune` of one set, or None when its policy keeps everything.

    --group-by host,tags: the policy counts the set's own snapshots, even when the volume's
    mountpoint (the snapshot's path) changed; pre-restore safety snapshots are a group of
    their own (one more tag) and are kept by the same policy.
    """
    forget = restic.forget_args(backup_set["keep"])
    if forget is None:
        return None
    return (["forget", "--host", client, "--tag", "service:%s,volume:%s" % (backup_set["service"], backup_set["volume"]),
             "--group-by", "host,tags"] + forget[1:] + ["--prune", "--json", "--retry-lock", "5m"])


def forgotten(stdout):
    """(removed, kept) snapshot counts from forget's JSON (its first line; prune's report follows)."""
    groups = json.loads((stdout.splitlines() or ["[]"])[0]) or []
    return (sum(len(group.get("remove") or []) for group in groups),
            sum(len(group.get("keep") or []) for group in groups))


def prune(config):
    """Apply every client's policies; print a line per set; the exit code (1 if any failed)."""
    server = config.get("server")
    if not server:
        raise configuration.ConfigError("server: this host serves no repositories, so it has nothing to prune")
    try:
        root = mountpoint(config, server["volume"])
    except VolumeError as error:
        print("prune: %s" % error, file=sys.stderr)
        return 1
    code = 0
    for client in server["clients"]:
        location = os.path.join(root, client["client"])
        env = dict(os.environ, **restic.restic_environment(location, password_file=client["password_file"]))
        for backup_set in client["sets"]:
            where = "%s: %s/%s" % (client["client"], backup_set["service"], backup_set["volume"])
            args = prune_args(client["client"], backup_set)
            if args is None:
                print("%s: keeps every snapshot" % where)
                continue
            try:
                result = subprocess.run(restic.restic_command(config["restic"], args), env=env, capture_output=True,
                                        text=True, check=False)
            except OSError as error:
                print("%s: FAILED: %s: %s" % (where, config["restic"], error.strerror), file=sys.stderr)
                code = 1
                continue
            error = restic.error_for(result.returncode, result.stderr, "forget --prune", result.stdout)
            if error is not None and error.kind == "no_repository":
                print("%s: no repository yet (the client has not backed up)" % where)
            elif error is not None:
                print("%s: FAILED: %s" % (where, error), file=sys.stderr)
                code = 1
            else:
                print("%s: forgot %d, kept %d snapshots" % ((where,) + forgotten(result.stdout)))
    return code
