// One chat completion through fetch(), run by Deno or by Bun (the
// runtimes' own TLS: rustls in Deno, BoringSSL in Bun), for the tests
// that check containers, targeted mode and large bodies on those stacks.
//
//   deno run --allow-net --allow-env agent_call.mjs TAG [PAD_BYTES]
//   bun agent_call.mjs TAG [PAD_BYTES]
// Prints "ready", waits for a line on stdin (the test sends it once the
// sensor has probed the executable), then POSTs to api.openai.com with
// the user message "agent says hello TAG" after a system message of
// PAD_BYTES bytes (default 0: "You are a test.").  One JSON line on
// stdout: {message, status, id, text, usage, body_bytes}.
// CA: DENO_CERT for Deno, NODE_EXTRA_CA_CERTS for Bun (set by the test).
const args = globalThis.Deno ? Deno.args : process.argv.slice(2);
const [tag, pad] = [args[0], Number(args[1] ?? 0)];

async function waitLine() {
  if (globalThis.Deno) {
    await Deno.stdin.read(new Uint8Array(1));
    return;
  }
  for await (const _ of console) return;
}

const message = `agent says hello ${tag}`;
// Letters only, so that the JSON text is as long as the string.
const system = pad > 0 ? "abcdefghij".repeat(Math.ceil(pad / 10)).slice(0, pad)
                       : "You are a test.";
const body = JSON.stringify({
  model: "gpt-4o-mini", max_tokens: 64,
  messages: [{ role: "system", content: system }, { role: "user", content: message }],
});
console.log("ready");
await waitLine();
const r = await fetch("https://api.openai.com/v1/chat/completions", {
  method: "POST",
  headers: { authorization: "Bearer sk-test-agent-0123456789",
             "content-type": "application/json" },
  body,
});
const c = await r.json();
console.log(JSON.stringify({ message, status: r.status, id: c.id,
                             text: c.choices[0].message.content, usage: c.usage,
                             body_bytes: new TextEncoder().encode(body).length }));
