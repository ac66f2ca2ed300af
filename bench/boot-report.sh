# shellcheck shell=bash
# boot-report.sh: the options and the table of bench/boot.sh and bench/os-boot.sh (sourced).

# bench_options DEFAULT_OUT DEFAULT_SCENARIOS "$@": their common options into n, out (-o),
# only (-s: the scenarios to run, blank-separated), keep (-k) and plot_only (-p: run none).
# shellcheck disable=SC2034 # the variables are the caller's
bench_options() {
	local opt OPTIND=1
	n=3 out=$1 only=$2 keep='' plot_only=''
	shift 2
	while getopts n:o:s:kp opt; do
		case $opt in
		n) n=$OPTARG ;;
		o) out=$OPTARG ;;
		s) only=$OPTARG ;;
		k) keep=1 ;;
		p) plot_only=1 only='' keep=1 ;;
		*) exit 2 ;;
		esac
	done
}

# boot_table TSV BASE PEER LIMIT LABEL...: per scenario and variant the boots, then median,
# min and max of each time column (one LABEL each; TSV: scenario, variant, boot, times), and
# the ratios of the first column's median against the variants BASE and PEER.  A time
# "unseeded" means not within LIMIT s; "-" means none (e.g. no such service).
boot_table() {
	local tsv=$1 base=$2 peer=$3 limit=$4
	shift 4
	awk -F'\t' -v base="$base" -v peer="$peer" -v limit="$limit" -v labels="$*" '
function median(a, k,   i, j, t) {
	for (i = 2; i <= k; i++) for (j = i; j > 1 && a[j-1] > a[j]; j--) { t = a[j]; a[j] = a[j-1]; a[j-1] = t }
	return k % 2 ? a[(k+1)/2] : (a[k/2] + a[k/2+1]) / 2
}
# stats KEY COLUMN: "median min max" of the numeric times, ">LIMIT" if all are unseeded.
function stats(key, c,   a, j, k, u, mn, mx) {
	k = u = 0; mn = 1e9; mx = 0
	for (j = 1; j <= n[key]; j++) {
		if (v[key, j, c] == "unseeded") u++
		else if (v[key, j, c] != "-") { a[++k] = v[key, j, c] + 0
			if (a[k] < mn) mn = a[k]; if (a[k] > mx) mx = a[k] }
	}
	if (c == 1) { uns[key] = u; if (k) med[key] = median(a, k) }
	if (k) return sprintf(" %8.3f %8.3f %8.3f", median(a, k), mn, mx)
	if (u) return sprintf(" %8s %8s %8s", ">" limit, ">" limit, ">" limit)
	return sprintf(" %8s %8s %8s", "-", "-", "-")
}
function ratio(key, other,   o) {
	o = sc[key] SUBSEP other
	if (!(key in med)) return "-"
	if (o in med) return sprintf("%.2f", med[key] / med[o])
	if (o in uns && uns[o]) return sprintf("<%.3f", med[key] / limit)
	return "-"
}
{ key = $1 SUBSEP $2; if (!(key in n)) { order[++m] = key; sc[key] = $1; var[key] = $2 }
  n[key]++; for (c = 4; c <= NF; c++) v[key, n[key], c - 3] = $c; if (NF - 3 > cols) cols = NF - 3 }
END {
	nl = split(labels, lab, " ")
	printf "%-24s %-9s %5s", "scenario", "variant", "boots"
	for (c = 1; c <= nl; c++) printf " %8s %8s %8s", lab[c] " med", "min", "max"
	printf " %8s %8s\n", "/" base, "/" peer
	for (i = 1; i <= m; i++)
		for (c = 1; c <= nl; c++) line[i] = line[i] stats(order[i], c)
	for (i = 1; i <= m; i++) {
		key = order[i]
		printf "%-24s %-9s %5d%s %8s %8s\n", sc[key], var[key], n[key], line[i],
			ratio(key, base), ratio(key, peer)
	}
}' "$tsv"
}
