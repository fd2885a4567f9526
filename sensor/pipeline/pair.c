// SPDX-License-Identifier: MIT
/*
 * Request/response pairing: a queue of the requests in flight on one
 * connection.  See pair.h for the contract.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/budget.h"
#include "pipeline/assemble.h"
#include "pipeline/pair.h"
#include "pipeline/pipeline.h"

/* Requests in flight on one connection beyond which the oldest is dropped. */
#define MAX_PENDING	256

struct pending {
	struct pending *next;
	uint32_t stream_id;		/* HTTP/2; 0: paired in order */
	struct exchange x;
	size_t charged;			/* to the budget */
};

struct pair {
	const struct pair_env *env;
	struct pending *head, *tail;
	size_t n;
	enum proto_dir req_dir;		/* the direction requests travel */
};

static void pending_push(struct pair *pr, struct pending *pd)
{
	if (pr->tail)
		pr->tail->next = pd;
	else
		pr->head = pd;
	pr->tail = pd;
	pr->n++;
}

static struct pending *pending_pop(struct pair *pr)
{
	struct pending *pd = pr->head;

	if (!pd)
		return NULL;
	pr->head = pd->next;
	if (!pr->head)
		pr->tail = NULL;
	pr->n--;
	pd->next = NULL;
	return pd;
}

/*
 * The request an HTTP/2 response on stream @id answers: streams answer
 * in any order.  Unlinked from the queue; NULL when none is pending.
 */
static struct pending *pending_take(struct pair *pr, uint32_t id)
{
	struct pending *pd, *prev = NULL;

	for (pd = pr->head; pd; prev = pd, pd = pd->next) {
		if (pd->stream_id != id)
			continue;
		if (prev)
			prev->next = pd->next;
		else
			pr->head = pd->next;
		if (pr->tail == pd)
			pr->tail = prev;
		pr->n--;
		pd->next = NULL;
		return pd;
	}
	return NULL;
}

static void pending_free(const struct pair *pr, struct pending *pd)
{
	if (!pd)
		return;
	budget__release(pr->env->budget, pd->charged);
	exchange__clear(&pd->x);
	free(pd);
}

static void on_request(struct pair *pr, const struct event_proc *proc,
		       bool server, const struct http_msg *msg)
{
	struct pending *pd = calloc(1, sizeof(*pd));

	if (!pd)
		return;
	if (pr->n >= MAX_PENDING)
		pending_free(pr, pending_pop(pr));
	pd->stream_id = msg->stream_id;
	pending_push(pr, pd);
	/* A WebSocket upgrade is reported by the messages that follow it. */
	if (!(msg->flags & HTTP_MSG_WS_HANDSHAKE))
		assembler__request(pr->env->as, proc, server, msg, &pd->x);
	/* Allocated already: charged, the connection table trims after. */
	pd->charged = sizeof(*pd) + (pd->x.host ? strlen(pd->x.host) : 0) +
		      (pd->x.model ? strlen(pd->x.model) : 0);
	budget__charge(pr->env->budget, pd->charged);
}

static enum pair_verdict on_response(struct pair *pr,
				     const struct event_proc *proc,
				     bool server, const struct http_msg *msg)
{
	struct pending *pd;

	if (msg->status == 101 && (msg->flags & HTTP_MSG_WS_HANDSHAKE)) {
		/* The upgrade request: WebSocket messages follow. */
		pending_free(pr, msg->stream_id ?
				 pending_take(pr, msg->stream_id) :
				 pending_pop(pr));
		return PAIR_GO_ON;
	}
	if (msg->status >= 100 && msg->status < 200 &&
	    !(msg->flags & HTTP_MSG_WEBSOCKET))
		return msg->status == 101 ? PAIR_IGNORE : PAIR_GO_ON;
	pd = msg->stream_id ? pending_take(pr, msg->stream_id) :
			      pending_pop(pr);
	if (!pd) {
		pr->env->st->unpaired_responses++;
		return PAIR_GO_ON;
	}
	assembler__response(pr->env->as, proc, server, msg, &pd->x);
	pending_free(pr, pd);
	return PAIR_GO_ON;
}

enum pair_verdict pair__message(struct pair *pr, const struct event_proc *proc,
				const struct http_msg *msg)
{
	bool server;

	pr->req_dir = msg->is_request ? msg->dir : proto_dir__other(msg->dir);
	server = pr->req_dir == PROTO_DIR_READ;
	if (server && !pr->env->o->server_side) {
		pr->env->st->server_side_skipped++;
		return PAIR_IGNORE;
	}
	if (msg->is_request) {
		on_request(pr, proc, server, msg);
		return PAIR_GO_ON;
	}
	return on_response(pr, proc, server, msg);
}

enum proto_dir pair__request_dir(const struct pair *pr)
{
	return pr->req_dir;
}

int pair__new(struct pair **out, const struct pair_env *env)
{
	struct pair *pr = calloc(1, sizeof(*pr));

	if (!pr)
		return -ENOMEM;
	pr->env = env;
	pr->req_dir = PROTO_DIR_WRITE;
	*out = pr;
	return 0;
}

void pair__free(struct pair *pr)
{
	if (!pr)
		return;
	while (pr->head)
		pending_free(pr, pending_pop(pr));
	free(pr);
}
