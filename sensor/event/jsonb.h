/* SPDX-License-Identifier: MIT */
/*
 * jsonb.h - adding members to the cJSON trees that become the "data"
 * object of OISP events (docs/events.md).
 *
 * It belongs to the event layer because every stage that builds an event
 * body uses it: the AI layer (extract) and event assembly (pipeline) both
 * already depend on the event layer, which depends on neither of them.
 *
 * Keys are taken by reference (cJSON_AddItemToObjectCS): each must be a
 * string literal, or otherwise outlive the tree; it is neither copied nor
 * freed.  Every adder consumes the value it makes: on failure nothing is
 * added and nothing leaks.  Failure means out of memory (or a NULL @o).
 */
#ifndef OISP_JSONB_H
#define OISP_JSONB_H

#include <stdbool.h>

#include <cjson/cJSON.h>

/*
 * Adds @v (consumed; NULL is taken as out of memory) as @key of @o.
 * Returns @v, or NULL after freeing it.
 */
cJSON *jsonb__add(cJSON *o, const char *key, cJSON *v);

/* Adds an empty object / array as @key; returns it, NULL on failure. */
cJSON *jsonb__add_obj(cJSON *o, const char *key);
cJSON *jsonb__add_arr(cJSON *o, const char *key);

/* Appends an empty object to the array @arr; returns it, NULL on failure. */
cJSON *jsonb__push_obj(cJSON *arr);

/* Returns false on failure. */
bool jsonb__add_bool(cJSON *o, const char *key, bool b);

/*
 * Adds the number @v; a non-finite value is left out (JSON cannot write
 * it) and counts as success.  Returns false on failure.
 */
bool jsonb__add_num(cJSON *o, const char *key, double v);

/*
 * Adds a copy of @s as it is (no UTF-8 check: for text the sensor made or
 * checked); @s NULL adds nothing.  Returns false on failure.
 */
bool jsonb__add_str(cJSON *o, const char *key, const char *s);

/*
 * Adds @s by reference: @s must be of static storage (a literal).  It is
 * never freed; a module that changes such a string (redact.c) replaces
 * it with a copy.  Returns false on failure.
 */
bool jsonb__add_static(cJSON *o, const char *key, const char *s);

/*
 * A string item holding a valid UTF-8 copy of @s (invalid sequences and
 * NUL bytes become U+FFFD, as utf8__dup does).  Returns the new
 * item (the caller owns it), NULL when out of memory.
 */
cJSON *jsonb__text(const char *s);

/*
 * Adds jsonb__text(@s) as @key; @s NULL adds nothing.  Returns false on
 * failure.
 */
bool jsonb__add_text(cJSON *o, const char *key, const char *s);

/*
 * jsonb__add_text for the string item @src of a tree that is about to be
 * freed (a parsed body): valid UTF-8 text is moved over, leaving @src
 * without a value, rather than copied.  Anything else (NULL, a reference,
 * invalid UTF-8) is copied as jsonb__add_text does.  Returns false on
 * failure.
 */
bool jsonb__add_text_moved(cJSON *o, const char *key, cJSON *src);

/* Appends jsonb__text(@s) to the array @arr.  Returns false on failure. */
bool jsonb__push_text(cJSON *arr, const char *s);

#endif /* OISP_JSONB_H */
