#!/bin/sh
# Peak memory of `clientvault import` for 100,000 and 1,000,000 rows of about
# 1 KB: builds the binary, writes the CSV files (about 0.1 and 1 GB) with
# bench/gencsv, imports each into a fresh vault with a plain key identity,
# and prints GNU time's "Maximum resident set size" and elapsed time.
# While the import runs, /proc/PID/status is sampled every second into
# $DIR/status-N.txt (seconds, VmRSS, RssAnon, RssFile in MB), and the
# largest RssAnon and RssFile seen are printed too.
#   sh bench/import-rss.sh            # both sizes
#   sh bench/import-rss.sh 100000     # one size
# DIR (default /tmp/cv-rss) holds the files; it is removed at the start.
set -eu
DIR=${DIR:-/tmp/cv-rss}
SIZES=${*:-100000 1000000}
rm -rf "$DIR"
mkdir -p "$DIR"
go build -o "$DIR/cv" ./cmd/clientvault
for n in $SIZES; do
	go run ./bench/gencsv -rows "$n" -o "$DIR/clients-$n.csv"
	export CLIENTVAULT_VAULT="$DIR/vault-$n.db" CLIENTVAULT_IDENTITY="$DIR/owner.key"
	[ -f "$DIR/owner.key" ] || "$DIR/cv" keygen -o "$DIR/owner.key" >/dev/null 2>&1
	"$DIR/cv" init --recovery-out "$DIR/recovery-$n.key" >/dev/null 2>&1
	/usr/bin/time -v "$DIR/cv" import "$DIR/clients-$n.csv" >"$DIR/import-$n.out" 2>"$DIR/time-$n.txt" &
	tpid=$!
	: >"$DIR/status-$n.txt"
	t=0
	while kill -0 "$tpid" 2>/dev/null; do
		for p in $(pgrep -P "$tpid" 2>/dev/null || true); do
			awk -v t="$t" '/^VmRSS|^RssAnon|^RssFile/ {v[$1] = int($2 / 1024)}
				END {if (v["VmRSS:"] != "") print t, v["VmRSS:"], v["RssAnon:"], v["RssFile:"]}' \
				"/proc/$p/status" >>"$DIR/status-$n.txt" 2>/dev/null || true
		done
		sleep 1
		t=$((t + 1))
	done
	wait "$tpid"
	rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$DIR/time-$n.txt")
	wall=$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$DIR/time-$n.txt")
	cpu=$(awk -F': ' '/User time|System time/ {s += $2} END {printf "%.1f", s}' "$DIR/time-$n.txt")
	peaks=$(awk '$3 > a {a = $3} $4 > f {f = $4} END {printf "max_anon_mb=%d max_file_mb=%d", a, f}' "$DIR/status-$n.txt")
	echo "rows=$n max_rss_mb=$((rss / 1024)) $peaks elapsed=$wall cpu_s=$cpu vault_mb=$(($(stat -c %s "$CLIENTVAULT_VAULT") / 1048576)) $(cat "$DIR/import-$n.out")"
	rm -f "$DIR/clients-$n.csv"
done
