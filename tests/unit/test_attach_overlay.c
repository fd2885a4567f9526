// SPDX-License-Identifier: MIT
/*
 * The registry's keys for overlayfs files (attach_int.h): one file
 * reached through several overlayfs mounts, each with a device of its
 * own, is one entry, the other mounts' (st_dev, st_ino) its aliases;
 * another file with the same content is an entry of its own; aliases are
 * bounded, checked against a reused key and dropped with their entry.
 *
 * The files are not ELF files, so they become negative entries: no
 * program is attached, and the test needs no BPF.  Each test runs in a
 * mount namespace of its own (a user namespace too when not root), so
 * its overlayfs mounts go with its process; without overlayfs or
 * namespaces it is skipped.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "capture/attach_int.h"

static char base[64];

static void put(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	cr_assert(f, "%s: %s", path, strerror(errno));
	fputs(text, f);
	fclose(f);
}

static void write_id_map(const char *file, unsigned int id)
{
	char buf[64];

	snprintf(buf, sizeof(buf), "0 %u 1", id);
	put(file, buf);
}

/* A private mount namespace, and base: a fresh directory on disk. */
static void setup(void)
{
	unsigned int uid = geteuid(), gid = getegid();

	if (uid != 0) {
		if (unshare(CLONE_NEWUSER | CLONE_NEWNS))
			cr_skip_test("user namespace: %s", strerror(errno));
		put("/proc/self/setgroups", "deny");
		write_id_map("/proc/self/uid_map", uid);
		write_id_map("/proc/self/gid_map", gid);
	} else if (unshare(CLONE_NEWNS)) {
		cr_skip_test("mount namespace: %s", strerror(errno));
	}
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL))
		cr_skip_test("private mounts: %s", strerror(errno));
	snprintf(base, sizeof(base), "/tmp/oisp-ovl-XXXXXX");
	cr_assert(mkdtemp(base));
}

static void teardown(void)
{
	char cmd[128];
	int i;

	for (i = 0; i < ALIAS_MAX + 3; i++) {
		snprintf(cmd, sizeof(cmd), "%s/m%d/m", base, i);
		umount2(cmd, MNT_DETACH);
	}

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", base);
	if (system(cmd))
		fprintf(stderr, "%s failed\n", cmd);
}

/* base/NAME/lib.so with @text (a lower layer); returns its directory. */
static const char *lower(const char *name, const char *text)
{
	static char dir[PATH_MAX];
	char path[PATH_MAX + 16];

	snprintf(dir, sizeof(dir), "%s/%s", base, name);
	cr_assert(mkdir(dir, 0755) == 0);
	snprintf(path, sizeof(path), "%s/lib.so", dir);
	put(path, text);
	return dir;
}

/*
 * An overlayfs mount of @low at base/mI/m; @out gets the path of its
 * lib.so.
 */
static void mount_ovl(const char *low, int i, char *out, size_t len)
{
	char d[PATH_MAX], opts[3 * PATH_MAX + 64];

	snprintf(d, sizeof(d), "%s/m%d", base, i);
	cr_assert(mkdir(d, 0755) == 0);
	snprintf(opts, sizeof(opts), "lowerdir=%s,upperdir=%s/u,workdir=%s/w",
		 low, d, d);
	strcat(d, "/u");
	cr_assert(mkdir(d, 0755) == 0);
	d[strlen(d) - 1] = 'w';
	cr_assert(mkdir(d, 0755) == 0);
	d[strlen(d) - 1] = 'm';
	cr_assert(mkdir(d, 0755) == 0);
	if (mount("overlay", d, "overlay", 0, opts))
		cr_skip_test("overlayfs: %s", strerror(errno));
	snprintf(out, len, "%s/lib.so", d);
}

static struct attach *registry(void)
{
	struct attach_progs progs = { 0 };
	struct attach *a;

	cr_assert(attach__new(&a, &progs) == 0);
	return a;
}

static struct afile *lookup(struct attach *a, const char *path)
{
	int added = 0;
	struct afile *f = attach_lookup_path(a, path, path, false, &added,
					     NULL);

	cr_assert(f, "%s", path);
	cr_assert_eq(f->kind, AFILE_NONE);
	cr_assert_eq(added, 0);
	return f;
}

static unsigned int nfiles(const struct attach *a)
{
	const struct afile *f;
	unsigned int n = 0;

	for (f = a->files; f; f = f->next)
		n++;
	return n;
}

/*
 * The registry keyed @f, found through @path, by its file handle, or
 * the kernel has no AT_HANDLE_FID (before Linux 6.5: EINVAL) and the
 * test is skipped.
 */
static void need_handle(const struct afile *f, const char *path)
{
	union {
		struct file_handle h;
		char buf[sizeof(struct file_handle) + MAX_HANDLE_SZ];
	} u;
	int mnt;

	u.h.handle_bytes = MAX_HANDLE_SZ;
	if (name_to_handle_at(AT_FDCWD, path, &u.h, &mnt, 0x200) &&
	    errno == EINVAL)
		cr_skip_test("no AT_HANDLE_FID (Linux < 6.5)");
	cr_assert_gt(f->fh.len, 0);
	cr_assert_eq(f->fh.len, u.h.handle_bytes);
	cr_assert_eq(memcmp(f->fh.b, u.h.f_handle, f->fh.len), 0);
}

