// SPDX-License-Identifier: MIT
// The HTTP/1.1 messages of bunbench.js and denobench.js (tlsbench's
// rounds, bench/msgs.h): an OpenAI-style chat request and its JSON
// response, each with a body of about @size bytes.
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
