#!/usr/bin/python3
"""Boot the unpatched and the patched kernel under QEMU (TCG) in scenarios
that prove each patch, judge every boot from its console log, print a
before/after table and exit 1 if any expectation fails.

QEMU exits 0 even when it is killed by the timeout, so a boot only counts
if its console shows the guest's "VST: done" marker.
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
BOOT_TIMEOUT = 60  # s of wall time per boot; a boot takes 2-15 s here
BROKEN_AFTER = 2  # boots of one kernel in a row without "VST: done"
LINE = re.compile(r"^\[\s*(\d+\.\d+)\] (.*)$")

# Each scenario: QEMU cpu model, virtio-rng backend, extra command line,
# and what each kernel must show. "urandom" is a working backend, "stall"
# an EGD server that accepts the connection and never answers, "stallN" one
# that answers N bytes and then stops.
SCENARIOS = [
    dict(name="good", cpu="qemu64", backend="urandom", repeat=5,
         append="random.trust_cpu=off vst_reads=1",
         about="working backend, no new parameter"),
    dict(name="good-sync", cpu="qemu64", backend="urandom", repeat=5,
         append="random.trust_cpu=off rng_core.sync_seed_ms=5000",
         about="working backend, sync_seed_ms=5000"),
    dict(name="stall-sync", cpu="qemu64", backend="stall",
         append="random.trust_cpu=off rng_core.sync_seed_ms=2000",
         about="stalled backend, sync_seed_ms=2000"),
    dict(name="stall-read", cpu="qemu64", backend="stall",
         append="random.trust_cpu=off vst_reads=1 vst_wait=100",
         about="stalled backend, /dev/hwrng readers, no new parameter"),
    dict(name="stall-read-timeout", cpu="qemu64", backend="stall",
         append="random.trust_cpu=off rng_core.read_timeout_ms=1000"
                " vst_reads=1 vst_wait=100",
         about="stalled backend, /dev/hwrng readers, read_timeout_ms=1000"),
    dict(name="stall-midread", cpu="qemu64", backend="stall192",
         append="random.trust_cpu=off rng_core.read_timeout_ms=1000"
                " vst_reads=1 vst_readsize=2048",
         about="backend answers 192 bytes then stalls, 2048-byte reads,"
               " read_timeout_ms=1000"),
    dict(name="good-read-timeout", cpu="qemu64", backend="urandom",
         append="random.trust_cpu=off rng_core.read_timeout_ms=1000"
                " vst_reads=1 vst_readsize=4096",
         about="working backend, 4096-byte reads, read_timeout_ms=1000"),
    dict(name="cap0", cpu="max", backend="urandom",
         append="random.trust_cpu=off rng_core.default_quality=0"
                " rng_core.sync_seed_ms=5000 vst_wait=5000",
         about="RDRAND present but untrusted, default_quality=0,"
               " sync_seed_ms=5000"),
    dict(name="cap512", cpu="qemu64", backend="urandom",
         append="random.trust_cpu=off rng_core.default_quality=512",
         about="working backend, default_quality=512"),
    dict(name="cpu-on", cpu="max", backend="urandom",
         append="random.trust_cpu=on rng_core.sync_seed_ms=5000",
         about="RDRAND trusted, sync_seed_ms=5000"),
]


def expect(scn, kernel, r):
    """Return a list of failed expectations for one boot."""
    bad = []

    def need(cond, what):
        if not cond:
            bad.append(what)

    need(r["done"], "guest did not reach its done marker")
    if not r["done"]:
        return bad
    patched = kernel == "patched"
    name = scn["name"]
    nb, bl = r.get("read-nonblock"), r.get("read-block")
    if name == "good":
        need(r["crng_end"] == "ready", "CRNG not ready")
        need(bl and bl["result"] == "ok", "blocking read failed")
        need(r["sync"] is None, "sync seeding ran without its parameter")
    elif name == "good-sync":
        need(r["crng_end"] == "ready", "CRNG not ready")
        if patched:
            need(r["ready_at_init"] == "yes",
                 "CRNG not ready when virtio-rng's init returned")
            need(r["sync"] and r["sync"][0] == "ready",
                 "no 'CRNG ready after ... synchronous seeding' line")
    elif name == "stall-sync":
        need(r["crng_end"] == "notready", "CRNG seeded from nowhere")
        if patched:
            need(r["sync"] and r["sync"][0] == "notseeded",
                 "no 'CRNG not seeded after ...' line")
            need(r["insmod_ms"] is not None and
                 1900 <= r["insmod_ms"] <= 4000,
                 "insmod did not take ~2000 ms")
    elif name == "stall-read":
        need(bl and bl["result"] == "hang", "blocking read did not hang")
        if patched:
            need(nb and nb["result"] == "EAGAIN" and nb["ms"] < 500,
                 "O_NONBLOCK read did not fail fast with EAGAIN")
        else:
            need(nb and nb["result"] == "hang", "baseline O_NONBLOCK read "
                 "did not hang (stall not reproduced)")
    elif name == "stall-read-timeout":
        if patched:
            need(nb and nb["result"] == "EAGAIN" and nb["ms"] < 500,
                 "O_NONBLOCK read did not fail fast with EAGAIN")
            need(bl and bl["result"] == "ETIMEDOUT" and
                 900 <= bl["ms"] <= 2500,
                 "blocking read did not fail with ETIMEDOUT after ~1 s")
        else:
            need(bl and bl["result"] == "hang", "blocking read did not hang")
    elif name == "stall-midread":
        need(r["crng_end"] == "ready", "CRNG not seeded from the 192 bytes")
        if patched:
            need(bl and bl["result"] in ("ok", "ETIMEDOUT") and
                 900 <= bl["ms"] <= 2500,
                 "blocking read did not end at its ~1 s deadline")
        else:
            need(bl and bl["result"] == "hang", "blocking read did not hang")
    elif name == "good-read-timeout":
        need(bl and bl["result"] == "ok" and bl["bytes"] == "4096",
             "blocking 4096-byte read failed")
        need(r["crng_end"] == "ready", "CRNG not ready")
    elif name == "cap0":
        if patched:
            need(r["quality"] == "0", "rng_quality is not 0")
            need(r["crng_end"] == "notready" and r["t_crng"] is None,
                 "CRNG was credited despite default_quality=0")
            need(r["sync"] is None and r["insmod_ms"] is not None and
                 r["insmod_ms"] < 1000,
                 "sync seeding waited for a device of quality 0")
        else:
            need(r["quality"] == "1000", "rng_quality is not 1000")
            need(r["crng_end"] == "ready", "CRNG not ready")
    elif name == "cap512":
        need(r["quality"] == ("512" if patched else "1000"),
             "unexpected rng_quality")
        need(r["crng_end"] == "ready", "CRNG not ready")
    elif name == "cpu-on":
        need(r["crng_init"] == "ready", "CRNG not ready at /init (RDRAND)")
        need(r["sync"] is None, "sync seeding ran with the CRNG ready")
    return bad


def parse(log):
    r = dict(done=False, t_crng=None, t_insmod=None, t_insmod_done=None,
             crng_init=None, crng_at_insmod=None, crng_end=None,
             quality=None, sync=None, insmod_ms=None, t_probe=None,
             probe_us=None)
    for raw in log.splitlines():
        m = LINE.match(raw.strip("\r"))
        if not m:
            continue
        t, msg = float(m.group(1)), m.group(2)
        if msg.startswith("random: crng init done") or \
                msg == "crng init done":
            r["t_crng"] = t
        m2 = re.search(r"CRNG ready after (\d+) ms of synchronous", msg)
        if m2:
            r["sync"] = ("ready", int(m2.group(1)))
        m2 = re.search(r"CRNG not seeded after (\d+) ms", msg)
        if m2:
            r["sync"] = ("notseeded", int(m2.group(1)))
        # initcall_debug, switched on by /init just before insmod: the only
        # initcall after that is virtio-rng's module init, which probes the
        # device and registers it with the hwrng core.
        if r["t_insmod"] is not None and r["t_probe"] is None and \
                msg.startswith("calling "):
            r["t_probe"] = t
        m2 = re.match(r"initcall \S+ returned -?\d+ after (\d+) usecs", msg)
        if m2 and r["t_probe"] is not None and r["probe_us"] is None:
            r["probe_us"] = int(m2.group(1))
        if not msg.startswith("VST: "):
            continue
        v = msg[5:]
        if v.startswith("init "):
            r["crng_init"] = v.split("crng=")[1]
        elif v == "insmod-start":
            r["t_insmod"] = t
        elif v == "insmod-returned":
            r["t_insmod_done"] = t
        elif v.startswith("insmod-done"):
            r["crng_at_insmod"] = v.split("crng=")[1]
        elif v.startswith("rng_current="):
            r["quality"] = v.split("rng_quality=")[1]
        elif v.startswith(("read-nonblock ", "read-block ")):
            key, rest = v.split(" ", 1)
            kv = dict(x.split("=", 1) for x in rest.split())
            kv["ms"] = int(kv.get("ms", "0"))
            r[key] = kv
        elif v.startswith("wait-crng "):
            r["crng_end"] = v.split()[1]
        elif v == "done":
            r["done"] = True
    if r["t_insmod"] is not None and r["t_insmod_done"] is not None:
        r["insmod_ms"] = round((r["t_insmod_done"] - r["t_insmod"]) * 1000)
    # Was the CRNG ready when virtio-rng's module init (probe and
    # hwrng_register()) returned?
    if r["crng_init"] == "ready":
        r["ready_at_init"] = "yes"
    elif r["t_crng"] is None or r["t_probe"] is None or r["probe_us"] is None:
        r["ready_at_init"] = "no"
    else:
        r["ready_at_init"] = ("yes" if r["t_crng"] <= r["t_probe"] +
                              r["probe_us"] / 1e6 else "no")
    return r


def boot(kernel_img, initrd, scn, logpath, tmp):
    srv = None
    if scn["backend"].startswith("stall"):
        sock = os.path.join(tmp, "egd.sock")
        serve = scn["backend"][len("stall"):] or "0"
        srv = subprocess.Popen(["/usr/bin/python3",
                                os.path.join(HERE, "egd-stall.py"), sock,
                                "--serve", serve],
                               stdout=subprocess.PIPE)
        srv.stdout.readline()  # "listening"
        rng = ["-chardev", f"socket,id=egd,path={sock}",
               "-object", "rng-egd,id=rng0,chardev=egd"]
    else:
        rng = ["-object", "rng-random,id=rng0,filename=/dev/urandom"]
    append = ("console=ttyS0 loglevel=8 panic=-1 "
              "random.trust_bootloader=off "
              + scn["append"])
    cmd = ["qemu-system-x86_64", "-machine", "q35", "-accel", "tcg",
           "-nographic", "-no-reboot", "-m", "256", "-smp", "1",
           "-cpu", scn["cpu"], "-kernel", kernel_img, "-initrd", initrd,
           "-append", append] + rng + \
          ["-device", "virtio-rng-pci,rng=rng0"]
    start = time.monotonic()
    with open(logpath, "w") as out:
        out.write("# " + " ".join(cmd) + "\n")
        out.flush()
        try:
            subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=out,
                           stderr=subprocess.STDOUT, timeout=BOOT_TIMEOUT)
        except subprocess.TimeoutExpired:
            pass
    wall = time.monotonic() - start
    if srv:
        srv.terminate()
        srv.wait()
    with open(logpath, errors="replace") as f:
        r = parse(f.read())
    r["wall"] = wall
    return r


def fmt_read(kv):
    if not kv:
        return "-"
    if kv["result"] == "ok":
        return f"ok {kv['bytes']}B {kv['ms']}ms"
    return f"{kv['result']} {kv['ms']}ms"


def crng_vs_probe(r):
    """ms from virtio-rng's module init starting to "crng init done"."""
    if r["t_crng"] is None or r["t_probe"] is None:
        return None
    return (r["t_crng"] - r["t_probe"]) * 1000


