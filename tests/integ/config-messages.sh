#!/bin/sh
# Every bad flag, file line and kernel command line item of virtseedd and virtseed-egd gets
# one line naming the key, the value and what is allowed, with the exit code a person or a
# unit sees.  Then the agent's --status and --until-ready with a good configuration.
# shellcheck source=tests/integ/lib.sh
. "$(dirname "$0")/lib.sh"
need_root

# check EXIT MESSAGE ARGS...: the first line printed is MESSAGE (priority prefix dropped).
check() {
	want_rc=$1 msg=$2
	shift 2
	"$BIN" "$@" >"$TMP/out" 2>&1
	rc=$?
	got=$(sed -n 's/^<[0-7]>//; 1p' "$TMP/out")
	[ "$rc" = "$want_rc" ] || { cat "$TMP/out"; fail "'$*': exit $rc, not $want_rc"; }
	[ "$got" = "$msg" ] || fail "'$*':
  got  '$got'
  want '$msg'"
	rows=$((rows + 1))
}
rows=0
BIN=$AGENT
C=$TMP/c.conf
conf() { printf '%b' "$1" >"$C"; }
allowed_egd="allowed unix:PATH, tcp:HOST:PORT, vsock:CID:PORT, serial:PATH or a device path"

# Flags.
check 1 "Unknown option '--bogus'" --bogus
check 1 "Unknown option '--frobnicate'" --frobnicate=1 --status
check 1 "Option --timeout needs a value: --timeout=VALUE" --timeout
check 1 "Invalid value 'never' for --timeout: allowed 1 to 3600 (seconds)" --timeout=never
check 1 "Invalid value '9' for --credit-hwrng: allowed 0 to 8 (bits per byte)" --credit-hwrng=9
check 1 "Invalid value '' for --sources: allowed a comma-separated list of hwrng, rdseed, \
rdrand, egd, each at most once" --sources=
check 1 "Invalid value 'rdrand,tpm' for --sources: allowed a comma-separated list of hwrng, rdseed, \
rdrand, egd, each at most once" --sources=rdrand,tpm
check 1 "Invalid value '11' for --log-level: allowed emerg, alert, crit, err, warning, \
notice, info, debug or 0 to 7" --log-level=11
check 1 "Invalid value 'vsock:x:y' for --egd: $allowed_egd" --egd=vsock:x:y
check 1 "Invalid value 'tcp:1.2.3' for --egd: $allowed_egd" --egd=tcp:1.2.3
check 1 "Invalid value 'nosuch' for --user: no such user" --user=nosuch
check 1 "Invalid value '0.4' for --min-entropy: allowed 0.5 to 8 (bits per byte)" \
	--min-entropy=0.4
check 1 "Invalid value '8' for --credit-hwrng: more than min-entropy = 0.5: a source is \
credited at most the min-entropy its health tests assume" --credit-hwrng=8 --min-entropy=0.5
check 1 "Unexpected argument 'now': options are --KEY=VALUE" now
check 1 "Failed to open configuration '$TMP/missing.conf': No such file or directory" \
	--config="$TMP/missing.conf"

# File lines.
conf 'sources = rdrand\ncredit-rdrand = 12\n'
check 1 "$C:2: invalid value '12' for 'credit-rdrand': allowed 0 to 8 (bits per byte)" \
	--config="$C" --status
conf 'sources = rdrand\nbogus = 1\n'
check 1 "$C:2: unknown key 'bogus'" --config="$C" --status
conf 'timeout = 5\nno equals here\n'
check 1 "$C:2: expected 'key = value'" --config="$C"
printf 'timeout = 5\ntime\000out = 6\nsources = rdrand\n' >"$C"
check 1 "$C:2: NUL byte in the line" --config="$C"
conf 'egd = tcp:1.2.3\n'
check 1 "$C:1: invalid value 'tcp:1.2.3' for 'egd': $allowed_egd" --config="$C"
conf 'user = nosuch\n'
check 1 "$C:1: invalid value 'nosuch' for 'user': no such user" --config="$C"
conf 'credit-egd = 6\nmin-entropy = 4\n'
check 1 "$C:1: invalid value '6' for 'credit-egd': more than min-entropy = 4: a source is \
credited at most the min-entropy its health tests assume" --config="$C"
head -c 70000 /dev/zero | tr '\0' '#' >"$C"
check 1 "$C: larger than 65536 bytes" --config="$C"

# Kernel command line items: logged and ignored; the agent goes on (here: --status).
printf 'sources = rdrand\n' >"$C"
cmdline() { # MESSAGE ITEMS
	VIRTSEED_PROC_CMDLINE="$2" check 0 "$1" --config="$C" --status
}
cmdline "Kernel command line: unknown key 'virtseed.bogus', ignoring" "quiet virtseed.bogus=1"
cmdline "Kernel command line: invalid value 'abc' for 'virtseed.timeout': allowed 1 to 3600 \
(seconds), ignoring" "virtseed.timeout=abc"
cmdline "Kernel command line: invalid value 'vsock:x:y' for 'virtseed.egd': $allowed_egd, \
ignoring" "virtseed.egd=vsock:x:y"
cmdline "Kernel command line: invalid value 'nosuch' for 'virtseed.user': no such user, \
ignoring" "virtseed.user=nosuch"
cmdline "Kernel command line: 'virtseed.hwrng-device' is longer than 1023 bytes, ignoring" \
	"virtseed.hwrng-device=/$(head -c 1100 /dev/zero | tr '\0' a)"
