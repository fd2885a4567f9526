// SPDX-License-Identifier: MIT
/*
 * Tests of gosym (Go function table) on real executables: the test
 * clients built here with Debian's go 1.19 (normal, stripped, PIE,
 * static, external linker), whose .symtab gives the expected offsets
 * where it is present (elfsym reads it; the stripped build has the same
 * text as the normal one), and esbuild's npm packages built by Go 1.17
 * to 1.26, which are stripped: there every function found must start
 * with Go's stack-bound check against g (R14), which a wrong text start
 * or a wrong table layout would not give.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "capture/elfsym.h"
#include "capture/gosym.h"
#include "goexe.h"

static const char *const funcs[] = {
	"crypto/tls.(*Conn).Write",
	"crypto/tls.(*Conn).Read",
	"crypto/tls.(*Conn).Close",
	"runtime.main",
	"main.main",
};
#define NFUNCS	(sizeof(funcs) / sizeof(funcs[0]))

struct gofile {
	int fd;
	struct elfsym *es;
	struct gosym *g;
};

static int gofile_open(struct gofile *f, const char *path)
{
	int err;

	memset(f, 0, sizeof(*f));
	f->fd = open(path, O_RDONLY | O_CLOEXEC);
	cr_assert(f->fd >= 0, "open %s", path);
	cr_assert_eq(elfsym__open_fd(f->fd, &f->es), 0, "elfsym %s", path);
	err = gosym__open(f->es, f->fd, &f->g);
	return err;
}

static void gofile_close(struct gofile *f)
{
	gosym__free(f->g);
	elfsym__free(f->es);
	close(f->fd);
}

/* File offset of @name by gosym, with the function's size. */
static __u64 go_offset(const struct gofile *f, const char *name, __u64 *size)
{
	__u64 entry, off;

	cr_assert_eq(gosym__func(f->g, name, &entry, size), 0, "%s", name);
	cr_assert_eq(elfsym__addr_offset(f->es, entry, &off), 0, "%s", name);
	return off;
}

/* The Debian-built variant @variant against .symtab of @symfile. */
static void check_built(const char *variant, const char *symfile)
{
	struct gofile f, s;
	char path[512], spath[512];
	__u64 off, soff, size;
	unsigned int i;

	cr_assert_eq(gofile_open(&f, goexe(path, sizeof(path), variant)), 0,
		     "gosym %s", variant);
	cr_assert_eq(strncmp(gosym__version(f.g), "go1.19", 6), 0, "%s",
		     gosym__version(f.g));
	cr_assert_eq(gofile_open(&s, goexe(spath, sizeof(spath), symfile)), 0);
	for (i = 0; i < NFUNCS; i++) {
		off = go_offset(&f, funcs[i], &size);
		cr_assert(size > 16 && size < 65536, "%s size %llu", funcs[i],
			  (unsigned long long)size);
		cr_assert_eq(elfsym__offset(s.es, funcs[i], &soff), 0,
			     "%s in .symtab of %s", funcs[i], symfile);
		cr_expect_eq(off, soff, "%s %s: %#llx, .symtab %#llx", variant,
			     funcs[i], (unsigned long long)off,
			     (unsigned long long)soff);
	}
	cr_assert_eq(gosym__func(f.g, "crypto/tls.(*Conn).NoSuch", &off, &size),
		     -ENOENT);
	gofile_close(&s);
	gofile_close(&f);
}

Test(gosym, debian_go_normal) { check_built("aiclient", "aiclient"); }
Test(gosym, debian_go_stripped) { check_built("aiclient-stripped", "aiclient"); }
Test(gosym, debian_go_pie) { check_built("aiclient-pie", "aiclient-pie"); }
Test(gosym, debian_go_static) { check_built("aiclient-static", "aiclient-static"); }
Test(gosym, debian_go_extld) { check_built("aiclient-extld", "aiclient-extld"); }

Test(gosym, stripped_has_no_symtab)
{
	struct gofile f;
	char path[512];
	__u64 off;

	cr_assert_eq(gofile_open(&f, goexe(path, sizeof(path),
					   "aiclient-stripped")), 0);
	cr_assert_eq(elfsym__offset(f.es, "main.main", &off), -ENOENT);
	gofile_close(&f);
}

/*
 * True when the function at file offset @off starts with Go's stack
 * check: CMP RSP, [R14+16] (49 3b 66 10), or LEA R12, [RSP-n] then
 * CMP R12, [R14+16] (4d 3b 66 10).
 */
static bool go_prologue(const struct gofile *f, __u64 off)
{
	const unsigned char *p;
	unsigned int i;

	cr_assert_eq(elfsym__read(f->es, f->fd, off, 24, &p), 0);
	for (i = 0; i + 4 <= 24; i++)
		if ((p[i] == 0x49 || p[i] == 0x4d) && p[i + 1] == 0x3b &&
		    p[i + 2] == 0x66 && p[i + 3] == 0x10)
			return i == 0 || p[0] == 0x4c;
	return false;
}

