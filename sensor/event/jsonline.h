/* SPDX-License-Identifier: MIT */
/*
 * jsonline.h - the JSON Lines writer of the events (RFC 8259 text, one
 * value per line, https://jsonlines.org): a cJSON tree printed as
 * cJSON_PrintUnformatted prints it, faster, into a buffer reused from
 * one line to the next, and made valid UTF-8 (lib/utf8.h) whatever the
 * captured bytes in its strings were.
 */
#ifndef OISP_JSONLINE_H
#define OISP_JSONLINE_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

struct event_swaps;

/* A text buffer reused from one line to the next. */
struct event_buf {
	char *p;		/* NUL-terminated after a successful write */
	size_t len, cap;	/* bytes of text; bytes allocated */
	struct event_swaps *swaps;	/* event__json's scratch space */
};

/*
 * Frees the text and the scratch space; the buffer can be used again.
 * Zeroed buffers are fine.
 */
void event_buf__free(struct event_buf *b);

/*
 * Serialises @v into @b (its previous text replaced) as one line of
 * compact JSON without a trailing newline, as cJSON_PrintUnformatted
 * prints it, with every invalid UTF-8 sequence then replaced by U+FFFD
 * (utf8__dup).  Printed with cJSON_PrintPreallocated into the buffer the
 * previous line left when it fits, so that steady traffic allocates
 * nothing here (a buffer over 1 MiB is not kept: the text of the
 * previous line is freed first, so @b->p must not be held across calls).
 * While printing, integral numbers below 10^15 in magnitude and strings
 * of 16 bytes or more are handed to cJSON as raw nodes holding the text
 * cJSON would print for them, written faster here (cJSON prints a number
 * with a sprintf and an sscanf, a string through a per-byte switch,
 * twice); the line is the same byte for byte, and @v is left as it was.
 * Not for a tree another thread reads meanwhile.  Returns 0, or -ENOMEM
 * (out of memory, or an item cJSON cannot print, such as a
 * cJSON_Invalid).
 */
int event__json(struct event_buf *b, const cJSON *v);

/*
 * event__json into a fresh buffer: returns the malloc'd NUL-terminated
 * line (length in *@len if @len is non-NULL), or NULL when out of
 * memory.
 */
char *event__to_line(const cJSON *ev, size_t *len);

/* Bytes event__u64_text writes at most: 20 digits and the NUL. */
#define EVENT_U64_TEXT	21

/*
 * Writes @v in decimal, NUL-terminated, at @buf (at least EVENT_U64_TEXT
 * bytes), as JSON prints an integer.  Returns the number of digits.
 */
size_t event__u64_text(uint64_t v, char *buf);

#endif /* OISP_JSONLINE_H */
