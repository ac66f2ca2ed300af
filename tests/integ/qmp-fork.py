#!/usr/bin/python3
"""QMP steps of the VM fork tests (tests/integ/boot-fork*.sh, bench/fork.sh).

  qmp-fork.py snapshot QMP_SOCKET STATE_FILE   stop, migrate to STATE_FILE, quit
  qmp-fork.py cont QMP_SOCKET                  resume a clone started with -incoming

QEMU 7.2 cannot change a vmgenid GUID at run time, so a fork is a snapshot restored
into new QEMU processes (each gets a new GUID with guid=auto).  `cont` prints the
host's wall clock in ms when QEMU acknowledged it, for the benchmark.
"""
import json
import socket
import sys
import time


def connect(path, timeout=30.0):
    end = time.monotonic() + timeout
    while True:
        try:
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.connect(path)
            return s
        except OSError:
            s.close()
            if time.monotonic() > end:
                raise
            time.sleep(0.05)


class Qmp:
    def __init__(self, path):
        self.sock = connect(path)
        self.f = self.sock.makefile("rw")
        json.loads(self.f.readline())  # greeting
        self.cmd("qmp_capabilities")

    def cmd(self, name, **args):
        self.f.write(json.dumps({"execute": name, "arguments": args}) + "\n")
        self.f.flush()
        while True:
            msg = json.loads(self.f.readline())
            if "return" in msg:
                return msg["return"]
            if "error" in msg:
                raise RuntimeError(f"{name}: {msg['error']}")


def snapshot(path, state):
    q = Qmp(path)
    q.cmd("stop")
    q.cmd("migrate", uri=f"exec:cat > {state}")
    for _ in range(1200):
        st = q.cmd("query-migrate").get("status")
        if st == "completed":
            break
        if st in ("failed", "cancelled"):
            raise RuntimeError(f"migration {st}")
        time.sleep(0.05)
    else:
        raise RuntimeError("migration did not complete in 60 s")
    try:
        q.cmd("quit")
    except (OSError, ValueError):
        pass


def cont(path):
    q = Qmp(path)
    # The incoming migration must have been loaded before the guest can run.
    for _ in range(1200):
        if q.cmd("query-status").get("status") in ("paused", "prelaunch", "postmigrate"):
            if q.cmd("query-migrate").get("status", "none") in ("completed", "none"):
                break
        time.sleep(0.05)
    q.cmd("cont")
    print(int(time.time() * 1000))


def main():
    if len(sys.argv) == 4 and sys.argv[1] == "snapshot":
        snapshot(sys.argv[2], sys.argv[3])
    elif len(sys.argv) == 3 and sys.argv[1] == "cont":
        cont(sys.argv[2])
    else:
        sys.exit(__doc__)


main()
