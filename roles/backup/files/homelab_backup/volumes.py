"""Where a Podman volume's data is on the host: what a file backup reads and a restore writes."""

import subprocess


class VolumeError(Exception):
    """Podman could not tell where the volume is (most often: there is no such volume)."""


def mountpoint(config, volume):
    """The host directory of Podman volume ``volume``, asked of Podman each time: a volume
    re-created since the last run has a new one, and a restore must write where it is now."""
    command = [config["podman"], "volume", "inspect", "--format", "{{.Mountpoint}}", volume]
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    except OSError as error:
        raise VolumeError("%s volume inspect %s: %s" % (config["podman"], volume, error.strerror)) from None
    path = result.stdout.strip()
    if result.returncode != 0 or not path:
        raise VolumeError("%s volume inspect %s: %s (exit %d)" % (config["podman"], volume,
                                                                  result.stderr.strip() or "no mountpoint",
                                                                  result.returncode))
    return path
