# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""restic's command line: repositories, their environment, exit codes and JSON output.

restic (https://restic.net) is driven through its CLI only. This file owns what the
collection must know about that interface: which repository locations it accepts,
how secrets reach restic without ever being on a command line, how an exit code and
restic's messages become one clear kind of error (restic 0.17+ has distinct exit codes,
older releases such as Debian 12's 0.14 say everything with 1 and a message), and the
shapes of ``cat config``, ``snapshots --json`` and ``stats --json``.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timezone
from urllib.parse import urlsplit, urlunsplit

# Schemes the collection supports and tests; restic knows more (b2:, azure:, gs:, swift:,
# rclone:), but a location the collection has never exercised is refused rather than
# half-supported. B2 and MinIO are reached through their S3-compatible API (s3:).
SCHEMES = ("local", "sftp", "rest", "s3")

# restic reads a "scheme:" prefix as a backend name; anything else is a local path.
SCHEME_PREFIX = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*):")

# Variables through which restic could receive a password or repository other than the
# one the module gives: each is set (empty when unused; restic treats empty as unset) so
# that a value inherited from the caller's environment never wins.
PASSWORD_VARIABLES = ("RESTIC_PASSWORD", "RESTIC_PASSWORD_FILE", "RESTIC_PASSWORD_COMMAND")
REPOSITORY_VARIABLES = ("RESTIC_REPOSITORY", "RESTIC_REPOSITORY_FILE")
S3_CREDENTIALS = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")
ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")

# Exit codes of restic 0.17+ (restic's "Scripting" documentation); anything else that is
# not 0 is a failure, as that documentation demands for codes it may add later.
EXIT_CODES = {3: "partial", 10: "no_repository", 11: "locked", 12: "wrong_password"}
KINDS = ("no_repository", "wrong_password", "locked", "unreachable", "denied", "partial", "failed")

# Before 0.17 every error exits 1: the kind is read from the message (0.17+ too exits 1 for
# an unreachable or refusing backend). Order matters: a backend that cannot be reached or
# refuses the credentials also says "Is there a repository at the following location?"
# (rest: and s3: fail on the config file's HEAD request), so those are decided first;
# taking a refusal for a missing repository would send the module to `restic init`.
MESSAGES = (
    ("wrong_password", ("wrong password or no key found",)),
    ("locked", ("repository is already locked", "unable to create lock")),
    ("unreachable", ("connection refused", "no such host", "dial tcp", "i/o timeout", "no route to host",
                     "network is unreachable", "connection reset", "unable to start the sftp session",
                     "tls handshake", "x509:", "certificate signed by unknown authority", "server gave http response")),
    ("denied", ("401 unauthorized", "403 forbidden", "access denied", "invalidaccesskeyid",
                "signaturedoesnotmatch", "permission denied")),
    ("no_repository", ("repository does not exist", "is there a repository at the following location?",
                       "unable to open config file")),
)

# --read-data-subset accepts n/t (one of t groups), x% or x.y% (a random share) and a
# size with a k/m/g/t suffix (restic 0.14+).
SUBSET_GROUP = re.compile(r"(\d+)/(\d+)")
SUBSET_PERCENT = re.compile(r"(\d+(?:\.\d+)?)%")
SUBSET_SIZE = re.compile(r"\d+[kKmMgGtT]")

# forget's keep policy: one --keep-<key> flag per key; a value is a count or KEEP_ALL, which
# restic (0.16+) spells "unlimited". A policy that is KEEP_ALL as a whole forgets nothing.
KEEP_KEYS = ("last", "hourly", "daily", "weekly", "monthly", "yearly")
KEEP_ALL = "all"

# The backup layer's node_exporter textfile metrics: (name, type, help, the field of
# textfile_metrics' volumes it shows), in output order.
# Every sample has the labels service and volume (the monitoring contract's BackupStale
# joins last success and interval on them).
BACKUP_METRICS = (
    ("homelab_backup_last_success_timestamp_seconds", "gauge",
     "Unix time of the volume's last good snapshot (0: none yet).", "last_success"),
    ("homelab_backup_interval_seconds", "gauge", "Period of the volume's backup schedule.", "interval_seconds"),
    ("homelab_backup_duration_seconds", "gauge", "How long the volume's last backup run took.", "duration_seconds"),
    ("homelab_backup_bytes_added", "gauge", "Bytes the volume's last snapshot added to the repository.",
     "bytes_added"),
    ("homelab_backup_failures_total", "counter", "Failed backup runs of the volume.", "failures_total"),
    # restic exit 3: a snapshot was made but some files could not be read; neither a
    # success (last_success stays) nor a failure, so it is counted on its own.
    ("homelab_backup_partial_total", "counter",
     "Backup runs of the volume whose snapshot lacks files restic could not read (exit 3).", "partial_total"),
)


