// WebSocket clients on node (OpenSSL linked into the node executable):
// the `ws` package, as applications use it, and the official `openai`
// package's WebSocket transports (which use `ws` too), against
// wss://api.openai.com (the test's ws_server.py, through the hosts file).
//
//   node ws_client.mjs MODE... [--tag TAG] [--no-deflate] [--echo-url URL]
// MODE:
//   responses        ws: one response.create (Responses API, WebSocket mode)
//   responses-two    ws: two response.create on one connection, in turn
//   responses-tool   ws: a response.create with a function tool
//   realtime-audio   ws: a Realtime session with input audio (append x3,
//                    commit, an input_audio item) and an audio answer
//                    (transcript + base64 PCM)
//   sdk-responses    openai's ResponsesWS (openai/resources/responses/ws)
//   sdk-realtime     openai's OpenAIRealtimeWS (openai/realtime/ws), text
//   echo             ws: a text and a binary message to --echo-url (not AI)
// ws offers permessage-deflate by default (perMessageDeflate: true, and
// compresses messages of 1024 bytes or more); --no-deflate turns it off.
// The SDK transports do not offer it (their default).
// One JSON line per response on stdout, as py_ws_client.py prints them.
// CA: NODE_EXTRA_CA_CERTS (set by the tests).
import { createHash } from "node:crypto";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, "..", "node", "package.json"));
const { WebSocket } = require("ws");
const OpenAI = require("openai").default ?? require("openai");
const { ResponsesWS } = require("openai/resources/responses/ws");
const { OpenAIRealtimeWS } = require("openai/realtime/ws");

const KEY = "sk-test-ws-node-0123456789";
const HOST = "api.openai.com";
const MODEL = "gpt-5-codex";
const INSTRUCTIONS = "You are a coding agent running in a terminal. ".repeat(30).trim();
const TOOL = { type: "function", name: "lookup_text", description: "Looks a text up.",
  strict: false, parameters: { type: "object", properties: { text: { type: "string" } },
    required: ["text"] } };

const args = process.argv.slice(2);
function option(name, withValue) {
  const i = args.indexOf(name);
  if (i < 0) return undefined;
  const v = withValue ? args[i + 1] : true;
  args.splice(i, withValue ? 2 : 1);
  return v;
}
const tag = option("--tag", true) ?? "";
const deflate = !option("--no-deflate", false);
const echoUrl = option("--echo-url", true);

function fail(msg) {
  console.error("ws_client: " + msg);
  process.exit(1);
}

// A `ws` connection whose messages are read in turn with next().
class Conn {
  constructor(url, headers) {
    this.queue = [];
    this.waiting = null;
    this.ws = new WebSocket(url, { headers, perMessageDeflate: deflate });
    this.ws.on("upgrade", (res) => { this.extensions = res.headers["sec-websocket-extensions"] ?? null; });
    this.ws.on("message", (data, isBinary) => this.push({ data, isBinary }));
    this.ws.on("error", (e) => fail("socket: " + e.message));
    this.ws.on("close", () => this.push(null));
    this.opened = new Promise((resolve) => this.ws.once("open", resolve));
  }
  push(m) {
    if (this.waiting) { const w = this.waiting; this.waiting = null; w(m); } else this.queue.push(m);
  }
  next() {
    if (this.queue.length) return Promise.resolve(this.queue.shift());
    return new Promise((resolve) => { this.waiting = resolve; });
  }
  async event() {
    const m = await this.next();
    if (!m) fail("closed early");
    return JSON.parse(m.data.toString());
  }
  send(obj) { this.ws.send(typeof obj === "string" || Buffer.isBuffer(obj) ? obj : JSON.stringify(obj)); }
  info(mode, r) {
    return { lib: "ws", mode, pid: process.pid, local_port: this.ws._socket.localPort,
             extensions: this.extensions, ...r };
  }
  close() {
    return new Promise((resolve) => { this.ws.once("close", resolve); this.ws.close(1000); });
  }
}

