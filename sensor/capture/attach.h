/* SPDX-License-Identifier: MIT */
/*
 * attach.h - which files carry our uprobes: the registry of TLS stacks'
 * library files and ld.so copies, and the scans that fill it.
 *
 * What a file carries comes from the table of TLS stacks (stack.h): a
 * file is a stack's when it exports the stack's required functions
 * (OpenSSL: SSL_write and SSL_read, in libssl.so* or an executable such
 * as /usr/bin/node with a static OpenSSL), and its other functions are
 * hooked when present too.  A file exporting _dl_debug_state is a glibc
 * ld.so.  Each such file gets the programs attached once, for all
 * processes (pid -1), by file offset (elfsym.h); the kernel then places
 * the breakpoints in every process mapping it, including processes
 * started later.  In targeted mode (attach__set_target()) it gets them
 * once per selected process instead, and the others carry no breakpoint.
 *
 * Files are found in the standard library directories (ours, and those
 * of each new container root at its first exec) and through
 * /proc/PID/maps, reached as /proc/PID/root/PATH (or, for unlinked
 * files, /proc/PID/map_files/START-END) so that files in other mount
 * namespaces work.  They are keyed by (st_dev, st_ino), never by path:
 * the same inode is attached once however many paths reach it.  Each
 * overlayfs mount has a device of its own, while the kernel places a
 * uprobe on the real file of the layer below: a file on overlayfs is
 * keyed by its file handle too (name_to_handle_at(2), AT_HANDLE_FID,
 * Linux 6.5), so the lower-layer file shared by the containers of one
 * image is read and attached once, and each other mount's (st_dev,
 * st_ino) is an alias of it (attach_int.h).  Files
 * that are neither, or that failed, are remembered as negative entries
 * so they are not parsed again; negatives that no process mapped during
 * the last full scan are forgotten (that bounds inode-number reuse).
 *
 * The uprobe model follows libbpf-tools' sslsniff and libbpf's
 * bpf_program__attach_uprobe_opts().
 */
#ifndef OISP_ATTACH_H
#define OISP_ATTACH_H

#include <stdbool.h>
#include <linux/types.h>

#include "capture_abi.h"

struct attach;
struct bpf_program;
struct target;

/*
 * The loaded programs; borrowed, they must outlive the registry.  A
 * stack's programs get its function (struct tls_probe.cookie) as their
 * BPF cookie.
 */
struct attach_progs {
	/* Per enum cap_stack: tls_stack.enter_prog and .return_prog. */
	struct bpf_program *enter[CAP_STACK_NR];
	struct bpf_program *ret[CAP_STACK_NR];
	struct bpf_program *dl_debug_state;	/* uprobe on ld.so */
	bool multi;		/* loaded for uprobe_multi links (uprobe.h) */
	bool write_at_entry;	/* no return probe on the write functions */
};

struct attach_stats {
	__u32 files_attached;	/* OpenSSL providers with probes */
	__u32 ldso_attached;	/* ld.so files with the dlopen probe */
	__u32 procs_traced;	/* processes mapping a provider, last full scan */
	__u32 attach_errors;	/* stack files whose attach failed (not retried) */
	__u32 ldso_errors;	/* ld.so files whose attach failed */
	/* files_attached and attach_errors by enum cap_stack */
	__u32 stack_files[CAP_STACK_NR];
	__u32 stack_errors[CAP_STACK_NR];
	__u32 files_identifying;	/* pending: searched by the worker */
	__u32 identify_deferred;	/* not queued: the queue was full */
	__u32 identify_cached;		/* probed from idcache.h, not searched */
	__u32 roots_scanned;	/* foreign root directories scanned */
	__u32 procs_targeted;	/* targeted mode: processes with probes */
	/*
	 * Processes whose maps or a mapped file could not be read at the
	 * last full scan (EACCES/EPERM: no CAP_SYS_PTRACE or
	 * CAP_DAC_READ_SEARCH): their OpenSSL, if any, is missed.
	 */
	__u32 procs_denied;
	bool targeted;		/* targeted mode is on */
};

/*
 * Creates an empty registry using @progs (copied; the programs are
 * borrowed).  Returns 0 or -ENOMEM.
 */
int attach__new(struct attach **out, const struct attach_progs *progs);

/*
 * Attaches to the stacks' libraries (stack__lib_name(): libssl*) and the
 * ld-linux* and ld-musl* files of the standard library
 * directories (/lib/x86_64-linux-gnu, /usr/lib/x86_64-linux-gnu, /lib64,
 * /usr/lib64, /usr/local/lib, /usr/lib), mapped or not, so that programs
 * started later are covered from their first call.
 * Returns the number of files newly attached (>= 0); missing
 * directories and unusable files are not errors.
 */
int attach__scan_dirs(struct attach *a);

/*
 * Scans the executable file mappings of process @pid and attaches to
 * new stack files and ld.so copies.  Returns the number of files newly
 * attached, or -errno from reading /proc/@pid/maps (-ENOENT: gone).
 */
int attach__scan_pid(struct attach *a, int pid);