class ResticError(Exception):
    """restic failed; ``kind`` is one of KINDS, the message is worded for the user."""

    def __init__(self, kind, message, rc=None, stderr=""):
        super().__init__(message)
        self.kind = kind
        self.rc = rc
        self.stderr = stderr


def parse_repository(location):
    """(backend, location) of a repository as restic names it, or raise ResticError.

    A location without a scheme is a local path (restic's own rule); ``local:`` is the
    same. rest: must carry an http(s) URL and s3: a host and bucket, because restic's
    own errors for these are obscure ("invalid backend" or a DNS error much later).
    """
    location = (location or "").strip()
    if not location:
        raise ResticError("failed", "repository: must not be empty")
    prefix = SCHEME_PREFIX.match(location)
    if not prefix:
        return "local", location
    scheme = prefix.group(1).lower()
    rest = location[prefix.end():]
    if scheme not in SCHEMES:
        raise ResticError("failed", "repository: unknown scheme %r in %s; use a local path, sftp:, rest: or s3: (a local "
                          "path with a colon is written ./NAME or as an absolute path)"
                          % (prefix.group(1), mask_location(location)))
    if not rest:
        raise ResticError("failed", "repository: %s names no location after the scheme" % location)
    if scheme == "rest":
        url = urlsplit(rest)
        if url.scheme not in ("http", "https") or not url.hostname:
            raise ResticError("failed", "repository: a rest: repository is rest:http://HOST[:PORT]/[PATH] or "
                              "rest:https://..., not %s" % mask_location(location))
    if scheme == "s3" and "/" not in rest.split("://", 1)[-1].strip("/"):
        raise ResticError("failed", "repository: an s3: repository is s3:HOST/BUCKET[/PATH] or s3:https://HOST/BUCKET, "
                          "not %s" % location)
    if scheme == "sftp" and not rest.split("//", 1)[-1].split(":", 1)[0].split("/", 1)[0]:
        raise ResticError("failed", "repository: an sftp: repository is sftp:[USER@]HOST:PATH or "
                          "sftp://[USER@]HOST[:PORT]//PATH, not %s" % location)
    return scheme, location


def uses_tls(location):
    """Whether restic talks HTTPS to this repository, so that a CA file (--cacert) applies.

    s3: without a URL scheme is HTTPS too (restic's default for a bare host).
    """
    backend, location = parse_repository(location)
    if backend not in ("rest", "s3"):
        return False
    rest = location.split(":", 1)[1]
    if backend == "rest":
        return rest.startswith("https://")
    return not rest.startswith("http://")


def mask_location(text):
    """``text`` with the password of any URL in it (rest:https://user:SECRET@host/) shown as ********.

    rest-server's basic auth lives in the repository URL, and restic prints the location
    in its errors; a message must not carry it on to Ansible's output.
    """
    def hide(match):
        url = urlsplit(match.group(0))
        if url.password is None:
            return match.group(0)
        netloc = "%s:********@%s" % (url.username or "", url.netloc.rsplit("@", 1)[1])
        return urlunsplit((url.scheme, netloc, url.path, url.query, url.fragment))
    return re.sub(r"https?://[^\s\"']+", hide, text or "")


def location_secrets(location):
    """The passwords of the URLs in a repository location (rest:https://user:SECRET@host/), for
    Ansible to hide wherever it shows the options: ``repository`` itself cannot be no_log, or
    every message about it would be unreadable."""
    return [urlsplit(match).password for match in re.findall(r"https?://[^\s\"']+", location or "")
            if urlsplit(match).password]


def check_env(env, backend):
    """Problems of the ``env`` option (extra variables for restic, such as S3 credentials), or []."""
    problems = []
    for name in sorted(env or {}):
        if not ENV_NAME.fullmatch(name):
            problems.append("env: %r is not an environment variable name" % name)
        elif name in PASSWORD_VARIABLES + REPOSITORY_VARIABLES:
            problems.append("env: %s is set by the module from the repository, password and password_file options"
                            % name)
    given = [name for name in S3_CREDENTIALS if (env or {}).get(name)]
    if backend == "s3" and len(given) == 1:
        problems.append("env: an s3: repository needs both %s; only %s is given" % (" and ".join(S3_CREDENTIALS), given[0]))
    return problems


def restic_environment(location, password=None, password_file=None, env=None):
    """The variables to add to restic's environment: repository, password and ``env``.

    Secrets travel here and never on the command line, where any user can read them in
    /proc/PID/cmdline: the password as RESTIC_PASSWORD or a file named by
    RESTIC_PASSWORD_FILE, the repository as RESTIC_REPOSITORY (a rest: URL may carry
    a password), S3 keys as AWS_* variables from ``env``.
    """
    result = {name: "" for name in PASSWORD_VARIABLES + REPOSITORY_VARIABLES}
    result.update({name: str(value) for name, value in (env or {}).items()})
    result["RESTIC_REPOSITORY"] = location
    if password_file:
        result["RESTIC_PASSWORD_FILE"] = password_file
    else:
        result["RESTIC_PASSWORD"] = password or ""
    return result


