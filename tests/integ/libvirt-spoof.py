#!/usr/bin/python3
"""A spoofer for libvirt-e2e.sh: connects to the distributor's shared socket as a process
whose argv looks like the QEMU of domain NAME (qemu-system-x86_64 ... -name guest=NAME),
asks 64-byte blocking reads for SECONDS, then prints "spoof got N bytes".
Usage: libvirt-spoof.py NAME SOCKET SECONDS"""
import os
import socket
import sys
import time

if len(sys.argv) == 4:
    # Re-executed with /proc/PID/cmdline = qemu-system-x86_64 SCRIPT -name guest=NAME,...
    name, path, secs = sys.argv[1:4]
    os.execv("/usr/bin/python3", ["qemu-system-x86_64", __file__, "-name",
                                  "guest=%s,debug-threads=on" % name, path, secs])
path, secs = sys.argv[-2], float(sys.argv[-1])
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(path)
s.settimeout(0.1)
got = 0
end = time.monotonic() + secs
while time.monotonic() < end:
    s.sendall(b"\x02\x40")
    try:
        got += len(s.recv(4096))
    except socket.timeout:
        pass
print("spoof got %d bytes" % got, flush=True)
