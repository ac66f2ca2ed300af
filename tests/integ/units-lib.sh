# shellcheck shell=sh
# Shared by units-*.sh: copies of every unit with @sbindir@ pointing at the built binaries
# (or at /bin/true while one is not built yet: the unit is still checked) in $units_dir.
# Absolute: unit files want absolute paths, and distcheck passes relative ones.
top_srcdir=$(cd "${top_srcdir:-$(dirname "$0")/../..}" && pwd)
top_builddir=$(cd "${top_builddir:-$top_srcdir}" && pwd)
command -v systemd-analyze >/dev/null || { echo "SKIP: systemd-analyze missing"; exit 77; }
units_dir=$(mktemp -d)
trap 'rm -rf "$units_dir"' EXIT
mkdir "$units_dir/sbin"
for b in virtseedd virtseed-egd virtseed-libvirt; do
	bin=/bin/true
	for d in "$top_builddir" "$top_builddir/agent" "$top_builddir/egd" "$top_builddir/libvirt"; do
		[ -x "$d/$b" ] && bin=$(cd "$d" && pwd)/$b && break
	done
	[ "$bin" = /bin/true ] && echo "# $b not built: checking its unit against /bin/true"
	ln -s "$bin" "$units_dir/sbin/$b"
done
for u in "$top_srcdir"/units/*.service.in; do
	n=${u##*/}
	sed "s|@sbindir@|$units_dir/sbin|g" "$u" >"$units_dir/${n%.in}"
done
cp "$top_srcdir"/units/*.socket "$units_dir/"
sed "s|/usr/libexec/virtseed/virtseed-initrd|$top_srcdir/initramfs/virtseed-initrd.sh|" \
	"$top_srcdir/initramfs/dracut/90virtseed/virtseed-initrd.service" \
	>"$units_dir/virtseed-initrd.service"
