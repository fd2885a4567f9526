// Node clients: the official `openai` and `@anthropic-ai/sdk` packages on
// /usr/bin/node (OpenSSL linked into the node executable), talking to
// their default hosts (api.openai.com, api.anthropic.com).
//
//   node node_client.mjs MODE... [--tag TAG]
// MODE: chat, stream, chat-br, responses, responses-stream, embeddings,
//       anthropic, anthropic-stream, anthropic-gzip, error
// Each call's user message is "node <mode> says hello <tag>"; one JSON line
// per call on stdout: {lib, mode, pid, message, status, id, text, usage}.
// CA: NODE_EXTRA_CA_CERTS (set by the tests).
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, "..", "node", "package.json"));
const OpenAI = require("openai").default ?? require("openai");
const AnthropicMod = require("@anthropic-ai/sdk");
const Anthropic = AnthropicMod.default ?? AnthropicMod;

const args = process.argv.slice(2);
let tag = "";
const ti = args.indexOf("--tag");
if (ti >= 0) { tag = args[ti + 1]; args.splice(ti, 2); }

const openai = new OpenAI({ apiKey: "sk-test-node-0123456789", maxRetries: 0, timeout: 30000 });
const openaiBr = new OpenAI({ apiKey: "sk-test-node-0123456789", maxRetries: 0, timeout: 30000,
  defaultHeaders: { "x-test-encoding": "br" } });
const anthropic = new Anthropic({ apiKey: "sk-ant-test-node-0123456789", maxRetries: 0, timeout: 30000 });
const anthropicGz = new Anthropic({ apiKey: "sk-ant-test-node-0123456789", maxRetries: 0, timeout: 30000,
  defaultHeaders: { "x-test-encoding": "gzip" } });

function out(mode, message, r) {
  console.log(JSON.stringify({ lib: "node", mode, pid: process.pid, message, ...r }));
}

async function chat(client, message) {
  const c = await client.chat.completions.create({
    model: "gpt-4o-mini",
    messages: [{ role: "system", content: "You are a test." }, { role: "user", content: message }],
    max_tokens: 100, temperature: 0.5,
  });
  return { status: 200, id: c.id, text: c.choices[0].message.content, usage: c.usage,
           finish_reason: c.choices[0].finish_reason, model: c.model };
}

const modes = {
  chat: (m) => chat(openai, m),
  "chat-br": (m) => chat(openaiBr, m),
  async stream(message) {
    const s = await openai.chat.completions.create({
      model: "gpt-4o-mini",
      messages: [{ role: "system", content: "You are a test." }, { role: "user", content: message }],
      max_tokens: 100, stream: true, stream_options: { include_usage: true },
    });
    let text = "", id, usage, finish;
    for await (const ch of s) {
      id = ch.id;
      for (const c of ch.choices) { text += c.delta?.content ?? ""; finish = c.finish_reason ?? finish; }
      if (ch.usage) usage = ch.usage;
    }
    return { status: 200, id, text, usage, finish_reason: finish };
  },
  async responses(message) {
    const r = await openai.responses.create({
      model: "gpt-4.1-mini", instructions: "Answer plainly.", input: message,
    });
    return { status: 200, id: r.id, text: r.output_text, usage: r.usage };
  },
  async "responses-stream"(message) {
    const s = await openai.responses.create({
      model: "gpt-4.1-mini", instructions: "Answer plainly.",
      input: [{ role: "user", content: message }], stream: true,
    });
    let text = "", id, usage;
    for await (const ev of s) {
      if (ev.type === "response.output_text.delta") text += ev.delta;
      if (ev.type === "response.completed") { id = ev.response.id; usage = ev.response.usage; }
    }
    return { status: 200, id, text, usage };
  },
  async embeddings(message) {
    const e = await openai.embeddings.create({ model: "text-embedding-3-small", input: message });
    return { status: 200, id: null, text: null, usage: e.usage, dims: e.data[0].embedding.length };
  },
  async anthropic(message, client = anthropic) {
    const m = await client.messages.create({
      model: "claude-haiku-4-5", max_tokens: 200, system: "Be brief.",
      messages: [{ role: "user", content: message }],
    });
    return { status: 200, id: m.id, text: m.content[0].text, usage: m.usage,
             finish_reason: m.stop_reason };
  },
  "anthropic-gzip": (m) => modes.anthropic(m, anthropicGz),
  async "anthropic-stream"(message) {
    const s = await anthropic.messages.create({
      model: "claude-haiku-4-5", max_tokens: 200, system: "Be brief.",
      messages: [{ role: "user", content: message }], stream: true,
    });
    let text = "", id, usage = {}, finish;
    for await (const ev of s) {
      if (ev.type === "message_start") { id = ev.message.id; Object.assign(usage, ev.message.usage); }
      if (ev.type === "content_block_delta" && ev.delta.type === "text_delta") text += ev.delta.text;
      if (ev.type === "message_delta") { Object.assign(usage, ev.usage); finish = ev.delta.stop_reason; }
    }
    return { status: 200, id, text, usage, finish_reason: finish };
  },
  async error(message) {
    try {
      await openai.chat.completions.create({
        model: "bad-model", messages: [{ role: "user", content: message }] });
    } catch (e) {
      return { status: e.status, id: null, text: null, usage: null, error: e.error ?? null };
    }
    throw new Error("bad-model did not fail");
  },
};

for (const mode of args) {
  const message = `node ${mode} says hello ${tag}`.trim();
  const fn = modes[mode];
  if (!fn) { console.error(`unknown mode ${mode}`); process.exit(2); }
  out(mode, message, await fn(message));
}
