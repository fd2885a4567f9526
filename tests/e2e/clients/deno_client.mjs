// Deno's fetch() (rustls over aws-lc, inside the stripped deno
// executable) against the OpenAI chat completions API at its default host.
//
//   deno run --allow-net --allow-env deno_client.mjs MODE... [--tag TAG] [--step]
// MODE:
//   chat    JSON, through fetch()
//   stream  SSE with usage, through fetch()
//   close   SSE, one text event a second, over a TLS connection of its
//           own (Deno.connectTls, HTTP/1.1 written by hand), closed by
//           the client after the first text: mid-response
//   after   JSON over a connection of its own like close, closed once
//           the whole response is read
//   half    like after, but the client shuts its sending side
//           (closeWrite(): close_notify, then shutdown(SHUT_WR)) as soon
//           as the request is written, and the server reads the request
//           0.3 s later (x-test-slow-read): the response comes after the
//           client's FIN
//   pair    two SSE calls through fetch() at once: two connections, their
//           records interleaved (one text event every 50 ms each)
// Waits for a line on stdin first (the test sends it once the sensor has
// attached to this deno), then makes the calls of each mode in turn,
// fetch()'s on pooled connections; with --step it waits for another line
// before each later mode.  Each call's user message is
// "deno <mode> says hello <tag>" (close, after, half: "deno <mode> <index> ...",
// pair: "deno pair <index>.<0|1> ..."); one JSON line per call on stdout:
// {lib, mode, pid, message, status, id, text, usage}.  CA: DENO_CERT (set
// by the test).
const args = [...Deno.args];
let tag = "";
const ti = args.indexOf("--tag");
if (ti >= 0) { tag = args[ti + 1]; args.splice(ti, 2); }
const si = args.indexOf("--step");
const step = si >= 0;
if (step) args.splice(si, 1);

const BASE = "https://api.openai.com/v1";
const HEADERS = { authorization: "Bearer sk-test-deno-0123456789",
                  "content-type": "application/json" };

function request(message, stream) {
  const body = {
    model: "gpt-4o-mini", max_tokens: 100,
    messages: [{ role: "system", content: "You are a test." }, { role: "user", content: message }],
  };
  if (stream) { body.stream = true; body.stream_options = { include_usage: true }; }
  return JSON.stringify(body);
}

// A call on a TLS connection of its own, HTTP/1.1 written by hand.
// stream: SSE, one text a second, and the connection is closed after the
// first text (the rest of the response never comes); otherwise JSON,
// closed once its Content-Length bytes are read.  half: the sending side
// is shut once the request is written.
async function callOwn(message, stream, half) {
  const enc = new TextEncoder();
  const body = enc.encode(request(message, stream));
  const head = "POST /v1/chat/completions HTTP/1.1\r\nhost: api.openai.com\r\n" +
    Object.entries(HEADERS).map(([k, v]) => `${k}: ${v}\r\n`).join("") +
    (stream ? "x-test-delta-delay: 1\r\n" : "") + (half ? "x-test-slow-read: 0.3\r\n" : "") +
    `content-length: ${body.length}\r\n\r\n`;
  const conn = await Deno.connectTls({ hostname: "api.openai.com", port: 443 });
  await conn.write(new Uint8Array([...enc.encode(head), ...body]));
  if (half)
    await conn.closeWrite();
  const dec = new TextDecoder(), buf = new Uint8Array(16384);
  let got = "", m;
  for (;;) {
    if (stream && (m = /"content": ?"([^"]+)"/.exec(got)))
      break;
    const i = got.indexOf("\r\n\r\n");
    const len = /\r\ncontent-length: *(\d+)/i.exec(got);
    if (!stream && i >= 0 && len && got.length >= i + 4 + Number(len[1]))
      break;
    const n = await conn.read(buf);
    if (n === null) break;
    got += dec.decode(buf.subarray(0, n), { stream: true });
  }
  conn.close();
  const r = { status: Number(got.split(" ")[1]), id: /"id": ?"([^"]+)"/.exec(got)?.[1] };
  if (stream)
    return { ...r, text: m?.[1] };
  const c = JSON.parse(got.slice(got.indexOf("\r\n\r\n") + 4));
  return { ...r, text: c.choices[0].message.content, usage: c.usage };
}

async function call(message, stream, headers = {}) {
  const r = await fetch(BASE + "/chat/completions",
                        { method: "POST", headers: { ...HEADERS, ...headers },
                          body: request(message, stream) });
  if (!stream) {
    const c = await r.json();
    return { status: r.status, id: c.id, text: c.choices[0].message.content, usage: c.usage };
  }
  let text = "", id, usage, buf = "";
  const dec = new TextDecoder();
  for await (const chunk of r.body) {
    buf += dec.decode(chunk, { stream: true });
    let i;
    while ((i = buf.indexOf("\n")) >= 0) {
      const line = buf.slice(0, i).trim();
      buf = buf.slice(i + 1);
      if (!line.startsWith("data: ") || line === "data: [DONE]") continue;
      const ev = JSON.parse(line.slice(6));
      id = ev.id;
      for (const c of ev.choices ?? []) text += c.delta?.content ?? "";
      if (ev.usage) usage = ev.usage;
    }
  }
  return { status: r.status, id, text, usage };
}

// One line of stdin.
async function waitLine() {
  const b = new Uint8Array(1);
  while (await Deno.stdin.read(b) === 1 && b[0] !== 10);
}

function say(mode, message, r) {
  console.log(JSON.stringify({ lib: "deno", mode, pid: Deno.pid, message, ...r }));
}

await waitLine();
for (const [i, mode] of args.entries()) {
  if (step && i) await waitLine();
  if (mode === "pair") {
    const msgs = [0, 1].map((k) => `deno pair ${i}.${k} says hello ${tag}`.trim());
    const rs = await Promise.all(msgs.map((msg) =>
      call(msg, true, { "x-test-delta-delay": "0.05" })));
    msgs.forEach((msg, k) => say(mode, msg, rs[k]));
    continue;
  }
  const own = mode === "close" || mode === "after" || mode === "half";
  const message = `deno ${own ? `${mode} ${i}` : mode} says hello ${tag}`.trim();
  const r = own ? await callOwn(message, mode === "close", mode === "half") :
    await call(message, mode === "stream");
  say(mode, message, r);
}
