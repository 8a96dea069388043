"""A service catalog entry for the catalog's tests."""


def svc(name="web", **fields):
    """A minimal valid service entry with ``fields`` added."""
    entry = {"name": name, "host": "jove", "image": "docker.io/library/nginx:1.27"}
    entry.update(fields)
    return entry


# What a volume's ``backup`` normalises to for each bare schedule (its default retention).
BACKUP = {
    "never": {"schedule": "never", "keep": None, "dump": None, "pause": False},
    "hourly": {"schedule": "hourly", "keep": {"hourly": 72}, "dump": None, "pause": False},
    "daily": {"schedule": "daily", "keep": {"daily": 30}, "dump": None, "pause": False},
    "weekly": {"schedule": "weekly", "keep": {"weekly": 13}, "dump": None, "pause": False},
    "monthly": {"schedule": "monthly", "keep": "all", "dump": None, "pause": False},
}
INTERVAL = {"hourly": 3600, "daily": 86400, "weekly": 604800, "monthly": 2678400}


def backup_set(service, host, volume, mount, schedule):
    """An item of the backup_sets view for a volume with a bare schedule."""
    backup = BACKUP[schedule]
    return {"service": service, "host": host, "volume": volume, "mount": mount, "schedule": schedule,
            "interval_seconds": INTERVAL[schedule], "keep": backup["keep"], "dump": None, "pause": False}
