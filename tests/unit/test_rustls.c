// SPDX-License-Identifier: MIT
/*
 * Tests of the rustls identification (capture/rustls.h) on the real
 * executables of Codex CLI, Deno and Copilot CLI's runtime.node, from
 * the test cache that tests/fetch-agent-exes.sh fills (skipped, with a
 * message, when it is missing).  The expected addresses are the entries
 * of aws-lc's EVP_AEAD_CTX_seal and _open in each build, confirmed by
 * running the program under gdb against a local TLS server: a
 * breakpoint there saw every TLS 1.3 record, with a record header as
 * its additional data.  Only the expectations are per build; the code
 * under test has no table.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "capture/elfsym.h"
#include "capture/rustls.h"
#include "capture/stack.h"

struct exe {
	const char *path;	/* under $OISP_TEST_CACHE/npm */
	const char *rustls;	/* rustls release */
	bool eh_frame;
	__u64 seal, open;
};

#define CODEX	"/package/vendor/x86_64-unknown-linux-musl/bin/codex"
#define COPILOT	"@github/copilot-linux-x64@1.0.102"
#define RUNTIME	COPILOT "/sea/pkg/linux-x64/1.0.102/prebuilds/linux-x64/" \
		"runtime.node"

static const struct exe exes[] = {
	{ "@openai/codex@0.171.0-linux-x64" CODEX, "0.23.46", true,
	  0x12629450, 0x12629690 },
	{ "@openai/codex@0.144.5-linux-x64" CODEX, "0.23.36", true,
	  0xd8517d0, 0xd851a10 },
	/* No .eh_frame at all: entries from calls alone. */
	{ "@deno/linux-x64-glibc@2.9.6/package/deno", "0.23.40", false,
	  0x5ab62b9, 0x5ab64cc },
	{ "@deno/linux-x64-glibc@2.6.3/package/deno", "0.23.28", true,
	  0x2a252d8, 0x2a254ec },
	/* Extracted from the single-file executable by fetch-agent-exes.sh. */
	{ RUNTIME, "0.23.46", true, 0x83087a0, 0x83089e0 },
};

static const char *cache_path(char *buf, size_t n, const char *rel)
{
	const char *c = getenv("OISP_TEST_CACHE");
	int r = snprintf(buf, n, "%s/npm/%s", c ? c : "/var/cache/oisp-test",
			 rel);

	cr_assert(r > 0 && (size_t)r < n, "path too long");
	return buf;
}

struct file {
	int fd;
	struct elfsym *es;
};

/* Opens @path, or skips the test when it is not in the cache. */
static void file_open(struct file *f, const char *path)
{
	f->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (f->fd < 0)
		cr_skip_test("%s not in the test cache "
			     "(tests/fetch-agent-exes.sh fills it)", path);
	cr_assert_eq(elfsym__open_fd(f->fd, &f->es), 0, "elfsym %s", path);
}

static void file_close(struct file *f)
{
	elfsym__free(f->es);
	close(f->fd);
}

#define NEXES	(sizeof(exes) / sizeof(exes[0]))

/* By index: the parameters are copied to the test's process. */
ParameterizedTestParameters(rustls, identifies)
{
	static size_t idx[NEXES];
	size_t i;

	for (i = 0; i < NEXES; i++)
		idx[i] = i;
	return cr_make_param_array(size_t, idx, NEXES);
}

ParameterizedTest(size_t *idx, rustls, identifies)
{
	const struct exe *x = &exes[*idx];
	struct timespec a, b;
	struct rustls_aead r;
	char path[4096];
	const char *why;
	struct file f;
	int err;

	file_open(&f, cache_path(path, sizeof(path), x->path));
	clock_gettime(CLOCK_MONOTONIC, &a);
	err = rustls__identify(f.es, f.fd, &r, &why);
	clock_gettime(CLOCK_MONOTONIC, &b);
	cr_assert_eq(err, 0, "%s: %d (%s)", x->path, err, why ? why : "");
	cr_log_info("%s: rustls %s, %u sites, %u left out, %.0f ms", x->path,
		    r.rustls, r.nsites, r.dropped,
		    (b.tv_sec - a.tv_sec) * 1e3 + (b.tv_nsec - a.tv_nsec) / 1e6);
	cr_expect_str_eq(r.rustls, x->rustls);
	cr_expect_eq(r.eh_frame, x->eh_frame);
	cr_expect_eq(r.seal, x->seal, "%s: seal %#llx, expected %#llx",
		     x->path, r.seal, x->seal);
	cr_expect_eq(r.open, x->open, "%s: open %#llx, expected %#llx",
		     x->path, r.open, x->open);
	/* EVP_AEAD_CTX_init(_with_direction) sits just before them. */
	cr_expect(r.ninit >= 1 && r.init[0] < r.seal &&
		  r.seal - r.init[0] < 0x400, "%s: init %u %#llx", x->path,
		  r.ninit, r.init[0]);
	cr_expect_eq(r.dropped, 0);
	file_close(&f);
}

