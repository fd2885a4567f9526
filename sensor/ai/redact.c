// SPDX-License-Identifier: MIT
/*
 * redact.c - pattern-based redaction of strings and JSON trees; see
 * redact.h.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "lib/log.h"
#include "ai/redact.h"

/*
 * PCRE2's default match limit is ten million steps; a user pattern that
 * backtracks badly would stall the event loop for seconds.  One million
 * is ample for the built-ins on a 4 MiB body.
 */
#define REDACT_MATCH_LIMIT 1000000u

/*
 * Extra check of a match [start, *end) of a built-in pattern: returns
 * whether to redact, and may move *end (at most to the NUL of @s).
 */
typedef bool (*redact_accept_fn)(const char *s, size_t start, size_t *end);

struct redact_pat {
	char *name;
	pcre2_code *code;
	redact_accept_fn accept;	/* extra check of a match, or NULL */
};

struct redactor {
	struct redact_pat *pats;
	size_t n;
	pcre2_match_context *mctx;
};

static bool card_ok(const char *s, size_t start, size_t *end);

/*
 * The last word of a credential-ish argument or parameter name, either
 * as a whole component (api-key, OPENAI_API_KEY, auth.password) or as
 * the capitalised tail of a camelCase name (apiKey, keyStorePassword).
 * Names are split at '-', '_' and '.'; only the last component counts,
 * so --max-tokens, --tokenizer, --token-limit, --key-file and
 * --keep-alive are left alone.  Names are at most 64 bytes, which
 * bounds the work at each start.
 */
#define CRED_NAME \
	"(?=[A-Za-z0-9_.-]{1,64}+(?![A-Za-z0-9_.-]))" \
	"(?:[A-Za-z0-9]++[-_.])*+" \
	"(?:(?i:token|secret|password|passwd|passphrase|pass|key|apikey" \
	"|auth|authorization|credentials?)" \
	"|[A-Za-z0-9]*?[a-z0-9](?:Token|Secret|Password|Passwd|Passphrase" \
	"|Pass|Key|Auth|Credentials?))(?![A-Za-z0-9])"

/*
 * The built-ins.  Each starts with a look-behind that fails in the middle
 * of a run of the characters the pattern consumes, so that a long run is
 * scanned once rather than once per starting byte, and uses possessive
 * quantifiers where backtracking cannot help.  anthropic_key precedes
 * openai_key since both begin with "sk-"; credential_header comes first
 * so that a whole "Authorization: Bearer ..." goes at once.  The
 * provider key patterns precede credential_arg, which reports the value
 * after a flag (\K) and so ties with them, so that a known key keeps its
 * own name; url_userinfo precedes email for the same reason.
 */
