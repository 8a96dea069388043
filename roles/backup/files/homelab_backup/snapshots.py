"""`homelab-backup snapshots SERVICE`: a service's snapshots in each repository.

The restore playbook checks its input against this list, and restore finds a snapshot
in it: only the snapshots of this host and that service (and volume) are listed.
"""

import json
import subprocess

from homelab_backup import config as configuration
from homelab_backup import restic


def volume_of(tags):
    """The volume a snapshot belongs to, from its volume:<name> tag (None without one)."""
    return next((tag[len("volume:"):] for tag in tags or () if tag.startswith("volume:")), None)


def list_snapshots(config, service, volume=None):
    """``[{"repository", "snapshots": [{"id", "short_id", "time", "volume", "tags"}]}]``, one
    entry per repository, oldest snapshot first. Raises ConfigError for an unknown service or
    volume, restic.ResticError (its message names the repository) when restic fails."""
    entry = configuration.service(config, service)
    volumes = [item["volume"] for item in entry["volumes"]]
    if volume is not None and volume not in volumes:
        raise configuration.ConfigError("service %s: volume %s: not one of its backed-up volumes (%s)"
                                        % (service, volume, ", ".join(volumes)))
    tag = "service:%s" % service + (",volume:%s" % volume if volume else "")
    listing = []
    for repository in config["repositories"]:
        args = ["snapshots", "--json", "--no-lock", "--host", config["host"], "--tag", tag]
        result = subprocess.run(configuration.restic_argv(config, repository, args),
                                env=configuration.restic_environment(repository), capture_output=True, text=True,
                                check=False)
        error = restic.error_for(result.returncode, result.stderr, "snapshots", result.stdout)
        if error is not None:
            raise restic.ResticError(error.kind, "%s: %s" % (repository["name"], error), rc=error.rc)
        found = json.loads(result.stdout or "null") or []
        listing.append({"repository": repository["name"], "snapshots": [
            {"id": item["id"], "short_id": item.get("short_id", item["id"][:8]), "time": item["time"],
             "volume": volume_of(item.get("tags")), "tags": item.get("tags") or []} for item in found]})
    return listing
