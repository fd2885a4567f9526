/* SPDX-License-Identifier: MIT */
/*
 * stats.h - the shape of a statistics table.
 *
 * Each statistics struct is written once, as an X-macro list next to
 * the module that counts (pipeline/pipeline_stats.h,
 * capture/capture_stats.h, event/output_stats.h, meta/k8s_stats.h).
 * One row per counter:
 *
 *	X(name, kind, alert, help)
 *
 *   name   the struct member (a 64-bit unsigned integer), and the
 *	    counter's one name everywhere: the key "name" in the SECTION
 *	    object of `status --json`, the label of its `status` line and
 *	    the Prometheus family oisp_sensor_SECTION_name, plus "_total"
 *	    for a COUNTER whose name does not already end in "_total"
 *	    (the Prometheus and OpenMetrics naming rule for counters).
 *   kind   COUNTER (only goes up) or GAUGE (a current value).
 *   alert  BAD when a non-zero value means lost or wrong data (`status`
 *	    marks it "(!)"), else OK.
 *   help   one sentence: the family's HELP and the README's meaning.
 *
 * The list generates the struct's members (STATS_MEMBER) and the
 * descriptors below (STATS_FIELD), from which serve/stats.h renders the
 * status JSON, the status text and the Prometheus families.  The kind
 * and alert tokens are pasted, never expanded, so they need no
 * definitions of their own.
 */
#ifndef OISP_STATS_H
#define OISP_STATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

enum stats_kind {
	STATS_COUNTER,
	STATS_GAUGE,
};

#define STATS_OK	false
#define STATS_BAD	true

/* One row of a table, as data. */
struct stats_field {
	const char *name;
	const char *help;
	size_t offset;		/* of the 64-bit member in the table's struct */
	enum stats_kind kind;
	bool alert;
};

/* A struct's table: its section name and its rows in order. */
struct stats_table {
	const char *section;	/* [a-z_]+: status key and metric infix */
	const char *title;	/* heading of its `status` section */
	const struct stats_field *fields;
	size_t n;
};

/* Expands a row into a struct member. */
#define STATS_MEMBER(name, kind, alert, help)	uint64_t name;

/*
 * Expands a row into the descriptor of @member (a member designator,
 * such as kern.calls) of struct type @type.
 */
#define STATS_FIELD(type, member, name, kind, alert, help) \
	{ #name, help, offsetof(type, member), STATS_##kind, STATS_##alert },

/* The value of @f in the struct @st described by @f's table. */
static inline uint64_t stats__get(const struct stats_field *f, const void *st)
{
	uint64_t v;

	/* memcpy: the member may be a __u64 (unsigned long long). */
	memcpy(&v, (const char *)st + f->offset, sizeof(v));
	return v;
}

#endif /* OISP_STATS_H */
