#!/bin/sh
# mkrootfs.sh DIR PROGRAM...
# Builds a minimal root filesystem for a container-style test process:
# each PROGRAM and every library `ldd` lists for it (the dynamic loader
# included) are *copied* into DIR at the same paths, so the process runs
# its own libssl: another inode, a path that does not exist on the host's
# filesystem view of the container.  Adds /etc/hosts, /etc/nsswitch.conf,
# /etc/passwd, /tmp and /dev/null.  Run it as:
#   unshare --pid --mount --fork chroot DIR PROGRAM ...
set -eu
[ $# -ge 2 ] || { echo "usage: $0 DIR PROGRAM..." >&2; exit 2; }
dir=$1
shift
mkdir -p "$dir/etc" "$dir/tmp" "$dir/dev" "$dir/proc"
chmod 1777 "$dir/tmp"

copy() {
	# cp -L: the file itself, at its resolved path and at the given one.
	src=$1
	real=$(readlink -f "$src")
	mkdir -p "$dir$(dirname "$real")" "$dir$(dirname "$src")"
	[ -e "$dir$real" ] || cp -L "$real" "$dir$real"
	[ -e "$dir$src" ] || cp -L "$real" "$dir$src"
}

for prog in "$@"; do
	path=$(command -v "$prog")
	copy "$path"
	ldd "$path" | awk '/=> \// { print $3 } /^\t\// { print $1 }' |
	while read -r lib; do
		copy "$lib"
	done
done
# /lib64 → the loader, as on the host
for f in /etc/nsswitch.conf /etc/passwd /etc/group; do
	cp "$f" "$dir$f"
done
printf '127.0.0.1 localhost\n' > "$dir/etc/hosts"
[ -e "$dir/dev/null" ] || mknod -m 666 "$dir/dev/null" c 1 3
