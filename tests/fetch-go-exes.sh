#!/bin/sh
# Fetches Go-built executables from npm for the .gopclntab reader's tests
# (tests/unit/test_gosym.c): esbuild's Linux x86-64 package across
# releases, each built by a different Go version.  They go to a cache
# outside the clone, reused by version:
#   ${OISP_TEST_CACHE:-/var/cache/oisp-test}/npm/NAME@VERSION/package/...
# Prints nothing on success; a package that cannot be fetched (no
# network) is reported and skipped, and the tests skip it too.
set -eu
CACHE="${OISP_TEST_CACHE:-/var/cache/oisp-test}/npm"
# NAME@VERSION; test_gosym.c lists the Go release that built each.
PKGS="esbuild-linux-64@0.13.15
esbuild-linux-64@0.14.39
esbuild-linux-64@0.14.54
@esbuild/linux-x64@0.17.19
@esbuild/linux-x64@0.19.12
@esbuild/linux-x64@0.23.1
@esbuild/linux-x64@0.25.12
@esbuild/linux-x64@0.27.7
@esbuild/linux-x64@0.28.2"

. "$(dirname "$0")/npm-cache.sh"
# shellcheck disable=SC2086 # one word per package
npm_fetch fetch-go-exes $PKGS
