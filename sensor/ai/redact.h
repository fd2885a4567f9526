/* SPDX-License-Identifier: MIT */
/*
 * redact.h - replaces secrets and personal data in captured text.
 *
 * A redactor holds a list of named PCRE2 patterns: the built-in ones
 * below, then the caller's extra ones (configuration key
 * redaction.patterns).  Each match is replaced by "[REDACTED:<name>]".
 * Matches never overlap: the leftmost match wins, and between matches
 * starting at the same byte the earlier pattern in the list wins.
 *
 * Built-in patterns (in this order):
 *   credential_header  a credential header written out, name and value:
 *                      Authorization and Proxy-Authorization with any
 *                      scheme ("Bearer X", "token X", "Key X"), and
 *                      headers named *-key, *-token, *-secret or apikey
 *                      (x-api-key, Ocp-Apim-Subscription-Key, ...)
 *   anthropic_key      sk-ant-... (Anthropic API keys)
 *   openai_key         sk-..., sk-proj-..., sk-svcacct-... (20+ key chars)
 *   google_api_key     AIza + 35 characters (Google/Gemini API keys)
 *   aws_access_key     AKIA/ASIA + 16 upper-case letters or digits
 *   github_token       ghp_/gho_/ghu_/ghs_/ghr_ + 20+, github_pat_ + 20+
 *   groq_key           gsk_ + 20+ letters or digits
 *   huggingface_token  hf_ + 30+ letters or digits
 *   xai_key            xai- + 20+ letters or digits
 *   credential_arg     the value (only) of a flag or parameter whose
 *                      name ends in token, secret, password, passwd,
 *                      passphrase, pass, key, apikey, auth,
 *                      authorization or credential(s): "--api-key X",
 *                      "--api_key=X", "-Dx.password=X", "API_TOKEN=X";
 *                      and "user:password" after curl's -u/--user
 *   url_userinfo       the user:password of scheme://user:password@host
 *   bearer_token       "Bearer <token>" (case-insensitive "bearer")
 *   email              local@domain.tld
 *   credit_card        13-19 digits, single spaces or dashes allowed
 *                      between digits, accepted only when the Luhn check
 *                      passes; when more digits follow, the longest head
 *                      that passes and has a card network's prefix and
 *                      length is taken
 *
 * Patterns are compiled without UTF mode: they work on bytes, so any
 * captured text (valid UTF-8 or not) can be scanned.  The built-in
 * patterns are written so that scanning stays linear in the input.
 * A redactor is immutable after redactor__new, so several threads may use
 * one at a time.
 */
#ifndef OISP_REDACT_H
#define OISP_REDACT_H

#include <stddef.h>
#include <cjson/cJSON.h>

struct redactor;

/* One named pattern; both strings are NUL-terminated. */
struct redact_rule {
	char *name;
	char *regex;
};

/* Distinct pattern names that redact_findings counts one by one. */
#define REDACT_FINDINGS_MAX 32
/* Most extra patterns redactor__new accepts. */
#define REDACT_EXTRA_MAX 64
/* Longest pattern name, in bytes. */
#define REDACT_NAME_MAX 64

/*
 * Counts of replacements, for OISP's confidence/redaction information.
 * Callers zero it before the first use; the functions below add to it.
 * @total counts every replacement.  @by_rule counts per pattern name for
 * the first REDACT_FINDINGS_MAX distinct names seen (so every name is
 * listed while the redactor has at most 32 patterns: the 14 built-ins and
 * up to 18 extras).  Names point into the redactor and live as long as it
 * does.
 */
struct redact_findings {
	size_t total;
	struct {
		const char *name;
		size_t count;
	} by_rule[REDACT_FINDINGS_MAX];
	size_t n_rules;
};

/*
 * Checks an extra pattern's name as redactor__new would: 1 to
 * REDACT_NAME_MAX bytes of [A-Za-z0-9_.-], not a built-in name.
 * On error @err gets the reason (no prefix: config.c adds FILE:LINE and
 * the list index) and -EINVAL is returned; 0 when valid.
 */
int redact__check_name(const char *name, char *err, size_t errlen);

/*
 * Checks that @regex is non-empty and compiles with the options
 * redactor__new uses.  On error @err gets "PCRE2 error at offset N: text"
 * (or "empty regex") and -EINVAL (-ENOMEM) is returned; 0 when valid.
 */
int redact__check_regex(const char *regex, char *err, size_t errlen);

/*
 * Creates a redactor with the built-in patterns followed by @extra
 * (@n_extra entries, at most REDACT_EXTRA_MAX; @extra may be NULL when
 * @n_extra is 0).  The strings of @extra are copied.  Extra names must be
 * unique.  On a bad extra pattern @err gets
 * "redaction.patterns[i] (name): PCRE2 error at offset N: text" (or the
 * reason from redact__check_name) and -EINVAL is returned.
 * Returns 0, -EINVAL or -ENOMEM.
 */
int redactor__new(struct redactor **out, const struct redact_rule *extra,
		  size_t n_extra, char *err, size_t errlen);

/*
 * Replaces every match in the NUL-terminated @s.  When something matched,
 * *@out receives a malloc'd NUL-terminated copy with the replacements (the
 * caller frees it); otherwise *@out is NULL.  @f may be NULL.
 * Returns the number of replacements (0 = unchanged), -ENOMEM, or -EIO
 * when PCRE2 fails on the input (e.g. its match limit).
 */
int redactor__string(const struct redactor *r, const char *s, char **out,
		     struct redact_findings *f);

/*
 * Applies redactor__string to every string value of the tree @root (object
 * keys are left alone), replacing the values in place.  @f may be NULL.
 * Returns the number of replacements or -errno (then some values may have
 * been replaced already).
 */
int redactor__json(const struct redactor *r, cJSON *root,
		   struct redact_findings *f);

/* Number of patterns (built-in plus extra). */
size_t redactor__count(const struct redactor *r);

/* Frees @r; NULL is allowed. */
void redactor__free(struct redactor *r);

#endif /* OISP_REDACT_H */
