#!/usr/bin/env python3
"""cpu_share.py: CPU time of process trees, for bench/checkout_bench.sh.

  cpu_share.py snap OUT NAME=PID...   records the user+system CPU seconds of
                                      each PID and all its descendants, and
                                      the whole machine's busy CPU seconds
  cpu_share.py diff BEFORE AFTER [N]  prints each tree's share of the CPU
                                      spent between the two snapshots, the
                                      rest of the machine, and per unit of
                                      N (paid orders) in milliseconds

Reads /proc only. Processes that end between the snapshots are counted
through their parents' reaped-children times (cutime/cstime).
"""

import json
import os
import sys

TICK = os.sysconf("SC_CLK_TCK")


def proc_table():
    table = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % entry) as f:
                stat = f.read()
        except OSError:
            continue
        # The command name may hold spaces: fields start after the last ')'.
        fields = stat[stat.rindex(")") + 2:].split()
        ppid = int(fields[1])
        ticks = sum(int(x) for x in fields[11:15])  # utime stime cutime cstime
        table[int(entry)] = (ppid, ticks)
    return table


def tree_ticks(table, root):
    children = {}
    for pid, (ppid, _) in table.items():
        children.setdefault(ppid, []).append(pid)
    total, stack = 0, [root]
    while stack:
        pid = stack.pop()
        if pid in table:
            total += table[pid][1]
        stack.extend(children.get(pid, []))
    return total


def machine_busy():
    with open("/proc/stat") as f:
        cpu = [int(x) for x in f.readline().split()[1:]]
    idle = cpu[3] + cpu[4]  # idle, iowait
    return sum(cpu[:8]) - idle


def snap(out, pairs):
    table = proc_table()
    result = {"machine": machine_busy()}
    for pair in pairs:
        name, pid = pair.split("=", 1)
        result[name] = tree_ticks(table, int(pid)) if pid.isdigit() else 0
    with open(out, "w") as f:
        json.dump(result, f)


def diff(before_path, after_path, units):
    with open(before_path) as f:
        before = json.load(f)
    with open(after_path) as f:
        after = json.load(f)
    machine = (after["machine"] - before["machine"]) / TICK
    ours = 0.0
    rows = []
    for name in after:
        if name == "machine":
            continue
        s = (after[name] - before.get(name, 0)) / TICK
        ours += s
        rows.append((name, s))
    rows.append(("rest of the machine", max(0.0, machine - ours)))
    print("| process tree | CPU s | share | CPU ms per paid order |")
    print("| --- | ---: | ---: | ---: |")
    for name, s in sorted(rows, key=lambda r: -r[1]):
        share = 100.0 * s / machine if machine > 0 else 0.0
        per = "%.2f" % (1000.0 * s / units) if units > 0 else "-"
        print("| %s | %.1f | %.0f%% | %s |" % (name, s, share, per))
    print("| all (busy CPU of the machine) | %.1f | 100%% | %s |" % (
        machine, "%.2f" % (1000.0 * machine / units) if units > 0 else "-"))


def main(argv):
    if len(argv) >= 3 and argv[1] == "snap":
        snap(argv[2], argv[3:])
    elif len(argv) in (4, 5) and argv[1] == "diff":
        diff(argv[2], argv[3], int(argv[4]) if len(argv) == 5 else 0)
    else:
        sys.stderr.write(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
