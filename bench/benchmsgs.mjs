// SPDX-License-Identifier: MIT
// What bunbench.js and denobench.js share: their options and their
// HTTP/1.1 messages (tlsbench's rounds, bench/msgs.h).

// The options in @argv (--cert, --key: paths; --size, --seconds,
// --warmup, --phases: numbers; --sync), over the defaults.
export function options(argv) {
	const opt = { size: 4096, seconds: 1, warmup: 0.5, sync: false };
	for (let i = 0; i < argv.length; i++) {
		const k = argv[i].replace(/^--/, "");
		if (k === "sync")
			opt.sync = true;
		else
			opt[k] = ["cert", "key"].includes(k) ? argv[++i] : Number(argv[++i]);
	}
	return opt;
}

// An OpenAI-style chat request and its JSON response, each with a body
// of about @size bytes.
function jsonBody(prefix, suffix, size) {
	return prefix + "x".repeat(Math.max(1, size - prefix.length - suffix.length)) + suffix;
}

export function messages(size) {
	const enc = new TextEncoder();
	const reqBody = jsonBody('{"model":"gpt-4o-mini","messages":[{"role":"user","content":"',
				 '"}]}', size);
	const respBody = jsonBody('{"id":"chatcmpl-bench","object":"chat.completion",' +
		'"model":"gpt-4o-mini","choices":[{"index":0,"message":{"role":"assistant","content":"',
		'"},"finish_reason":"stop"}],"usage":{"prompt_tokens":9,"completion_tokens":9,' +
		'"total_tokens":18}}', size);
	return {
		req: enc.encode("POST /v1/chat/completions HTTP/1.1\r\nHost: api.openai.com\r\n" +
			"Authorization: Bearer sk-bench\r\nContent-Type: application/json\r\n" +
			`Content-Length: ${reqBody.length}\r\n\r\n${reqBody}`),
		resp: enc.encode("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n" +
			`Content-Length: ${respBody.length}\r\n\r\n${respBody}`),
	};
}
