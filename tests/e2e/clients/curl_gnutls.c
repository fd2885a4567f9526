// SPDX-License-Identifier: MIT
/*
 * curl_gnutls.c - AI calls through libcurl-gnutls.so.4 (Debian's
 * libcurl3-gnutls: libcurl over GnuTLS), against the fixture server.
 *
 *   curl_gnutls MODE MESSAGE
 *
 * MODE: chat (one call), stream (one streamed call), keepalive (a call
 * and a streamed call on one handle, so on one connection).  Each
 * transfer prints its body, then a line as curl_client.sh's -w gives:
 * {"curl":{"http_code":N,"num_connects":N,"size_upload":N,...}}.
 * Environment: OISP_CA, the test CA file.  MESSAGE must not contain
 * double quotes or backslashes.  Built by the tests with
 *   cc curl_gnutls.c /usr/lib/x86_64-linux-gnu/libcurl-gnutls.so.4
 * (the API headers are libcurl's whatever its TLS library).
 */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static size_t write_body(char *p, size_t size, size_t n, void *ctx)
{
	return fwrite(p, size, n, stdout);
}

static int transfer(CURL *h, const char *msg, int stream)
{
	struct curl_slist *hdrs = NULL;
	char body[1024];
	long code = 0, connects = 0;
	curl_off_t up = 0, down = 0;
	CURLcode rc;

	snprintf(body, sizeof(body),
		 "{\"model\":\"gpt-4o-mini\",\"messages\":[{\"role\":\"system\","
		 "\"content\":\"You are terse.\"},{\"role\":\"user\","
		 "\"content\":\"%s\"}],\"temperature\":0.2,\"max_tokens\":64%s}",
		 msg, stream ? ",\"stream\":true,\"stream_options\":"
			       "{\"include_usage\":true}" : "");
	hdrs = curl_slist_append(hdrs, "Authorization: Bearer sk-test-gnutls-0123456789");
	hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
	curl_easy_setopt(h, CURLOPT_URL, "https://api.openai.com/v1/chat/completions");
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, write_body);
	rc = curl_easy_perform(h);
	curl_slist_free_all(hdrs);
	if (rc != CURLE_OK) {
		fprintf(stderr, "curl_easy_perform: %s\n", curl_easy_strerror(rc));
		return 1;
	}
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
	curl_easy_getinfo(h, CURLINFO_NUM_CONNECTS, &connects);
	curl_easy_getinfo(h, CURLINFO_SIZE_UPLOAD_T, &up);
	curl_easy_getinfo(h, CURLINFO_SIZE_DOWNLOAD_T, &down);
	printf("\n{\"curl\":{\"http_code\":%ld,\"num_connects\":%ld,"
	       "\"size_upload\":%lld,\"size_download\":%lld}}\n",
	       code, connects, (long long)up, (long long)down);
	fflush(stdout);
	return 0;
}

int main(int argc, char **argv)
{
	const char *ca = getenv("OISP_CA");
	char msg[512];
	CURL *h;
	int err;

	if (argc != 3 || !ca) {
		fprintf(stderr, "usage: OISP_CA=FILE %s chat|stream|keepalive MESSAGE\n",
			argv[0]);
		return 2;
	}
	/* The TLS library this libcurl was built with, for the test. */
	fprintf(stderr, "%s\n", curl_version_info(CURLVERSION_NOW)->ssl_version);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	h = curl_easy_init();
	if (!h)
		return 1;
	curl_easy_setopt(h, CURLOPT_CAINFO, ca);
	if (!strcmp(argv[1], "chat")) {
		err = transfer(h, argv[2], 0);
	} else if (!strcmp(argv[1], "stream")) {
		err = transfer(h, argv[2], 1);
	} else if (!strcmp(argv[1], "keepalive")) {
		snprintf(msg, sizeof(msg), "%s one", argv[2]);
		err = transfer(h, msg, 0);
		snprintf(msg, sizeof(msg), "%s two", argv[2]);
		if (!err)
			err = transfer(h, msg, 1);
	} else {
		err = 2;
	}
	curl_easy_cleanup(h);
	curl_global_cleanup();
	return err;
}
