#!/usr/bin/python3
"""EGD server for the kernel-patch boot tests that stops answering.

Listens on a unix socket for QEMU's rng-egd backend. It answers EGD
"02 N" (blocking read) requests with N random bytes until --serve bytes
have been sent in total, then keeps reading requests and never answers
again: from the guest, a virtio-rng whose host stopped answering.
--serve 0 (the default) never answers at all.
"""
import argparse
import os
import socket
import sys


def serve(conn, budget):
    pending = b""
    while True:
        data = conn.recv(4096)
        if not data:
            return budget
        pending += data
        while len(pending) >= 2 and budget > 0:
            if pending[0] != 0x02:
                # Only QEMU talks to us and it only sends 02 N.
                pending = pending[1:]
                continue
            n = min(pending[1], budget)
            pending = pending[2:]
            conn.sendall(os.urandom(n))
            budget -= n
        if budget <= 0:
            pending = b""


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("socket")
    ap.add_argument("--serve", type=int, default=0,
                    help="bytes to answer before stalling (default 0)")
    args = ap.parse_args()
    try:
        os.unlink(args.socket)
    except FileNotFoundError:
        pass
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(args.socket)
    srv.listen(4)
    print("listening", flush=True)
    budget = args.serve
    while True:
        conn, _ = srv.accept()
        with conn:
            budget = serve(conn, budget)


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit(0)