grep -q '^hwrng-device = /dev/hwrng$' "$TMP/out" || fail "a long item was applied"
cmdline "Kernel command line: invalid value '3' for 'virtseed.credit-egd': more than \
min-entropy = 1: a source is credited at most the min-entropy its health tests assume, \
ignoring" "virtseed.min-entropy=1 virtseed.credit-egd=3"
VIRTSEED_PROC_CMDLINE="virtseed.timeout=8 -- virtseed.bogus=1 virtseed.timeout=9" \
	"$AGENT" --config="$C" --status >"$TMP/out" 2>&1 || fail "--status failed"
grep -q 'Kernel command line' "$TMP/out" && fail "init's arguments after -- were parsed"
grep -q '^timeout = 8$' "$TMP/out" || fail "virtseed.timeout=8 before -- not applied"
# virtseed-egd: flags and virtseed-egd.conf lines (checked with --check-config).
BIN=$top_builddir/egd/virtseed-egd
allowed_listen="allowed unix:PATH or tcp:HOST:PORT, optionally followed by ,qemu"
check 1 "Unknown option '--bogus'" --bogus=1
check 1 "Option --listen needs a value" --listen
check 1 "Invalid value 'foo:bar' for --listen: $allowed_listen" --listen=foo:bar
check 1 "Invalid value 'vsock:1:2' for --connect: $allowed_listen" --connect=vsock:1:2
check 1 "Invalid value '11' for --log-level: allowed emerg, alert, crit, err, warning, \
notice, info, debug or 0 to 7" --log-level=11
check 1 "Failed to read '$TMP/missing.conf': No such file or directory" \
	--config="$TMP/missing.conf"
check 1 "Unexpected argument 'now'." now
egd_conf() { # MESSAGE LINES
	printf '%b' "$2" >"$C"
	check 1 "$1" --config="$C" --check-config
}
egd_conf "$C:1: invalid value '1X' for 'budget': allowed 0 to 17179869184 bytes (a K, M or G \
suffix multiplies by 1024)" 'budget = 1X\n'
egd_conf "$C:1: invalid value '99999999' for 'max-clients': allowed 0 to 65536 (a K, M or G \
suffix multiplies by 1024)" 'max-clients = 99999999\n'
egd_conf "$C:1: invalid value '-5' for 'accept-rate': allowed 0 to 1000000 (a K, M or G \
suffix multiplies by 1024)" 'accept-rate = -5\n'
egd_conf "$C:1: invalid value 'maybe' for 'client-write': allowed refuse, discard or mix" \
	'client-write = maybe\n'
egd_conf "$C:1: invalid value 'perhaps' for 'peer-cmdline': allowed yes or no" \
	'peer-cmdline = perhaps\n'
egd_conf "$C:2: invalid value 'foo:bar' for 'listen': $allowed_listen" \
	'# x\nlisten = foo:bar\n'
egd_conf "$C:3: invalid value '2Q' for 'rate': allowed 0 to 17179869184 bytes (a K, M or G \
suffix multiplies by 1024)" '[guest db1]\nclass = default\nrate = 2Q\n'
egd_conf "$C:2: invalid value '-1' for 'uid': allowed 0 to 4294967294" '[guest db1]\nuid = -1\n'
egd_conf "$C:1: unknown key 'bogus' in this section" 'bogus = 1\n'
egd_conf "$C: source: unknown source 'bogus' (getrandom, hwrng, rdseed, rdrand, egd:ADDRESS)" \
	'source = bogus\n'
echo "$rows messages as expected"

printf 'sources = rdrand\ntimeout = 7\n' >"$TMP/good.conf"
"$AGENT" --config="$TMP/good.conf" --status --timeout=9 >"$TMP/status" 2>&1 ||
	{ cat "$TMP/status"; fail "--status failed"; }
cat "$TMP/status"
grep -q '^kernel RNG: ' "$TMP/status" || fail "--status lacks the kernel state"
grep -q '^timeout = 9$' "$TMP/status" || fail "flag did not win over the file"
grep -q '^sources = rdrand$' "$TMP/status" || fail "file not applied"
if grep -q 'kernel RNG:  *ready' "$TMP/status"; then
	"$AGENT" --until-ready --sources=rdrand >"$TMP/out" 2>&1 ||
		{ cat "$TMP/out"; fail "--until-ready failed on a ready kernel"; }
	grep -q 'virtseed: seeded: crng ready' "$TMP/out" || fail "--until-ready said nothing"
fi
echo "PASS"