/*
 * Called for each exec: when process @pid's root directory
 * (/proc/@pid/root, compared by st_dev and st_ino) is not ours and is
 * not among the last 256 foreign roots scanned (same st_dev, st_ino and
 * st_ctime), attaches to the stacks' libraries, ld-linux* and ld-musl* of
 * that root's library directories (lib, usr/lib, lib64, usr/lib64,
 * usr/local/lib and their x86_64-linux-gnu subdirectories, and the
 * directories of LD_LIBRARY_PATH in @pid's environment), resolved
 * with openat2(RESOLVE_IN_ROOT) so that absolute symlinks stay in the
 * container.  A container's files are thus attached at its first exec,
 * before its program maps them, instead of after it has.  Files are
 * shown as /proc/@pid/root/DIR/NAME.  On our own root this costs one
 * stat(2).  Returns the number of files newly attached (0 for a root
 * known or ours), or -errno from reaching /proc/@pid/root (-ENOENT:
 * gone).
 */
int attach__scan_root(struct attach *a, int pid);

/*
 * Scans every process in /proc like attach__scan_pid(), then recounts
 * the processes per stack file and forgets negatives no process mapped.
 * Returns the number of files newly attached, or -errno when /proc
 * cannot be read.
 */
int attach__scan_all(struct attach *a);

/*
 * Turns on targeted mode (target.h) before the first scan: files are
 * then attached per selected process (pid filter: no breakpoint in the
 * others) when a scan finds the process mapping them, or at its exec
 * (attach__scan_root()), and detached when it exits, is found gone, or
 * execs a program not selected.  @t is borrowed.  Each process linked
 * is added to the BPF hash map @selected_fd (__u32 tgid -> __u8): the
 * processes whose calls the BPF programs take and whose exit and forks
 * they report.  A process leaving the selection is removed from it at
 * once, while its probes are detached in the background; -1: none.
 */
void attach__set_target(struct attach *a, struct target *t, int selected_fd);

/*
 * Targeted mode: true when process @pid is selected now, i.e. has been
 * attached for and not forgotten since.  Records are read in the order
 * they were made, an exec's before the new image's calls, so a call
 * record is from a selected image exactly when this holds as it is
 * read: a process that execs an unselected program may make calls that
 * pass the BPF map of selected tgids before its exec record is read,
 * and this tells them apart.  Always true outside targeted mode.
 */
bool attach__pid_selected(const struct attach *a, int pid);

/*
 * Targeted mode: detaches what was attached for process @pid (at its
 * exit).  The links are closed by a worker thread, since each close
 * waits for a kernel grace period.  No-op otherwise.
 */
void attach__forget_pid(struct attach *a, int pid);

/* Fills @st (never fails; @a may be NULL, giving zeros). */
void attach__stats(const struct attach *a, struct attach_stats *st);

/* A stack's file, as attach__for_each_file() shows it; borrowed. */
struct attach_file {
	const char *path;	/* as found (a maps path: in its process's root) */
	__u64 dev, ino;		/* stat(2) */
	__u32 nprocs;		/* processes mapping it at the last full scan */
	/*
	 * Other (st_dev, st_ino) of the same file, reached through other
	 * overlayfs mounts and joined to it by its file handle (kept: at
	 * most 64).
	 */
	__u32 aliases;
	const char *stack;	/* struct tls_stack.name */
	const char *skipped;	/* not probed: why; NULL when attached */
	/* What a stack that looks for its functions found; or NULL. */
	const char *found;
	/*
	 * Its code is being searched (attach__start_identify()): since
	 * then, CLOCK_REALTIME ns; 0 when not.  With stack NULL nothing is
	 * known yet; with a stack, a second one is searched for.
	 */
	__u64 identifying_since_ns;
};

/*
 * Calls @cb for each attached stack file (not ld.so), each file a
 * stack refused (a Go executable whose functions could not be found
 * with certainty), and each file being identified, in attach order; nprocs is at least 1 when the file
 * was found by a process scan since the last full one.  Stops at the
 * first nonzero result of @cb and returns it; otherwise 0.
 */
int attach__for_each_file(const struct attach *a,
			  int (*cb)(void *ctx, const struct attach_file *af),
			  void *ctx);

/*
 * From now on, files whose stacks must be searched for in their code
 * (stack__match_quick() leaves a search) are searched on a worker
 * thread (identify.h) instead of in the caller: the file is a pending
 * entry (attach_file.identifying_since_ns) until attach__identified()
 * takes the result and probes it, so the event loop goes on meanwhile.
 * Before this (start-up) the search runs in the scan, and the files in
 * use when the sensor starts are probed when capture__open() returns.
 * The thread itself starts at the first search, with the capabilities
 * the loop's thread has then (after cmd_run's drop).  Returns 0, or
 * -errno when the worker cannot be made (the searches then stay in the
 * scans, as they do when its thread cannot start).
 */
int attach__start_identify(struct attach *a);

/*
 * The descriptor that turns readable when a search result waits for
 * attach__identified(); -1 without a worker.
 */
int attach__identify_fd(const struct attach *a);

/*
 * Takes the finished searches: probes each file as it would have been
 * probed at once (a second stack too; a refusal keeps its reason), and,
 * in targeted mode, scans again the selected processes that mapped it
 * meanwhile so that they get their links.  Returns the number of files
 * newly attached.
 */
int attach__identified(struct attach *a);

/*
 * Destroys all links (removing the uprobes) and frees @a; NULL is fine.
 * A search in progress is cancelled: waited for at most 0.5 s, then
 * left to end on its own (identify__free()).
 */
void attach__free(struct attach *a);

#endif /* OISP_ATTACH_H */
