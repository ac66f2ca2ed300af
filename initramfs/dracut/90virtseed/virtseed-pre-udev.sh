#!/bin/sh
# Sourced by dracut's shell /init before udev starts: seed the CRNG first.
/usr/libexec/virtseed/virtseed-initrd || warn "virtseed: initramfs seeding failed"
