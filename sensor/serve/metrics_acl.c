// SPDX-License-Identifier: MIT
/*
 * The allow-list of the metrics endpoint (metrics_acl.h): CIDR parsing
 * with inet_pton(3) and prefix matching, IPv4-mapped IPv6 included.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "lib/log.h"
#include "serve/metrics_acl.h"

#define ACL_MAX_ENTRIES		256

struct cidr {
	int family;		/* AF_INET or AF_INET6 */
	unsigned int prefix;	/* bits */
	unsigned char addr[16];	/* network order; 4 bytes for AF_INET */
};

struct metrics_acl {
	size_t n;
	struct cidr v[];
};

static bool prefix_match(const unsigned char *a, const unsigned char *net,
			 unsigned int bits)
{
	unsigned int full = bits / 8, rest = bits % 8;
	unsigned char mask;

	if (memcmp(a, net, full))
		return false;
	if (!rest)
		return true;
	mask = (unsigned char)(0xff << (8 - rest));
	return (a[full] & mask) == (net[full] & mask);
}

static bool host_bits_zero(const struct cidr *c, unsigned int max)
{
	unsigned int b;

	for (b = c->prefix; b < max; b++)
		if (c->addr[b / 8] & (0x80 >> (b % 8)))
			return false;
	return true;
}

/* Parses one trimmed entry of @len bytes.  Returns 0 or -EINVAL. */
static int cidr_parse(struct cidr *c, const char *s, size_t len, char *err,
		      size_t errlen)
{
	char buf[INET6_ADDRSTRLEN + 8], *slash, *end;
	unsigned long bits;
	unsigned int max;

	if (!len) {
		log__errbuf(err, errlen, "empty entry in the allow-list");
		return -EINVAL;
	}
	if (len >= sizeof(buf))
		goto bad;
	memcpy(buf, s, len);
	buf[len] = '\0';
	slash = strchr(buf, '/');
	if (slash)
		*slash = '\0';
	if (inet_pton(AF_INET, buf, c->addr) == 1) {
		c->family = AF_INET;
		max = 32;
	} else if (inet_pton(AF_INET6, buf, c->addr) == 1) {
		c->family = AF_INET6;
		max = 128;
	} else {
		goto bad;
	}
	c->prefix = max;
	if (slash) {
		if (slash[1] < '0' || slash[1] > '9' ||
		    (slash[1] == '0' && slash[2]))
			goto bad;
		errno = 0;
		bits = strtoul(slash + 1, &end, 10);
		if (errno || *end || bits > max)
			goto bad;
		c->prefix = (unsigned int)bits;
	}
	/* Host bits must be zero, as Python's ip_network(strict=True) wants. */
	if (!host_bits_zero(c, max)) {
		log__errbuf(err, errlen,
			    "\"%.*s\" has host bits set beyond /%u",
			    (int)len, s, c->prefix);
		return -EINVAL;
	}
	return 0;
bad:
	log__errbuf(err, errlen,
		    "\"%.*s\" is not an IPv4 or IPv6 address or CIDR",
		    (int)(len > 64 ? 64 : len), s);
	return -EINVAL;
}

int metrics_acl__parse(struct metrics_acl **out, const char *list, char *err,
		       size_t errlen)
{
	const char *p = list, *e, *comma;
	struct metrics_acl *a;
	size_t n = 1;
	int ret;

	for (e = list; *e; e++)
		n += *e == ',';
	if (n > ACL_MAX_ENTRIES) {
		log__errbuf(err, errlen, "more than %d networks in the allow-list",
			    ACL_MAX_ENTRIES);
		return -EINVAL;
	}
	a = calloc(1, sizeof(*a) + n * sizeof(a->v[0]));
	if (!a)
		return -ENOMEM;
	for (;;) {
		comma = strchr(p, ',');
		e = comma ?: p + strlen(p);
		while (p < e && (*p == ' ' || *p == '\t'))
			p++;
		while (e > p && (e[-1] == ' ' || e[-1] == '\t'))
			e--;
		ret = cidr_parse(&a->v[a->n], p, (size_t)(e - p), err, errlen);
		if (ret) {
			free(a);
			return ret;
		}
		a->n++;
		if (!comma)
			break;
		p = comma + 1;
	}
	*out = a;
	return 0;
}

bool metrics_acl__allows(const struct metrics_acl *a,
			 const struct sockaddr *sa, socklen_t salen)
{
	static const unsigned char mapped[12] = {
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff,
	};
	const unsigned char *v4 = NULL, *v6 = NULL;
	const struct sockaddr_in6 *s6;
	size_t i;

	if (sa->sa_family == AF_INET && salen >= sizeof(struct sockaddr_in)) {
		v4 = (const unsigned char *)
		     &((const struct sockaddr_in *)sa)->sin_addr;
	} else if (sa->sa_family == AF_INET6 &&
		   salen >= sizeof(struct sockaddr_in6)) {
		s6 = (const struct sockaddr_in6 *)sa;
		v6 = s6->sin6_addr.s6_addr;
		if (!memcmp(v6, mapped, sizeof(mapped)))
			v4 = v6 + 12;
	} else {
		return false;
	}
	for (i = 0; i < a->n; i++) {
		if (a->v[i].family == AF_INET && v4 &&
		    prefix_match(v4, a->v[i].addr, a->v[i].prefix))
			return true;
		if (a->v[i].family == AF_INET6 && v6 &&
		    prefix_match(v6, a->v[i].addr, a->v[i].prefix))
			return true;
	}
	return false;
}

void metrics_acl__free(struct metrics_acl *a)
{
	free(a);
}
