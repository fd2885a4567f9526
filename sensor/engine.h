/* SPDX-License-Identifier: MIT */
/*
 * engine.h - the pipeline with everything it needs, built from a
 * configuration: rules, redactor, output file, host and process
 * metadata.  `run` and `replay` share it, so replaying a capture file
 * exercises exactly the code that runs live.
 */
#ifndef OISP_ENGINE_H
#define OISP_ENGINE_H

#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "event.h"

struct engine {
	struct rules *rules;
	struct redactor *redactor;	/* NULL when redaction is off */
	struct redactor *secrets;	/* built-ins, for command lines */
	struct output *out;
	struct procinfo *procinfo;	/* NULL when not live */
	struct pipeline *pl;
	struct event_host host;
};

/*
 * Builds the engine for @cfg.  @live reads process metadata from /proc
 * (not for replay: the recorded PIDs are not this machine's now).
 * Failures are logged with the file and reason.  Returns 0 or -errno.
 */
int engine__open(struct engine **out, const struct config *cfg, bool live,
		 uint64_t realtime_offset_ns);

/* Wall clock minus CLOCK_MONOTONIC now, in ns. */
uint64_t engine__realtime_offset(void);

/* Flushes the pipeline (messages in progress are written as partial). */
void engine__flush(struct engine *e);

/* Frees everything; NULL is fine. */
void engine__close(struct engine *e);

#endif /* OISP_ENGINE_H */
