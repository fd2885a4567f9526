#!/bin/sh
# The Debian 12 base image for the podman tests, without a registry:
# `debootstrap --variant=minbase bookworm` once, kept as a tarball outside
# the clone, imported as docker.io/library/debian:12 and debian:12-slim (the
# two bases the Dockerfile names).
#
#   tests/podman/base-image.sh
#
# ${OISP_TEST_CACHE:-/var/cache/oisp-test}/podman/$KEY.tar.gz is the cache;
# KEY names what is in it, so a change of suite, variant or package list
# makes a new tarball.  When podman already holds an image of that KEY
# (label oisp.base-key), nothing is done; when only the tarball is there it
# is imported (seconds); otherwise debootstrap builds it (about 3 minutes,
# from deb.debian.org or $DEBIAN_MIRROR).  Root only.
set -eu
SUITE=bookworm
VARIANT=minbase
# Bump when the recipe below changes.
KEY="debian-12-$SUITE-$VARIANT-v1"
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
CACHE="${OISP_TEST_CACHE:-/var/cache/oisp-test}/podman"
TAR="$CACHE/$KEY.tar.gz"
TAGS="docker.io/library/debian:12 docker.io/library/debian:12-slim"

have_image() { # TAG: podman holds TAG, imported from KEY
	[ "$(podman image inspect --format '{{index .Labels "oisp.base-key"}}' "$1" \
		2>/dev/null)" = "$KEY" ]
}

ok=1
for t in $TAGS; do
	have_image "$t" || ok=
done
if [ -n "$ok" ]; then
	echo "base-image: $KEY already imported"
	exit 0
fi

if [ ! -s "$TAR" ]; then
	command -v debootstrap >/dev/null 2>&1 ||
		{ echo "base-image: debootstrap is missing (tests/install-deps.sh)" >&2; exit 2; }
	mkdir -p "$CACHE"
	dir=$(mktemp -d "$CACHE/.root.XXXXXX")
	# The tree and a partial tarball go on failure; a finished tarball is
	# renamed into place, so a crash never leaves a truncated cache.
	trap 'rm -rf "$dir" "$TAR.tmp"' EXIT
	trap 'exit 130' INT TERM
	echo "base-image: debootstrap --variant=$VARIANT $SUITE (about 3 minutes)"
	debootstrap --variant="$VARIANT" "$SUITE" "$dir" "$MIRROR" > "$dir.log" 2>&1 ||
		{ tail -n 20 "$dir.log" >&2; rm -f "$dir.log"; exit 1; }
	rm -f "$dir.log"
	# What apt-get in the Dockerfile reads: Debian's archive and its
	# security updates, as in the official image.
	cat > "$dir/etc/apt/sources.list" <<-LIST
	deb $MIRROR $SUITE main
	deb $MIRROR $SUITE-updates main
	deb http://deb.debian.org/debian-security $SUITE-security main
	LIST
	rm -rf "$dir"/var/cache/apt/archives/*.deb "$dir"/var/lib/apt/lists/* \
		"$dir"/dev/* "$dir"/proc/* "$dir"/sys/* "$dir"/tmp/* "$dir"/run/*
	tar --numeric-owner -C "$dir" -czf "$TAR.tmp" .
	mv "$TAR.tmp" "$TAR"
	rm -rf "$dir"
	trap - EXIT INT TERM
fi

echo "base-image: podman import $TAR"
id=$(podman import --change 'CMD ["bash"]' --change "LABEL oisp.base-key=$KEY" \
	"$TAR" "docker.io/library/debian:12")
for t in $TAGS; do
	podman tag "$id" "$t"
done
echo "base-image: $KEY imported as $TAGS"
