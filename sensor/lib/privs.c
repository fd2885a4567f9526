// SPDX-License-Identifier: MIT
/*
 * Capability sets of the calling thread, with the raw system calls
 * (capget(2), capset(2), prctl(2)).  See privs.h.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "lib/log.h"
#include "lib/privs.h"

#define NCAPS	64	/* capability numbers a 64-bit mask holds */

static const char *const cap_names[] = {
	"chown", "dac_override", "dac_read_search", "fowner", "fsetid",
	"kill", "setgid", "setuid", "setpcap", "linux_immutable",
	"net_bind_service", "net_broadcast", "net_admin", "net_raw",
	"ipc_lock", "ipc_owner", "sys_module", "sys_rawio", "sys_chroot",
	"sys_ptrace", "sys_pacct", "sys_admin", "sys_boot", "sys_nice",
	"sys_resource", "sys_time", "sys_tty_config", "mknod", "lease",
	"audit_write", "audit_control", "setfcap", "mac_override",
	"mac_admin", "syslog", "wake_alarm", "block_suspend", "audit_read",
	"perfmon", "bpf", "checkpoint_restore",
};

static int caps_read(struct __user_cap_data_struct d[2])
{
	struct __user_cap_header_struct h = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};

	/* valgrind's capget wrapper marks only the first struct defined. */
	memset(d, 0, 2 * sizeof(*d));
	return syscall(SYS_capget, &h, d) ? -errno : 0;
}

static uint64_t join(__u32 lo, __u32 hi)
{
	return (uint64_t)lo | (uint64_t)hi << 32;
}

/* Capabilities in the bounding set (PR_CAPBSET_READ until EINVAL). */
static uint64_t bounding_read(void)
{
	uint64_t m = 0;
	int c, r;

	for (c = 0; c < NCAPS; c++) {
		r = prctl(PR_CAPBSET_READ, c, 0, 0, 0);
		if (r < 0)
			break;
		if (r)
			m |= PRIVS_CAP(c);
	}
	return m;
}

static uint64_t ambient_read(void)
{
	uint64_t m = 0;
	int c, r;

	for (c = 0; c < NCAPS; c++) {
		r = prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, c, 0, 0);
		if (r < 0)
			break;
		if (r)
			m |= PRIVS_CAP(c);
	}
	return m;
}

int privs__get(struct privs_state *st)
{
	struct __user_cap_data_struct d[2];
	int err;

	memset(st, 0, sizeof(*st));
	err = caps_read(d);
	if (err)
		return err;
	st->effective = join(d[0].effective, d[1].effective);
	st->permitted = join(d[0].permitted, d[1].permitted);
	st->inheritable = join(d[0].inheritable, d[1].inheritable);
	st->bounding = bounding_read();
	st->ambient = ambient_read();
	st->no_new_privs = prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 1;
	return 0;
}

/* Drops from the bounding set every capability outside @keep. */
static int bounding_drop(uint64_t keep)
{
	uint64_t have = bounding_read();
	int c;

	for (c = 0; c < NCAPS; c++) {
		if (!(have & PRIVS_CAP(c)) || (keep & PRIVS_CAP(c)))
			continue;
		if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0))
			return -errno;
	}
	return 0;
}

int privs__limit(uint64_t keep, bool no_new_privs, bool *bounding_kept)
{
	struct __user_cap_header_struct h = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct d[2];
	uint64_t eff, prm;
	int err, i;

	if (bounding_kept)
		*bounding_kept = false;
	err = caps_read(d);
	if (err)
		return err;
	eff = join(d[0].effective, d[1].effective);
	prm = join(d[0].permitted, d[1].permitted) & keep;
	/* The bounding set first: dropping from it needs CAP_SETPCAP. */
	if (eff & PRIVS_CAP(CAP_SETPCAP)) {
		err = bounding_drop(keep);
		if (err)
			return err;
	} else if (bounding_kept) {
		*bounding_kept = (bounding_read() & ~keep) != 0;
	}
	/* EINVAL: a kernel before 4.3 has no ambient set. */
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) &&
	    errno != EINVAL)
		return -errno;
	eff &= prm;
	for (i = 0; i < 2; i++) {
		d[i].effective = (__u32)(eff >> (32 * i));
		d[i].permitted = (__u32)(prm >> (32 * i));
		d[i].inheritable = 0;
	}
	if (syscall(SYS_capset, &h, d))
		return -errno;
	if (no_new_privs && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		return -errno;
	return 0;
}

void privs__names(uint64_t mask, char *buf, size_t len)
{
	size_t n = 0;
	int c, w;

	if (!len)
		return;
	buf[0] = '\0';
	for (c = 0; c < NCAPS && n < len; c++) {
		if (!(mask & PRIVS_CAP(c)))
			continue;
		if ((size_t)c < sizeof(cap_names) / sizeof(cap_names[0]))
			w = snprintf(buf + n, len - n, "%scap_%s",
				     n ? "," : "", cap_names[c]);
		else
			w = snprintf(buf + n, len - n, "%scap_%d",
				     n ? "," : "", c);
		if (w < 0)
			break;
		n += (size_t)w;
	}
	if (!mask)
		snprintf(buf, len, "none");
}

void privs__raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) || rl.rlim_cur >= rl.rlim_max)
		return;
	rl.rlim_cur = rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl))
		pr_warn("raise RLIMIT_NOFILE: %s", strerror(errno));
	else
		pr_debug("RLIMIT_NOFILE raised to %llu",
			 (unsigned long long)rl.rlim_cur);
}
