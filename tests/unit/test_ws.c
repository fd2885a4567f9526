// SPDX-License-Identifier: MIT
/*
 * WebSocket framing and permessage-deflate (proto/ws.c): RFC 6455 §5
 * frames split at every byte, masking, 16- and 64-bit lengths, control
 * frames between fragments, RFC 7692 with and without context takeover,
 * bad frames, bounds (size, bomb, budget).
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "lib/budget.h"
#include "proto/ws.h"
#include "wsframes.h"

#define MAXM	16

static const unsigned char KEY[4] = { 0x37, 0xfa, 0x21, 0x3d };

struct got {
	size_t n;
	struct {
		unsigned char *data;
		size_t len;
		uint64_t total;
		bool truncated, shed, from_client;
		enum ws_opcode op;
		uint64_t ts_first, ts_last;
	} m[MAXM];
};

static void on_msg(void *ctx, const struct ws_msg *wm)
{
	struct got *g = ctx;

	cr_assert_lt(g->n, MAXM);
	cr_assert_eq(wm->data[wm->len], '\0', "NUL-terminated");
	g->m[g->n].data = malloc(wm->len + 1);
	memcpy(g->m[g->n].data, wm->data, wm->len + 1);
	g->m[g->n].len = wm->len;
	g->m[g->n].total = wm->total;
	g->m[g->n].truncated = wm->truncated;
	g->m[g->n].shed = wm->shed;
	g->m[g->n].from_client = wm->from_client;
	g->m[g->n].op = wm->opcode;
	g->m[g->n].ts_first = wm->ts_first;
	g->m[g->n].ts_last = wm->ts_last;
	g->n++;
}

static void got_free(struct got *g)
{
	size_t i;

	for (i = 0; i < g->n; i++)
		free(g->m[i].data);
	memset(g, 0, sizeof(*g));
}

/* The client writes; the server's frames are read. */
static struct ws *mk(const struct ws_params *p, size_t max, struct budget *bg,
		     struct got *g)
{
	struct ws *w;

	memset(g, 0, sizeof(*g));
	cr_assert_eq(ws__new(&w, p, PROTO_DIR_WRITE, max, bg, on_msg, g), 0);
	return w;
}

static void expect(const struct got *g, size_t i, const char *text)
{
	cr_assert_lt(i, g->n, "message %zu delivered", i);
	cr_assert_eq(g->m[i].len, strlen(text), "message %zu: %zu bytes",
		     i, g->m[i].len);
	cr_assert_eq(memcmp(g->m[i].data, text, g->m[i].len), 0);
}

Test(ws, extensions)
{
	struct ws_params p;

	ws__parse_extensions(NULL, &p);
	cr_assert(!p.deflate);
	ws__parse_extensions("permessage-deflate", &p);
	cr_assert(p.deflate && !p.client_no_ctx && !p.server_no_ctx);
	ws__parse_extensions("x-foo; a=1, permessage-deflate; "
			     "client_max_window_bits=10 ; "
			     "Server_No_Context_Takeover", &p);
	cr_assert(p.deflate && !p.client_no_ctx && p.server_no_ctx);
	ws__parse_extensions("permessage-deflate;client_no_context_takeover",
			     &p);
	cr_assert(p.deflate && p.client_no_ctx);
	/* A parameter of another extension is not permessage-deflate's. */
	ws__parse_extensions("x-foo; server_no_context_takeover", &p);
	cr_assert(!p.deflate && !p.server_no_ctx);
}

/*
 * Every split of the stream in two feeds, and byte by byte, gives the
 * same messages: server text with a 7-bit length, client masked binary
 * with 16- and 64-bit lengths, a fragmented message with ping and pong
 * between its fragments.
 */
