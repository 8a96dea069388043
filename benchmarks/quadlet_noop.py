"""No-op run of 30 catalog services: homelab.stack.service versus containers.podman.

Both sides run on the lab host kronos over the same SSH connection (pipelining on, as on
real hosts). First each side converges once (not measured), then its no-op run is timed:

  homelab.stack   roles/service with 30 catalog entries: one service_info call reads the
                  host (unit digests, services, secrets, images); the quadlet module is
                  called, for all units at once, only when a unit differs; secrets, prune
                  and start checks.
  containers.podman  30 podman_container tasks with state=quadlet (one per unit), then one
                  systemd daemon-reload: what the collection's docs suggest.

Prints wall times side by side (median and every run) and the ratio of the medians;
the homelab.stack no-op must report changed=0. Needs `make lab` (it is brought up when missing) and leaves the lab as the
site playbook wants it. Usage: .venv/bin/python benchmarks/quadlet_noop.py [--services 30] [--runs 5]
"""

import argparse
import json
import pathlib
import re
import statistics
import subprocess
import sys
import tempfile
import time

from lab import BIN, INVENTORY, ROOT, env

IMAGE = "localhost/homelab-lab-app:latest"
RECAP = re.compile(r"^kronos\s+: ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", re.M)

OURS = """
- name: homelab.stack.service, {n} services
  hosts: kronos
  gather_facts: false
  roles:
    - role: homelab.stack.service
"""

THEIRS = """
- name: containers.podman podman_container state=quadlet, {n} units
  hosts: kronos
  gather_facts: false
  tasks:
    - name: Write the Quadlet units
      containers.podman.podman_container:
        name: "cp-bench-{{{{ '%02d' | format(item) }}}}"
        image: {image}
        state: quadlet
        quadlet_dir: /etc/containers/systemd/cp-bench
        quadlet_filename: "cp-bench-{{{{ '%02d' | format(item) }}}}"
        env:
          BENCH: "{{{{ item }}}}"
        label:
          bench: "cp"
      loop: "{{{{ range(1, {n} + 1) | list }}}}"
      register: bench_units

    - name: Reload systemd
      ansible.builtin.systemd_service:
        daemon_reload: true
      when: bench_units is changed

- name: Remove the benchmark's units again
  hosts: kronos
  gather_facts: false
  tags: [cleanup]
  tasks:
    - name: Remove the directory
      ansible.builtin.file:
        path: /etc/containers/systemd/cp-bench
        state: absent
    - name: Reload systemd
      ansible.builtin.systemd_service:
        daemon_reload: true
"""


def playbook(path, extra_vars=None, skip_tags=None):
    """Run a playbook against the lab; returns (seconds, changed count on kronos)."""
    args = [str(BIN / "ansible-playbook"), *INVENTORY, str(path)]
    if extra_vars:
        args += ["-e", "@" + str(extra_vars)]
    if skip_tags:
        args += ["--skip-tags", skip_tags]
    started = time.monotonic()
    result = subprocess.run(args, cwd=ROOT, env=env(), capture_output=True, text=True, check=False)
    seconds = time.monotonic() - started
    if result.returncode != 0:
        sys.exit(f"benchmark: {path.name} failed:\n{result.stdout[-3000:]}\n{result.stderr[-2000:]}")
    recap = RECAP.findall(result.stdout)
    return seconds, sum(int(changed) for _ok, changed, _u, _f in recap)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--services", type=int, default=30)
    parser.add_argument("--runs", type=int, default=5, help="no-op runs per side, alternating; the median is reported")
    options = parser.parse_args()
    n = options.services

    if not (ROOT / ".lab" / "inventory.yml").exists():
        subprocess.run(["make", "lab"], cwd=ROOT, check=True)

    with tempfile.TemporaryDirectory() as work:
        work = pathlib.Path(work)
        catalog = work / "catalog.json"
        catalog.write_text(json.dumps({"homelab_services": [
            {"name": f"bench-{i:02d}", "host": "kronos", "image": IMAGE, "env": {"BENCH": str(i)},
             "labels": {"bench": "homelab"}} for i in range(1, n + 1)]}))
        ours, theirs = work / "ours.yml", work / "theirs.yml"
        ours.write_text(OURS.format(n=n))
        theirs.write_text(THEIRS.format(n=n, image=IMAGE))

        print(f"converging {n} services with each (not measured) ...", flush=True)
        playbook(ours, catalog)
        playbook(theirs, skip_tags="cleanup")

        our_times, their_times, our_changes = [], [], []
        for _run in range(options.runs):
            seconds, changed = playbook(ours, catalog)
            our_times.append(seconds)
            our_changes.append(changed)
            seconds, _changed = playbook(theirs, skip_tags="cleanup")
            their_times.append(seconds)

        # Back to the lab as site.yml wants it: the bench services leave, the demo returns.
        subprocess.run([str(BIN / "ansible-playbook"), *INVENTORY, str(theirs), "--tags", "cleanup"],
                       cwd=ROOT, env=env(), capture_output=True, check=True)
        subprocess.run([str(BIN / "ansible-playbook"), *INVENTORY, str(ROOT / "playbooks" / "services.yml")],
                       cwd=ROOT, env=env(), capture_output=True, check=True)

    ours_median, theirs_median = statistics.median(our_times), statistics.median(their_times)
    print()
    print(f"measured {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    print(f"{'no-op run, ' + str(n) + ' services on kronos (SSH, pipelining)':<58} {'median':>8} {'all runs':>24}")
    print(f"{'homelab.stack.service':<58} {ours_median:>7.2f}s "
          f"{' '.join(f'{t:.2f}' for t in our_times):>24}")
    print(f"{'containers.podman podman_container state=quadlet':<58} {theirs_median:>7.2f}s "
          f"{' '.join(f'{t:.2f}' for t in their_times):>24}")
    print(f"ratio of the medians: containers.podman / homelab.stack = {theirs_median / ours_median:.1f}x")
    print(f"homelab.stack no-op changed counts: {our_changes}")
    if any(our_changes):
        sys.exit("benchmark: the homelab.stack no-op run changed something")


if __name__ == "__main__":
    main()
