// Node's built-in HTTP/2 client (node:http2 on /usr/bin/node, whose
// OpenSSL is linked into the executable): one session to
// https://api.openai.com, every call a stream of it, all opened at once so
// that they are in flight together.
//
//   node node_h2.mjs MODE... [--tag TAG]
// MODE: chat, stream, chat-gzip, chat-trailers (the request body ends
// with a trailer section), responses, responses-stream, embeddings.
// A mode may be given more than once; call i's user message is
// "node-h2 <mode> <i> says hello <tag>".  One JSON line per call on stdout,
// in the order given: {lib, mode, pid, message, status, id, text, usage,
// content_encoding, stream_id}, then one line {session: {streams,
// max_active, local_port, alpn}}.  CA: $OISP_CA.
import fs from "node:fs";
import http2 from "node:http2";
import zlib from "node:zlib";

const args = process.argv.slice(2);
let tag = "";
const ti = args.indexOf("--tag");
if (ti >= 0) { tag = args[ti + 1]; args.splice(ti, 2); }

const AUTH = "Bearer sk-test-node-h2-0123456789";

function spec(mode, message) {
  const chat = {
    model: "gpt-4o-mini",
    messages: [{ role: "system", content: "You are a test." }, { role: "user", content: message }],
    max_tokens: 100,
  };
  switch (mode) {
  case "chat": case "chat-trailers": return ["/v1/chat/completions", chat, {}];
  case "chat-gzip":
    return ["/v1/chat/completions", chat, { "accept-encoding": "gzip", "x-test-encoding": "gzip" }];
  case "stream":
    return ["/v1/chat/completions",
      { ...chat, stream: true, stream_options: { include_usage: true } }, {}];
  case "responses":
    return ["/v1/responses", { model: "gpt-4.1-mini", instructions: "Answer plainly.", input: message }, {}];
  case "responses-stream":
    return ["/v1/responses", { model: "gpt-4.1-mini", instructions: "Answer plainly.",
      input: message, stream: true }, {}];
  case "embeddings":
    return ["/v1/embeddings", { model: "text-embedding-3-small", input: message }, {}];
  default:
    throw new Error("unknown mode " + mode);
  }
}

// (id, text, usage) from a JSON body or an SSE stream.
function parse(mode, body) {
  if (!mode.includes("stream")) {
    const o = JSON.parse(body);
    if (mode.startsWith("chat")) return [o.id, o.choices[0].message.content, o.usage];
    if (mode === "responses") return [o.id, o.output[0].content[0].text, o.usage];
    return [null, null, o.usage];
  }
  let id = null, text = "", usage = null;
  for (const line of body.split("\n")) {
    if (!line.startsWith("data: ") || line === "data: [DONE]") continue;
    const ev = JSON.parse(line.slice(6));
    if (mode === "stream") {
      id = ev.id;
      for (const c of ev.choices) text += c.delta?.content ?? "";
      if (ev.usage) usage = ev.usage;
    } else {
      if (ev.type === "response.output_text.delta") text += ev.delta;
      if (ev.type === "response.completed") { id = ev.response.id; usage = ev.response.usage; }
    }
  }
  return [id, text, usage];
}

const session = http2.connect("https://api.openai.com", { ca: fs.readFileSync(process.env.OISP_CA) });
session.on("error", (e) => { console.error("session:", e); process.exit(1); });

let active = 0, maxActive = 0;

function call(mode, i) {
  const message = `node-h2 ${mode} ${i} says hello ${tag}`.trim();
  const [path, body, extra] = spec(mode, message);
  const data = Buffer.from(JSON.stringify(body));
  return new Promise((resolve, reject) => {
    const trailers = mode === "chat-trailers";
    const req = session.request({
      ":method": "POST", ":path": path, authorization: AUTH,
      "content-type": "application/json", "content-length": data.length, ...extra,
    }, { waitForTrailers: trailers });
    if (trailers) req.on("wantTrailers", () => req.sendTrailers({ "x-body-length": data.length }));
    active++;
    maxActive = Math.max(maxActive, active);
    let status, enc;
    const chunks = [];
    req.on("response", (h) => { status = h[":status"]; enc = h["content-encoding"]; });
    req.on("data", (c) => chunks.push(c));
    req.on("error", reject);
    req.on("end", () => {
      active--;
      let raw = Buffer.concat(chunks);
      if (enc === "gzip") raw = zlib.gunzipSync(raw);
      const [id, text, usage] = status === 200 ? parse(mode, raw.toString()) : [null, null, null];
      resolve({ lib: "node-h2", mode, pid: process.pid, message, status, id, text, usage,
                content_encoding: enc ?? null, stream_id: req.id });
    });
    req.end(data);
  });
}

try {
  const results = await Promise.all(args.map((m, i) => call(m, i)));
  for (const r of results) console.log(JSON.stringify(r));
  console.log(JSON.stringify({ session: { streams: results.length, max_active: maxActive,
    local_port: session.socket.localPort, alpn: session.alpnProtocol } }));
} finally {
  session.close();
}
