/* SPDX-License-Identifier: MIT */
/*
 * kbtf.h - what the running kernel has, asked of its BTF
 * (/sys/kernel/btf/vmlinux): a struct of a newer feature, or the
 * btf_trace_<name> typedef of a BTF tracepoint, so that a program the
 * kernel would refuse is not loaded at all.
 */
#ifndef OISP_KBTF_H
#define OISP_KBTF_H

#include <stdbool.h>

/*
 * Whether the kernel's BTF has a type @name of kind @kind (BTF_KIND_*,
 * <linux/btf.h>).  False when the kernel has no BTF or it cannot be
 * read.  Loads and frees the BTF each call (a few ms): ask at start-up.
 */
bool kbtf__has_type(const char *name, int kind);

#endif /* OISP_KBTF_H */
