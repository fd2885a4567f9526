// A Bun program that serves HTTPS (Bun.serve with tls) and calls an AI
// API: the server side of its connections is not captured (the sensor
// stops copying those calls in the kernel, keyed by the SSL*), and
// BoringSSL's SSL objects of closed connections are reused for new ones.
//
//   bun bun_serve_client.mjs [--wait] VIA ROUNDS SERVED CALLS [--tag TAG]
// Each of ROUNDS rounds: SERVED connections to its own HTTPS server, each
// with 4 requests through fetch(), the last of which closes it
// (Connection: close),
// then CALLS chat completions through fetch() to api.openai.com (the
// test's stand-in), each on a connection of its own too: through fetch()
// (VIA fetch: on Bun's HTTP thread) or through node:tls (VIA tls: on its
// main thread, like the server).  The server's
// certificate and key: OISP_SERVE_CERT, OISP_SERVE_KEY.
// --wait: print "ready" and start after a line on stdin (args.mjs).
// One JSON line per AI call on stdout: {message, status, id, text,
// usage}; one line {served: N} per round; nothing else.
// CA: NODE_EXTRA_CA_CERTS (set by the tests).
import fs from "node:fs";
import tls from "node:tls";

import { parseArgs, waitForStart } from "./args.mjs";

const KEY = "sk-test-bun-serve-0123456789";
const URL_CHAT = "https://api.openai.com/v1/chat/completions";

const { args, tag, wait } = parseArgs(process.argv.slice(2));
const via = args.shift();
const [rounds, served, calls] = args.map((a) => parseInt(a, 10));
const REQS = 4;

const server = Bun.serve({
  hostname: "127.0.0.1",
  port: 0,
  tls: { cert: Bun.file(process.env.OISP_SERVE_CERT), key: Bun.file(process.env.OISP_SERVE_KEY) },
  fetch(req) {
    const last = new URL(req.url).searchParams.has("last");
    return new Response("served\n", { headers: last ? { connection: "close" } : {} });
  },
});
const base = `https://127.0.0.1:${server.port}/`;

// One served connection: REQS requests on it, the last one closes it.
async function serveOne() {
  let ok = true;
  for (let k = 0; k < REQS; k++) {
    const last = k === REQS - 1;
    const r = await fetch(base + (last ? "?last" : ""), last ? { headers: { connection: "close" } } : {});
    ok = ok && (await r.text()) === "served\n";
  }
  return ok;
}

// The same call through node:tls, HTTP/1.1 written by hand: Bun runs
// these sockets on its main thread, where Bun.serve's connections are.
function tlsChat(message) {
  const body = JSON.stringify({
    model: "gpt-4o-mini",
    messages: [{ role: "user", content: message }],
    max_tokens: 50,
  });
  return new Promise((resolve, reject) => {
    let raw = "";
    const s = tls.connect({ host: "api.openai.com", port: 443, servername: "api.openai.com",
                            ca: fs.readFileSync(process.env.OISP_CA) }, () => {
      s.write("POST /v1/chat/completions HTTP/1.1\r\nHost: api.openai.com\r\n" +
              `content-type: application/json\r\nauthorization: Bearer ${KEY}\r\n` +
              `content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n` + body);
    });
    s.setEncoding("utf8");
    s.on("data", (d) => { raw += d; });
    s.on("error", reject);
    s.on("end", () => {
      const i = raw.indexOf("\r\n\r\n");
      const head = raw.slice(0, i).toLowerCase();
      let rest = raw.slice(i + 4);
      if (head.includes("transfer-encoding: chunked")) {
        let out = "";
        for (;;) {
          const j = rest.indexOf("\r\n");
          const n = parseInt(rest.slice(0, j), 16);
          if (!n) break;
          out += rest.slice(j + 2, j + 2 + n);
          rest = rest.slice(j + 2 + n + 2);
        }
        rest = out;
      }
      const c = JSON.parse(rest);
      resolve({ status: parseInt(head.split(" ")[1], 10), id: c.id,
                text: c.choices[0].message.content, usage: c.usage });
    });
  });
}

async function chat(message) {
  const r = await fetch(URL_CHAT, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${KEY}`,
               connection: "close" },
    keepalive: false,
    body: JSON.stringify({
      model: "gpt-4o-mini",
      messages: [{ role: "user", content: message }],
      max_tokens: 50,
    }),
  });
  const c = await r.json();
  return { status: r.status, id: c.id, text: c.choices[0].message.content, usage: c.usage };
}

await waitForStart(wait);
for (let i = 0; i < rounds; i++) {
  let ok = 0;
  for (let j = 0; j < served; j++) ok += (await serveOne()) ? 1 : 0;
  console.log(JSON.stringify({ served: ok }));
  for (let j = 0; j < calls; j++) {
    const message = `bun serves and calls ${i}.${j} ${tag}`.trim();
    const r = via === "tls" ? await tlsChat(message) : await chat(message);
    console.log(JSON.stringify({ message, ...r }));
  }
}
server.stop(true);
