#!/bin/sh
# Builds the Go test clients (tests/e2e/clients/go/) with Debian's go into
# a cache outside the clone, keyed by the sources and the Go release, and
# prints the directory.  Variants of each client NAME:
#   NAME         go build (cgo on: the net package's resolver)
#   NAME-stripped  -ldflags='-s -w' (no .symtab; .gopclntab stays)
#   NAME-pie     -buildmode=pie
#   NAME-static  CGO_ENABLED=0
#   NAME-extld   -ldflags=-linkmode=external (text after the C start code)
# Used by tests/unit/test_gosym.c and tests/e2e/test_sensor_go.py (aiserver:
# the server end).
set -eu
SRC="$(cd "$(dirname "$0")/e2e/clients/go" && pwd)"
CACHE="${OISP_TEST_CACHE:-/var/cache/oisp-test}/go"
GO="${GO:-go}"
key=$( (cd "$SRC" && find . -type f | sort | xargs cat; "$GO" version) |
	sha256sum | cut -c1-16)
out="$CACHE/$key"
if [ ! -f "$out/.done" ]; then
	mkdir -p "$out"
	export GOCACHE="$CACHE/gocache" GOPATH="$CACHE/gopath" GOFLAGS=-mod=mod \
		GOPROXY=off GOTOOLCHAIN=local
	cd "$SRC"
	for d in */; do
		n=${d%/}
		"$GO" build -o "$out/$n" "./$n"
		"$GO" build -ldflags='-s -w' -o "$out/$n-stripped" "./$n"
		"$GO" build -buildmode=pie -o "$out/$n-pie" "./$n"
		CGO_ENABLED=0 "$GO" build -o "$out/$n-static" "./$n"
		"$GO" build -ldflags=-linkmode=external -o "$out/$n-extld" "./$n"
	done
	touch "$out/.done"
fi
echo "$out"
