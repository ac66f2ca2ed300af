#!/usr/bin/python3
"""The agent against sources that are late, absent or trickling (driven by agent-luck.sh).

Each scenario starts its own virtseedd and its own source, and asserts on what an operator
sees: log lines, CPU time (/proc/PID/task/*/schedstat), bits credited, exit latency.
"""
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

AGENT = sys.argv[1]
ONLY = sys.argv[2] if len(sys.argv) > 2 else None     # one scenario (bench/idle-cost.sh)
WINDOW = float(sys.argv[3]) if len(sys.argv) > 3 else 3.0  # seconds of CPU measured
TMP = tempfile.mkdtemp(prefix="agent-luck.")
FAILED = []
AGENTS = []  # stopped after each scenario, also when it failed half-way


def cpu_ns(pid):
    """CPU time of every thread of pid, in ns."""
    total = 0
    for tid in os.listdir("/proc/%d/task" % pid):
        try:
            with open("/proc/%d/task/%s/schedstat" % (pid, tid)) as f:
                total += int(f.read().split()[0])
        except OSError:
            pass
    return total


class Agent:
    def __init__(self, *args):
        self.logpath = os.path.join(TMP, "agent-%d.log" % time.monotonic_ns())
        self.log = open(self.logpath, "w+")
        self.p = subprocess.Popen([AGENT, "--config=/dev/null"] + list(args),
                                  stderr=self.log, stdout=self.log)
        AGENTS.append(self.p)

    def text(self):
        with open(self.logpath) as f:
            return re.sub(r"^<\d>", "", f.read(), flags=re.M)

    def wait_log(self, pattern, seconds=10):
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            m = re.search(pattern, self.text())
            if m:
                return m
            time.sleep(0.02)
        raise AssertionError("no /%s/ in:\n%s" % (pattern, self.text()))

    def counters(self):
        before = len(self.text())
        self.p.send_signal(signal.SIGUSR1)
        self.wait_log(r"virtseed: counters:")
        time.sleep(0.05)
        return self.text()[before:]

    def wait_credited(self, source):
        """SIGUSR1 until the counters show source credited; returns whether it was."""
        want = r"Source %s: [1-9]\d* bytes read, [1-9]\d* bits credited" % source
        for _ in range(20):
            if re.search(want, self.counters()):
                return True
            time.sleep(0.25)
        return False

    def stop(self):
        t = time.monotonic()
        self.p.send_signal(signal.SIGTERM)
        self.p.wait(10)
        return time.monotonic() - t


class EgdServer(threading.Thread):
    """Answers 0x02 N requests; delay(i) says how late the i-th answer is."""

    def __init__(self, path, delay=lambda i: 0.0, listen_after=0.0):
        super().__init__(daemon=True)
        self.path, self.delay, self.listen_after = path, delay, listen_after
        self.requests = 0
        self.answered_at = []
        self.start()

    def run(self):
        time.sleep(self.listen_after)
        srv = socket.socket(socket.AF_UNIX)
        srv.bind(self.path)
        srv.listen(4)
        while True:
            c, _ = srv.accept()
            threading.Thread(target=self.serve, args=(c,), daemon=True).start()

    def serve(self, c):
        while True:
            req = c.recv(2)
            if len(req) < 2:
                return
            i = self.requests
            self.requests += 1
            time.sleep(self.delay(i))
            try:
                c.sendall(os.urandom(req[1]))
            except OSError:
                return
            self.answered_at.append(time.monotonic())


def check(name, fn):
    try:
        fn()
        print("ok", name)
    except Exception as e:  # noqa: BLE001 - report every failure, go on
        print("FAIL", name, e)
        FAILED.append(name)
    while AGENTS:
        p = AGENTS.pop()
        if p.poll() is None:
            p.kill()
            p.wait()


def late_egd():
    """A reply 300 ms late with egd-timeout=100 is drained at once: no spinning after it."""
    sock = os.path.join(TMP, "late.sock")
    srv = EgdServer(sock, delay=lambda i: 0.3 if i == 0 else 0.0)
    time.sleep(0.1)
    a = Agent("--sources=egd", "--egd=unix:" + sock, "--egd-timeout=100",
              "--reseed-interval=1")
    a.wait_log(r"Source egd: Connection timed out, retry in 1000 ms", 5)
    while not srv.answered_at:
        time.sleep(0.01)
    time.sleep(0.05)
    c0 = cpu_ns(a.p.pid)
    time.sleep(WINDOW)  # more reseed passes, one a second, from the EGD server again
    used = (cpu_ns(a.p.pid) - c0) / 1e6
    a.stop()
    print("  CPU in the %g s after a late EGD answer: %.2f ms" % (WINDOW, used))
    assert used <= 10, "%.1f ms of CPU after a late answer (limit 10 ms)" % used