struct npm_exe {
	const char *pkg;
	const char *version;	/* gosym__version() */
};

/* Go releases per `go version FILE` where it can read them. */
static const struct npm_exe npm_exes[] = {
	{ "esbuild-linux-64@0.13.15", "go1.17.2" },	/* 0xfffffffa */
	{ "esbuild-linux-64@0.14.39", "go1.18.1" },	/* 0xfffffff0 */
	{ "esbuild-linux-64@0.14.54", "go1.19" },
	{ "@esbuild/linux-x64@0.17.19", "go1.20.4" },	/* 0xfffffff1 */
	{ "@esbuild/linux-x64@0.19.12", "go1.20.12" },
	{ "@esbuild/linux-x64@0.23.1", "go1.22.5" },
	{ "@esbuild/linux-x64@0.25.12", "go1.23.12" },
	/* No .go.buildinfo: strings(1) shows go1.25.7 and go1.26.5. */
	{ "@esbuild/linux-x64@0.27.7", "go1.20+" },
	/* textStart 0: the text start comes from runtime.moduledata. */
	{ "@esbuild/linux-x64@0.28.2", "go1.20+" },
};

#define NNPM	(sizeof(npm_exes) / sizeof(npm_exes[0]))

/* Indexes: criterion copies parameters, and the pointers in them too. */
ParameterizedTestParameters(gosym, npm)
{
	static size_t idx[NNPM];
	size_t i;

	for (i = 0; i < NNPM; i++)
		idx[i] = i;
	return cr_make_param_array(size_t, idx, NNPM);
}

ParameterizedTest(size_t *idx, gosym, npm)
{
	const struct npm_exe *x = &npm_exes[*idx];
	struct gofile f;
	char path[512];
	__u64 off, size, prev = 0;
	unsigned int i;

	cr_assert_eq(gofile_open(&f, esbuild_exe(path, sizeof(path), x->pkg)),
		     0, "gosym %s", x->pkg);
	cr_assert_str_eq(gosym__version(f.g), x->version, "%s", x->pkg);
	for (i = 0; i < NFUNCS; i++) {
		off = go_offset(&f, funcs[i], &size);
		cr_assert(size > 16 && size < 65536, "%s %s size %llu", x->pkg,
			  funcs[i], (unsigned long long)size);
		cr_expect(go_prologue(&f, off), "%s: %s at %#llx has no Go "
			  "prologue", x->pkg, funcs[i], (unsigned long long)off);
		cr_expect_neq(off, prev);
		prev = off;
	}
	gofile_close(&f);
}

Test(gosym, not_go)
{
	struct gofile f;

	cr_assert_eq(gofile_open(&f, "/bin/sh"), -ENOENT);
	gofile_close(&f);
}

/* A copy of the client with the 4 bytes at .gopclntab + @at set to @v. */
static int patched(const char *variant, __u64 at, __u32 v, char *out, size_t n)
{
	struct elfsym_section sec;
	struct gofile f;
	char path[512], cmd[1200];
	int fd, err;

	cr_assert_eq(gofile_open(&f, goexe(path, sizeof(path), variant)), 0);
	cr_assert_eq(elfsym__section(f.es, ".gopclntab", &sec), 0);
	gofile_close(&f);
	snprintf(out, n, "/tmp/oisp-test-gosym-%d", getpid());
	snprintf(cmd, sizeof(cmd), "cp '%s' '%s'", path, out);
	cr_assert_eq(system(cmd), 0);
	fd = open(out, O_WRONLY);
	cr_assert(fd >= 0);
	cr_assert_eq(pwrite(fd, &v, 4, (off_t)(sec.offset + at)), 4);
	close(fd);
	err = gofile_open(&f, out);
	gofile_close(&f);
	unlink(out);
	return err;
}

Test(gosym, refuses_before_go117)
{
	char tmp[64];

	/* Go 1.2 - 1.15: stack-based calling convention. */
	cr_assert_eq(patched("aiclient-static", 0, 0xfffffffbU, tmp,
			     sizeof(tmp)), -EPROTONOSUPPORT);
	cr_assert_eq(patched("aiclient-static", 0, 0x12345678U, tmp,
			     sizeof(tmp)), -EPROTONOSUPPORT);
}

Test(gosym, bad_table)
{
	char tmp[64];

	/* nfunc (the word after the 8-byte fixed part) far too large. */
	cr_assert_eq(patched("aiclient-static", 12, 0x7fffffffU, tmp,
			     sizeof(tmp)), -EBADMSG);
	/* funcnameOffset past the section. */
	cr_assert_eq(patched("aiclient-static", 36, 0x7fffffffU, tmp,
			     sizeof(tmp)), -EBADMSG);
}