static const struct {
	const char *name;
	const char *regex;
	redact_accept_fn accept;
} builtin[] = {
	/*
	 * A credential header written out, as on a curl command line.  An
	 * Authorization value is a scheme and a credential (RFC 9110
	 * 11.4), whatever the scheme: "token X", "Key X", "Digest ...".
	 */
	{ "credential_header",
	  "(?<![A-Za-z0-9-])(?:"
	  "(?i:(?:proxy-)?authorization)[ \\t]*+[:=][ \\t]*+"
	  "(?:[A-Za-z][A-Za-z0-9._+-]*+[ \\t]++(?=[^\\s'\"]))?+"
	  "|(?=[A-Za-z0-9-]{1,64}+(?![A-Za-z0-9-]))"
	  "(?i:(?:[A-Za-z0-9]++-)++(?:key|token|secret|apikey)|apikey)"
	  "[ \\t]*+[:=][ \\t]*+"
	  "(?:(?i:bearer|basic|token|key)[ \\t]++(?=[^\\s'\"]))?+"
	  ")[^\\s'\"]++",
	  NULL },
	{ "anthropic_key",
	  "(?<![A-Za-z0-9_-])sk-ant-[A-Za-z0-9_-]{20,}+", NULL },
	{ "openai_key",
	  "(?<![A-Za-z0-9_-])sk-(?!ant-)[A-Za-z0-9_-]{20,}+", NULL },
	{ "google_api_key",
	  "(?<![A-Za-z0-9_-])AIza[0-9A-Za-z_-]{35}(?![A-Za-z0-9_-])", NULL },
	{ "aws_access_key",
	  "(?<![A-Za-z0-9])(?:AKIA|ASIA)[0-9A-Z]{16}(?![A-Za-z0-9])", NULL },
	/* Classic (ghp_ gho_ ghu_ ghs_ ghr_) and fine-grained tokens. */
	{ "github_token",
	  "(?<![A-Za-z0-9_])(?:gh[pousr]_[A-Za-z0-9]{20,}+"
	  "|github_pat_[A-Za-z0-9_]{20,}+)", NULL },
	{ "groq_key",
	  "(?<![A-Za-z0-9_])gsk_[A-Za-z0-9]{20,}+", NULL },
	/* 30+: hf_ also starts identifiers such as hf_AutoModelForCausalLM. */
	{ "huggingface_token",
	  "(?<![A-Za-z0-9_])hf_[A-Za-z0-9]{30,}+", NULL },
	{ "xai_key",
	  "(?<![A-Za-z0-9_-])xai-[A-Za-z0-9]{20,}+", NULL },
	/*
	 * The value of a credential-ish argument: "--api-key KEY",
	 * "--api-key=KEY", "-token KEY", "-Dauth.password=KEY", an
	 * assignment or query parameter "OPENAI_API_KEY=KEY" ("&", ";"
	 * and "#" end it there), and "user:password" after curl's -u, -U,
	 * --user and --proxy-user (not a numeric uid:gid, as for docker
	 * -u).  A value starting with '-' after a space is the next flag,
	 * not a value.
	 */
	{ "credential_arg",
	  "(?<![A-Za-z0-9_.-])(?:"
	  "--?+" CRED_NAME "(?:=|[ \\t]++(?!-))['\"]?+\\K"
	  "(?:(?i:bearer|basic)[ \\t]++)?+[^\\s'\"]++"
	  "|" CRED_NAME "=['\"]?+\\K[^\\s'\"&;#]++"
	  "|(?:-[uU][ \\t]*+|--(?:proxy-)?user(?:=|[ \\t]++))"
	  "(?![0-9]++:[0-9]++(?![^\\s'\"]))\\K[^\\s'\":]++:[^\\s'\"]++"
	  ")", NULL },
	/*
	 * "user:password" of scheme://user:password@host, up to the last
	 * '@' of the authority (an unencoded '@' in either part is common).
	 */
	{ "url_userinfo",
	  "(?<![A-Za-z0-9+.-])[A-Za-z][A-Za-z0-9+.-]*+://\\K"
	  "[^\\s/?#:'\"]{0,256}+:[^\\s/?#'\"]{0,256}(?=@)", NULL },
	{ "bearer_token",
	  "(?<![A-Za-z0-9])(?i:bearer)[ \\t]++[A-Za-z0-9._~+/=-]{8,}+", NULL },
	{ "email",
	  "(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]++@"
	  "(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\\.)+"
	  "[A-Za-z]{2,24}(?![A-Za-z0-9-])", NULL },
	/* 13 digits; card_ok finds how far the number goes. */
	{ "credit_card",
	  "(?<![0-9])[0-9](?:[ -]?+[0-9]){12}", card_ok },
};

#define N_BUILTIN (sizeof(builtin) / sizeof(builtin[0]))
#define MAX_PATS (N_BUILTIN + REDACT_EXTRA_MAX)

#define CARD_MIN 13
#define CARD_MAX 19

/*
 * Whether @n digits starting with @d have the prefix and length of a
 * card network's numbers (ISO/IEC 7812 issuer identification numbers):
 * Visa 4 (13, 16, 19), American Express 34/37 (15), Diners 36 (14-19),
 * the other networks under 2, 3, 5 and 6 (16-19).
 */
static bool card_shape_ok(const unsigned char *d, unsigned int n)
{
	switch (d[0]) {
	case 4:
		return n == 13 || n == 16 || n == 19;
	case 3:
		if (d[1] == 4 || d[1] == 7)
			return n == 15;
		if (d[1] == 6)
			return n >= 14;
		return n >= 16;
	case 2:
	case 5:
	case 6:
		return n >= 16;
	default:
		return false;
	}
}

/*
 * Accepts a card number at @start: digits with single spaces or dashes
 * between them.  A number of 13-19 digits that ends there counts when
 * it passes the Luhn check.  When more digits follow (a longer number,
 * or a card number with something appended), the longest 13-19 digit
 * head that passes the Luhn check and has a card network's shape counts,
 * so that appending digits does not hide a card, while long numbers
 * (timestamps, ids) that no network issues are left alone.  Sets *end
 * past the accepted digits.
 */
