#!/usr/bin/python3
"""Integration tests of virtseed-egd over real sockets (driven by egd-integ.sh).

Each test starts its own distributor on sockets in a temporary directory.
"""
import os
import resource
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

EGD = sys.argv[1]
TMP = tempfile.mkdtemp(prefix="egd-integ.")
FAILED = []


class Egd:
    def __init__(self, conf="", args=(), listen=None, name="egd", nofile=None):
        self.sock = os.path.join(TMP, name + ".sock")
        self.stats = os.path.join(TMP, name + "-stats.sock")
        self.conf = os.path.join(TMP, name + ".conf")
        with open(self.conf, "w") as f:
            f.write(conf)
        cmd = [EGD, "--config", self.conf, "--stats-socket", self.stats]
        cmd += ["--listen", listen or "unix:" + self.sock] + list(args)
        self.log = open(os.path.join(TMP, name + ".log"), "w+")
        limit = None
        if nofile:
            def limit():
                resource.setrlimit(resource.RLIMIT_NOFILE, (nofile, nofile))
        self.p = subprocess.Popen(cmd, stderr=self.log, preexec_fn=limit)
        for _ in range(100):
            if os.path.exists(self.stats):
                return
            if self.p.poll() is not None:
                break
            time.sleep(0.02)
        raise RuntimeError("egd did not start: " + self.logtext())

    def logtext(self):
        self.log.seek(0)
        return self.log.read()

    def connect(self):
        s = socket.socket(socket.AF_UNIX)
        s.connect(self.sock)
        s.settimeout(5)
        return s

    def stats_text(self):
        return subprocess.run([EGD, "--stats", self.stats], capture_output=True,
                              text=True, check=True, timeout=10).stdout

    def stop(self):
        self.p.send_signal(signal.SIGTERM)
        self.p.wait(5)


def recv_exact(s, n):
    buf = b""
    while len(buf) < n:
        d = s.recv(n - len(buf))
        if not d:
            raise EOFError("got %d of %d" % (len(buf), n))
        buf += d
    return buf


def nothing_more(s, wait=0.2):
    s.settimeout(wait)
    try:
        d = s.recv(1)
    except socket.timeout:
        return True
    finally:
        s.settimeout(5)
    return d == b""


def closed(s):
    try:
        return s.recv(10) == b""
    except ConnectionResetError:
        return True


def test(fn):
    def run():
        egds = []
        try:
            fn(egds)
            print("ok   " + fn.__name__)
        except Exception as e:  # noqa: BLE001
            FAILED.append(fn.__name__)
            print("FAIL %s: %r" % (fn.__name__, e))
            for e in egds:
                print(e.logtext())
        finally:
            for e in egds:
                if e.p.poll() is None:
                    e.stop()
                if e.p.returncode != 0:     # sanitizers report at exit
                    FAILED.append(fn.__name__ + "(exit %d)" % e.p.returncode)
                    print(e.logtext())
    run.__name__ = fn.__name__
    return run


@test
def pipelined_stream_in_order(egds):
    e = Egd(); egds.append(e)
    s = e.connect()
    req = b"\x02\x40" * 100 + b"\x01\x10" + b"\x00" + b"\x04" + b"\x02\x00" + b"\x02\x05"
    s.sendall(req)
    blocks = recv_exact(s, 6400)
    m = recv_exact(s, 1)[0]
    assert m <= 16
    recv_exact(s, m)
    bits = struct.unpack(">I", recv_exact(s, 4))[0]
    assert bits % 8 == 0, bits
    n = recv_exact(s, 1)[0]
    assert int(recv_exact(s, n)) == e.p.pid
    recv_exact(s, 5)
    assert nothing_more(s), "filler bytes"
    assert len(set(blocks[i:i + 64] for i in range(0, 6400, 64))) == 100


@test
def split_at_every_byte(egds):
    e = Egd(); egds.append(e)
    s = e.connect()
    for b in b"\x02\x40\x01\x08\x00\x02\x03":
        s.send(bytes([b]))
        time.sleep(0.005)
    recv_exact(s, 64)
    m = recv_exact(s, 1)[0]
    recv_exact(s, m)
    recv_exact(s, 4)
    recv_exact(s, 3)
    assert nothing_more(s)


