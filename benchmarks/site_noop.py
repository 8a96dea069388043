"""No-op run of each layer of playbooks/site.yml on the lab, against the floor.

The floor is the least any converge of a layer must do: gather facts on the layer's
hosts, then one command per host. Each layer's no-op run and the floor's run over the
same hosts and the same SSH connections are timed side by side in one session, with
the ratio and the tasks the layer runs per host. Later layers are held to these figures
(benchmarks/README.md).

Needs `make lab` (it is brought up and converged when missing) and leaves the lab as the
site playbook wants it. Usage: .venv/bin/python benchmarks/site_noop.py [--runs 3]
"""

import argparse
import pathlib
import re
import subprocess
import sys
import tempfile
import time

import yaml

from lab import BIN, INVENTORY, ROOT, env

RECAP = re.compile(r"^(\S+)\s+: ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)\s+skipped=(\d+)", re.M)
LAYERS = ("guests", "base", "mesh", "platform", "services", "backups", "verify")


def playbook(path):
    """Run a playbook on the lab: (seconds, {host: (tasks run, changed)})."""
    started = time.monotonic()
    result = subprocess.run([str(BIN / "ansible-playbook"), *INVENTORY, str(path)], cwd=ROOT, env=env(),
                            capture_output=True, text=True, check=False)
    seconds = time.monotonic() - started
    if result.returncode != 0:
        sys.exit(f"benchmark: {path.name} failed:\n{result.stdout[-3000:]}\n{result.stderr[-2000:]}")
    hosts = {m[1]: (int(m[2]) + int(m[6]), int(m[3])) for m in RECAP.finditer(result.stdout)}
    return seconds, hosts


def plays(layer):
    """The plays of a layer playbook (the hosts pattern and fact gathering of each)."""
    return [play for play in yaml.safe_load((ROOT / "playbooks" / f"{layer}.yml").read_text()) if "hosts" in play]


def floor(layers):
    """The floor playbook of ``layers``: per play, facts (as the play gathers them) and one command."""
    result = []
    for layer in layers:
        for play in plays(layer):
            result.append({
                "name": f"floor of {layer}: {play['name']}",
                "hosts": play["hosts"],
                "gather_facts": True,
                "gather_subset": ["min"],
                **({"connection": play["connection"]} if "connection" in play else {}),
                "tasks": [{"name": "One command", "ansible.builtin.command": "true", "changed_when": False}],
            })
    return result


def best(path, runs):
    """The best of ``runs`` timed runs, and the task counts of the last one."""
    times, hosts = [], {}
    for _run in range(runs):
        seconds, hosts = playbook(path)
        times.append(seconds)
    return min(times), times, hosts


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="timed runs of each side; the best is reported")
    options = parser.parse_args()

    if not (ROOT / ".lab" / "inventory.yml").exists():
        subprocess.run(["make", "lab"], cwd=ROOT, check=True)
    print("converging the site once (not measured) ...", flush=True)
    playbook(ROOT / "playbooks" / "site.yml")

    rows = []
    with tempfile.TemporaryDirectory() as work:
        for layer in LAYERS + ("site",):
            members = LAYERS if layer == "site" else (layer,)
            floor_path = pathlib.Path(work) / f"floor-{layer}.yml"
            floor_path.write_text(yaml.safe_dump(floor(members), sort_keys=False))
            ours, our_times, hosts = best(ROOT / "playbooks" / f"{layer}.yml", options.runs)
            least, floor_times, _floor_hosts = best(floor_path, options.runs)
            changed = {host: counts[1] for host, counts in hosts.items() if counts[1]}
            if changed:
                sys.exit(f"benchmark: the no-op run of {layer} changed something: {changed}")
            tasks = ", ".join(f"{host} {counts[0]}" for host, counts in sorted(hosts.items())
                              if host != "localhost") or "no lab host"
            rows.append((layer, ours, least, our_times, floor_times, tasks))

    print(f"\n{'no-op run on the lab':<12} {'ours':>7} {'floor':>7} {'ratio':>6}   "
          f"{'tasks per host':<24} all runs (ours | floor)")
    for layer, ours, least, our_times, floor_times, tasks in rows:
        runs = " ".join(f"{t:.1f}" for t in our_times) + " | " + " ".join(f"{t:.1f}" for t in floor_times)
        print(f"{layer:<12} {ours:>6.1f}s {least:>6.1f}s {ours / least:>5.1f}x   {tasks:<24} {runs}")


if __name__ == "__main__":
    main()
