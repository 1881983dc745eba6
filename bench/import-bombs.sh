#!/bin/sh
# Peak RSS and time of the real binary on each hostile workbook of issue 13
# (records/sheet/bomb_test.go writes them): each must be refused in under
# 2 s and 256 MB.
set -eu
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
SHEET_BOMBS=$dir go test ./records/sheet -run HostileWorkbooks -count=1 >/dev/null
go build -o "$dir/clientvault" ./cmd/clientvault
"$dir/clientvault" keygen -o "$dir/owner.key" >/dev/null
export CLIENTVAULT_IDENTITY="$dir/owner.key" CLIENTVAULT_VAULT="$dir/vault.db"
"$dir/clientvault" init --recovery-out "$dir/rec.key" >/dev/null 2>&1
for f in "$dir"/bomb*.xlsx; do
	/usr/bin/time -f "$(basename "$f") $(du -k "$f" | cut -f1) KiB: exit %x, %e s, %M KB max RSS" \
		"$dir/clientvault" import "$f" >/dev/null 2>"$dir/err" || true
	tail -1 "$dir/err"
done
