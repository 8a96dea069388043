"""The backup layer's node_exporter textfile metrics (module_utils/restic.py textfile_metrics),
checked by the real promtool as node_exporter's textfile collector would read them."""

import subprocess

import pytest

from ansible_collections.homelab.stack.plugins.module_utils.restic import ResticError, textfile_metrics
from prometheus_tools import prometheus_tool

DATA = {"volume": "wiki-data", "last_success": 1764745200, "interval_seconds": 3600, "duration_seconds": 12.5,
        "bytes_added": 1048576, "failures_total": 0, "partial_total": 1}
# A failed run of a volume that never had a good snapshot.
DB = {"volume": "wiki-db", "last_success": None, "interval_seconds": 86400, "duration_seconds": 3,
      "bytes_added": 0, "failures_total": 2, "partial_total": 0}


def check_metrics(text):
    """promtool check metrics on ``text`` from stdin: (exit code, its complaints)."""
    result = subprocess.run([prometheus_tool("promtool"), "check", "metrics"], input=text, capture_output=True,
                            text=True, timeout=60, check=False)
    return result.returncode, (result.stdout + result.stderr).strip()


def test_one_run_renders_every_metric_once_with_a_sample_per_volume():
    assert textfile_metrics("wiki", [DATA, DB]) == """\
# HELP homelab_backup_last_success_timestamp_seconds Unix time of the volume's last good snapshot (0: none yet).
# TYPE homelab_backup_last_success_timestamp_seconds gauge
homelab_backup_last_success_timestamp_seconds{service="wiki",volume="wiki-data"} 1764745200
homelab_backup_last_success_timestamp_seconds{service="wiki",volume="wiki-db"} 0
# HELP homelab_backup_interval_seconds Period of the volume's backup schedule.
# TYPE homelab_backup_interval_seconds gauge
homelab_backup_interval_seconds{service="wiki",volume="wiki-data"} 3600
homelab_backup_interval_seconds{service="wiki",volume="wiki-db"} 86400
# HELP homelab_backup_duration_seconds How long the volume's last backup run took.
# TYPE homelab_backup_duration_seconds gauge
homelab_backup_duration_seconds{service="wiki",volume="wiki-data"} 12.5
homelab_backup_duration_seconds{service="wiki",volume="wiki-db"} 3
# HELP homelab_backup_bytes_added Bytes the volume's last snapshot added to the repository.
# TYPE homelab_backup_bytes_added gauge
homelab_backup_bytes_added{service="wiki",volume="wiki-data"} 1048576
homelab_backup_bytes_added{service="wiki",volume="wiki-db"} 0
# HELP homelab_backup_failures_total Failed backup runs of the volume.
# TYPE homelab_backup_failures_total counter
homelab_backup_failures_total{service="wiki",volume="wiki-data"} 0
homelab_backup_failures_total{service="wiki",volume="wiki-db"} 2
# HELP homelab_backup_partial_total Backup runs of the volume whose snapshot lacks files restic could not read (exit 3).
# TYPE homelab_backup_partial_total counter
homelab_backup_partial_total{service="wiki",volume="wiki-data"} 1
homelab_backup_partial_total{service="wiki",volume="wiki-db"} 0
"""


def test_promtool_accepts_the_metrics():
    assert check_metrics(textfile_metrics("wiki", [DATA, DB])) == (0, "")


def test_label_values_are_escaped_and_promtool_reads_them():
    text = textfile_metrics('we"ird\\', [dict(DATA, volume="line\nbreak")])
    assert 'homelab_backup_interval_seconds{service="we\\"ird\\\\",volume="line\\nbreak"} 3600\n' in text
    assert check_metrics(text) == (0, "")


def test_promtool_refuses_what_the_format_does_not_allow():
    # The check above can fail: an unescaped quote in a label value is a parse error.
    code, complaint = check_metrics('homelab_backup_interval_seconds{service="we"ird"} 1\n')
    assert code != 0 and "parsing error" in complaint


def test_a_value_that_is_not_a_number_is_refused():
    with pytest.raises(ResticError) as info:
        textfile_metrics("wiki", [dict(DATA, bytes_added="1M")])
    assert str(info.value) == "bytes_added of wiki-data: '1M' is not a number"
