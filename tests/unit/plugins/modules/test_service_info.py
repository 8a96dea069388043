"""service_info runs the reads that do not depend on each other at the same time."""

import threading

import pytest

from ansible_collections.homelab.stack.plugins.modules.service_info import run_all


class Failed(Exception):
    pass


class Module:
    """Just what run_all uses of AnsibleModule: run_command and fail_json."""

    def __init__(self, answers, together):
        self.answers = answers
        self.barrier = threading.Barrier(together, timeout=10)

    def run_command(self, argv):
        self.barrier.wait()  # breaks unless every command runs at once
        return self.answers[argv[0]]

    def fail_json(self, msg):
        raise Failed(msg)


def test_independent_reads_run_at_once_and_come_back_by_name():
    module = Module({"a": (0, "out a", ""), "b": (0, "out b", ""), "c": (0, "out c", "")}, together=3)
    assert run_all(module, {"first": ["a"], "second": ["b"], "third": ["c"]}) == {
        "first": "out a", "second": "out b", "third": "out c"}


def test_a_failed_read_is_named_with_its_error():
    module = Module({"a": (0, "fine", ""), "b": (125, "", "Error: no such container\n")}, together=2)
    with pytest.raises(Failed, match="^second failed: Error: no such container$"):
        run_all(module, {"first": ["a"], "second": ["b"]})


def test_nothing_to_read_runs_nothing():
    assert run_all(Module({}, together=1), {}) == {}