function codexHeaders() {
  return { Authorization: `Bearer ${KEY}`, "OpenAI-Beta": "responses_websockets=2026-02-06",
           originator: "codex_cli_rs", session_id: crypto.randomUUID() };
}

function responseCreate(message, extra = {}) {
  return { type: "response.create", model: MODEL, instructions: INSTRUCTIONS,
           input: [{ type: "message", role: "user", content: [{ type: "input_text", text: message }] }],
           tools: [], tool_choice: "auto", parallel_tool_calls: false, reasoning: null,
           store: false, include: [], prompt_cache_key: crypto.randomUUID(), ...extra };
}

// The events of one response, from their source, up to its last one.
async function collect(nextEvent, message, mode, info) {
  const types = [];
  let text = "";
  for (;;) {
    const ev = await nextEvent();
    types.push(ev.type);
    if (ev.type === "response.output_text.delta") text += ev.delta;
    else if (ev.type === "response.output_text.done" && ev.text !== text) fail(`${mode}: deltas ${text} != ${ev.text}`);
    else if (["response.completed", "response.failed", "response.incomplete"].includes(ev.type)) {
      const r = ev.response;
      const calls = r.output.filter((o) => o.type === "function_call")
        .map((o) => ({ call_id: o.call_id, name: o.name, arguments: o.arguments }));
      return info(mode, { message, id: r.id, model: r.model, status: r.status, text: text || null,
                          usage: r.usage, tool_calls: calls, error: r.error, events: types });
    } else if (ev.type === "error") {
      return info(mode, { message, id: null, status: "error", text: null, usage: null,
                          tool_calls: [], error: ev.error, events: types });
    }
  }
}

async function responses(mode) {
  const c = new Conn(`wss://${HOST}/v1/responses`, codexHeaders());
  await c.opened;
  const msg = `node ws ${mode} ${deflate ? "deflate" : "none"} ${tag}`;
  const out = [];
  const msgs = mode === "responses-two" ? [msg + " first", msg + " second"] : [msg];
  for (const m of msgs) {
    c.send(responseCreate(m, mode === "responses-tool" ? { tools: [TOOL] } : {}));
    out.push(await collect(() => c.event(), m, mode, (md, r) => c.info(md, r)));
  }
  await c.close();
  return out;
}

function audioIn(i) {
  const parts = [];
  for (let n = 0; n < 150; n++) parts.push(createHash("sha256").update(`in/${tag}/${i}/${n}`).digest());
  return Buffer.concat(parts);
}

async function realtimeAudio(mode) {
  const c = new Conn(`wss://${HOST}/v1/realtime?model=gpt-realtime`, { Authorization: `Bearer ${KEY}` });
  await c.opened;
  const msg = `node ws ${mode} ${deflate ? "deflate" : "none"} ${tag}`;
  const instructions = `Answer briefly; node realtime ${tag}.`;
  if ((await c.event()).type !== "session.created") fail("no session.created");
  c.send({ type: "session.update", session: { type: "realtime", instructions, output_modalities: ["audio"] } });
  const sent = [0, 1, 2].map((i) => audioIn(i).toString("base64"));
  for (const a of sent) c.send({ type: "input_audio_buffer.append", audio: a });
  c.send({ type: "input_audio_buffer.commit" });
  sent.push(audioIn(3).toString("base64"));
  c.send({ type: "conversation.item.create", item: { type: "message", role: "user",
    content: [{ type: "input_audio", audio: sent[3] }] } });
  c.send({ type: "conversation.item.create", item: { type: "message", role: "user",
    content: [{ type: "input_text", text: msg }] } });
  c.send({ type: "response.create" });
  let text = "";
  const b64 = [], types = [];
  for (;;) {
    const ev = await c.event();
    types.push(ev.type);
    if (ev.type === "response.output_audio_transcript.delta") text += ev.delta;
    else if (ev.type === "response.output_audio.delta") b64.push(ev.delta);
    else if (ev.type === "response.done") {
      const r = ev.response;
      if (r.output[0].content[0].transcript !== text) fail("transcript deltas do not add up");
      const out = c.info(mode, { message: msg, instructions, model: "gpt-realtime", id: r.id,
        status: r.status, text, usage: r.usage, events: types, audio_b64: b64,
        audio_bytes: b64.reduce((n, x) => n + Buffer.from(x, "base64").length, 0),
        audio_in_b64: sent, audio_in_bytes: sent.reduce((n, x) => n + Buffer.from(x, "base64").length, 0) });
      await c.close();
      return [out];
    }
  }
}