Test(ws, frames_split_everywhere)
{
	struct wsbuf cli = { 0 }, srv = { 0 };
	static char big[70000], mid[300];
	struct ws_stats st;
	struct got g;
	struct ws *w;
	size_t cut, i;

	memset(big, 'b', sizeof(big));
	memset(mid, 'm', sizeof(mid));
	big[0] = 'B';
	ws_frame_add(&srv, WS_OP_TEXT, true, false, NULL, "hello", 5, false);
	ws_frame_add(&srv, WS_OP_TEXT, false, false, NULL, "frag", 4, false);
	ws_frame_add(&srv, WS_OP_PING, true, false, NULL, "p", 1, false);
	ws_frame_add(&srv, WS_OP_CONT, false, false, NULL, "men", 3, false);
	ws_frame_add(&srv, WS_OP_PONG, true, false, NULL, "", 0, false);
	ws_frame_add(&srv, WS_OP_CONT, true, false, NULL, "ted", 3, false);
	ws_frame_add(&cli, WS_OP_BINARY, true, false, KEY, mid, sizeof(mid),
		     false);
	ws_frame_add(&cli, WS_OP_TEXT, true, false, KEY, big, sizeof(big),
		     false);
	ws_frame_add(&cli, WS_OP_TEXT, true, false, KEY, "short64", 7, true);

	for (cut = 0; cut <= srv.len; cut++) {
		w = mk(NULL, 0, NULL, &g);
		ws__feed(w, PROTO_DIR_READ, srv.p, cut, 1);
		ws__feed(w, PROTO_DIR_READ, srv.p + cut, srv.len - cut, 2);
		cr_assert_eq(g.n, 2, "cut %zu", cut);
		expect(&g, 0, "hello");
		expect(&g, 1, "fragmented");
		cr_assert(!g.m[1].from_client);
		ws__stats(w, &st);
		cr_assert_eq(st.frames, 6);
		cr_assert_eq(st.control_frames, 2);
		cr_assert(!ws__dead(w));
		ws__free(w);
		got_free(&g);
	}
	for (cut = 0; cut <= cli.len; cut += cut < 400 ? 1 : 997) {
		w = mk(NULL, 0, NULL, &g);
		ws__feed(w, PROTO_DIR_WRITE, cli.p, cut, 1);
		ws__feed(w, PROTO_DIR_WRITE, cli.p + cut, cli.len - cut, 2);
		cr_assert_eq(g.n, 3, "cut %zu", cut);
		cr_assert_eq(g.m[0].op, WS_OP_BINARY);
		cr_assert_eq(g.m[0].len, sizeof(mid));
		cr_assert_eq(memcmp(g.m[0].data, mid, sizeof(mid)), 0);
		cr_assert_eq(g.m[1].len, sizeof(big));
		cr_assert_eq(memcmp(g.m[1].data, big, sizeof(big)), 0);
		expect(&g, 2, "short64");
		cr_assert(g.m[2].from_client);
		ws__free(w);
		got_free(&g);
	}
	w = mk(NULL, 0, NULL, &g);
	for (i = 0; i < srv.len; i++)
		ws__feed(w, PROTO_DIR_READ, srv.p + i, 1, 10 + i);
	cr_assert_eq(g.n, 2);
	expect(&g, 1, "fragmented");
	cr_assert_lt(g.m[1].ts_first, g.m[1].ts_last, "arrival times kept");
	ws__free(w);
	got_free(&g);
	free(cli.p);
	free(srv.p);
}

/*
 * Three messages compressed by one sender: with context takeover the
 * later ones refer back into the earlier ones' window.  Parsed with the
 * negotiated parameters they inflate, fragmented and split anywhere;
 * parsed as if no_context_takeover had been negotiated, they do not.
 */
static void deflate_run(bool sender_no_ctx, bool parser_no_ctx, bool ok)
{
	static const char *msgs[] = {
		"{\"type\":\"response.output_text.delta\",\"delta\":\"Hello\"}",
		"{\"type\":\"response.output_text.delta\",\"delta\":\"Hello\"}",
		"{\"type\":\"response.completed\",\"response\":{\"id\":\"r\"}}",
	};
	struct ws_params p = { .deflate = true,
			       .server_no_ctx = parser_no_ctx };
	struct wsbuf srv = { 0 };
	struct wsdeflate d;
	unsigned char *z;
	struct ws_stats st;
	struct got g;
	struct ws *w;
	size_t i, zn, cut;

	wsdeflate_init(&d, sender_no_ctx);
	for (i = 0; i < 3; i++) {
		z = wsdeflate_msg(&d, msgs[i], strlen(msgs[i]), &zn);
		if (i == 2) {
			/* fragmented: RSV1 on the first frame only */
			ws_frame_add(&srv, WS_OP_TEXT, false, true, NULL, z, 3,
				     false);
			ws_frame_add(&srv, WS_OP_PING, true, false, NULL, "", 0,
				     false);
			ws_frame_add(&srv, WS_OP_CONT, true, false, NULL, z + 3,
				     zn - 3, false);
		} else {
			ws_frame_add(&srv, WS_OP_TEXT, true, true, NULL, z, zn,
				     false);
		}
		free(z);
	}
	wsdeflate_end(&d);
	for (cut = 0; cut <= srv.len; cut++) {
		w = mk(&p, 0, NULL, &g);
		ws__feed(w, PROTO_DIR_READ, srv.p, cut, 1);
		ws__feed(w, PROTO_DIR_READ, srv.p + cut, srv.len - cut, 2);
		ws__stats(w, &st);
		if (ok) {
			cr_assert_eq(g.n, 3, "cut %zu", cut);
			for (i = 0; i < 3; i++)
				expect(&g, i, msgs[i]);
			cr_assert_eq(st.deflate_errors, 0);
		} else {
			cr_assert_lt(g.n, 3, "a lost window cannot inflate");
			cr_assert_eq(st.deflate_errors, 1);
			cr_assert(ws__dead(w));
		}
		ws__free(w);
		got_free(&g);
	}
	free(srv.p);
}

