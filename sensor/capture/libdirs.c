// SPDX-License-Identifier: MIT
/*
 * libdirs.c - the library directories the registry (attach.h) scans
 * before any process maps their files: ours at startup, and each new
 * container root's at the first exec into it.  The names looked at come
 * from the table of TLS stacks (stack__lib_name()).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/openat2.h>

#include "capture/attach_int.h"
#include "lib/log.h"
#include "capture/target.h"

static const char *const std_dirs[] = {
	"/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib64",
	"/usr/lib64", "/usr/local/lib", "/usr/lib",
};

/* The same, relative to a foreign root, in ld.so's search order. */
static const char *const root_dirs[] = {
	"lib/x86_64-linux-gnu", "usr/lib/x86_64-linux-gnu", "lib", "usr/lib",
	"lib64", "usr/lib64", "usr/local/lib",
	"usr/local/lib/x86_64-linux-gnu",
};
#define ROOT_DIRS	(sizeof(root_dirs) / sizeof(root_dirs[0]))
#define ENV_DIRS_MAX	8	/* LD_LIBRARY_PATH entries looked at */
#define ENVIRON_MAX	65536	/* bytes of /proc/PID/environ read */

/* A TLS stack's library or an ld.so, by its name (stack.h). */
static bool dir_candidate(const char *name)
{
	return stack__lib_name(name, false) || stack__lib_name(name, true);
}

int attach__scan_dirs(struct attach *a)
{
	char path[PATH_MAX], real[PATH_MAX];
	struct afile *f;
	struct dirent *de;
	int attached = 0;
	size_t i;
	DIR *d;

	for (i = 0; i < sizeof(std_dirs) / sizeof(std_dirs[0]); i++) {
		d = opendir(std_dirs[i]);
		if (!d)
			continue;
		while ((de = readdir(d)) != NULL) {
			if (!dir_candidate(de->d_name))
				continue;
			snprintf(path, sizeof(path), "%s/%s", std_dirs[i],
				 de->d_name);
			/* Shown by its real name, not the first symlink. */
			f = attach_lookup_path(a, path,
					realpath(path, real) ? real : path,
					false, &attached, NULL);
			attach_set_root(a, f, a->self_root_dev,
					a->self_root_ino);
		}
		closedir(d);
	}
	return attached;
}

/* openat2(2) below @rootfd as if it were "/": absolute symlinks stay in. */
static int open_in_root(int rootfd, const char *path, __u64 flags)
{
	struct open_how how = {
		.flags = flags | O_CLOEXEC,
		.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
	};

	return (int)syscall(SYS_openat2, rootfd, path, &how, sizeof(how));
}

/*
 * Looks at the candidates (dir_candidate()) of directory @dir under the
 * root open at @rootfd: the TLS stacks' ones, or with @ldso the ld.so ones.
 * Regular files go first so that a file is shown by its own name rather
 * than by a symlink's.  Directories already seen in this round (merged
 * /usr: lib is usr/lib) are skipped via @seen.
 */
static void scan_root_dir(struct attach *a, int pid, int rootfd,
			  const struct stat *root, const char *dir, bool ldso,
			  struct stat *seen, int *nseen, int *attached)
{
	char rel[PATH_MAX], display[PATH_MAX + 32];
	struct dirent *de;
	struct stat sb;
	int dfd, fd, i, pass;
	DIR *d;

	dfd = open_in_root(rootfd, dir, O_RDONLY | O_DIRECTORY);
	if (dfd < 0)
		return;
	if (fstat(dfd, &sb))
		goto out_close;
	for (i = 0; i < *nseen; i++)
		if (seen[i].st_dev == sb.st_dev && seen[i].st_ino == sb.st_ino)
			goto out_close;
	seen[(*nseen)++] = sb;
	d = fdopendir(dfd);
	if (!d)
		goto out_close;
	for (pass = 0; pass < 2; pass++) {
		rewinddir(d);
		while ((de = readdir(d)) != NULL) {
			if (!stack__lib_name(de->d_name, ldso) ||
			    (de->d_type == DT_LNK) != (pass == 1))
				continue;
			snprintf(rel, sizeof(rel), "%s/%s", dir, de->d_name);
			fd = open_in_root(rootfd, rel, O_RDONLY);
			if (fd < 0)
				continue;
			snprintf(display, sizeof(display), "/proc/%d/root/%s",
				 pid, rel);
			attach_set_root(a, attach_lookup_fd(a, fd, display,
							false, attached),
					root->st_dev, root->st_ino);
			close(fd);
		}
	}
	closedir(d);	/* closes dfd */
	return;

out_close:
	close(dfd);
}

/*
 * The absolute directories of LD_LIBRARY_PATH in process @pid's
 * environment, made relative to its root ("opt/ssl/lib") and copied into
 * @buf of @len bytes; up to ENV_DIRS_MAX pointers go to @dirs.  Returns
 * how many (0 when unset or unreadable).
 */