static bool card_ok(const char *s, size_t start, size_t *end)
{
	static const unsigned char dbl[10] = { 0, 2, 4, 6, 8, 1, 3, 5, 7, 9 };
	/*
	 * Luhn doubles every second digit counted from the right, so which
	 * digits double depends on the head's length: sum[0][k] doubles
	 * those at odd indices from the left (right for odd k), sum[1][k]
	 * those at even indices (right for even k).
	 */
	unsigned int sum[2][CARD_MAX + 1] = { { 0 } }, n = 0, k, v;
	unsigned char d[CARD_MAX];
	size_t ends[CARD_MAX + 1], i = start;
	bool more;

	for (;;) {
		v = (unsigned int)(s[i++] - '0');
		d[n] = (unsigned char)v;
		sum[0][n + 1] = sum[0][n] + ((n & 1) ? dbl[v] : v);
		sum[1][n + 1] = sum[1][n] + ((n & 1) ? v : dbl[v]);
		ends[++n] = i;
		if ((s[i] == ' ' || s[i] == '-') && s[i + 1] >= '0' &&
		    s[i + 1] <= '9')
			i++;
		if (s[i] < '0' || s[i] > '9' || n == CARD_MAX)
			break;
	}
	more = s[i] >= '0' && s[i] <= '9';
	for (k = n; k >= CARD_MIN; k--) {
		if (sum[!(k & 1)][k] % 10)
			continue;
		if ((k == n && !more) || card_shape_ok(d, k)) {
			*end = ends[k];
			return true;
		}
	}
	return false;
}

static int compile(const char *regex, pcre2_code **out, char *err,
		   size_t errlen)
{
	PCRE2_UCHAR msg[256];
	PCRE2_SIZE off;
	int code;

	*out = pcre2_compile((PCRE2_SPTR)regex, PCRE2_ZERO_TERMINATED, 0,
			     &code, &off, NULL);
	if (!*out) {
		pcre2_get_error_message(code, msg, sizeof(msg));
		log__errbuf(err, errlen, "PCRE2 error at offset %zu: %s",
			(size_t)off, (const char *)msg);
		return code == PCRE2_ERROR_HEAPLIMIT ? -ENOMEM : -EINVAL;
	}
	/* JIT is only a speed-up; without it pcre2_match interprets. */
	pcre2_jit_compile(*out, PCRE2_JIT_COMPLETE);
	return 0;
}

static bool is_builtin_name(const char *name)
{
	size_t i;

	for (i = 0; i < N_BUILTIN; i++)
		if (!strcmp(builtin[i].name, name))
			return true;
	return false;
}

static int check_name(const char *name, char *err, size_t errlen)
{
	size_t i, len;

	if (!name || !*name) {
		log__errbuf(err, errlen, "pattern name is empty");
		return -EINVAL;
	}
	len = strlen(name);
	if (len > REDACT_NAME_MAX) {
		log__errbuf(err, errlen, "pattern name is longer than %d bytes",
			REDACT_NAME_MAX);
		return -EINVAL;
	}
	for (i = 0; i < len; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '_' || c == '-' ||
		      c == '.')) {
			log__errbuf(err, errlen,
				"pattern name \"%s\" may only hold letters, digits, '_', '-' and '.'",
				name);
			return -EINVAL;
		}
	}
	if (is_builtin_name(name)) {
		log__errbuf(err, errlen,
			"pattern name \"%s\" is taken by a built-in pattern",
			name);
		return -EINVAL;
	}
	return 0;
}

int redact__check_name(const char *name, char *err, size_t errlen)
{
	return check_name(name, err, errlen);
}

int redact__check_regex(const char *regex, char *err, size_t errlen)
{
	pcre2_code *code;
	int ret;

	if (!regex || !*regex) {
		log__errbuf(err, errlen, "empty regex");
		return -EINVAL;
	}
	ret = compile(regex, &code, err, errlen);
	if (ret)
		return ret;
	pcre2_code_free(code);
	return 0;
}

