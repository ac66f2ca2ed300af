#!/bin/sh
# Sourced by dracut's shell /init as the first cmdline hook, well before udev starts:
# seed the CRNG first.
/usr/libexec/virtseed/virtseed-initrd || warn "virtseed: initramfs seeding failed"
