// SPDX-License-Identifier: MIT
// denobench - tlsbench's rounds in Deno, over Deno's own rustls (aws-lc):
// a TLS server (Deno.listenTls) and a client (Deno.connectTls) in one
// process on loopback; a round is the client's HTTP/1.1 request of about
// --size body bytes, the server's response of the same size, each
// written whole (one write() call, which rustls cuts into records of at
// most 16 KiB) and read whole.  Prints one JSON line in gotlsbench's
// form; "writes" are write() calls and "reads" read() calls (bench/count
// counts the records sealed and opened under them).  The warm-up runs on
// a connection of its own, the measurement on a new one.
//
//   deno run --allow-net --allow-read denobench.js --cert PEM --key PEM
//            --size BYTES --seconds S [--warmup S] [--sync] [--phases N]
// --sync prints "warm" after the warm-up and waits for a line on stdin
// before it opens the measured connection (the caller waits there until
// the sensor has probed deno), then prints "ready" after ten rounds on
// it and waits for another line before it measures.  --phases N measures
// N times on that connection, each for --seconds and printed as its own
// JSON line, and waits for a line on stdin before each after the first
// (the caller attaches or detaches probes meanwhile).
import { messages, options } from "./benchmsgs.mjs";

const opt = options(Deno.args);

const { req, resp } = messages(opt.size);

const n = { writes: 0, reads: 0 };
const buf = new Uint8Array(1 << 20);

async function writeAll(c, b) {
	for (let off = 0; off < b.length;) {
		off += await c.write(b.subarray(off));
		n.writes++;
	}
}

// Reads @want bytes from @c.
async function readN(c, want) {
	for (let got = 0; got < want;) {
		const r = await c.read(buf);
		if (r === null)
			throw new Error("connection closed");
		n.reads++;
		got += r;
	}
}

const cert = Deno.readTextFileSync(opt.cert), key = Deno.readTextFileSync(opt.key);
const listener = Deno.listenTls({ hostname: "127.0.0.1", port: 0, cert, key });
async function serve(s) {
	try {
		for (;;) {
			await readN(s, req.length);
			await writeAll(s, resp);
		}
	} catch (_) {
		/* the client is gone */
	}
}
(async () => {
	for (;;)
		serve(await listener.accept());
})();

async function connect() {
	const tcp = await Deno.connect({ hostname: "127.0.0.1", port: listener.addr.port });
	tcp.setNoDelay(true);
	return await Deno.startTls(tcp, { hostname: "127.0.0.1", caCerts: [cert] });
}

let client = await connect();
async function round() {
	await writeAll(client, req);
	await readN(client, resp.length);
}

for (const end = performance.now() + opt.warmup * 1000; performance.now() < end;)
	await round();
// The measured connection is made after the warm-up: the sensor, which
// probes deno some time after its exec, must see its handshake.
client.close();
if (opt.sync) {
	console.log("warm");
	await Deno.stdin.read(new Uint8Array(16));
}
client = await connect();
for (let i = 0; i < 10; i++)
	await round();
if (opt.sync) {
	console.log("ready");
	await Deno.stdin.read(new Uint8Array(16));
}
for (let phase = 0; phase < (opt.phases || 1); phase++) {
	if (phase)
		await Deno.stdin.read(new Uint8Array(16));
	n.writes = n.reads = 0;
	let rounds = 0, t1;
	const t0 = performance.now(), end = t0 + opt.seconds * 1000;
	for (;;) {
		await round();
		rounds++;
		t1 = performance.now();
		if (t1 >= end)
			break;
	}
	console.log(JSON.stringify({
		mode: "sock", size: opt.size, req_bytes: req.length, resp_bytes: resp.length,
		rounds, seconds: (t1 - t0) / 1000, writes: n.writes, reads: n.reads,
		write_ns: 0, read_ns: 0,
	}));
}
Deno.exit(0);