@test
def half_close_gets_all_replies(egds):
    e = Egd(); egds.append(e)
    s = e.connect()
    s.sendall(b"\x02\x40" * 50 + b"\x04")
    s.shutdown(socket.SHUT_WR)
    recv_exact(s, 3200)
    n = recv_exact(s, 1)[0]
    recv_exact(s, n)
    assert closed(s), "not closed after the last reply"


@test
def many_clients_unique_bytes(egds):
    e = Egd(); egds.append(e)
    socks = [e.connect() for _ in range(200)]
    for s in socks:
        s.sendall(b"\x02\x40" * 10)
    seen = set()
    for s in socks:
        data = recv_exact(s, 640)
        for i in range(0, 640, 64):
            seen.add(data[i:i + 64])
    assert len(seen) == 2000, "bytes served twice"
    assert "virtseed_egd_connections 200" in e.stats_text()


def latency(s, n=20):
    worst = []
    for _ in range(n):
        t = time.monotonic()
        s.sendall(b"\x02\x40")
        recv_exact(s, 64)
        worst.append(time.monotonic() - t)
        time.sleep(0.005)
    worst.sort()
    return worst[-1]


@test
def slow_reader_and_flood_do_not_delay_others(egds):
    e = Egd(); egds.append(e)
    slow = e.connect()
    slow.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    flood = e.connect()
    stop = threading.Event()

    def flooder():
        try:
            while not stop.is_set():
                flood.send(b"\x02\xff" * 512)
        except OSError:
            pass
    slow.setblocking(False)
    try:
        for _ in range(2000):
            slow.send(b"\x02\xff" * 64)
    except BlockingIOError:
        pass   # backpressure reached the slow reader's socket
    slow.setblocking(True)
    t = threading.Thread(target=flooder); t.start()
    try:
        light = e.connect()
        worst = latency(light)
        assert worst < 0.05, "light client waited %.1f ms" % (worst * 1000)
    finally:
        stop.set()
        flood.close()
        t.join()
    # The slow reader still gets a correct stream once it reads.
    slow.settimeout(1)
    got = 0
    try:
        while True:
            d = slow.recv(65536)
            if not d:
                break
            got += len(d)
    except socket.timeout:
        pass
    assert got > 0 and got % 255 == 0, got


@test
def resets_and_garbage_drop_only_that_client(egds):
    e = Egd(); egds.append(e)
    good = e.connect()
    for i in range(50):
        s = e.connect()
        s.sendall(b"\x02\x40" * 20)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        s.close()   # RST with replies in flight
    bad = e.connect()
    bad.sendall(b"\x09garbage")
    assert closed(bad), "garbage client not dropped"
    good.sendall(b"\x02\x40")
    recv_exact(good, 64)
    t = e.stats_text()
    assert 'dropped_total{reason="protocol"} 1' in t, t
    assert e.logtext().count("protocol violation") == 1


@test
def client_write_refused_by_default_discard_optional(egds):
    e = Egd(); egds.append(e)
    s = e.connect()
    s.sendall(b"\x03\x00\x08\x01\xaa\x02\x01")
    assert closed(s), "write accepted"
    e.stop(); egds.pop()
    e = Egd("client-write = discard\n"); egds.append(e)
    s = e.connect()
    s.sendall(b"\x03\x00\x08\x01\xaa\x02\x01")
    assert len(recv_exact(s, 1)) == 1
    e.stop(); egds.pop()
    e = Egd("client-write = mix\n"); egds.append(e)
    s = e.connect()
    s.sendall(b"\x03\x00\x08\x01\xaa\x02\x02")
    assert len(recv_exact(s, 2)) == 2


@test
def max_clients(egds):
    e = Egd("max-clients = 5\n"); egds.append(e)
    socks = [e.connect() for _ in range(5)]
    for s in socks:
        s.sendall(b"\x02\x01")
        recv_exact(s, 1)
    extra = e.connect()
    try:
        extra.sendall(b"\x02\x01")
    except BrokenPipeError:
        pass        # already closed
    assert closed(extra)
    assert 'reason="max-clients"} 1' in e.stats_text()


