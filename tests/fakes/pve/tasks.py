# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Worker tasks and locks: UPIDs, a task's end (its effect, or its failure and rollback),
and the test controls over them (``fail_task``, ``hold_lock``, ``wait``, ``settle``)."""

import re
import time

from fakes.pve.config import stored_config


UPID_PATTERN = re.compile(r"UPID:([a-zA-Z0-9]([a-zA-Z0-9\-]*[a-zA-Z0-9])?):([0-9A-Fa-f]{8}):([0-9A-Fa-f]{8,9}):([0-9A-Fa-f]{8}):([^:\s]+):([^:\s]*):([^:\s]+):")


class _Task:
    """One worker task (or, without a UPID, a held lock): when it ends and what it does then.

    ``failure``: the exit status it ends with instead of doing ``effect`` (then ``rollback``
    runs). ``effect`` may return an exit status such as 'WARNINGS: 1'; None means 'OK'.
    """

    def __init__(self, upid, fields, ends, failure=None, effect=None, rollback=None):
        self.upid = upid
        self.fields = fields
        self.ends = ends
        self.failure = failure
        self.effect = effect
        self.rollback = rollback
        self.exitstatus = None

    def finish(self):
        """Do what the task does (or undo what it started) and note its exit status."""
        if self.failure is None:
            self.exitstatus = (self.effect() if self.effect else None) or "OK"
        else:
            if self.rollback:
                self.rollback()
            self.exitstatus = self.failure

    def status(self):
        """The answer of GET /nodes/{node}/tasks/{upid}/status (a token's user split off as tokenid)."""
        answer = dict(self.fields, upid=self.upid, status="running" if self.exitstatus is None else "stopped")
        if "!" in answer["user"]:
            answer["user"], answer["tokenid"] = answer["user"].split("!", 1)
        if self.exitstatus is not None:
            answer["exitstatus"] = self.exitstatus
        return answer


class WorkerTasks:
    """The tasks of a FakePVE (PVE's fork_worker) and the locks tests hold; FakePVE inherits these controls.

    Uses the fake's ``state`` lock, ``_lock``, ``cluster`` and ``task_seconds``.
    """

    def __init__(self):
        self._task_faults = []
        self._tasks = {}
        self._pending = []
        self._serial = 0
        super().__init__()

    def reset(self):
        """Forget the recorded requests and pending faults (task faults too; tasks keep running)."""
        super().reset()
        with self._lock:
            self._task_faults.clear()

    def fail_task(self, type_regex, message, times=1):
        """Make the next ``times`` tasks whose type matches ``type_regex`` (e.g. 'qmclone', 'qm.*')
        end with exit status ``message`` and without their effect: a failed create or clone
        leaves no guest, a failed start no running guest. ``times`` None: every such task."""
        with self._lock:
            self._task_faults.append([re.compile(type_regex), message, times])

    def take_task_fault(self, kind):
        """The exit status injected for the next task of this type, if fail_task asked for one."""
        with self._lock:
            for fault in self._task_faults:
                if (fault[2] is None or fault[2] > 0) and fault[0].fullmatch(kind):
                    if fault[2] is not None:
                        fault[2] -= 1
                    return fault[1]
        return None

    def hold_lock(self, vmid, name, seconds):
        """Put ``lock: name`` (e.g. 'backup') on a guest's config for ``seconds``, as a running
        vzdump would; writes PVE checks locks for are refused meanwhile."""
        with self.state:
            self.settle()
            guest = self.cluster.guest(vmid)
            if guest is None:
                raise KeyError("no guest %s" % vmid)
            config = stored_config(guest)
            config["lock"] = name

            def release():
                if guest.config.get("lock") == name:
                    del guest.config["lock"]
            self._pending.append(_Task(None, {}, time.monotonic() + seconds, effect=release))

    def tasks(self):
        """The status (as GET .../tasks/{upid}/status answers it) of every task so far, oldest first."""
        with self.state:
            self.settle()
            return [task.status() for task in self._tasks.values()]

    def wait(self, upid, timeout=10.0):
        """Block until the task has ended; its status."""
        deadline = time.monotonic() + timeout
        while True:
            with self.state:
                self.settle()
                task = self._tasks[upid]
                if task.exitstatus is not None:
                    return task.status()
                pause = task.ends - time.monotonic()
            if time.monotonic() > deadline:
                raise TimeoutError("task %s still running" % upid)
            time.sleep(min(max(pause, 0.001), 0.05))

    def settle(self):
        """End every task (and held lock) whose time is up, in the order they end."""
        with self.state:
            if not self._pending:
                return
            now = time.monotonic()
            due = [task for task in self._pending if task.ends <= now]
            if due:
                self._pending = [task for task in self._pending if task.ends > now]
                for task in sorted(due, key=lambda task: task.ends):
                    task.finish()

    def start_task(self, node, kind, vmid, user, effect=None, rollback=None, failure=None):
        """Register a worker task (PVE's fork_worker); it ends ``task_seconds`` from now."""
        with self.state:
            failure = self.take_task_fault(kind) or failure
            self._serial += 1
            fields = {"node": node, "pid": 0x1000 + self._serial, "pstart": 0x4000000 + 97 * self._serial,
                      "starttime": int(time.time()), "type": kind, "id": str(vmid), "user": user}
            upid = "UPID:{node}:{pid:08X}:{pstart:08X}:{starttime:08X}:{type}:{id}:{user}:".format(**fields)
            task = _Task(upid, fields, time.monotonic() + self.task_seconds, failure, effect, rollback)
            self._tasks[upid] = task
            self._pending.append(task)
            return task

    def finish_now(self, task):
        """End a task at once (the API waited for it, as with background_delay)."""
        with self.state:
            if task in self._pending:
                self._pending.remove(task)
                task.finish()

    def task(self, upid):
        """The task with this UPID, or None."""
        return self._tasks.get(upid)
