#!/bin/sh
# mkrootfs.sh [--libdir DIR] ROOT PROGRAM...
# Builds a minimal root filesystem for a container-style test process:
# each PROGRAM and every library `ldd` lists for it (the dynamic loader
# included) are *copied* into ROOT, so the process runs its own libssl:
# another inode, at a path that does not exist on the host's filesystem
# view of the container.  The host's merged-/usr layout is mirrored: when
# /lib, /bin, ... are symlinks on the host they are the same symlinks in
# ROOT, and a library ldd names through a symlink (/lib64/ld-linux...) is
# that symlink in ROOT, so each library exists once.  Adds /etc/hosts,
# /etc/nsswitch.conf, /etc/passwd, /etc/group, /tmp and /dev/null.
#
# --libdir DIR: libraries other than the dynamic loader go to DIR (e.g.
# /opt/ssl/lib, a directory no standard search covers) instead; run the
# program with LD_LIBRARY_PATH=DIR.
#
# Run it as:
#   unshare --pid --mount --fork chroot ROOT PROGRAM ...
set -eu
libdir=
if [ "${1:-}" = --libdir ]; then
	libdir=$2
	shift 2
fi
[ $# -ge 2 ] || { echo "usage: $0 [--libdir DIR] ROOT PROGRAM..." >&2; exit 2; }
dir=$1
shift
mkdir -p "$dir/etc" "$dir/tmp" "$dir/dev" "$dir/proc" "$dir/usr"
chmod 1777 "$dir/tmp"
for d in bin sbin lib lib32 lib64 libx32; do
	if [ -L "/$d" ] && [ ! -e "$dir/$d" ] && [ ! -L "$dir/$d" ]; then
		ln -s "$(readlink "/$d")" "$dir/$d"
		mkdir -p "$dir/$(readlink -f "/$d")"
	fi
done

copy() { # SRC [DEST]: the file itself at its resolved path (or DEST)
	src=$1
	real=$(readlink -f "$src")
	dst=${2:-$real}
	mkdir -p "$dir$(dirname "$dst")"
	[ -e "$dir$dst" ] || cp -L "$real" "$dir$dst"
	if [ -z "${2:-}" ] && [ "$src" != "$real" ] && [ ! -e "$dir$src" ]; then
		mkdir -p "$dir$(dirname "$src")"
		ln -s "$real" "$dir$src"
	fi
}

for prog in "$@"; do
	path=$(command -v "$prog")
	copy "$path"
	ldd "$path" | awk '/=> \// { print $3 } /^\t\// { print $1 }' |
	while read -r lib; do
		case $lib in
		*/ld-linux*|*/ld-musl*) copy "$lib" ;;
		*) if [ -n "$libdir" ]; then
			copy "$lib" "$libdir/$(basename "$lib")"
		   else
			copy "$lib"
		   fi ;;
		esac
	done
done
for f in /etc/nsswitch.conf /etc/passwd /etc/group; do
	cp "$f" "$dir$f"
done
printf '127.0.0.1 localhost\n' > "$dir/etc/hosts"
[ -e "$dir/dev/null" ] || mknod -m 666 "$dir/dev/null" c 1 3
