#!/bin/sh
# Fetches the AI coding agents' executables from npm for the capture
# tests of statically linked BoringSSL (Bun, Claude Code, OpenCode) and rustls
# (Codex, Deno, Copilot CLI's runtime.node), and the Gemini CLI (JavaScript
# bundles that /usr/bin/node runs, on node's OpenSSL), several releases of each.
# They go to a cache outside the clone, reused by version:
#   ${OISP_TEST_CACHE:-/var/cache/oisp-test}/npm/NAME@VERSION/package/...
# Prints nothing on success; a package that cannot be fetched (no
# network) is reported and skipped, and the tests that need it fail.
set -eu
CACHE="${OISP_TEST_CACHE:-/var/cache/oisp-test}/npm"
PKGS="@oven/bun-linux-x64@1.4.5
@oven/bun-linux-x64@1.4.2
@oven/bun-linux-x64@1.4.0
@oven/bun-linux-x64@1.3.14
@oven/bun-linux-x64@1.3.11
@oven/bun-linux-x64@1.3.5
@oven/bun-linux-x64@1.3.0
@oven/bun-linux-x64@1.2.20
@oven/bun-linux-x64-musl@1.4.4
@anthropic-ai/claude-code-linux-x64@2.1.337
@anthropic-ai/claude-code-linux-x64@2.1.316
@anthropic-ai/claude-code-linux-x64@2.1.286
@anthropic-ai/claude-code-linux-x64@2.1.252
@anthropic-ai/claude-code-linux-x64@2.1.200
@anthropic-ai/claude-code-linux-x64@2.1.159
@anthropic-ai/claude-code-linux-x64@2.1.123
opencode-linux-x64@1.19.5
opencode-linux-x64@1.14.41
opencode-linux-x64@1.0.185
@openai/codex@0.171.0-linux-x64
@openai/codex@0.166.0-linux-x64
@openai/codex@0.159.3-linux-x64
@openai/codex@0.151.0-linux-x64
@openai/codex@0.144.5-linux-x64
@openai/codex@0.133.0-linux-x64
@deno/linux-x64-glibc@2.9.6
@deno/linux-x64-glibc@2.9.4
@deno/linux-x64-glibc@2.7.14
@deno/linux-x64-glibc@2.6.3
@deno/linux-x64-glibc@2.5.6
@deno/linux-x64-glibc@2.4.4
@github/copilot-linux-x64@1.0.102
@github/copilot@1.0.102
@google/gemini-cli@0.61.0
@google/gemini-cli@0.39.0"

. "$(dirname "$0")/npm-cache.sh"
# shellcheck disable=SC2086 # one word per package
npm_fetch fetch-agent-exes $PKGS

# Copilot CLI makes its model calls in runtime.node, a native add-on
# that its single-file executable unpacks on first run (into
# $COPILOT_CACHE_HOME/pkg/linux-x64/VERSION/prebuilds/linux-x64/):
# unpack it into the cache too, without running the CLI itself.
for cop in "$CACHE"/@github/copilot-linux-x64@*; do
	[ -x "$cop/package/copilot" ] && [ ! -f "$cop/sea/.complete" ] || continue
	home=$(mktemp -d)
	if HOME="$home" COPILOT_CACHE_HOME="$cop/sea" COPILOT_SEA_EXTRACT_ONLY=1 \
	   "$cop/package/copilot" --version >/dev/null 2>&1 </dev/null; then
		touch "$cop/sea/.complete"
	else
		echo "fetch-agent-exes: cannot unpack $cop/package/copilot" >&2
	fi
	rm -rf "$home"
done
