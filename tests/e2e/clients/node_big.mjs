// One chat completions call with the official `openai` SDK whose request
// is the JSON of FILE (big_body.py's output), plain or streamed: the SDK
// serialises it again, as an agent re-sends its conversation.
//
//   node node_big.mjs FILE chat|stream
// One JSON line: {pid, status, id, text}.  CA: NODE_EXTRA_CA_CERTS.
// OISP_DELTA_DELAY: the fixture server's x-test-delta-delay (seconds).
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, "..", "node", "package.json"));
const OpenAI = require("openai").default ?? require("openai");

const [file, mode] = process.argv.slice(2);
const params = JSON.parse(readFileSync(file, "utf8"));
const delay = process.env.OISP_DELTA_DELAY;
const openai = new OpenAI({ apiKey: "sk-test-node-0123456789", maxRetries: 0, timeout: 60000,
  defaultHeaders: delay ? { "x-test-delta-delay": delay } : {} });
let text = "", id;
if (mode === "stream") {
  const s = await openai.chat.completions.create({ ...params, stream: true });
  for await (const ch of s) {
    id = ch.id;
    for (const c of ch.choices) text += c.delta?.content ?? "";
  }
} else {
  const c = await openai.chat.completions.create({ ...params, stream: false });
  id = c.id;
  text = c.choices[0].message.content;
}
console.log(JSON.stringify({ pid: process.pid, status: 200, id, text }));