static int add_pat(struct redactor *r, const char *name, const char *regex,
		   redact_accept_fn accept, char *err, size_t errlen)
{
	struct redact_pat *p = &r->pats[r->n];
	int ret;

	p->name = strdup(name);
	if (!p->name) {
		log__errbuf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	ret = compile(regex, &p->code, err, errlen);
	if (ret) {
		free(p->name);
		p->name = NULL;
		return ret;
	}
	p->accept = accept;
	r->n++;
	return 0;
}

int redactor__new(struct redactor **out, const struct redact_rule *extra,
		  size_t n_extra, char *err, size_t errlen)
{
	char why[256];
	struct redactor *r;
	size_t i, j;
	int ret;

	*out = NULL;
	if (n_extra > REDACT_EXTRA_MAX) {
		log__errbuf(err, errlen, "redaction.patterns: more than %d patterns",
			REDACT_EXTRA_MAX);
		return -EINVAL;
	}
	r = calloc(1, sizeof(*r));
	if (!r)
		goto out_nomem;
	r->pats = calloc(N_BUILTIN + n_extra, sizeof(*r->pats));
	r->mctx = pcre2_match_context_create(NULL);
	if (!r->pats || !r->mctx)
		goto out_nomem_free;
	pcre2_set_match_limit(r->mctx, REDACT_MATCH_LIMIT);
	for (i = 0; i < N_BUILTIN; i++) {
		ret = add_pat(r, builtin[i].name, builtin[i].regex,
			      builtin[i].accept, why, sizeof(why));
		if (ret) {
			/* Only memory can fail here: the tests compile these. */
			log__errbuf(err, errlen, "built-in pattern %s: %s",
				builtin[i].name, why);
			goto out_free;
		}
	}
	for (i = 0; i < n_extra; i++) {
		const char *name = extra[i].name ? extra[i].name : "";

		ret = check_name(extra[i].name, why, sizeof(why));
		for (j = 0; !ret && j < i; j++) {
			if (extra[j].name && !strcmp(extra[j].name, name)) {
				log__errbuf(why, sizeof(why),
					"pattern name \"%s\" is used twice",
					name);
				ret = -EINVAL;
			}
		}
		if (!ret && (!extra[i].regex || !*extra[i].regex)) {
			log__errbuf(why, sizeof(why), "empty regex");
			ret = -EINVAL;
		}
		if (!ret)
			ret = add_pat(r, name, extra[i].regex, NULL, why,
				      sizeof(why));
		if (ret) {
			log__errbuf(err, errlen, "redaction.patterns[%zu] (%s): %s",
				i, name, why);
			goto out_free;
		}
	}
	*out = r;
	return 0;

out_nomem_free:
	log__errbuf(err, errlen, "out of memory");
	ret = -ENOMEM;
out_free:
	redactor__free(r);
	return ret;
out_nomem:
	log__errbuf(err, errlen, "out of memory");
	return -ENOMEM;
}

void redactor__free(struct redactor *r)
{
	size_t i;

	if (!r)
		return;
	for (i = 0; i < r->n; i++) {
		free(r->pats[i].name);
		pcre2_code_free(r->pats[i].code);
	}
	free(r->pats);
	pcre2_match_context_free(r->mctx);
	free(r);
}

size_t redactor__count(const struct redactor *r)
{
	return r ? r->n : 0;
}

/*
 * Finds the first acceptable match of pattern @p in s[from, len).
 * Returns 1 with [*start, *end), 0 when there is none, -EIO on a PCRE2
 * failure.  Empty matches are never reported (PCRE2_NOTEMPTY).
 */
static int next_match(const struct redactor *r, const struct redact_pat *p,
		      const char *s, size_t len, size_t from,
		      pcre2_match_data *md, size_t *start, size_t *end)
{
	PCRE2_SIZE *ov;
	int rc;

	while (from <= len) {
		rc = pcre2_match(p->code, (PCRE2_SPTR)s, len, from,
				 PCRE2_NOTEMPTY, md, r->mctx);
		if (rc == PCRE2_ERROR_NOMATCH)
			return 0;
		if (rc < 0)
			return -EIO;
		ov = pcre2_get_ovector_pointer(md);
		if (ov[1] <= ov[0] || ov[1] > len) {
			/* \K in a look-ahead can produce this; skip it. */
			from = ov[0] + 1;
			continue;
		}
		*start = ov[0];
		*end = ov[1];
		if (!p->accept || p->accept(s, *start, end))
			return 1;
		from = ov[0] + 1;
	}
	return 0;
}

struct strbuf {
	char *buf;
	size_t len, cap;
};

static int sb_add(struct strbuf *b, const char *s, size_t n)
{
	size_t cap;
	char *nb;

	if (!b->buf || b->len + n + 1 > b->cap) {
		cap = b->cap ? b->cap : 64;
		while (cap < b->len + n + 1)
			cap *= 2;
		nb = realloc(b->buf, cap);
		if (!nb)
			return -ENOMEM;
		b->buf = nb;
		b->cap = cap;
	}
	memcpy(b->buf + b->len, s, n);
	b->len += n;
	b->buf[b->len] = '\0';
	return 0;
}

static void count_finding(struct redact_findings *f, const char *name)
{
	size_t i;

	if (!f)
		return;
	f->total++;
	for (i = 0; i < f->n_rules && i < REDACT_FINDINGS_MAX; i++) {
		if (f->by_rule[i].name == name ||
		    !strcmp(f->by_rule[i].name, name)) {
			f->by_rule[i].count++;
			return;
		}
	}
	if (f->n_rules < REDACT_FINDINGS_MAX) {
		f->by_rule[f->n_rules].name = name;
		f->by_rule[f->n_rules].count = 1;
		f->n_rules++;
	}
}

/*
 * Leftmost-first scan: every pattern keeps its next match at or after
 * the current position; the earliest start wins (lowest index on ties),
 * is replaced, and the patterns whose cached match overlapped it search
 * again from the end of the replacement.  Each pattern is thus run over
 * the text about once.
 */
int redactor__string(const struct redactor *r, const char *s, char **out,
		     struct redact_findings *f)
{
	size_t start[MAX_PATS], end[MAX_PATS];
	bool found[MAX_PATS];
	struct strbuf b = { 0 };
	pcre2_match_data *md;
	size_t len, pos = 0, i, best, npat;
	char tag[REDACT_NAME_MAX + 16];
	int ret, n = 0, tlen;

	*out = NULL;
	if (!r || !s)
		return -EINVAL;
	len = strlen(s);
	npat = r->n;
	md = pcre2_match_data_create(1, NULL);
	if (!md)
		return -ENOMEM;
	for (i = 0; i < npat; i++) {
		ret = next_match(r, &r->pats[i], s, len, 0, md, &start[i],
				 &end[i]);
		if (ret < 0)
			goto out_free;
		found[i] = ret;
	}
	for (;;) {
		best = npat;
		for (i = 0; i < npat; i++)
			if (found[i] && (best == npat || start[i] < start[best]))
				best = i;
		if (best == npat)
			break;
		tlen = snprintf(tag, sizeof(tag), "[REDACTED:%s]",
				r->pats[best].name);
		ret = sb_add(&b, s + pos, start[best] - pos);
		if (!ret)
			ret = sb_add(&b, tag, (size_t)tlen);
		if (ret)
			goto out_free;
		count_finding(f, r->pats[best].name);
		n++;
		pos = end[best];
		for (i = 0; i < npat; i++) {
			if (!found[i] || start[i] >= pos)
				continue;
			ret = next_match(r, &r->pats[i], s, len, pos, md,
					 &start[i], &end[i]);
			if (ret < 0)
				goto out_free;
			found[i] = ret;
		}
	}
	if (n) {
		ret = sb_add(&b, s + pos, len - pos);
		if (ret)
			goto out_free;
		*out = b.buf;
	}
	pcre2_match_data_free(md);
	return n;

out_free:
	free(b.buf);
	pcre2_match_data_free(md);
	return ret;
}

/* Redacts @node if it is a string, then its children (depth-first). */
static int redact_node(const struct redactor *r, cJSON *node,
		       struct redact_findings *f, int *total)
{
	char *red, *copy;
	size_t len;
	cJSON *c;
	int ret;

	if (cJSON_IsString(node) && node->valuestring) {
		ret = redactor__string(r, node->valuestring, &red, f);
		if (ret < 0)
			return ret;
		if (red) {	/* something matched: ret > 0 */
			/* Allocate with cJSON's hooks: cJSON_Delete frees it. */
			len = strlen(red);
			copy = cJSON_malloc(len + 1);
			if (!copy) {
				free(red);
				return -ENOMEM;
			}
			memcpy(copy, red, len + 1);
			free(red);
			if (!(node->type & cJSON_IsReference))
				cJSON_free(node->valuestring);
			node->valuestring = copy;
			node->type &= ~cJSON_IsReference;
			*total = ret > INT_MAX - *total ? INT_MAX : *total + ret;
		}
	}
	/* cJSON_Parse limits nesting to CJSON_NESTING_LIMIT (1000). */
	for (c = node->child; c; c = c->next) {
		ret = redact_node(r, c, f, total);
		if (ret < 0)
			return ret;
	}
	return 0;
}

int redactor__json(const struct redactor *r, cJSON *root,
		   struct redact_findings *f)
{
	int total = 0, ret;

	if (!r)
		return -EINVAL;
	if (!root)
		return 0;
	ret = redact_node(r, root, f, &total);
	return ret < 0 ? ret : total;
}