def late_hwrng():
    """A hwrng FIFO written 300 ms after the deadline: the answer is drained, no spinning."""
    fifo = os.path.join(TMP, "late-hwrng")
    os.mkfifo(fifo)
    keep = os.open(fifo, os.O_RDWR)  # a writer that writes late
    # On a ready kernel the daemon reads at its reseed passes: one a second.
    a = Agent("--sources=hwrng", "--hwrng-device=" + fifo, "--hwrng-timeout=100",
              "--reseed-interval=1")
    a.wait_log(r"Source hwrng: Connection timed out, retry in 1000 ms", 5)
    time.sleep(0.3)
    os.write(keep, os.urandom(4096))
    time.sleep(0.1)
    c0 = cpu_ns(a.p.pid)
    time.sleep(0.9)  # before the next reseed pass reads the device again
    used = (cpu_ns(a.p.pid) - c0) / 1e6
    a.stop()
    os.close(keep)
    print("  CPU in the 0.9 s after a late hwrng answer: %.2f ms" % used)
    assert used <= 10, "%.1f ms of CPU after a late answer (limit 10 ms)" % used


def absent_egd():
    """An EGD socket that appears 1 s after the agent is used within 1 s of appearing."""
    sock = os.path.join(TMP, "absent.sock")
    a = Agent("--sources=egd", "--egd=unix:" + sock, "--reseed-interval=1")
    a.wait_log(r"Source egd unix:\S+: not available: No such file or directory, retry in "
               r"250 ms")
    EgdServer(sock, listen_after=1.0)
    a.wait_log(r"Source egd unix:\S+: available now", 5)
    ok = a.wait_credited("egd")
    a.stop()
    assert ok, a.text()


def absent_hwrng():
    """A hwrng device node that appears late is opened and credited."""
    fifo = os.path.join(TMP, "absent-hwrng")
    a = Agent("--sources=hwrng", "--hwrng-device=" + fifo, "--reseed-interval=1")
    a.wait_log(r"Source hwrng \S+: not available: No such file or directory, retry in "
               r"250 ms")
    time.sleep(0.5)
    os.mkfifo(fifo)
    stop, w = fifo_writer(fifo, 4096, 0.05)
    a.wait_log(r"Source hwrng \S+: available now", 5)
    ok = a.wait_credited("hwrng")
    stop.set()
    a.stop()
    os.close(w)
    assert ok, a.text()


def fifo_writer(fifo, size, interval):
    """Writes size random bytes to fifo every interval seconds until the event is set."""
    w = os.open(fifo, os.O_RDWR)
    stop = threading.Event()

    def run():
        while not stop.is_set():
            os.write(w, os.urandom(size))
            time.sleep(interval)
    threading.Thread(target=run, daemon=True).start()
    return stop, w


def trickle_writer(fifo):
    return fifo_writer(fifo, 4, 0.02)


def trickle_once():
    """--once with a hwrng trickling 4 bytes / 20 ms: bounded by the timeout, then RDRAND."""
    fifo = os.path.join(TMP, "trickle1")
    os.mkfifo(fifo)
    stop, w = trickle_writer(fifo)
    t = time.monotonic()
    a = Agent("--once", "--sources=hwrng,rdrand", "--hwrng-device=" + fifo,
              "--hwrng-timeout=100")
    a.p.wait(20)
    took = time.monotonic() - t
    stop.set()
    os.close(w)
    print("  --once with a trickling hwrng: %.0f ms" % (took * 1000))
    assert a.p.returncode == 0, a.text()
    assert re.search(r"Source rdrand: [1-9]\d* bytes read, [1-9]\d* bits credited", a.text())
    assert took < 1.0, "--once took %.0f ms (limit 1000 ms)" % (took * 1000)


def trickle_sigterm():
    """SIGTERM is handled within 100 ms + one timeout while a trickling hwrng is read."""
    fifo = os.path.join(TMP, "trickle2")
    os.mkfifo(fifo)
    stop, w = trickle_writer(fifo)
    a = Agent("--sources=hwrng", "--hwrng-device=" + fifo, "--hwrng-timeout=100",
              "--reseed-interval=1", "--log-level=debug")
    time.sleep(1.05)  # in the first reseed pass, reading the start-up samples
    took = a.stop()
    stop.set()
    os.close(w)
    print("  SIGTERM while a trickling hwrng is read: handled in %.0f ms" % (took * 1000))
    assert took < 0.3, "SIGTERM took %.0f ms (limit 100 ms + 100 ms timeout + slack)" % (
        took * 1000)


def main():
    tests = [late_egd, late_hwrng, absent_egd, absent_hwrng, trickle_sigterm]
    if "rdrand" in open("/proc/cpuinfo").read():
        tests.append(trickle_once)
    for t in tests:
        if ONLY is None or t.__name__ == ONLY:
            check(t.__name__, t)
    if FAILED:
        print("FAILED:", " ".join(FAILED))
        sys.exit(1)
    print("PASS")


main()
