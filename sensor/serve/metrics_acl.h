/* SPDX-License-Identifier: MIT */
/*
 * metrics_acl.h - the metrics endpoint's allow-list (metrics.allowed_ips):
 * the networks whose clients are answered.
 */
#ifndef OISP_METRICS_ACL_H
#define OISP_METRICS_ACL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

struct metrics_acl;

/*
 * Parses "CIDR,CIDR,..." (spaces around entries are allowed).  An entry
 * is an IPv4 or IPv6 address, optionally with "/PREFIX" (0-32 or
 * 0-128; no prefix means the single address).  Parsing is strict: an
 * empty entry, a malformed address or prefix, or host bits set beyond
 * the prefix (10.1.0.0/8) is an error that names the entry in @err.
 * An IPv4 entry also matches the IPv4-mapped IPv6 form (::ffff:a.b.c.d)
 * of its addresses, which is how a dual-stack socket sees IPv4 clients.
 * Returns 0 with *@out set, -EINVAL or -ENOMEM.
 */
int metrics_acl__parse(struct metrics_acl **out, const char *list, char *err,
		       size_t errlen);

/* True when @sa (AF_INET or AF_INET6) is in one of the networks. */
bool metrics_acl__allows(const struct metrics_acl *a,
			 const struct sockaddr *sa, socklen_t salen);

/* NULL is fine. */
void metrics_acl__free(struct metrics_acl *a);

#endif /* OISP_METRICS_ACL_H */
