#!/usr/bin/python3
"""Patch 0005: boot each kernel with -device vmgenid, snapshot it while two probes
wait for a VM fork (one polls the vmgenid "generation" file for POLLPRI, one
/dev/kmsg for the kernel's notice) and 20 other kernel log lines are written
0.1 s apart,
restore the snapshot as a clone (a new QEMU process: a new GUID), and judge:

  baseline: no "generation" file; only the kmsg probe sees the fork, after
            waking for every kernel log line.
  patched:  "generation" goes 0 -> 1, its probe wakes exactly once, for the fork;
            both probes see it.

Prints, per kernel, how long after the kernel's notice each probe woke (printk
timestamps) and how often it woke. Exit 1 if an expectation fails.
"""
import argparse
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time

LINE = re.compile(r"^\[\s*(\d+\.\d+)\] (.*)$")
NOTICE = "random: crng reseeded due to virtual machine fork"


def qmp(path, cmds):
    """Run QMP commands in order; a command is (name, args, poll_fn or None)."""
    for _ in range(600):
        try:
            s = socket.socket(socket.AF_UNIX)
            s.connect(path)
            break
        except OSError:
            s.close()
            time.sleep(0.05)
    f = s.makefile("rw")
    f.readline()

    def cmd(name, **args):
        f.write(json.dumps({"execute": name, "arguments": args}) + "\n")
        f.flush()
        while True:
            m = json.loads(f.readline())
            if "return" in m or "error" in m:
                return m.get("return", m.get("error"))
    cmd("qmp_capabilities")
    for name, args, until in cmds:
        while True:
            r = cmd(name, **args)
            if until is None or until(r):
                break
            time.sleep(0.05)
    s.close()


def wait_for(path, text, timeout):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        with open(path, errors="replace") as f:
            if text in f.read():
                return True
        time.sleep(0.1)
    return False


def qemu(kernel, initrd, console, qmp_path, extra):
    # The kernel reseeds and logs its fork notice only once the CRNG is ready: RDRAND,
    # trusted, readies it at boot.
    append = ("console=ttyS0 loglevel=8 printk.devkmsg=on panic=-1 "
              "random.trust_cpu=on random.trust_bootloader=off vst_fork=1 vst_wait=3000")
    cmd = ["qemu-system-x86_64", "-machine", "q35", "-accel", "tcg", "-nographic",
           "-no-reboot", "-m", "256", "-smp", "1", "-cpu", "max",
           "-kernel", kernel, "-initrd", initrd, "-append", append,
           "-device", "vmgenid,id=vg0",
           "-qmp", f"unix:{qmp_path},server=on,wait=off"] + extra
    out = open(console, "w")
    return subprocess.Popen(["timeout", "240"] + cmd, stdin=subprocess.DEVNULL,
                            stdout=out, stderr=subprocess.STDOUT)


def run(name, kernel, initrd, logs, tmp):
    state = os.path.join(tmp, f"{name}.state")
    base_log = os.path.join(logs, f"fork-{name}-template.log")
    clone_log = os.path.join(logs, f"fork-{name}-clone.log")
    q = os.path.join(tmp, f"{name}.qmp")
    p = qemu(kernel, initrd, base_log, q, [])
    if not wait_for(base_log, "VST: fork-ready", 120):
        p.kill()
        return None, f"{name}: the template never reached fork-ready"
    time.sleep(0.5)
    qmp(q, [("stop", {}, None),
            ("migrate", {"uri": f"exec:cat > {state}"}, None),
            ("query-migrate", {}, lambda r: r.get("status") == "completed"),
            ("quit", {}, None)])
    p.wait()
    q2 = os.path.join(tmp, f"{name}-clone.qmp")
    p = qemu(kernel, initrd, clone_log, q2, ["-incoming", f"exec:cat {state}"])
    qmp(q2, [("query-status", {}, lambda r: r.get("status") != "inmigrate"),
             ("cont", {}, None)])
    ok = wait_for(clone_log, "VST: done", 90)
    p.kill()
    p.wait()
    if not ok:
        return None, f"{name}: the clone never reached done (see {clone_log})"
    return parse(clone_log), None


def parse(path):
    r = {"notice": None, "woke": {}, "result": ""}
    with open(path, errors="replace") as f:
        for raw in f:
            m = LINE.match(raw.strip("\r\n"))
            if not m:
                continue
            t, msg = float(m.group(1)), m.group(2)
            if msg == NOTICE:
                r["notice"] = t
            m2 = re.match(r"VST: fork-woke via=(\w+) gen=(-?\d+) wakeups=(\d+)", msg)
            if m2:
                r["woke"][m2.group(1)] = (t, int(m2.group(2)), int(m2.group(3)))
            if msg.startswith("VST: fork-result "):
                r["result"] = msg[len("VST: fork-result "):]
    return r


def judge(name, r):
    bad = []
    if r["notice"] is None:
        bad.append(f"{name}: the clone's kernel logged no fork notice")
    if "kmsg" not in r["woke"]:
        bad.append(f"{name}: the kmsg probe did not see the fork")
    elif r["woke"]["kmsg"][2] < 20:
        bad.append(f"{name}: the kmsg probe woke {r['woke']['kmsg'][2]} times, "
                   "not once per kernel log line")
    if name == "baseline":
        if "sysfs=absent" not in r["result"] or "sysfs" in r["woke"]:
            bad.append("baseline: a generation file exists")
    else:
        s = r["woke"].get("sysfs")
        if not s:
            bad.append(f"patched: the sysfs probe did not wake ({r['result']})")
        elif s[1] != 1 or s[2] != 1 or "gen0=0" not in r["result"]:
            bad.append(f"patched: generation 0 -> {s[1]} after {s[2]} wakeups, "
                       "want 0 -> 1 after 1")
    return bad


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--baseline", required=True)
    ap.add_argument("--patched", required=True)
    ap.add_argument("--initrd-baseline", required=True)
    ap.add_argument("--initrd-patched", required=True)
    ap.add_argument("--logs", required=True)
    a = ap.parse_args()
    os.makedirs(a.logs, exist_ok=True)
    failures = []
    with tempfile.TemporaryDirectory(prefix="kp-fork-") as tmp:
        for name, k, i in (("baseline", a.baseline, a.initrd_baseline),
                           ("patched", a.patched, a.initrd_patched)):
            r, err = run(name, k, i, a.logs, tmp)
            if err:
                failures.append(err)
                continue
            for how in ("sysfs", "kmsg"):
                w = r["woke"].get(how)
                if w and r["notice"] is not None:
                    print(f"fork {name}: {how} probe woke {(w[0] - r['notice']) * 1000:+.1f} ms "
                          f"after the kernel's notice, {w[2]} wakeups in all"
                          + (f", generation {w[1]}" if how == "sysfs" else ""))
                else:
                    print(f"fork {name}: {how} probe: {r['result']}")
            failures += judge(name, r)
    if failures:
        print("FAILED:")
        for f in failures:
            print("  " + f)
        return 1
    print("fork: both kernels met their expectations")
    return 0


if __name__ == "__main__":
    sys.exit(main())
