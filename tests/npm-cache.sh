# Sourced by tests/fetch-*.sh.  npm_fetch TAG NAME@VERSION... unpacks each
# npm package into $CACHE/NAME@VERSION/package/ (CACHE is the caller's),
# unless an earlier run completed it there; a package that cannot be
# fetched (no network) is reported on stderr, prefixed with TAG, and
# skipped.
npm_fetch() {
	tag=$1
	shift
	mkdir -p "$CACHE"
	for p in "$@"; do
		dir="$CACHE/$p"
		[ -f "$dir/.complete" ] && continue
		tmp=$(mktemp -d "$CACHE/.fetch.XXXXXX")
		if (cd "$tmp" && npm pack --silent "$p" >/dev/null 2>&1); then
			rm -rf "$dir"
			mkdir -p "$dir"
			tar -xzf "$tmp"/*.tgz -C "$dir"
			touch "$dir/.complete"
		else
			echo "$tag: cannot fetch $p (skipped)" >&2
		fi
		rm -rf "$tmp"
	done
}
