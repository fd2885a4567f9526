/* SPDX-License-Identifier: MIT */
/*
 * envelope.h - inside sensor/event only: the pieces of the OISP envelope
 * that the tree builder (event.c) and the envelope cache (envcache.c)
 * share, so that the cached envelope is the built one byte for byte.
 * Everything else includes event/event.h.
 */
#ifndef OISP_ENVELOPE_H
#define OISP_ENVELOPE_H

#include <stdbool.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "event/event.h"

/* Bytes of "YYYY-MM-DDTHH:MM:SS" and its NUL, with room to spare. */
#define ENVELOPE_DATE_BUF	24

/*
 * Adds to @ev the envelope members that follow from the host, the process
 * and the meta alone, in this order: source, confidence, host, process,
 * actor (each left out as event__new says).  False when out of memory
 * (@ev then holds some of them).
 */
bool envelope__add_fixed(cJSON *ev, const struct event_host *h,
			 const struct event_proc *p,
			 const struct event_meta *m);

/*
 * Adds @val as @key without copying either: both must outlive @o.
 * @raw: @val is JSON text, printed as it is.  False when out of memory.
 */
bool envelope__add_ref(cJSON *o, const char *key, const char *val, bool raw);

/*
 * related_events: [{event_id: @id, relationship: caused_by}], when @id is
 * set; @by_ref: @id is referenced (it must outlive @ev), not copied.
 * False when out of memory.
 */
bool envelope__add_related(cJSON *ev, const char *id, bool by_ref);

/*
 * "YYYY-MM-DDTHH:MM:SS" (UTC) of @secs since the epoch into @date
 * (ENVELOPE_DATE_BUF bytes).  False when gmtime_r or strftime fails.
 */
bool envelope__format_date(time_t secs, char *date);

/*
 * Adds the members of @data (an object, not consumed; NULL: none) by
 * reference as the member "data" of @ev, after its others, prints @ev
 * into @b with event__json and frees @ev.  Returns 0 or -ENOMEM.
 */
int envelope__print(struct event_buf *b, cJSON *ev, const cJSON *data);

/*
 * event__write_line with @c: event__new's envelope, with the fixed parts
 * from @c (printed now when @c does not hold them) and every other string
 * by reference.  Returns 0 or -ENOMEM.
 */
int envelope__write_cached(struct event_buf *b, struct event_cache *c,
			   struct ulid_gen *g, const struct event_host *h,
			   const struct event_proc *p,
			   const struct event_meta *m, const cJSON *data,
			   char *id_out);

#endif /* OISP_ENVELOPE_H */