Test(ws, deflate_context_takeover)
{
	deflate_run(false, false, true);
}

Test(ws, deflate_no_context_takeover)
{
	deflate_run(true, true, true);
	/* A sender that resets is fine for a parser that keeps the window. */
	deflate_run(true, false, true);
}

Test(ws, deflate_window_needed)
{
	deflate_run(false, true, false);
}

/* Each bad frame is counted and ends the parsing; later bytes ignored. */
Test(ws, bad_frames)
{
	static const unsigned char bad[][4] = {
		{ 0xa1, 0x00 },			/* RSV2 */
		{ 0xc1, 0x00 },			/* RSV1 without deflate */
		{ 0x83, 0x00 },			/* opcode 3 */
		{ 0x80, 0x00 },			/* continuation, no message */
		{ 0x89, 0x7e },			/* ping of 126+ bytes */
		{ 0x09, 0x00 },			/* fragmented ping */
		{ 0x81, 0x81, 0x01, 0x01 },	/* server frame masked */
		{ 0x01, 0x00, 0x81, 0x00 },	/* data frame inside message */
	};
	static const unsigned char len63[] = { 0x82, 0x7f, 0x80, 0, 0, 0,
					       0, 0, 0, 0 };
	unsigned char cli_unmasked[] = { 0x81, 0x01, 'x' };
	struct ws_stats st;
	struct got g;
	struct ws *w;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		w = mk(NULL, 0, NULL, &g);
		ws__feed(w, PROTO_DIR_READ, bad[i], bad[i][2] ? 4 : 2, 1);
		ws__feed(w, PROTO_DIR_READ, "\x81\x01x", 3, 2);
		ws__stats(w, &st);
		cr_assert_eq(st.frame_errors, 1, "case %zu", i);
		cr_assert(ws__dead(w), "case %zu", i);
		cr_assert_eq(g.n, 0, "case %zu", i);
		ws__free(w);
	}
	w = mk(NULL, 0, NULL, &g);
	ws__feed(w, PROTO_DIR_READ, len63, sizeof(len63), 1);
	cr_assert(ws__dead(w));
	ws__free(w);
	w = mk(NULL, 0, NULL, &g);
	ws__feed(w, PROTO_DIR_WRITE, cli_unmasked, sizeof(cli_unmasked), 1);
	cr_assert(ws__dead(w), "client frames must be masked");
	ws__free(w);
	/* Lost bytes lose the frame boundaries. */
	w = mk(NULL, 0, NULL, &g);
	ws__feed(w, PROTO_DIR_READ, "\x81\x05he", 4, 1);
	cr_assert(ws__in_message(w));
	ws__gap(w, PROTO_DIR_READ);
	cr_assert(ws__dead(w));
	ws__feed(w, PROTO_DIR_READ, "llo", 3, 2);
	cr_assert_eq(g.n, 0);
	ws__free(w);
}

/* A close frame ends its direction; what follows it is not parsed. */
Test(ws, close)
{
	struct got g;
	struct ws *w = mk(NULL, 0, NULL, &g);

	ws__feed(w, PROTO_DIR_READ, "\x88\x02\x03\xe8\x81\x01x", 7, 1);
	cr_assert_eq(g.n, 0);
	cr_assert(!ws__dead(w));
	ws__free(w);
}

