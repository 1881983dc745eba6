#!/bin/sh
# Wall time and peak RSS of the real binary's find and list at 100,000
# records (issue 14: under 150 ms for the whole command, process start
# included, and under 64 MB). Builds the binary, imports 100,000 CSV rows of
# about 1 KB (bench/gencsv) into a vault with a plain key identity (unless
# DIR already holds one), then runs each command RUNS times (default 20)
# from the page cache with GNU time and prints min / median / max wall
# time, the mean CPU time (user + system) and the largest "Maximum resident
# set size". Wall times mean little while other work loads the machine
# (see uptime): the CPU time does not change with it.
#   sh bench/find-cli.sh
# DIR (default /tmp/cv-find) holds the files.
set -eu
DIR=${DIR:-/tmp/cv-find}
RUNS=${RUNS:-20}
mkdir -p "$DIR"
go build -o "$DIR/cv" ./cmd/clientvault
export CLIENTVAULT_VAULT="$DIR/vault-100k.db" CLIENTVAULT_IDENTITY="$DIR/owner.key"
if [ ! -f "$DIR/vault-100k.db" ]; then
	go run ./bench/gencsv -rows 100000 -o "$DIR/clients-100k.csv"
	"$DIR/cv" keygen -o "$DIR/owner.key" >/dev/null 2>&1
	"$DIR/cv" init --recovery-out "$DIR/recovery.key" >/dev/null 2>&1
	"$DIR/cv" import "$DIR/clients-100k.csv" >/dev/null
fi
ls -l "$DIR/vault-100k.db"
uptime
measure() {
	: >"$DIR/times.txt"
	"$DIR/cv" "$@" >/dev/null 2>&1 || true # warm the page cache
	i=0
	while [ "$i" -lt "$RUNS" ]; do
		/usr/bin/time -f "%e %M %U %S" -a -o "$DIR/times.txt" "$DIR/cv" "$@" >/dev/null 2>&1 || true
		i=$((i + 1))
	done
	sort -n "$DIR/times.txt" | awk -v cmd="$*" '{t[NR] = $1; if ($2 > m) m = $2; c += $3 + $4}
		END {printf "%-40s wall min %.2f median %.2f max %.2f s, CPU %.3f s/run, max RSS %.1f MB (%d runs)\n", cmd, t[1], t[int((NR + 1) / 2)], t[NR], c / NR, m / 1024, NR}'
}
measure find numberedb
measure find "Numberedb testclient"
measure find 5550001
measure find client1@example.test
measure find numberedb --json
measure list
measure list --json
measure list --sort last-visit --limit 20
measure list --due-before 2034-01-01 --sort retain-until
