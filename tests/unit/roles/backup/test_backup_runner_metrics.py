"""The backup runner's textfile (roles/backup/files/homelab_backup/metrics.py): counters and
the last success carried from the previous file, the file replaced atomically, and what it
writes accepted by the real promtool."""

import os
import stat
import subprocess

import backup_runner  # noqa: F401 pylint: disable=unused-import
from homelab_backup import metrics, restic
from prometheus_tools import prometheus_tool

NOW = 1796000000


def row(volume="files-data", last_success=1795990000, failures=2, partial=1):
    return {"volume": volume, "last_success": last_success, "interval_seconds": 86400, "duration_seconds": 1.5,
            "bytes_added": 100, "failures_total": failures, "partial_total": partial}


def test_the_previous_files_carried_samples_are_read_back(tmp_path):
    path = tmp_path / "homelab_backup_files.prom"
    path.write_text(restic.textfile_metrics("files", [row(), row('we"ird\\\nname', None, 0, 7)]))
    assert metrics.read_previous(str(path)) == {
        "files-data": {"last_success": 1795990000, "failures_total": 2, "partial_total": 1},
        'we"ird\\\nname': {"last_success": 0, "failures_total": 0, "partial_total": 7}}


def test_no_previous_file_is_a_first_run(tmp_path):
    assert metrics.read_previous(str(tmp_path / "none.prom")) == {}


def test_a_line_that_does_not_parse_restarts_only_its_own_counter(tmp_path):
    path = tmp_path / "homelab_backup_files.prom"
    path.write_text('homelab_backup_failures_total{service="files",volume="a"} 3\n'
                    'homelab_backup_failures_total{service="files",volume="b"} many\n'
                    'homelab_backup_partial_total{service="files",volume="a"} 1\n')
    assert metrics.read_previous(str(path)) == {"a": {"failures_total": 3, "partial_total": 1}}


def test_only_a_good_run_moves_the_last_success():
    previous = {"files-data": {"last_success": 1795990000, "failures_total": 2, "partial_total": 1}}
    ok = metrics.volume_metrics(previous, "files-data", 86400, "ok", 1.23456, 2048, NOW)
    assert ok == {"volume": "files-data", "last_success": NOW, "interval_seconds": 86400, "duration_seconds": 1.235,
                  "bytes_added": 2048, "failures_total": 2, "partial_total": 1}
    failed = metrics.volume_metrics(previous, "files-data", 86400, "failed", 0.5, 0, NOW)
    assert (failed["last_success"], failed["failures_total"], failed["partial_total"]) == (1795990000, 3, 1)
    partial = metrics.volume_metrics(previous, "files-data", 86400, "partial", 0.5, 10, NOW)
    assert (partial["last_success"], partial["failures_total"], partial["partial_total"]) == (1795990000, 2, 2)
    first = metrics.volume_metrics({}, "new", 3600, "failed", 0.1, 0, NOW)
    assert (first["last_success"], first["failures_total"], first["partial_total"]) == (None, 1, 0)


def test_the_file_is_replaced_whole_readable_by_node_exporter_and_promtool_accepts_it(tmp_path):
    path = tmp_path / "textfile" / "homelab_backup_files.prom"
    metrics.write(str(path), "files", [row()])
    metrics.write(str(path), "files", [row(failures=3), row("db", None, 1, 0)])
    assert os.listdir(path.parent) == ["homelab_backup_files.prom"]  # no temporary file left behind
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
    text = path.read_text()
    assert 'homelab_backup_failures_total{service="files",volume="files-data"} 3\n' in text
    assert 'homelab_backup_last_success_timestamp_seconds{service="files",volume="db"} 0\n' in text
    result = subprocess.run([prometheus_tool("promtool"), "check", "metrics"], input=text, capture_output=True,
                            text=True, timeout=60, check=False)
    assert (result.returncode, result.stdout + result.stderr) == (0, "")