/* A file without rustls is not rustls's, and says nothing. */
Test(rustls, not_rustls)
{
	static const char *const paths[] = { "/bin/ls", "/usr/bin/node" };
	struct rustls_aead r;
	const char *why;
	struct file f;
	unsigned int i;

	for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		if (access(paths[i], R_OK))
			continue;
		file_open(&f, paths[i]);
		cr_expect_eq(rustls__identify(f.es, f.fd, &r, &why), -ENOENT,
			     "%s", paths[i]);
		cr_expect_null(why);
		file_close(&f);
	}
}

/* Copies @src to a temporary file and returns its descriptor. */
static int copy_tmp(const char *src, char *tmpl)
{
	char buf[1 << 16];
	int in, out;
	ssize_t n;

	in = open(src, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		cr_skip_test("%s not in the test cache", src);
	out = mkstemp(tmpl);
	cr_assert(out >= 0);
	while ((n = read(in, buf, sizeof(buf))) > 0)
		cr_assert_eq(write(out, buf, (size_t)n), n);
	close(in);
	return out;
}

static void patch(int fd, __u64 off, unsigned char old, unsigned char new)
{
	unsigned char b;

	cr_assert_eq(pread(fd, &b, 1, (off_t)off), 1);
	cr_assert_eq(b, old, "byte at %#llx is %#x, not %#x", off, b, old);
	cr_assert_eq(pwrite(fd, &new, 1, (off_t)off), 1);
}

/*
 * Deno 2.9.6 (no .eh_frame) with one reason of its EVP_AEAD_CTX_seal
 * changed (TOO_LARGE to the next code, in "push 0x75; pop rdx"): no
 * function reports seal's reasons any more, and the file must be given
 * up with a reason instead of probing something else.  Then, with the
 * reason restored, its call is removed from the entry's neighbour (the
 * RET before it): the entry no longer follows the end of a function.
 */
Test(rustls, refuses_a_changed_build)
{
	char path[4096], tmpl[] = "/tmp/oisp-test-rustls-XXXXXX";
	struct rustls_aead r;
	struct elfsym *es;
	const char *why;
	__u64 site;
	int fd, err;

	fd = copy_tmp(cache_path(path, sizeof(path), exes[2].path), tmpl);
	unlink(tmpl);
	/* The seal's first site: lea rcx; push 0x1e; pop rdi; push 0x75. */
	site = 0x5ab62e2;
	cr_assert_eq(elfsym__open_fd(fd, &es), 0);
	cr_assert_eq(elfsym__addr_offset(es, site + 11, &site), 0);
	elfsym__free(es);
	patch(fd, site, 0x75, 0x76);
	cr_assert_eq(elfsym__open_fd(fd, &es), 0);
	err = rustls__identify(es, fd, &r, &why);
	elfsym__free(es);
	cr_expect_eq(err, -ESRCH, "%d", err);
	cr_expect(why && strstr(why, "seal"), "%s", why ? why : "");
	patch(fd, site, 0x76, 0x75);

	/* The RET that ends the function before the seal. */
	cr_assert_eq(elfsym__open_fd(fd, &es), 0);
	cr_assert_eq(elfsym__addr_offset(es, exes[2].seal - 1, &site), 0);
	elfsym__free(es);
	patch(fd, site, 0xc3, 0x58);
	cr_assert_eq(elfsym__open_fd(fd, &es), 0);
	err = rustls__identify(es, fd, &r, &why);
	elfsym__free(es);
	cr_expect_neq(err, 0);
	cr_expect_neq(r.seal, exes[2].seal);
	close(fd);
}

/* The resolve hook gives the probes: seal, open with its return, init. */
Test(rustls, resolve_fills_probes)
{
	struct stack_match m;
	__u64 seal, open;
	char path[4096];
	struct file f;

	file_open(&f, cache_path(path, sizeof(path), exes[2].path));
	memset(&m, 0, sizeof(m));
	cr_assert_eq(rustls__resolve(f.es, f.fd, &m), 0, "%s",
		     m.why ? m.why : "");
	cr_assert_eq(elfsym__addr_offset(f.es, exes[2].seal, &seal), 0);
	cr_assert_eq(elfsym__addr_offset(f.es, exes[2].open, &open), 0);
	cr_assert_eq(m.noffs, 3);
	cr_expect_eq(m.offs[0], seal);
	cr_expect_eq(m.cookies[0], CAP_RUSTLS_SEAL);
	cr_expect_eq(m.flags[0], TLS_PROBE_REQUIRED);
	cr_expect_eq(m.offs[1], open);
	cr_expect_eq(m.cookies[1], CAP_RUSTLS_OPEN);
	cr_expect_eq(m.flags[1], TLS_PROBE_REQUIRED | TLS_PROBE_RETURN);
	cr_expect_eq(m.cookies[2], CAP_RUSTLS_INIT);
	cr_expect_eq(m.flags[2], 0);
	file_close(&f);
}

/* Through the table of stacks: the file is rustls's, and nothing else. */
Test(rustls, matched_as_rustls)
{
	struct stack_match m;
	char path[4096];
	int fd;

	fd = open(cache_path(path, sizeof(path), exes[0].path),
		  O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		cr_skip_test("%s not in the test cache", path);
	cr_assert_eq(stack__match_fd(fd, &m), 0, "%s", m.why ? m.why : "");
	cr_expect_eq(m.stack, &rustls_stack);
	cr_expect_eq(m.noffs, 4);	/* seal, open, two init */
	close(fd);
}