def restic_command(binary, args, cacert=None):
    """restic's argument list: the binary, global flags, then ``args``; never a secret."""
    command = [binary]
    if cacert:
        command += ["--cacert", cacert]
    return command + list(args)


def config_args():
    """`cat config`: the cheapest call that opens the repository, so it tells apart a
    missing repository, a wrong password and an unreachable backend (restic's documented
    way to test whether a repository is initialized). No lock: it only reads."""
    return ["cat", "config", "--no-lock"]


def snapshots_args():
    return ["snapshots", "--json", "--no-lock"]


def stats_args():
    """`stats` in raw-data mode: bytes the repository stores for its snapshots (after
    deduplication and compression), close to what fills the backend; restore-size would
    count the same data once per snapshot and grow with every unchanged backup."""
    return ["stats", "--json", "--mode", "raw-data", "--no-lock"]


def check_args(read_data_subset=None):
    """`check`, reading a subset of the data packs when asked: only reading data finds a
    pack whose content was altered; the structure check alone finds missing packs."""
    args = ["check"]
    if read_data_subset:
        args.append("--read-data-subset=%s" % read_data_subset)
    return args


def forget_args(keep):
    """`forget` with the keep flags of a policy (``{"daily": 30, "monthly": "all"}``), or None
    when the policy is KEEP_ALL: nothing is to be forgotten, so the caller runs no forget at
    all (restic has no flag that keeps every snapshot, and a forget without keep flags is
    not a policy to rely on).

    Flags follow KEEP_KEYS order; the caller adds the snapshot selection (--tag, --host,
    --group-by) and --prune. Raises ResticError for an unknown key or a count below 1.
    """
    if keep == KEEP_ALL:
        return None
    if not isinstance(keep, dict) or not keep:
        raise ResticError("failed", "keep: must be a mapping of %s or %r, not %r" % (", ".join(KEEP_KEYS), KEEP_ALL, keep))
    unknown = sorted(str(key) for key in keep if key not in KEEP_KEYS)
    if unknown:
        raise ResticError("failed", "keep: %s is not one of %s" % (", ".join(unknown), ", ".join(KEEP_KEYS)))
    args = ["forget"]
    for key in (key for key in KEEP_KEYS if key in keep):
        value = keep[key]
        if value == KEEP_ALL:
            value = "unlimited"
        elif isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ResticError("failed", "keep.%s: %r is not a positive integer or %r" % (key, value, KEEP_ALL))
        args += ["--keep-%s" % key, str(value)]
    return args


def check_read_data_subset(value):
    """``value`` normalised for --read-data-subset (n/t, x%, or a size like 500M), or raise ResticError."""
    text = str(value).strip()
    group = SUBSET_GROUP.fullmatch(text)
    if group:
        part, total = int(group.group(1)), int(group.group(2))
        if 1 <= part <= total:
            return text
    percent = SUBSET_PERCENT.fullmatch(text)
    if percent and 0 < float(percent.group(1)) <= 100:
        return text
    if SUBSET_SIZE.fullmatch(text) and int(text[:-1]) > 0:
        return text
    raise ResticError("failed", "read_data_subset: %r is not n/t (1 <= n <= t, e.g. 1/10), a share such as 5%% "
                      "or a size such as 500M" % value)


def classify(rc, stderr):
    """The kind of a failed run (one of KINDS), or None when it succeeded.

    restic 0.17+ exit codes are trusted as they are; exit 1 (every error before 0.17,
    and generic failures after) is read from the message.
    """
    if rc == 0:
        return None
    if rc in EXIT_CODES:
        return EXIT_CODES[rc]
    if rc != 1:
        return "failed"
    text = (stderr or "").lower()
    for kind, needles in MESSAGES:
        if any(needle in text for needle in needles):
            return kind
    return "failed"


def _message_lines(text):
    """restic's message lines; with --json restic writes its errors to stderr as JSON objects
    (``{"message_type": "error"|"exit_error", ...}``), whose text is taken out of them."""
    lines = []
    for line in (text or "").splitlines():
        try:
            message = json.loads(line)
        except ValueError:
            message = None
        if isinstance(message, dict) and message.get("message_type") == "exit_error":
            line = str(message.get("message", ""))
        elif isinstance(message, dict) and message.get("message_type") == "error":
            line = str((message.get("error") or {}).get("message", ""))
        lines += [part.strip() for part in line.splitlines() if part.strip()]
    return lines