TestSuite(attach_overlay, .init = setup, .fini = teardown);

Test(attach_overlay, one_file_through_two_mounts_is_one_entry)
{
	char p0[PATH_MAX], p1[PATH_MAX], p2[PATH_MAX];
	const char *l1, *l2;
	struct stat s0, s1;
	struct attach *a = registry();
	struct afile *f0, *f;

	l1 = lower("l1", "not an ELF file\n");
	mount_ovl(l1, 0, p0, sizeof(p0));
	mount_ovl(l1, 1, p1, sizeof(p1));
	l2 = lower("l2", "not an ELF file\n");
	mount_ovl(l2, 2, p2, sizeof(p2));
	cr_assert(stat(p0, &s0) == 0 && stat(p1, &s1) == 0);
	/* What makes the keys differ: a device per mount. */
	cr_assert_neq(s0.st_dev, s1.st_dev);

	f0 = lookup(a, p0);
	need_handle(f0, p0);
	cr_assert_eq(f0->dev, (__u64)s0.st_dev);
	cr_assert_null(a->hit_alias);
	f = lookup(a, p1);
	cr_assert_eq(f, f0);
	cr_assert_eq(f0->naliases, 1);
	cr_assert_eq(f0->aliases->dev, (__u64)s1.st_dev);
	/* Again: the alias, found by (st_dev, st_ino). */
	cr_assert_eq(lookup(a, p1), f0);
	cr_assert_eq(a->hit_alias, f0->aliases);
	cr_assert_eq(f0->naliases, 1);
	/* The same content in another lower layer is another file. */
	f = lookup(a, p2);
	cr_assert_neq(f, f0);
	cr_assert_eq(f->naliases, 0);
	cr_assert_eq(nfiles(a), 2);
	cr_assert_eq(lookup(a, p0), f0);
	cr_assert_null(a->hit_alias);
	attach__free(a);
}

Test(attach_overlay, aliases_are_bounded)
{
	char p[PATH_MAX];
	const char *l1 = lower("l1", "x\n");
	struct attach *a = registry();
	struct afile *f0 = NULL;
	int i;

	for (i = 0; i < ALIAS_MAX + 3; i++) {
		mount_ovl(l1, i, p, sizeof(p));
		if (!f0) {
			f0 = lookup(a, p);
			need_handle(f0, p);
		} else {
			cr_assert_eq(lookup(a, p), f0);
		}
	}
	cr_assert_eq(f0->naliases, ALIAS_MAX);
	cr_assert_eq(nfiles(a), 1);
	/* The first mounts' aliases went first; they join again. */
	snprintf(p, sizeof(p), "%s/m1/m/lib.so", base);
	cr_assert_eq(lookup(a, p), f0);
	cr_assert_eq(f0->naliases, ALIAS_MAX);
	attach__free(a);
}

Test(attach_overlay, a_changed_file_is_looked_at_again)
{
	char p0[PATH_MAX], p1[PATH_MAX], lib[PATH_MAX + 16];
	const char *l1 = lower("l1", "x\n");
	struct attach *a = registry();
	struct afile *f;
	struct stat s1;

	mount_ovl(l1, 0, p0, sizeof(p0));
	mount_ovl(l1, 1, p1, sizeof(p1));
	need_handle(lookup(a, p0), p0);
	cr_assert_eq(lookup(a, p1)->naliases, 1);
	/* A new ctime: the negative entry and its alias are stale. */
	usleep(10000);
	snprintf(lib, sizeof(lib), "%s/lib.so", l1);
	cr_assert(chmod(lib, 0600) == 0);
	f = lookup(a, p1);
	cr_assert(stat(p1, &s1) == 0);
	cr_assert_eq(f->dev, (__u64)s1.st_dev);
	cr_assert_eq(f->naliases, 0);
	cr_assert_eq(nfiles(a), 1);
	attach__free(a);
}

Test(attach_overlay, aliases_go_with_their_entry)
{
	char p0[PATH_MAX], p1[PATH_MAX];
	const char *l1 = lower("l1", "x\n");
	struct attach *a = registry();
	struct afile *f;
	struct stat s1;
	unsigned int i;

	mount_ovl(l1, 0, p0, sizeof(p0));
	mount_ovl(l1, 1, p1, sizeof(p1));
	need_handle(lookup(a, p0), p0);
	lookup(a, p1);
	/* A full scan that no process mapped it in: forgotten. */
	a->gen++;
	attach_end_full_scan(a);
	cr_assert_null(a->files);
	for (i = 0; i < HASH_SIZE; i++)
		cr_assert_null(a->by_alias[i]);
	cr_assert_null(a->hit_alias);
	f = lookup(a, p1);
	cr_assert(stat(p1, &s1) == 0);
	cr_assert_eq(f->dev, (__u64)s1.st_dev);
	cr_assert_eq(f->naliases, 0);
	attach__free(a);
}
