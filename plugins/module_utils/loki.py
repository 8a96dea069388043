# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Loki's configuration file for one single-binary Loki, as data (Loki's own keys).

One process runs every component (``-target=all``, the default) with its chunks and
index on the local filesystem under one data directory (the catalog's volume): the
``tsdb`` index with schema ``v13``, the schema Loki 3 requires for structured metadata and
recommends for every new store. Nothing is shared with another Loki, so the ring lives in
memory and there is one replica. Old logs are deleted by the compactor (retention is off
unless it is enabled there) after ``retention``; there is no tenant (auth_enabled false:
the agents reach it over the mesh only, not from the internet). No usage reports go to
Grafana Labs. Loki cannot run here, so tests check the structure; the monitoring role
writes the file.
"""

from __future__ import annotations

import re

HTTP_PORT = 3100
# The gRPC port is only used between components of one process here; Loki's own default.
GRPC_PORT = 9095
DATA_DIR = "/loki"
# The first day of the schema: a date before any log this store will hold (the schema
# of a period cannot change once written, so it is fixed, not today's date).
SCHEMA_FROM = "2024-04-01"
# Retention as Loki reads a duration; the compactor deletes in whole index periods (24h),
# so it must be a multiple of 24h: given in days or hours.
DEFAULT_RETENTION = "744h"  # 31 days
_RETENTION = re.compile(r"([1-9][0-9]*)([dh])")


class ConfigError(ValueError):
    """Input the file cannot be built from; the message starts with the field at fault."""


def retention_hours(value):
    """The retention in hours: ``<n>d`` or ``<n>h``, a whole number of days (the compactor
    works on 24h index tables)."""
    match = _RETENTION.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        raise ConfigError("retention: must be a duration in days or hours such as 31d or 744h, got %r" % (value,))
    hours = int(match.group(1)) * (24 if match.group(2) == "d" else 1)
    if hours % 24:
        raise ConfigError("retention: %r is not a whole number of days (Loki deletes whole 24h index tables)"
                          % (value,))
    return hours


def loki_config(retention=DEFAULT_RETENTION, port=HTTP_PORT, data_dir=DATA_DIR):
    """The file as a dict of Loki's keys; ``retention`` how long logs are kept (see
    :func:`retention_hours`), ``port`` the HTTP port (push API, queries, /ready, /metrics),
    ``data_dir`` where the container keeps its data."""
    hours = retention_hours(retention)
    if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
        raise ConfigError("port: must be a port number (1-65535), got %r" % (port,))
    if not isinstance(data_dir, str) or not data_dir.startswith("/") or data_dir.rstrip("/") != data_dir:
        raise ConfigError("data_dir: must be an absolute path without a trailing /, got %r" % (data_dir,))
    return {
        "auth_enabled": False,
        "server": {"http_listen_port": port, "grpc_listen_port": GRPC_PORT, "log_level": "info"},
        "common": {
            "instance_addr": "127.0.0.1",
            "path_prefix": data_dir,
            "storage": {"filesystem": {"chunks_directory": data_dir + "/chunks",
                                       "rules_directory": data_dir + "/rules"}},
            "replication_factor": 1,
            "ring": {"kvstore": {"store": "inmemory"}},
        },
        "schema_config": {"configs": [{
            "from": SCHEMA_FROM,
            "store": "tsdb",
            "object_store": "filesystem",
            "schema": "v13",
            "index": {"prefix": "index_", "period": "24h"},
        }]},
        "limits_config": {"retention_period": "%dh" % hours},
        "compactor": {
            "working_directory": data_dir + "/compactor",
            "retention_enabled": True,
            # Where delete requests are kept: needed with retention on, the one store here.
            "delete_request_store": "filesystem",
        },
        "analytics": {"reporting_enabled": False},
    }
