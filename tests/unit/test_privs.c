// SPDX-License-Identifier: MIT
/*
 * privs: capability names, and limiting this (forked) test process.
 * Criterion runs each test in its own process, so dropping is harmless.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "lib/privs.h"

Test(privs, names)
{
	char buf[256];

	privs__names(0, buf, sizeof(buf));
	cr_assert_str_eq(buf, "none");
	privs__names(PRIVS_RUN, buf, sizeof(buf));
	cr_assert_str_eq(buf, "cap_dac_read_search,cap_sys_ptrace,"
			 "cap_sys_admin,cap_perfmon,cap_bpf,"
			 "cap_checkpoint_restore");
	privs__names(PRIVS_RUN_MULTI, buf, sizeof(buf));
	cr_assert_str_eq(buf, "cap_dac_read_search,cap_sys_ptrace,"
			 "cap_perfmon,cap_bpf,cap_checkpoint_restore");
	privs__names(PRIVS_CAP(63), buf, sizeof(buf));
	cr_assert_str_eq(buf, "cap_63");
	privs__names(PRIVS_RUN, buf, 8);
	cr_assert_eq(strlen(buf), 7, "truncated, terminated");
}

Test(privs, limit_never_raises_and_clears_the_rest)
{
	struct privs_state before, after;
	bool bnd_kept;

	cr_assert_eq(privs__get(&before), 0);
	cr_assert_eq(privs__limit(PRIVS_RUN, true, &bnd_kept), 0);
	cr_assert_eq(privs__get(&after), 0);
	cr_assert_eq(after.permitted, before.permitted & PRIVS_RUN);
	cr_assert_eq(after.effective, before.permitted & PRIVS_RUN);
	cr_assert_eq(after.inheritable, 0);
	cr_assert_eq(after.ambient, 0);
	cr_assert(after.no_new_privs);
	if (before.effective & PRIVS_CAP(CAP_SETPCAP)) {
		cr_assert_eq(after.bounding, before.bounding & PRIVS_RUN);
		cr_assert_not(bnd_kept);
	} else {
		cr_assert_eq(after.bounding, before.bounding);
	}
	/* Twice is fine: nothing left to drop. */
	cr_assert_eq(privs__limit(PRIVS_RUN, false, NULL), 0);
}
