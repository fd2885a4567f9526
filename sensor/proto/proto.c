// SPDX-License-Identifier: MIT
/*
 * The protocol table and the messages every protocol hands over.  See
 * proto.h for the seam.
 */
#include <stdlib.h>
#include <strings.h>

#include "proto/http1.h"
#include "proto/http2.h"
#include "proto/proto.h"

/*
 * Tried in order on a connection's first bytes.  HTTP/1.1 comes last: it
 * takes anything and finds out itself when the bytes are not its own.
 */
static const struct proto_ops *const protocols[] = {
	&proto_http2,
	&proto_http1,
};

const struct proto_ops *proto__select(enum proto_dir dir, const void *buf,
				      size_t len)
{
	size_t i, n = sizeof(protocols) / sizeof(protocols[0]);

	for (i = 0; i < n; i++)
		if (protocols[i]->detect(dir, buf, len))
			return protocols[i];
	return protocols[n - 1];
}

bool proto__undecided(enum proto_dir dir, const void *buf, size_t len)
{
	return len && len <= PROTO_UNDECIDED_MAX &&
	       proto__select(dir, buf, len) == &proto_http2;
}

const char *http_msg__header(const struct http_msg *m, const char *name)
{
	size_t i;

	if (!m || !name)
		return NULL;
	/* First bytes alike (ASCII case folded) before the full comparison. */
	for (i = 0; i < m->n_headers; i++)
		if ((m->headers[i].name[0] | 0x20) == (name[0] | 0x20) &&
		    strcasecmp(m->headers[i].name, name) == 0)
			return m->headers[i].value;
	return NULL;
}

static void headers_free(struct http_header *h, size_t n)
{
	size_t i;

	/* A field's value lives in its name's allocation. */
	for (i = 0; i < n; i++)
		free(h[i].name);
	free(h);
}

void http_msg__free(struct http_msg *m)
{
	if (!m)
		return;
	free(m->method);
	free(m->target);
	headers_free(m->headers, m->n_headers);
	headers_free(m->trailers, m->n_trailers);
	free(m->body);
	free(m->marks);
	free(m);
}