function sdkClient() {
  return new OpenAI({ apiKey: KEY, maxRetries: 0, timeout: 30000 });
}

async function sdkResponses(mode) {
  const rws = new ResponsesWS(sdkClient());
  const queue = [];
  let waiting = null;
  rws.on("event", (ev) => { if (waiting) { const w = waiting; waiting = null; w(ev); } else queue.push(ev); });
  rws.on("error", (e) => fail("sdk: " + e.message));
  const next = () => (queue.length ? Promise.resolve(queue.shift())
    : new Promise((resolve) => { waiting = resolve; }));
  const msg = `node sdk ${mode} ${tag}`;
  rws.send(responseCreate(msg));
  const r = await collect(next, msg, mode, (md, x) => ({ lib: "openai", mode: md, pid: process.pid,
    local_port: rws.socket.socket?._socket?.localPort ?? null, extensions: null, ...x }));
  rws.close({ code: 1000, reason: "done" });
  return [r];
}

async function sdkRealtime(mode) {
  const rt = new OpenAIRealtimeWS({ model: "gpt-realtime" }, sdkClient());
  const msg = `node sdk ${mode} ${tag}`;
  const instructions = `Answer briefly; sdk realtime ${tag}.`;
  let text = "";
  const types = [];
  const done = new Promise((resolve) => {
    rt.on("event", (ev) => {
      types.push(ev.type);
      if (ev.type === "response.output_text.delta") text += ev.delta;
      if (ev.type === "response.done") resolve(ev.response);
    });
  });
  rt.on("error", (e) => fail("sdk realtime: " + e.message));
  await new Promise((resolve) => rt.socket.once("open", resolve));
  rt.send({ type: "session.update", session: { type: "realtime", instructions, output_modalities: ["text"] } });
  rt.send({ type: "conversation.item.create", item: { type: "message", role: "user",
    content: [{ type: "input_text", text: msg }] } });
  rt.send({ type: "response.create" });
  const r = await done;
  const out = { lib: "openai", mode, pid: process.pid, local_port: rt.socket._socket?.localPort ?? null,
                extensions: null, message: msg, instructions, model: "gpt-realtime", id: r.id,
                status: r.status, text, usage: r.usage, events: types };
  rt.close({ code: 1000, reason: "done" });
  return [out];
}

async function echo() {
  const c = new Conn(echoUrl, {});
  await c.opened;
  const sent = [JSON.stringify({ type: "chat.message", text: `node echo ${tag}` }),
                Buffer.concat([Buffer.from([0, 1]), Buffer.from(`binary echo ${tag}`)])];
  for (const m of sent) {
    c.send(m);
    const got = await c.next();
    const same = Buffer.isBuffer(m) ? got.isBinary && got.data.equals(m)
      : !got.isBinary && got.data.toString() === m;
    if (!same) fail("echo: got something else back");
  }
  const out = c.info("echo", { message: sent[0], binary: sent[1].toString("base64") });
  await c.close();
  return [out];
}

const modes = {
  responses, "responses-two": responses, "responses-tool": responses,
  "realtime-audio": realtimeAudio, "sdk-responses": sdkResponses, "sdk-realtime": sdkRealtime, echo,
};

for (const mode of args) {
  if (!modes[mode]) fail("unknown mode " + mode);
  for (const r of await modes[mode](mode)) console.log(JSON.stringify(r));
}
process.exit(0);
