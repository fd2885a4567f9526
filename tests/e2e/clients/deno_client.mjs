// Deno's fetch() (rustls over aws-lc, inside the stripped deno
// executable) against the OpenAI chat completions API at its default host.
//
//   deno run --allow-net --allow-env deno_client.mjs MODE... [--tag TAG]
// MODE: chat (JSON), stream (SSE with usage).
// Waits for a line on stdin first (the test sends it once the sensor has
// attached to this deno), then makes one call per mode on one pooled
// connection.  Each call's user message is "deno <mode> says hello <tag>";
// one JSON line per call on stdout: {lib, mode, pid, message, status, id,
// text, usage}.  CA: DENO_CERT (set by the test).
const args = [...Deno.args];
let tag = "";
const ti = args.indexOf("--tag");
if (ti >= 0) { tag = args[ti + 1]; args.splice(ti, 2); }

const BASE = "https://api.openai.com/v1";
const HEADERS = { authorization: "Bearer sk-test-deno-0123456789",
                  "content-type": "application/json" };

async function call(message, stream) {
  const body = {
    model: "gpt-4o-mini", max_tokens: 100,
    messages: [{ role: "system", content: "You are a test." }, { role: "user", content: message }],
  };
  if (stream) { body.stream = true; body.stream_options = { include_usage: true }; }
  const r = await fetch(BASE + "/chat/completions",
                        { method: "POST", headers: HEADERS, body: JSON.stringify(body) });
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

const go = new Uint8Array(1);
await Deno.stdin.read(go);
for (const mode of args) {
  const message = `deno ${mode} says hello ${tag}`.trim();
  const r = await call(message, mode === "stream");
  console.log(JSON.stringify({ lib: "deno", mode, pid: Deno.pid, message, ...r }));
}
