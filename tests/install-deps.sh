#!/bin/sh
# Installs everything the build and the tests need on Debian 12.
# Idempotent: apt-get and npm only run when something is missing.
set -eu
cd "$(dirname "$0")/.."

# libclang-rt-dev: clang's sanitizer and libFuzzer runtimes (make test's
# fuzz run), only a Recommends of clang.  podman, runc, debootstrap and
# debian-archive-keyring: the podman mode of the cookbook (make
# test-podman); runc because crun refuses hybrid cgroup v1 hosts, the
# keyring for debootstrap's signature check (a Recommends only).
# libssl-dev: tests/podman/tlsfirst.c.  libgnutls28-dev: bench/gnutlsbench
# (make bench-tools, which make test-e2e builds).
PKGS="make gcc clang llvm libclang-rt-dev pkg-config libbpf-dev bpftool
libelf-dev zlib1g-dev
libcjson-dev libpcre2-dev libyaml-dev libcriterion-dev libbrotli-dev
libhttp-parser-dev curl openssl ca-certificates util-linux
python3 python3-pytest python3-requests python3-httpx python3-jsonschema
python3-brotli python3-yaml nodejs libmicrohttpd-dev libcurl4-openssl-dev
gnutls-bin libcurl3-gnutls
libmimalloc-dev prometheus libnghttp2-dev nghttp2-proxy python3-h2
python3-websockets python3-hpack
libcapstone-dev golang-go
podman runc debootstrap debian-archive-keyring libssl-dev libgnutls28-dev"

missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
		missing="$missing $p"
done
# kubectl may come from another package (e.g. a cloud SDK's): any will do.
command -v kubectl >/dev/null 2>&1 || missing="$missing kubernetes-client"
if [ -n "$missing" ]; then
	echo "install-deps: apt-get install$missing"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	# shellcheck disable=SC2086
	apt-get install -y -qq --no-install-recommends $missing
fi

# node_modules/ws: a tree installed before ws was in the lock file is
# installed again.
if [ -f tests/e2e/node/package-lock.json ] &&
   [ ! -d tests/e2e/node/node_modules/ws ]; then
	echo "install-deps: npm ci (tests/e2e/node)"
	(cd tests/e2e/node && npm ci --no-audit --no-fund --loglevel=error)
fi

# node_modules/@kubernetes-models/prometheus-operator: likewise, for a tree
# from before the Prometheus Operator's models were in the lock file.
if [ -f tests/k8s-validate/package-lock.json ] &&
   [ ! -d tests/k8s-validate/node_modules/@kubernetes-models/prometheus-operator ]; then
	echo "install-deps: npm ci (tests/k8s-validate)"
	(cd tests/k8s-validate && npm ci --no-audit --no-fund --loglevel=error)
fi

# Go executables built by other Go releases, for test_gosym (a cache
# outside the clone; skipped with a message when npm cannot reach them).
tests/fetch-go-exes.sh
# The AI coding agents (Bun, Claude Code, Codex, Deno, Copilot CLI), several
# releases each, into the same cache.
tests/fetch-agent-exes.sh
