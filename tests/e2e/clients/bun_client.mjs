// Bun clients: Bun's own fetch() and the official `openai` package
// (tests/e2e/node/node_modules) run by a Bun executable from npm, whose
// TLS is BoringSSL linked in statically, talking to api.openai.com.
//
//   bun bun_client.mjs [--wait] MODE... [--tag TAG]
// MODE: fetch, fetch-stream (chat completions through fetch(), JSON and
//       SSE), sdk, sdk-stream (the same through the openai SDK)
// --wait: print "ready" and make the calls after a line on stdin (so a
//       test can wait until the sensor has probed this executable);
//       --tag and --wait: args.mjs.
// Each call's user message is "bun <mode> says hello <tag>"; one JSON line
// per call on stdout: {mode, message, status, id, text, usage,
// finish_reason}, nothing else, so that runs can be compared.
// CA: NODE_EXTRA_CA_CERTS (set by the tests; Bun reads SSL_CERT_FILE too).
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";

import { parseArgs, waitForStart } from "./args.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, "..", "node", "package.json"));
const OpenAI = require("openai").default ?? require("openai");

const KEY = "sk-test-bun-0123456789";
const URL_CHAT = "https://api.openai.com/v1/chat/completions";

const { args, tag, wait } = parseArgs(process.argv.slice(2));

const openai = new OpenAI({ apiKey: KEY, maxRetries: 0, timeout: 30000 });

function body(message, stream) {
  const b = {
    model: "gpt-4o-mini",
    messages: [{ role: "system", content: "You are a test." }, { role: "user", content: message }],
    max_tokens: 100,
  };
  if (stream) Object.assign(b, { stream: true, stream_options: { include_usage: true } });
  return b;
}

function post(message, stream) {
  return fetch(URL_CHAT, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${KEY}` },
    body: JSON.stringify(body(message, stream)),
  });
}

// The data: payloads of an SSE body, as they arrive.
async function* sse(res) {
  const reader = res.body.getReader();
  const dec = new TextDecoder();
  let buf = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buf += dec.decode(value, { stream: true });
    let i;
    while ((i = buf.indexOf("\n\n")) >= 0) {
      const ev = buf.slice(0, i);
      buf = buf.slice(i + 2);
      for (const line of ev.split("\n")) {
        if (line.startsWith("data: ") && line !== "data: [DONE]") yield JSON.parse(line.slice(6));
      }
    }
  }
}

// Text, id, usage and finish reason of streamed chat completion chunks.
async function collect(chunks) {
  let text = "", id, usage, finish;
  for await (const ch of chunks) {
    id = ch.id;
    for (const c of ch.choices) { text += c.delta?.content ?? ""; finish = c.finish_reason ?? finish; }
    if (ch.usage) usage = ch.usage;
  }
  return { id, text, usage, finish_reason: finish };
}

const modes = {
  async fetch(message) {
    const r = await post(message, false);
    const c = await r.json();
    return { status: r.status, id: c.id, text: c.choices[0].message.content, usage: c.usage,
             finish_reason: c.choices[0].finish_reason };
  },
  async "fetch-stream"(message) {
    const r = await post(message, true);
    return { status: r.status, ...(await collect(sse(r))) };
  },
  async sdk(message) {
    const c = await openai.chat.completions.create(body(message, false));
    return { status: 200, id: c.id, text: c.choices[0].message.content, usage: c.usage,
             finish_reason: c.choices[0].finish_reason };
  },
  async "sdk-stream"(message) {
    const s = await openai.chat.completions.create(body(message, true));
    return { status: 200, ...(await collect(s)) };
  },
};

for (const mode of args) {
  if (!modes[mode]) { console.error(`unknown mode ${mode}`); process.exit(2); }
}
await waitForStart(wait);
for (const mode of args) {
  const message = `bun ${mode} says hello ${tag}`.trim();
  const r = await modes[mode](message);
  console.log(JSON.stringify({ mode, message, status: r.status, id: r.id, text: r.text,
                               usage: r.usage, finish_reason: r.finish_reason }));
}
