/* SPDX-License-Identifier: MIT */
/*
 * output_stats.h - the events file's counters (output__stats()), one
 * row each in the layout of lib/stats.h.  Section "output".
 */
#ifndef OISP_OUTPUT_STATS_H
#define OISP_OUTPUT_STATS_H

#include "lib/stats.h"

#define OUTPUT_STATS(X) \
	X(lines, COUNTER, OK, \
	  "Lines written to the events file.") \
	X(bytes, COUNTER, OK, \
	  "Bytes written to the events file, newlines included.") \
	X(write_errors, COUNTER, BAD, \
	  "Lines the events file did not take (write failed).") \
	X(rotations, COUNTER, OK, \
	  "New events files started because output.rotate.max_bytes was reached.") \
	X(rotate_errors, COUNTER, BAD, \
	  "Rotations that failed (lines went on to the old file).") \
	X(reopens, COUNTER, OK, \
	  "New events files opened because the file was deleted.")

struct output_stats {
	OUTPUT_STATS(STATS_MEMBER)
	int last_errno;		/* errno of the last failure, 0 if none */
};

#endif /* OISP_OUTPUT_STATS_H */