@test
def demand_cap_backpressure(egds):
    e = Egd("max-demand = 1K\nbudget = 4K\nburst = 1K\n[class default]\nguest-rate = 0\n"
            "guest-burst = 1\n"); egds.append(e)
    s = e.connect()
    s.setblocking(False)
    sent = 0
    try:
        for _ in range(100000):
            s.send(b"\x02\xff")
            sent += 1
    except BlockingIOError:
        pass
    assert sent < 100000, "no backpressure"
    t = e.stats_text()
    q = [l for l in t.splitlines() if l.startswith("virtseed_egd_guest_queue_bytes")]
    assert q and int(q[0].split()[-1]) <= 1024, q


@test
def budget_rate_over_real_sockets(egds):
    e = Egd("budget = 20K\nburst = 1K\n[class default]\nguest-rate = 20K\nguest-burst = 1K\n"
            ); egds.append(e)
    s = e.connect()
    s.sendall(b"\x02\xff" * 8)
    recv_exact(s, 2040)           # drain the burst
    t = time.monotonic()
    s.sendall(b"\x02\xff" * 160)
    recv_exact(s, 40800)
    rate = 40800 / (time.monotonic() - t)
    # Never above the budget; below it only when the machine is busy (make -j2, QEMU boots).
    assert 20480 * 0.7 < rate < 20480 * 1.1, rate


@test
def sighup_reload_keeps_clients(egds):
    e = Egd("budget = 1M\n"); egds.append(e)
    s = e.connect()
    s.sendall(b"\x02\x40")
    recv_exact(s, 64)
    with open(e.conf, "w") as f:
        f.write("budget = 2M\n[class gold]\nrate = 1M\n")
    e.p.send_signal(signal.SIGHUP)
    time.sleep(0.3)
    s.sendall(b"\x02\x40")
    recv_exact(s, 64)
    assert 'class="gold"' in e.stats_text()
    with open(e.conf, "w") as f:
        f.write("budget = 2M\n\n[class gold]\nrate = 3M\n")
    e.p.send_signal(signal.SIGHUP)
    time.sleep(0.3)
    s.sendall(b"\x02\x40")
    recv_exact(s, 64)
    assert e.p.poll() is None
    log = e.logtext()
    assert "egd.conf:3: class" in log and "Keeping the previous configuration" in log, log


@test
def bad_config_refuses_to_start(egds):
    conf = os.path.join(TMP, "bad.conf")
    with open(conf, "w") as f:
        f.write("budget = 1M\n[guest vm1]\nclass = missing\n")
    r = subprocess.run([EGD, "--config", conf, "--listen", "unix:" + TMP + "/x.sock"],
                       capture_output=True, text=True)
    assert r.returncode != 0 and "bad.conf:2:" in r.stderr, r.stderr
    r = subprocess.run([EGD, "--config", conf, "--check-config"], capture_output=True, text=True)
    assert r.returncode != 0


@test
def qemu_listener_sends_prefix(egds):
    e = Egd("qemu-prefix = 256\n", listen="unix:" + os.path.join(TMP, "egd.sock") + ",qemu")
    egds.append(e)
    s = e.connect()
    assert len(recv_exact(s, 256)) == 256
    assert nothing_more(s)
    s.sendall(b"\x02\x40")
    recv_exact(s, 64)


@test
def tcp_listener(egds):
    e = Egd(listen="tcp:127.0.0.1:47611"); egds.append(e)
    s = socket.create_connection(("127.0.0.1", 47611), timeout=5)
    s.sendall(b"\x02\x40\x04")
    recv_exact(s, 64)
    n = recv_exact(s, 1)[0]
    assert int(recv_exact(s, n)) == e.p.pid


@test
def connect_out_reconnects(egds):
    path = os.path.join(TMP, "qemu-server.sock")
    srv = socket.socket(socket.AF_UNIX)
    srv.bind(path)
    srv.listen(1)
    srv.settimeout(5)
    e = Egd(args=("--connect", "unix:" + path)); egds.append(e)
    for _ in range(2):
        c, _ = srv.accept()
        c.settimeout(5)
        recv_exact(c, 256)          # restart prefix: QEMU's lost requests
        c.sendall(b"\x02\x40")
        recv_exact(c, 64)
        t = time.monotonic()
        c.close()
    srv.close()
    assert time.monotonic() - t < 3