def error_detail(stderr, stdout=""):
    """The lines of restic's message worth showing: its Fatal lines and the lines around
    them, without progress output, plain text even from --json; at most a few hundred characters."""
    lines = _message_lines(stderr or stdout)
    lines = [line[len("Fatal: "):] if line.startswith("Fatal: ") else line for line in lines]
    text = "; ".join(lines)
    return text if len(text) <= 600 else text[:597] + "..."


def error_for(rc, stderr, what, stdout=""):
    """A ResticError for a run of `restic ``what```, or None when rc is 0."""
    kind = classify(rc, stderr)
    if kind is None:
        return None
    detail = mask_location(error_detail(stderr, stdout))
    return ResticError(kind, "restic %s: %s (exit %s)" % (what, detail or "no message", rc), rc=rc, stderr=stderr)


def parse_config(text):
    """The repository ID from `cat config` (a JSON object with ``id`` and ``version``)."""
    config = _json(text, "cat config")
    if not isinstance(config, dict) or not isinstance(config.get("id"), str):
        raise ResticError("failed", "restic cat config: no repository id in its output")
    return {"id": config["id"], "version": config.get("version")}


def parse_snapshots(text):
    """Count and newest time of `snapshots --json` (a JSON list; restic prints null for none in some versions).

    The newest snapshot is found by time, not by list order: restic sorts by time, but
    snapshots made on hosts whose clocks or time zones differ are only comparable parsed.
    """
    snapshots = _json(text, "snapshots --json")
    if snapshots is None:
        snapshots = []
    if not isinstance(snapshots, list):
        raise ResticError("failed", "restic snapshots --json: expected a list")
    times = [snapshot.get("time") for snapshot in snapshots if isinstance(snapshot, dict) and snapshot.get("time")]
    last = max(times, key=parse_time) if times else None
    return {"snapshot_count": len(snapshots), "last_snapshot": last}


def parse_time(text):
    """An aware datetime of restic's RFC 3339 times, whose fractions have up to 9 digits
    (Go's nanoseconds) where Python's parser takes at most 6."""
    found = re.fullmatch(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)", str(text).strip())
    if not found:
        raise ResticError("failed", "restic: %r is not an RFC 3339 time" % text)
    fraction = (found.group(2) or "0")[:6].ljust(6, "0")
    zone = "+00:00" if found.group(3) == "Z" else found.group(3)
    parsed = datetime.strptime("%s.%s%s" % (found.group(1), fraction, zone.replace(":", "")), "%Y-%m-%dT%H:%M:%S.%f%z")
    return parsed.astimezone(timezone.utc)


def parse_stats(text):
    """Bytes stored, from `stats --json --mode raw-data` (``total_size``)."""
    stats = _json(text, "stats --json")
    if not isinstance(stats, dict) or not isinstance(stats.get("total_size"), int):
        raise ResticError("failed", "restic stats --json: no total_size in its output")
    return {"size_bytes": stats["total_size"]}


def _json(text, what):
    try:
        return json.loads(text or "null")
    except ValueError as error:
        raise ResticError("failed", "restic %s: did not print JSON (%s)" % (what, error)) from None


def _label_value(text):
    """A label value in Prometheus' text format: backslash, double quote and line feed escaped."""
    return str(text).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _sample_value(value, name):
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ResticError("failed", "%s: %r is not a number" % (name, value))
    return repr(value) if isinstance(value, float) else str(value)


def textfile_metrics(service, volumes):
    """node_exporter textfile lines (Prometheus' text format) for one backup run of ``service``.

    ``volumes`` lists one mapping per volume the run backed up, with ``volume`` (the Podman
    volume name, the backup_sets view's ``volume``, as the BackupStale alert labels it),
    ``last_success`` (unix seconds of its last good snapshot, carried over from the previous
    file when this run failed; None when there never was one: it is written as 0, so that a
    volume whose first backup failed is stale at once rather than absent and silent),
    ``interval_seconds``, ``duration_seconds``, ``bytes_added``, ``failures_total`` and
    ``partial_total`` (the counters so far, this run included: a file rewritten each run is
    where they live).

    Each metric is one family, HELP and TYPE once then a sample per volume, as the format
    demands; the text ends with a line feed, as the format wants of its last line.
    """
    lines = []
    for name, kind, text, field in BACKUP_METRICS:
        lines += ["# HELP %s %s" % (name, text), "# TYPE %s %s" % (name, kind)]
        for volume in volumes:
            value = volume.get(field)
            if field == "last_success" and value is None:
                value = 0
            labels = 'service="%s",volume="%s"' % (_label_value(service), _label_value(volume["volume"]))
            lines.append("%s{%s} %s" % (name, labels, _sample_value(value, "%s of %s" % (field, volume["volume"]))))
    return "\n".join(lines) + "\n"