def crng_vs_return(r):
    """ms from virtio-rng's module init returning to "crng init done"."""
    d = crng_vs_probe(r)
    if d is None or r["probe_us"] is None:
        return None
    return d - r["probe_us"] / 1000


def row(name, kernel, r, bad):
    d = crng_vs_probe(r)
    sync = "-" if r["sync"] is None else f"{r['sync'][0]} {r['sync'][1]}ms"
    return [name, kernel, "never" if d is None else f"{d:+.1f}ms",
            "-" if r["probe_us"] is None else f"{r['probe_us'] / 1000:.1f}ms",
            r["ready_at_init"], sync, r["quality"] or "-",
            fmt_read(r.get("read-nonblock")), fmt_read(r.get("read-block")),
            f"{r['wall']:.0f}s", "PASS" if not bad else "FAIL"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--baseline", required=True, help="unpatched bzImage")
    ap.add_argument("--patched", required=True, help="patched bzImage")
    ap.add_argument("--initrd-baseline", required=True)
    ap.add_argument("--initrd-patched", required=True)
    ap.add_argument("--logs", required=True, help="directory for logs")
    ap.add_argument("--only", help="comma-separated scenario names")
    args = ap.parse_args()
    os.makedirs(args.logs, exist_ok=True)
    scns = SCENARIOS
    if args.only:
        keep = args.only.split(",")
        scns = [s for s in SCENARIOS if s["name"] in keep]
    head = ["scenario", "kernel", "crng init done vs virtio-rng init",
            "virtio-rng init took", "CRNG ready when it returned",
            "sync seeding",
            "rng_quality", "O_NONBLOCK read", "blocking read", "boot wall",
            "verdict"]
    rows, failures, runs = [], [], {}
    undone = {"baseline": 0, "patched": 0}
    tmp = tempfile.mkdtemp(prefix="kp-boot-")
    try:
        for scn in scns:
            n = scn.get("repeat", 1)
            for i in range(1, n + 1):
                name = scn["name"] + (f"#{i}" if n > 1 else "")
                for kernel, img, initrd in (
                        ("baseline", args.baseline, args.initrd_baseline),
                        ("patched", args.patched, args.initrd_patched)):
                    if undone[kernel] >= BROKEN_AFTER:
                        failures.append(f"{name}/{kernel}: not booted, the "
                                        "kernel failed its last boots")
                        continue
                    log = os.path.join(args.logs, f"{name}.{kernel}.log")
                    r = boot(img, initrd, scn, log, tmp)
                    undone[kernel] = 0 if r["done"] else undone[kernel] + 1
                    bad = expect(scn, kernel, r)
                    runs.setdefault((scn["name"], kernel), []).append(r)
                    rows.append(row(name, kernel, r, bad))
                    print(" | ".join(rows[-1]), flush=True)
                    failures += [f"{name}/{kernel}: {b} (see {log})"
                                 for b in bad]
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print()
    print("Scenarios (all: q35, TCG, 1 vCPU, random.trust_bootloader=off):")
    for s in scns:
        print(f"  {s['name']:20} -cpu {s['cpu']:7} {s['about']}")
    print()
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for rw in rows:
        print("| " + " | ".join(rw) + " |")
    print()
    for (name, kernel), rs in runs.items():
        if len(rs) < 2:
            continue
        def stat(f):
            ds = sorted(d for d in map(f, rs) if d is not None)
            if not ds:
                return "-"
            return f"{ds[len(ds) // 2]:+.1f} ms (median, {ds[0]:+.1f}..{ds[-1]:+.1f})"
        ready = sum(r["ready_at_init"] == "yes" for r in rs)
        print(f"{name} {kernel}: crng init done {stat(crng_vs_probe)} after "
              f"virtio-rng init started, {stat(crng_vs_return)} after it "
              f"returned; ready when it returned in {ready}/{len(rs)} boots")
    print()
    if failures:
        print("FAILED:")
        for f in failures:
            print("  " + f)
        return 1
    print(f"all {len(rows)} boots met their expectations")
    return 0


if __name__ == "__main__":
    sys.exit(main())
