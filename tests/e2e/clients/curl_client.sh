#!/bin/sh
# curl (libcurl + libssl.so.3) calls against the fixture server.
#   curl_client.sh MODE [MESSAGE]
# Run by the tests in a mount namespace whose /etc/hosts points
# api.openai.com / api.anthropic.com at the fixture server.  Environment:
# OISP_CA (test CA file), OISP_OTHER_BASE (https://localhost:PORT).
# The script ends with `exec curl`, so its pid is curl's pid.
# MESSAGE must not contain double quotes or backslashes.
set -eu
mode=$1
msg=${2:-hello from curl}
: "${OISP_CA:?}"
OA=https://api.openai.com
AN=https://api.anthropic.com
W='\n{"curl":{"http_code":%{http_code},"num_connects":%{num_connects},"local_port":%{local_port},"size_upload":%{size_upload},"size_download":%{size_download},"exitcode":%{exitcode}}}\n'
set -- --cacert "$OISP_CA" -sS -w "$W"
chat_body() { # MODEL MESSAGE [extra json]
	printf '{"model":"%s","messages":[{"role":"system","content":"You are terse."},{"role":"user","content":"%s"}],"temperature":0.2,"max_tokens":%s%s}' \
		"$1" "$2" "${4:-64}" "${3:-}"
}
an_body() { # MODEL MESSAGE [extra json]
	printf '{"model":"%s","max_tokens":256,"system":"Be brief.","messages":[{"role":"user","content":"%s"}]%s}' "$1" "$2" "${3:-}"
}
AN_H1="x-api-key: sk-ant-test-curl-0123456789"
AN_H2="anthropic-version: 2023-06-01"
CT="Content-Type: application/json"
AUTH="Authorization: Bearer sk-test-curl-0123456789"

case $mode in
chat)
	exec curl "$@" -H "$AUTH" -H "$CT" -d "$(chat_body gpt-4o-mini "$msg")" $OA/v1/chat/completions ;;
length)   # max_tokens 3: finish_reason length
	exec curl "$@" -H "$AUTH" -H "$CT" -d "$(chat_body gpt-4o-mini "$msg" '' 3)" $OA/v1/chat/completions ;;
stream)
	exec curl "$@" -N -H "$AUTH" -H "$CT" \
		-d "$(chat_body gpt-4o-mini "$msg" ',"stream":true,"stream_options":{"include_usage":true}')" \
		$OA/v1/chat/completions ;;
keepalive) # three calls on one connection: chat, streamed chat, embeddings
	exec curl "$@" -H "$AUTH" -H "$CT" -d "$(chat_body gpt-4o-mini "$msg one")" $OA/v1/chat/completions \
		--next "$@" -N -H "$AUTH" -H "$CT" \
		-d "$(chat_body gpt-4o-mini "$msg two" ',"stream":true,"stream_options":{"include_usage":true}')" \
		$OA/v1/chat/completions \
		--next "$@" -H "$AUTH" -H "$CT" \
		-d "{\"model\":\"text-embedding-3-small\",\"input\":\"$msg three\"}" $OA/v1/embeddings ;;
gzip)
	exec curl "$@" --compressed -H "x-test-encoding: gzip" -H "$AUTH" -H "$CT" \
		-d "$(chat_body gpt-4o-mini "$msg")" $OA/v1/chat/completions ;;
br)
	exec curl "$@" --compressed -H "x-test-encoding: br" -H "$AUTH" -H "$CT" \
		-d "$(chat_body gpt-4o-mini "$msg")" $OA/v1/chat/completions ;;
br-stream) # an SSE stream compressed with brotli, flushed per event
	exec curl "$@" -N --compressed -H "x-test-encoding: br" -H "$AUTH" -H "$CT" \
		-d "$(chat_body gpt-4o-mini "$msg" ',"stream":true,"stream_options":{"include_usage":true}')" \
		$OA/v1/chat/completions ;;
chunked-response)
	exec curl "$@" -H "x-test-chunked: 1" -H "$AUTH" -H "$CT" \
		-d "$(chat_body gpt-4o-mini "$msg")" $OA/v1/chat/completions ;;
chunked-request) # request body sent with Transfer-Encoding: chunked
	exec curl "$@" -H "$AUTH" -H "$CT" -H "Transfer-Encoding: chunked" \
		-d "$(chat_body gpt-4o-mini "$msg")" $OA/v1/chat/completions ;;
big) # a 105 000-byte user message: w00001 w00002 ... w15000
	text=$(seq -f 'w%05g' 1 15000 | tr '\n' ' ')
	text=${text% }
	exec curl "$@" -H "$AUTH" -H "$CT" -d "$(chat_body gpt-4o-mini "$text" "" 20000)" \
		$OA/v1/chat/completions ;;
anthropic)
	exec curl "$@" -H "$AN_H1" -H "$AN_H2" -H "$CT" -d "$(an_body claude-sonnet-4-5 "$msg")" $AN/v1/messages ;;
anthropic-stream)
	exec curl "$@" -N -H "$AN_H1" -H "$AN_H2" -H "$CT" -d "$(an_body claude-sonnet-4-5 "$msg" ',"stream":true')" \
		$AN/v1/messages ;;
error) # OpenAI and Anthropic 400s (bad-model)
	exec curl "$@" -H "$AUTH" -H "$CT" -d "$(chat_body bad-model "$msg")" $OA/v1/chat/completions \
		--next "$@" -H "$AN_H1" -H "$AN_H2" -H "$CT" -d "$(an_body bad-model "$msg")" $AN/v1/messages ;;
nonai) # two non-AI requests, then one AI call on the same connection
	exec curl "$@" $OA/index.html \
		--next "$@" -H "$CT" -d '{"user":"alice","password":"secret"}' $OA/api/login \
		--next "$@" -H "$AUTH" -H "$CT" -d "$(chat_body gpt-4o-mini "$msg")" $OA/v1/chat/completions ;;
other) # OpenAI-compatible server on a host no rule names
	exec curl "$@" -H "$AUTH" -H "$CT" -d "$(chat_body llama-3-8b "$msg")" \
		"${OISP_OTHER_BASE:?}/v1/chat/completions" ;;
*)
	echo "unknown mode $mode" >&2
	exit 2 ;;
esac