Test(ws, oversize_message_cut)
{
	static char msg[1000];
	struct wsbuf srv = { 0 };
	struct ws_stats st;
	struct got g;
	struct ws *w;

	memset(msg, 'x', sizeof(msg));
	ws_frame_add(&srv, WS_OP_TEXT, true, false, NULL, msg, sizeof(msg),
		     false);
	ws_frame_add(&srv, WS_OP_TEXT, true, false, NULL, "ok", 2, false);
	w = mk(NULL, 100, NULL, &g);
	ws__feed(w, PROTO_DIR_READ, srv.p, srv.len, 1);
	cr_assert_eq(g.n, 2);
	cr_assert_eq(g.m[0].len, 100);
	cr_assert_eq(g.m[0].total, 1000);
	cr_assert(g.m[0].truncated);
	expect(&g, 1, "ok");
	ws__stats(w, &st);
	cr_assert_eq(st.oversize, 1);
	ws__free(w);
	got_free(&g);
	free(srv.p);
}

/*
 * 4 MiB of zeros deflate to a few KiB: past max_msg that is a bomb.
 * Without context takeover the rest of the message is skipped and the
 * next one parsed; with it, the connection is given up.
 */
static void bomb_run(bool no_ctx)
{
	struct ws_params p = { .deflate = true, .server_no_ctx = no_ctx };
	size_t n = 4u << 20, zn;
	unsigned char *zeros = calloc(1, n), *z;
	struct wsbuf srv = { 0 };
	struct wsdeflate d;
	struct ws_stats st;
	struct got g;
	struct ws *w;

	wsdeflate_init(&d, true);
	z = wsdeflate_msg(&d, zeros, n, &zn);
	ws_frame_add(&srv, WS_OP_TEXT, true, true, NULL, z, zn, false);
	free(z);
	z = wsdeflate_msg(&d, "after", 5, &zn);
	ws_frame_add(&srv, WS_OP_TEXT, true, true, NULL, z, zn, false);
	free(z);
	wsdeflate_end(&d);
	w = mk(&p, 65536, NULL, &g);
	ws__feed(w, PROTO_DIR_READ, srv.p, srv.len, 1);
	ws__stats(w, &st);
	cr_assert_eq(st.deflate_bombs, 1);
	if (no_ctx) {
		cr_assert_eq(g.n, 2);
		cr_assert(g.m[0].truncated);
		cr_assert_eq(g.m[0].len, 65536);
		cr_assert_lt(g.m[0].total, n, "inflating stopped");
		expect(&g, 1, "after");
	} else {
		cr_assert(ws__dead(w));
		cr_assert_eq(g.n, 0);
	}
	ws__free(w);
	got_free(&g);
	free(srv.p);
	free(zeros);
}

Test(ws, deflate_bomb)
{
	bomb_run(true);
	bomb_run(false);
}

/* Memory is charged while held and given back; a refusal sheds. */
Test(ws, budget)
{
	static char msg[20000];
	struct ws_params p = { .deflate = true };
	struct wsbuf srv = { 0 };
	struct budget_stats bs;
	struct budget *bg;
	struct got g;
	struct ws *w;

	memset(msg, 'y', sizeof(msg));
	cr_assert_eq(budget__new(&bg, 1 << 20), 0);
	w = mk(&p, 0, bg, &g);
	budget__stats(bg, &bs);
	cr_assert_gt(bs.used, 0, "the state is charged");
	ws_frame_add(&srv, WS_OP_TEXT, false, false, NULL, msg, sizeof(msg),
		     false);
	ws__feed(w, PROTO_DIR_READ, srv.p, srv.len, 1);
	cr_assert_geq(ws__held(w), sizeof(msg));
	cr_assert_geq(ws__shed(w), sizeof(msg));
	cr_assert_eq(ws__held(w), 0);
	ws__feed(w, PROTO_DIR_READ, "\x80\x02zz", 4, 2);
	cr_assert_eq(g.n, 1);
	cr_assert(g.m[0].shed);
	cr_assert_eq(g.m[0].len, 0);
	cr_assert_eq(g.m[0].total, sizeof(msg) + 2);
	budget__stats(bg, &bs);
	cr_assert_eq(bs.shed_messages, 1);
	ws__free(w);
	budget__stats(bg, &bs);
	cr_assert_eq(bs.used, 0, "all given back");
	got_free(&g);
	free(srv.p);
	budget__free(bg);
}
