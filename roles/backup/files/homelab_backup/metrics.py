"""A service's node_exporter textfile, <textfile_dir>/homelab_backup_<service>.prom.

The file is rewritten after each run; the counters and the time of the last good snapshot
live only there, so each run reads them from the previous file and carries them on (a run
that fails must not make the last success look recent, nor reset the failure count).
"""

import os
import re
import tempfile

from homelab_backup import restic

# The samples carried from one run to the next: textfile_metrics' field -> metric name.
CARRIED = {field: name for name, _kind, _help, field in restic.BACKUP_METRICS
           if field in ("last_success", "failures_total", "partial_total")}
# One sample as restic.textfile_metrics writes it: name{service="...",volume="..."} value.
SAMPLE = re.compile(r'(\w+)\{service="((?:[^"\\]|\\.)*)",volume="((?:[^"\\]|\\.)*)"\} (\S+)')


def path(config, service):
    return os.path.join(config["textfile_dir"], "homelab_backup_%s.prom" % service)


def read_previous(filename):
    """{volume: {field: value}} of the CARRIED samples of the previous file; {} when there is
    none. A line that does not parse is left out: that volume's counters restart from 0,
    which Prometheus reads as a counter reset, and a lost last_success shows as stale."""
    try:
        with open(filename, encoding="utf-8") as handle:
            lines = handle.read().splitlines()
    except FileNotFoundError:
        return {}
    fields = {name: field for field, name in CARRIED.items()}
    previous = {}
    for line in lines:
        sample = SAMPLE.fullmatch(line.strip())
        if not sample or sample.group(1) not in fields:
            continue
        try:
            value = float(sample.group(4))
        except ValueError:
            continue
        volume = _unescape(sample.group(3))
        previous.setdefault(volume, {})[fields[sample.group(1)]] = int(value) if value.is_integer() else value
    return previous


def volume_metrics(previous, volume, interval_seconds, status, duration_seconds, bytes_added, now):
    """The textfile_metrics row of ``volume`` after a run whose status is ok, partial or failed:
    only ok moves last_success to ``now``; failed and partial each add one to their counter."""
    before = previous.get(volume, {})
    return {
        "volume": volume,
        "last_success": int(now) if status == "ok" else before.get("last_success"),
        "interval_seconds": interval_seconds,
        "duration_seconds": round(duration_seconds, 3),
        "bytes_added": bytes_added,
        "failures_total": before.get("failures_total", 0) + (status == "failed"),
        "partial_total": before.get("partial_total", 0) + (status == "partial"),
    }


def write(filename, service, volumes):
    """Write the file atomically: node_exporter may read it at any moment, so the text goes to
    a temporary file in the same directory (not named *.prom, which the collector would read)
    and is renamed over the old one."""
    text = restic.textfile_metrics(service, volumes)
    directory = os.path.dirname(filename)
    os.makedirs(directory, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=directory, prefix=".%s." % os.path.basename(filename), suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as output:
            output.write(text)
            output.flush()
            os.fchmod(output.fileno(), 0o644)
            os.fsync(output.fileno())
        os.replace(temporary, filename)
    except BaseException:
        os.unlink(temporary)
        raise


def _unescape(value):
    """A label value back from Prometheus' text format (\\\\, \\" and \\n)."""
    return re.sub(r"\\(.)", lambda escaped: "\n" if escaped.group(1) == "n" else escaped.group(1), value)
