#!/usr/bin/python3
"""Three tiers on loopback, the way a datacenter would chain virtseed-egd (driven by egd-chain.sh).

datacenter virtseed-egd (unix) <- socat OPENSSL-LISTEN (TLS, 127.0.0.1) <- socat OPENSSL
client (unix) <- host virtseed-egd (source = egd:..., getrandom) <- guest EGD client.
The datacenter tier is killed, restarted slow (a budget that makes a 255-byte read take
300 ms) and the guest, well within its rate, must never wait long; the host tier must
reconnect by itself.
"""
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

EGD = sys.argv[1]
TMP = tempfile.mkdtemp(prefix="egd-chain.")
PROCS = []


def start(cmd, log):
    p = subprocess.Popen(cmd, stderr=open(os.path.join(TMP, log), "w"))
    PROCS.append(p)
    return p


def wait_path(path):
    for _ in range(200):
        if os.path.exists(path):
            return
        time.sleep(0.02)
    raise RuntimeError("no " + path)


def egd(name, conf, listen):
    path = os.path.join(TMP, name + ".conf")
    with open(path, "w") as f:
        f.write(conf)
    stats = os.path.join(TMP, name + "-stats.sock")
    p = start([EGD, "--config", path, "--listen", "unix:" + listen, "--stats-socket", stats],
              name + ".log")
    wait_path(stats)
    return p, stats


def metric(stats, prefix):
    out = subprocess.run([EGD, "--stats", stats], capture_output=True, text=True,
                         timeout=10).stdout
    return sum(float(l.split()[-1]) for l in out.splitlines() if l.startswith(prefix))


def wait_port(port):
    for _ in range(200):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.02)
    raise RuntimeError("nothing listens on port %d" % port)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Guest(threading.Thread):
    """64-byte 0x02 requests every 20 ms (3.2 KB/s against a rate of 16 KB/s)."""

    def __init__(self, path):
        super().__init__(daemon=True)
        self.s = socket.socket(socket.AF_UNIX)
        self.s.connect(path)
        self.s.settimeout(10)
        self.lat, self.stop, self.error = [], threading.Event(), None

    def run(self):
        try:
            while not self.stop.is_set():
                t = time.monotonic()
                self.s.sendall(b"\x02\x40")
                got = 0
                while got < 64:
                    d = self.s.recv(64 - got)
                    if not d:
                        raise EOFError("host tier closed the guest")
                    got += len(d)
                self.lat.append(time.monotonic() - t)
                time.sleep(0.02)
        except Exception as e:  # noqa: BLE001
            self.error = e

    def worst(self, since=0):
        return max(self.lat[since:]) if len(self.lat) > since else float("inf")


def main():
    dc_sock, up_sock = os.path.join(TMP, "dc.sock"), os.path.join(TMP, "up.sock")
    host_sock = os.path.join(TMP, "host.sock")
    key, cert = os.path.join(TMP, "key.pem"), os.path.join(TMP, "cert.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=datacenter", "-keyout", key, "-out", cert],
                   check=True, capture_output=True)
    port = free_port()
    dc, dc_stats = egd("dc", "", dc_sock)
    start(["socat", "OPENSSL-LISTEN:%d,bind=127.0.0.1,reuseaddr,fork,cert=%s,key=%s,verify=0"
           % (port, cert, key), "UNIX-CONNECT:" + dc_sock], "tls-server.log")
    start(["socat", "UNIX-LISTEN:%s,fork" % up_sock,
           "OPENSSL:127.0.0.1:%d,cafile=%s,commonname=datacenter,verify=1" % (port, cert)],
          "tls-client.log")
    wait_port(port)
    wait_path(up_sock)
    host, host_stats = egd("host", "source = egd:unix:%s getrandom\n[class default]\n"
                           "guest-rate = 16K\n" % up_sock, host_sock)
    guest = Guest(host_sock)
    guest.start()
    t = time.monotonic()
    while not metric(host_stats, 'virtseed_egd_source_bytes_total{source="egd"'):
        assert time.monotonic() - t < 15, "the host tier did not read from the datacenter"
        time.sleep(0.2)
    time.sleep(1)
    up = metric(host_stats, 'virtseed_egd_source_bytes_total{source="egd"')
    print("datacenter up: host read %d bytes from it over TLS, guest worst %.1f ms" % (
        up, guest.worst() * 1e3))
    assert up > 0, "the host tier did not read from the datacenter"

    dc.send_signal(signal.SIGKILL)
    dc.wait()
    mark = len(guest.lat)
    time.sleep(3)
    print("datacenter killed: guest got %d replies in 3 s, worst %.1f ms" % (
        len(guest.lat) - mark, guest.worst(mark) * 1e3))
    assert len(guest.lat) - mark > 50 and guest.worst(mark) < 0.25, guest.lat[mark:]

    # Slow: 850 B/s makes each 255-byte upstream read wait ~300 ms for tokens.
    before = metric(host_stats, 'virtseed_egd_source_bytes_total{source="egd"')
    dc, dc_stats = egd("dc", "budget = 850\nburst = 255\n[class default]\nguest-rate = 850\n"
                       "guest-burst = 255\n", dc_sock)
    mark, t = len(guest.lat), time.monotonic()
    while metric(host_stats, 'virtseed_egd_source_bytes_total{source="egd"') <= before:
        assert time.monotonic() - t < 70, "the host tier never reconnected"
        time.sleep(0.2)
    reconnect = time.monotonic() - t
    time.sleep(3)
    got = metric(host_stats, 'virtseed_egd_source_bytes_total{source="egd"') - before
    print("datacenter back, slow: host reconnected after %.1f s, read %d bytes in %.1f s; "
          "guest worst %.1f ms over %d replies" % (reconnect, got, time.monotonic() - t,
                                                   guest.worst(mark) * 1e3,
                                                   len(guest.lat) - mark))
    assert guest.worst(mark) < 0.25, "guest stalled %.0f ms" % (guest.worst(mark) * 1e3)
    guest.stop.set()
    guest.join(5)
    assert guest.error is None, guest.error
    print("PASS")


try:
    main()
except Exception:
    for f in sorted(os.listdir(TMP)):
        if f.endswith(".log"):
            print("--- " + f)
            print(open(os.path.join(TMP, f)).read())
    raise
finally:
    for p in PROCS:
        if p.poll() is None:
            p.terminate()
            p.wait(5)
