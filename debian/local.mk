# debian/: the Debian packaging (dpkg-buildpackage -us -uc -b; tests/guest/os-debs.sh builds
# it in a chroot of each release the whole-OS tests boot).
EXTRA_DIST += debian/changelog debian/control debian/copyright debian/rules \
	debian/source/format debian/virtseed.install debian/virtseed-egd.install \
	debian/virtseed-libvirt.install \
	debian/conf/virtseed.conf debian/conf/virtseed-egd.conf debian/local.mk