@test
def socket_activation(egds):
    act = "/usr/bin/systemd-socket-activate"
    if not os.path.exists(act):
        print("skip socket_activation: no " + act)
        return
    path = os.path.join(TMP, "act.sock")
    stats = os.path.join(TMP, "act-stats.sock")
    p = subprocess.Popen([act, "-l", path, EGD, "--config", "/dev/null",
                          "--stats-socket", stats], stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            if os.path.exists(path):
                break
            time.sleep(0.02)
        s = socket.socket(socket.AF_UNIX)
        s.connect(path)
        s.settimeout(5)
        s.sendall(b"\x02\x40")
        recv_exact(s, 256 + 64)     # activated sockets are QEMU's: restart prefix
        assert nothing_more(s)
    finally:
        p.terminate()
        p.wait(5)


@test
def failing_source_falls_over(egds):
    e = Egd(args=("--source", "hwrng:/nonexistent/hwrng", "--source", "getrandom"))
    egds.append(e)
    s = e.connect()
    s.sendall(b"\x02\x40")
    recv_exact(s, 64)
    # The hwrng thread's first read fails as it starts; on a loaded machine getrandom's thread
    # may serve before that thread runs at all: give it 2 s to publish.
    deadline = time.monotonic() + 2
    t = e.stats_text()
    while 'source="hwrng",state="unavailable"' not in t and time.monotonic() < deadline:
        time.sleep(0.05)
        t = e.stats_text()
    assert 'source="hwrng",state="unavailable"} 0' in t, t
    assert 'source="getrandom",state="ok"' in t, t


@test
def upstream_egd_source_chain(egds):
    up = Egd(name="up"); egds.append(up)
    e = Egd(args=("--source", "egd:unix:" + up.sock), name="down"); egds.append(e)
    s = e.connect()
    s.sendall(b"\x02\x40" * 4)
    recv_exact(s, 256)
    t = e.stats_text()
    assert 'source="egd",state="ok"' in t, t
    assert "virtseed_egd_connections 1" in up.stats_text()


@test
def no_capabilities_left(egds):
    e = Egd(); egds.append(e)
    # The stats socket exists before the privileges are dropped: wait for the drop.
    for _ in range(100):
        with open("/proc/%d/status" % e.p.pid) as f:
            status = dict(l.split(":", 1) for l in f.read().splitlines() if ":" in l)
        if int(status["CapEff"].strip(), 16) == 0:
            break
        time.sleep(0.02)
    assert int(status["CapEff"].strip(), 16) == 0, status["CapEff"]
    if os.geteuid() == 0:
        assert int(status["CapBnd"].strip(), 16) == 0, status["CapBnd"]
        assert status["NoNewPrivs"].strip() == "1"
    if os.environ.get("EGD_SECCOMP") == "1":
        assert status["Seccomp"].strip() == "2", status["Seccomp"]
        s = e.connect()         # and it still works under the filter
        s.sendall(b"\x02\x40\x00\x04")
        recv_exact(s, 64 + 4)
        e.p.send_signal(signal.SIGHUP)
        time.sleep(0.2)
        assert "virtseed_egd_connections 1" in e.stats_text()


@test
def sigterm_cleans_up(egds):
    e = Egd(); egds.append(e)
    e.stop()
    assert e.p.returncode == 0
    assert not os.path.exists(e.sock) and not os.path.exists(e.stats)



# Promises of issue 9: each prints what it measured, then asserts the goal.

def served_total(e):
    """Bytes served in all classes (classes outlive the connections of made-up guests)."""
    return sum(int(l.split()[-1]) for l in e.stats_text().splitlines()
               if l.startswith("virtseed_egd_class_bytes_total"))


CHURN = """
import socket, sys, time
end = time.monotonic() + float(sys.argv[2])
while time.monotonic() < end:
    s = socket.socket(socket.AF_UNIX)
    try:
        s.connect(sys.argv[1])
        s.sendall(b"\\x02\\xff" * 4)
    except OSError:
        pass
    s.close()
"""


def p99(samples):
    samples = sorted(samples)
    return samples[min(len(samples) - 1, int(len(samples) * 0.99))]


@test
def reconnecting_qemu_keeps_budget(egds):
    seconds = float(os.environ.get("CHURN_SECONDS", "5"))
    honest = os.path.join(TMP, "honest.sock")
    # accept-rate off: the budget must hold by the restart prefix's rules alone.
    e = Egd("budget = 1M\nburst = 64K\naccept-rate = 0\n"
            "[guest honest]\nrate = 64K\nlisten = unix:%s\n" % honest,
            listen="unix:" + os.path.join(TMP, "egd.sock") + ",qemu")
    egds.append(e)
    h = socket.socket(socket.AF_UNIX)
    h.connect(honest)
    h.settimeout(15)
    base = served_total(e)
    t0 = time.monotonic()
    churners = [subprocess.Popen([sys.executable, "-c", CHURN, e.sock, str(seconds)])
                for _ in range(2)]
    lat = []
    while time.monotonic() - t0 < seconds:
        t = time.monotonic()
        h.sendall(b"\x02\x40")
        recv_exact(h, 64)
        lat.append(time.monotonic() - t)
        time.sleep(0.01)
    for c in churners:
        c.wait(30)
    elapsed = time.monotonic() - t0
    over = served_total(e) - base - 1048576 * elapsed
    waited = [float(l.split()[-1]) for l in e.stats_text().splitlines() if l.startswith(
        'virtseed_egd_guest_throttled_seconds_total{guest="honest"')][0]
    print("churn: served %.2f MB/s against 1 MB/s, overshoot %d B (burst 65536), "
          "honest p99 %.3f ms, max %.3f ms, waited for tokens %.3f ms in all" % (
              (over + 1048576 * elapsed) / elapsed / 1e6, over, p99(lat) * 1e3,
              max(lat) * 1e3, waited * 1e3))
    assert over <= 65536, "budget exceeded by %d bytes" % over
    # The distributor's own account of the honest guest's waiting is exact; the
    # round trip measured here includes the machine's scheduling (1 ms on a quiet one).
    assert waited <= 0.001 * len(lat), "honest guest waited %.1f ms" % (waited * 1e3)
    assert p99(lat) <= float(os.environ.get("P99_LIMIT", "0.05")), "honest p99 %.1f ms" % (
        p99(lat) * 1e3)


def stat_value(e, name):
    return sum(float(l.split()[-1]) for l in e.stats_text().splitlines()
               if l.split(" ")[0] == name)


@test
def accept_rate_rests_a_reconnect_loop(egds):
    honest = os.path.join(TMP, "honest.sock")
    e = Egd("accept-rate = 20\n[guest honest]\nrate = 64K\nlisten = unix:%s\n" % honest,
            listen="unix:" + os.path.join(TMP, "egd.sock") + ",qemu")
    egds.append(e)
    h = socket.socket(socket.AF_UNIX)
    h.connect(honest)
    h.settimeout(5)
    base, cpu0, t0 = stat_value(e, "virtseed_egd_accepted_total"), cpu_seconds(e.p.pid), \
        time.monotonic()
    churners = [subprocess.Popen([sys.executable, "-c", CHURN, e.sock, "3"]) for _ in range(2)]
    lat = []
    while time.monotonic() - t0 < 3:
        t = time.monotonic()
        h.sendall(b"\x02\x40")
        recv_exact(h, 64)
        lat.append(time.monotonic() - t)
        time.sleep(0.01)
    elapsed, cpu = time.monotonic() - t0, cpu_seconds(e.p.pid) - cpu0
    accepted = stat_value(e, "virtseed_egd_accepted_total") - base
    for c in churners:
        c.kill()
        c.wait(30)
    print("accept-rate 20: %d connections accepted in %.1f s (at most %d), rested %d times, "
          "%.3f s CPU, honest p99 %.1f ms" % (
              accepted, elapsed, 20 + 20 * elapsed + 2,
              stat_value(e, "virtseed_egd_accept_rested_total"), cpu, p99(lat) * 1e3))
    # One second's worth at once (the burst), then 20 a second.
    assert 20 <= accepted <= 20 + 20 * elapsed + 2, accepted
    assert stat_value(e, "virtseed_egd_accept_rested_total") >= 1
    assert cpu < 0.3, "%.2f s CPU" % cpu
    assert "Connections on unix:%s come faster than accept-rate=20 a second: the " \
        "others wait in the backlog." % e.sock in e.logtext(), e.logtext()
    assert p99(lat) <= float(os.environ.get("P99_LIMIT", "0.05")), "honest p99 %.1f ms" % (
        p99(lat) * 1e3)


SPOOF = """
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.sendall(b"\\x04")
print("connected", flush=True)
sys.stdin.read()
"""


def spoofer(sock):
    link = os.path.join(TMP, "qemu-system-x86_64")
    if not os.path.exists(link):
        os.symlink(sys.executable, link)
    p = subprocess.Popen([link, "-c", SPOOF, sock, "-name", "guest=db1"],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert p.stdout.readline() == "connected\n"
    time.sleep(0.2)
    return p


def guest_of_connection(e):
    conns = [l for l in e.stats_text().splitlines()
             if l.startswith("virtseed_egd_guest_connections") and l.endswith(" 1")]
    assert len(conns) == 1, conns
    return conns[0].split('guest="')[1].split('"')[0]


@test
def cmdline_does_not_name_a_guest(egds):
    e = Egd("[guest db1]\nrate = 1K\n"); egds.append(e)
    p = spoofer(e.sock)
    who = guest_of_connection(e)
    p.stdin.close(); p.wait(5)
    print("spoofing peer on a shared listener is guest '%s'" % who)
    assert who == "unknown", who


@test
def cmdline_only_with_peer_cmdline(egds):
    e = Egd("peer-cmdline = yes\n[guest db1]\nrate = 1K\n"); egds.append(e)
    p = spoofer(e.sock)
    assert guest_of_connection(e) == "db1"
    p.stdin.close(); p.wait(5)
    e.stop(); egds.pop()
    e = Egd("[guest db1]\nrate = 1K\nuid = %d\n" % os.getuid(), name="uid"); egds.append(e)
    s = e.connect()
    s.sendall(b"\x04")
    recv_exact(s, 1)
    assert guest_of_connection(e) == "db1"


@test
def activated_socket_does_not_let_peers_claim_guests(egds):
    act = "/usr/bin/systemd-socket-activate"
    if not os.path.exists(act):
        print("skip: no " + act)
        return
    path = os.path.join(TMP, "act2.sock")
    conf = os.path.join(TMP, "act2.conf")
    with open(conf, "w") as f:
        f.write("[guest db1]\nrate = 1K\n")
    stats = os.path.join(TMP, "act2-stats.sock")
    a = subprocess.Popen([act, "-l", path, EGD, "--config", conf, "--stats-socket", stats],
                         stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            if os.path.exists(path):
                break
            time.sleep(0.02)
        p = spoofer(path)
        for _ in range(100):
            if os.path.exists(stats):
                break
            time.sleep(0.02)
        t = subprocess.run([EGD, "--stats", stats], capture_output=True, text=True).stdout
        p.stdin.close(); p.wait(5)
        claimed = 'guest_connections{guest="db1",class="default"} 1' in t
        print("spoofing peer on an activated socket claimed db1: %s" % claimed)
        assert not claimed, t
    finally:
        a.terminate()
        a.wait(5)


SLOW_UPSTREAM = """
import os, socket, sys, threading, time
srv = socket.socket(socket.AF_UNIX)
srv.bind(sys.argv[1])
srv.listen(4)
print("ready", flush=True)
def serve(c):
    while True:
        req = c.recv(2)
        if len(req) < 2:
            return
        time.sleep(float(sys.argv[2]))
        c.sendall(os.urandom(req[1]))
while True:
    c, _ = srv.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
"""


def slow_upstream(delay):
    path = os.path.join(TMP, "slow-up.sock")
    if os.path.exists(path):
        os.unlink(path)
    p = subprocess.Popen([sys.executable, "-c", SLOW_UPSTREAM, path, str(delay)],
                         stdout=subprocess.PIPE, text=True)
    assert p.stdout.readline() == "ready\n"
    return p, path


@test
def slow_source_never_blocks_serving(egds):
    up, path = slow_upstream(0.3)
    try:
        e = Egd(args=("--source", "egd:unix:" + path)); egds.append(e)
        a = e.connect()
        a.settimeout(30)
        a.sendall(b"\x02\xff" * 16)
        b = e.connect()
        worst = 0
        for _ in range(10):
            time.sleep(0.1)
            t = time.monotonic()
            b.sendall(b"\x04")
            n = recv_exact(b, 1)[0]
            recv_exact(b, n)
            worst = max(worst, time.monotonic() - t)
        print("0x04 latency while the upstream takes 300 ms a read: max %.2f ms" % (worst * 1e3))
        recv_exact(a, 16 * 255)
        # A read that blocked the loop would cost 300 ms; the <= 5 ms goal is the benchmark's
        # (bench/egd-bench), on a machine this test shares with QEMU boots under make -j2.
        assert worst <= 0.050, "0x04 took %.1f ms" % (worst * 1e3)
    finally:
        up.kill()
        up.wait()


@test
def pipelined_nonblocking_reply_does_not_wait(egds):
    e = Egd(); egds.append(e)
    s = e.connect()
    s.settimeout(2)
    s.sendall(b"\x02\xff" * 64 + b"\x01\xff")
    t = time.monotonic()
    recv_exact(s, 64 * 255)
    m = recv_exact(s, 1)[0]
    recv_exact(s, m)
    print("0x01 reply after 64 x 02 ff: %.1f ms, %d bytes" % ((time.monotonic() - t) * 1e3, m))


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@test
def fd_exhaustion_after_reload(egds):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 4096)), hard))
    e = Egd("max-clients = 5\naccept-rate = 0\n", nofile=340); egds.append(e)
    with open(e.conf, "w") as f:
        f.write("max-clients = 5000\naccept-rate = 0\n")
    e.p.send_signal(signal.SIGHUP)
    time.sleep(0.3)
    socks = []
    for _ in range(450):
        s = socket.socket(socket.AF_UNIX)
        s.setblocking(False)
        for _ in range(20):     # the backlog is full until the distributor accepts
            try:
                s.connect(e.sock)
                socks.append(s)
                break
            except BlockingIOError:
                time.sleep(0.005)
        else:
            s.close()
    time.sleep(0.3)
    c0 = cpu_seconds(e.p.pid)
    time.sleep(3)
    cpu = cpu_seconds(e.p.pid) - c0
    print("%d connections made; %.2f s CPU in 3 s" % (len(socks), cpu))
    assert cpu < 0.3, "busy loop: %.2f s CPU in 3 s" % cpu
    for s in socks:
        s.close()
    time.sleep(0.3)
    t = time.monotonic()
    s = e.connect()
    s.sendall(b"\x02\x40")
    recv_exact(s, 64)
    print("a new client served in %.1f ms" % ((time.monotonic() - t) * 1e3))
    assert "serving at most" in e.logtext(), e.logtext()