static int env_lib_dirs(int pid, char *buf, size_t len, const char **dirs)
{
	static const char key[] = "LD_LIBRARY_PATH=";
	char path[64], *env, *p, *end, *tok, *save;
	ssize_t n, got = 0;
	int fd, ndirs = 0;

	snprintf(path, sizeof(path), "/proc/%d/environ", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	env = malloc(ENVIRON_MAX + 1);
	if (!env)
		goto out_close;
	while (got < ENVIRON_MAX &&
	       (n = read(fd, env + got, ENVIRON_MAX - got)) > 0)
		got += n;
	env[got] = '\0';
	for (p = env, end = env + got; p < end; p += strlen(p) + 1) {
		if (strncmp(p, key, sizeof(key) - 1))
			continue;
		snprintf(buf, len, "%s", p + sizeof(key) - 1);
		for (tok = strtok_r(buf, ":", &save);
		     tok && ndirs < ENV_DIRS_MAX;
		     tok = strtok_r(NULL, ":", &save)) {
			if (tok[0] != '/' || !tok[1])
				continue;
			dirs[ndirs++] = tok + 1;
		}
		break;
	}
	free(env);
out_close:
	close(fd);
	return ndirs;
}

static bool root_known(const struct attach *a, const struct stat *sb)
{
	const struct aroot *r;
	unsigned int i;

	for (i = 0; i < a->nroots; i++) {
		r = &a->roots[i];
		if (r->ino == sb->st_ino && r->dev == sb->st_dev &&
		    r->ctime_sec == sb->st_ctim.tv_sec &&
		    r->ctime_nsec == sb->st_ctim.tv_nsec)
			return true;
	}
	return false;
}

/* Remembers @sb's root; the oldest entry goes when the cache is full. */
static void remember_root(struct attach *a, const struct stat *sb)
{
	struct aroot *r = &a->roots[a->root_next];

	r->dev = sb->st_dev;
	r->ino = sb->st_ino;
	r->ctime_sec = sb->st_ctim.tv_sec;
	r->ctime_nsec = sb->st_ctim.tv_nsec;
	a->root_next = (a->root_next + 1) % ROOT_CACHE;
	if (a->nroots < ROOT_CACHE)
		a->nroots++;
}

/* @path: /proc/@pid/root, and @root its stat(2). */
static int scan_new_root(struct attach *a, int pid, const char *path,
			 const struct stat *root)
{
	const char *dirs[ROOT_DIRS + ENV_DIRS_MAX];
	struct stat sb, seen[ROOT_DIRS + ENV_DIRS_MAX];
	int rootfd, nseen, ndirs, ldso, i, attached = 0;
	char envbuf[PATH_MAX];

	if (root->st_ino == a->self_root_ino &&
	    root->st_dev == a->self_root_dev)
		return 0;
	if (root_known(a, root))
		return 0;
	/* The fd pins this root even if the process exits meanwhile. */
	rootfd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		return -errno;
	if (fstat(rootfd, &sb) || root_known(a, &sb))
		goto out_close;
	for (ndirs = 0; ndirs < (int)ROOT_DIRS; ndirs++)
		dirs[ndirs] = root_dirs[ndirs];
	ndirs += env_lib_dirs(pid, envbuf, sizeof(envbuf), dirs + ndirs);
	/*
	 * The stacks' libraries first: the first uprobe registered after a
	 * quiet spell waits for an RCU grace period (the kernel's
	 * dup_mmap_sem), the ones right after it do not, and the program is
	 * already running.
	 */
	for (ldso = 0; ldso < 2; ldso++) {
		nseen = 0;
		for (i = 0; i < ndirs; i++)
			scan_root_dir(a, pid, rootfd, &sb, dirs[i], ldso,
				      seen, &nseen, &attached);
	}
	remember_root(a, &sb);
	a->st.roots_scanned++;
out_close:
	close(rootfd);
	return attached;
}

/*
 * Targeted mode, at @pid's exec: when it is selected, attaches for it
 * the files of its root's library directories before its loader maps
 * them; when it is not, drops what an earlier image had.
 */
static int prelink_pid(struct attach *a, int pid, const struct stat *root)
{
	struct afile *f;
	int sel, attached = 0;

	sel = target__match(a->tgt, pid);
	pr_debug("pid %d: exec, targeted: %s", pid,
		 sel == TARGET_YES ? "selected" :
		 sel == TARGET_UNKNOWN ? "undecided (pod not known yet)" :
		 sel < 0 ? "gone" : "not selected");
	if (sel != TARGET_YES) {
		attach__forget_pid(a, pid);
		return sel < 0 ? sel : 0;
	}
	for (f = a->files; f; f = f->next)
		if (attach_linkable(f) &&
		    attach_in_root(f, root->st_dev, root->st_ino) &&
		    attach_link_pid(a, f, pid) > 0)
			attached++;
	return attached;
}

int attach__scan_root(struct attach *a, int pid)
{
	struct stat root;
	char path[64];
	int n, m;

	snprintf(path, sizeof(path), "/proc/%d/root", pid);
	if (stat(path, &root))
		return -errno;
	n = scan_new_root(a, pid, path, &root);
	if (!a->tgt || n < 0)
		return n;
	m = prelink_pid(a, pid, &root);
	return m < 0 ? m : n + m;
}
