// SPDX-License-Identifier: MIT
#include <bpf/btf.h>

#include "capture/kbtf.h"

bool kbtf__has_type(const char *name, int kind)
{
	struct btf *btf = btf__load_vmlinux_btf();
	bool ok;

	if (!btf)
		return false;
	ok = btf__find_by_name_kind(btf, name, kind) > 0;
	btf__free(btf);
	return ok;
}