@test
def check_config_rejects_unknown_source(egds):
    conf = os.path.join(TMP, "bogus.conf")
    with open(conf, "w") as f:
        f.write("source = bogus\n")
    r = subprocess.run([EGD, "--config", conf, "--check-config"], capture_output=True, text=True)
    print("--check-config with source = bogus: exit %d, %r" % (r.returncode, r.stderr.strip()))
    assert r.returncode != 0
    assert "unknown source 'bogus'" in r.stderr, r.stderr


PROMISES = ("reconnecting_qemu_keeps_budget", "accept_rate_rests_a_reconnect_loop",
            "cmdline_does_not_name_a_guest",
            "cmdline_only_with_peer_cmdline", "activated_socket_does_not_let_peers_claim_guests",
            "slow_source_never_blocks_serving", "pipelined_nonblocking_reply_does_not_wait",
            "fd_exhaustion_after_reload", "check_config_rejects_unknown_source")
for t in list(globals().values()):
    if callable(t) and getattr(t, "__name__", "") in (
            "pipelined_stream_in_order", "split_at_every_byte", "half_close_gets_all_replies", "many_clients_unique_bytes",
            "slow_reader_and_flood_do_not_delay_others",
            "resets_and_garbage_drop_only_that_client",
            "client_write_refused_by_default_discard_optional", "max_clients",
            "demand_cap_backpressure", "budget_rate_over_real_sockets",
            "sighup_reload_keeps_clients", "bad_config_refuses_to_start",
            "qemu_listener_sends_prefix", "tcp_listener", "connect_out_reconnects",
            "socket_activation", "failing_source_falls_over", "upstream_egd_source_chain",
            "no_capabilities_left",
            "sigterm_cleans_up") + PROMISES and (
                len(sys.argv) < 3 or t.__name__ in sys.argv[2:]):
        t()
print("FAILED: " + " ".join(FAILED) if FAILED else "all passed")
sys.exit(1 if FAILED else 0)
