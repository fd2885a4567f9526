// SPDX-License-Identifier: MIT
// bunbench - tlsbench's rounds in Bun, over Bun's own BoringSSL: a TLS
// server (Bun.listen) and a client (Bun.connect) in one process on
// loopback; a round is the client's HTTP/1.1 request of about --size
// body bytes, the server's response of the same size, each written with
// one write() (the rest on drain) and read whole.  Prints one JSON line
// in gotlsbench's form; "writes" are write() calls and "reads" data
// callbacks (each one or more SSL_read calls: bench/count counts those).
//
//   bun bunbench.js --cert PEM --key PEM --size BYTES --seconds S
//                   [--warmup S] [--sync] [--phases N]
// --sync prints "warm" after the warm-up and waits for a line on stdin.
// --phases N measures N times, each for --seconds and printed as its own
// JSON line, and waits for a line on stdin before each after the first
// (the caller attaches or detaches probes meanwhile).
import { messages, options } from "./benchmsgs.mjs";

const opt = options(process.argv.slice(2));

const { req, resp } = messages(opt.size);

const n = { writes: 0, reads: 0 };

// Writes @buf on socket @s, the rest when it drains.
function send(s, buf) {
	const w = s.write(buf);
	n.writes++;
	s.data.pending = w < buf.length ? buf.subarray(w) : null;
}

const sock = {
	data(s, d) {
		n.reads++;
		s.data.got += d.length;
		const want = s.data.server ? req.length : resp.length;
		if (s.data.got < want)
			return;
		s.data.got -= want;
		if (s.data.server)
			send(s, resp);
		else
			round();
	},
	drain(s) {
		if (s.data.pending)
			send(s, s.data.pending);
	},
	error(s, e) {
		console.error("bunbench:", e);
		process.exit(1);
	},
};

const server = Bun.listen({
	hostname: "127.0.0.1", port: 0,
	tls: { cert: Bun.file(opt.cert), key: Bun.file(opt.key) },
	data: { got: 0, server: true, pending: null },
	socket: { ...sock, open(s) { s.data = { got: 0, server: true, pending: null }; } },
});

let phase = "warm", rounds = 0, t0 = performance.now(), end = t0 + opt.warmup * 1000;
let client, finished, stdin, phases = opt.phases || 1;
const done = new Promise((r) => { finished = r; });

function report(t1) {
	console.log(JSON.stringify({
		mode: "sock", size: opt.size, req_bytes: req.length, resp_bytes: resp.length,
		rounds, seconds: (t1 - t0) / 1000, writes: n.writes, reads: n.reads,
		write_ns: 0, read_ns: 0,
	}));
}

// Starts a measured phase.
function measure() {
	phase = "run";
	rounds = n.writes = n.reads = 0;
	t0 = performance.now();
	end = t0 + opt.seconds * 1000;
}

async function round() {
	const now = performance.now();
	if (phase === "warm" && now >= end) {
		phase = "sync";
		if (opt.sync) {
			console.log("warm");
			stdin = Bun.stdin.stream().getReader();
			await stdin.read();
		}
		measure();
	} else if (phase === "run") {
		rounds++;
		if (now >= end) {
			if (--phases <= 0) {
				finished(now);
				return;
			}
			report(now);
			phase = "sync";
			stdin ??= Bun.stdin.stream().getReader();
			await stdin.read();
			measure();
		}
	}
	send(client, req);
}

client = await Bun.connect({
	hostname: "127.0.0.1", port: server.port,
	tls: { rejectUnauthorized: false },
	data: { got: 0, server: false, pending: null },
	socket: {
		...sock,
		open(s) { s.data = { got: 0, server: false, pending: null }; },
		/* The self-signed certificate is not verified. */
		handshake() {
			round();
		},
	},
});
report(await done);
process.exit(0);
