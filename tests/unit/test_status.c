// SPDX-License-Identifier: MIT
#include <criterion/criterion.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "lib/utf8.h"
#include "serve/status.h"

static const char sample[] =
	"{\"version\":\"0.1.0\",\"pid\":123,\"uptime_s\":42.5,"
	"\"output\":{\"path\":\"/var/log/oisp-sensor/events.jsonl\","
	"\"lines\":10,\"bytes\":12345,\"write_errors\":0},"
	"\"capture\":{\"calls\":100,\"records\":120,\"bytes\":45678,"
	"\"lost_records\":0,\"lost_bytes\":0,\"truncated_calls\":0,"
	"\"truncated_bytes\":0,\"read_faults\":0,\"lost_control\":0,"
	"\"files_attached\":3,\"ldso_attached\":1,\"procs_traced\":12,"
	"\"attach_errors\":0},"
	"\"attach\":{\"mode\":\"perf-event\",\"rustls_sockets\":\"tracepoints\","
	"\"rustls_attached\":false,\"list\":[{\"path\":"
	"\"/usr/lib/x86_64-linux-gnu/libssl.so.3\","
	"\"dev\":2049,\"ino\":1234,\"processes\":10}]},"
	"\"pipeline\":{\"connections\":4,\"connections_evicted\":0,"
	"\"http_messages\":20,\"parse_errors\":0,\"unmatched\":3,\"gaps\":0,"
	"\"bodies_truncated\":0,\"decode_errors\":0,\"events_request\":5,"
	"\"events_response\":5}}";

static char tmpdir[64];
static char sock[128];

static void setup(void)
{
	strcpy(tmpdir, "/tmp/test_status.XXXXXX");
	cr_assert_not_null(mkdtemp(tmpdir));
	/* A parent that does not exist yet: status__listen creates it. */
	snprintf(sock, sizeof(sock), "%s/run/status.sock", tmpdir);
}

static void teardown(void)
{
	char p[160];

	unlink(sock);
	snprintf(p, sizeof(p), "%s/run", tmpdir);
	rmdir(p);
	rmdir(tmpdir);
}

TestSuite(status, .init = setup, .fini = teardown);

struct serve_arg {
	struct status_server *s;
	const char *json;
	int ret;
};

/* Plays the sensor's event loop: serve one client. */
static void *serve_one(void *p)
{
	struct serve_arg *a = p;
	struct pollfd pfd = { .fd = status__fd(a->s), .events = POLLIN };

	if (poll(&pfd, 1, 5000) != 1) {
		a->ret = -ETIMEDOUT;
		return NULL;
	}
	a->ret = status__serve(a->s, a->json);
	return NULL;
}

static char *print_to_string(const char *json, bool as_json, int *ret)
{
	char *buf = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&buf, &size);

	cr_assert_not_null(f);
	*ret = status__print(json, as_json, f);
	fclose(f);
	return buf;
}

Test(status, round_trip)
{
	struct serve_arg a = { .json = sample };
	struct stat st;
	pthread_t th;
	char *json = NULL, run[160];

	cr_assert_eq(status__listen(&a.s, sock), 0);
	cr_assert_eq(stat(sock, &st), 0);
	cr_assert(S_ISSOCK(st.st_mode));
	cr_assert_eq(st.st_mode & 0777, 0660);
	snprintf(run, sizeof(run), "%s/run", tmpdir);
	cr_assert_eq(stat(run, &st), 0);
	cr_assert_eq(st.st_mode & 0777 & ~0750, 0, "parent at most 0750");

	cr_assert_eq(status__serve(a.s, sample), -EAGAIN, "nobody waiting");
	cr_assert_eq(pthread_create(&th, NULL, serve_one, &a), 0);
	cr_assert_eq(status__query(sock, &json), 0);
	pthread_join(th, NULL);
	cr_assert_eq(a.ret, 0);
	cr_assert_str_eq(json, sample);
	free(json);

	status__close(a.s);
	cr_assert_neq(access(sock, F_OK), 0, "socket unlinked");
	status__close(NULL);
}

Test(status, second_listener_refused)
{
	struct status_server *s1, *s2 = NULL;
	struct stat st1, st2;
	int ret;

	cr_assert_eq(status__listen(&s1, sock), 0);
	cr_assert_eq(stat(sock, &st1), 0);
	cr_assert_eq(status__listen(&s2, sock), -EADDRINUSE);
	cr_assert_null(s2);
	cr_assert_eq(stat(sock, &st2), 0);
	cr_assert_eq(st1.st_ino, st2.st_ino, "first socket untouched");
	/*
	 * The probe's connection is pending on s1; the prober has gone, so
	 * serving it fails harmlessly (no SIGPIPE) and the next is -EAGAIN.
	 */
	ret = status__serve(s1, "{}");
	cr_assert(ret == 0 || ret == -EPIPE || ret == -ECONNRESET, "%d", ret);
	cr_assert_eq(status__serve(s1, "{}"), -EAGAIN);
	status__close(s1);
}

/* One lock per directory, whatever the socket's name; freed on close. */
Test(status, lock_is_per_directory)
{
	char other[160], path[256], path2[256];
	long holder;
	int fd1, fd2;

	cr_assert_eq(status__lock(sock, &fd1, &holder, path, sizeof(path)), 0);
	cr_assert_geq(fd1, 0);
	cr_assert(strstr(path, "/run/" STATUS_LOCK_NAME), "%s", path);
	snprintf(other, sizeof(other), "%s/run/other.sock", tmpdir);
	/* flock(2) locks belong to open file descriptions: a second open
	 * in the same process conflicts, as another process would. */
	cr_assert_eq(status__lock(other, &fd2, &holder, path2, sizeof(path2)),
		     -EADDRINUSE);
	cr_assert_eq(fd2, -1);
	cr_assert_eq(holder, getpid());
	cr_assert_str_eq(path, path2);
	status__unlock(fd1);
	cr_assert_eq(status__lock(other, &fd2, &holder, path2, sizeof(path2)), 0);
	status__unlock(fd2);
	status__unlock(-1);
	unlink(path);
}

Test(status, lock_relative_socket)
{
	char path[256];
	long holder;
	int fd;

	cr_assert_eq(status__lock("", &fd, &holder, path, sizeof(path)),
		     -ENAMETOOLONG);
	cr_assert_eq(status__lock("x.sock", &fd, &holder, path, 4),
		     -ENAMETOOLONG);
}

Test(status, stale_socket_replaced)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct serve_arg a = { .json = "{\"pid\":7}" };
	pthread_t th;
	char *json;
	char run[160];
	int fd;

	/* A socket file left by a sensor that died: bound, never listened. */
	snprintf(run, sizeof(run), "%s/run", tmpdir);
	cr_assert_eq(mkdir(run, 0750), 0);
	strcpy(sa.sun_path, sock);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	cr_assert_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	close(fd);
	cr_assert_eq(status__query(sock, &json), -ECONNREFUSED);

	cr_assert_eq(status__listen(&a.s, sock), 0);
	cr_assert_eq(pthread_create(&th, NULL, serve_one, &a), 0);
	cr_assert_eq(status__query(sock, &json), 0);
	pthread_join(th, NULL);
	cr_assert_str_eq(json, "{\"pid\":7}");
	free(json);
	status__close(a.s);
}

Test(status, not_a_socket_left_alone)
{
	struct status_server *s;
	char run[160];
	FILE *f;

	snprintf(run, sizeof(run), "%s/run", tmpdir);
	cr_assert_eq(mkdir(run, 0750), 0);
	f = fopen(sock, "w");
	cr_assert_not_null(f);
	fclose(f);
	cr_assert_eq(status__listen(&s, sock), -EEXIST);
	cr_assert_eq(access(sock, F_OK), 0);
}

Test(status, close_keeps_foreign_socket)
{
	struct status_server *s1, *s2;

	cr_assert_eq(status__listen(&s1, sock), 0);
	/* Someone removed our socket and another sensor bound the path. */
	cr_assert_eq(unlink(sock), 0);
	cr_assert_eq(status__listen(&s2, sock), 0);
	status__close(s1);
	cr_assert_eq(access(sock, F_OK), 0, "s2's socket must survive");
	status__close(s2);
	cr_assert_neq(access(sock, F_OK), 0);
}

Test(status, query_without_server)
{
	char *json = NULL;
	char longpath[200];

	cr_assert_eq(status__query(sock, &json), -ENOENT);
	cr_assert_null(json);
	memset(longpath, 'a', sizeof(longpath) - 1);
	longpath[sizeof(longpath) - 1] = '\0';
	cr_assert_eq(status__query(longpath, &json), -ENAMETOOLONG);
}

Test(status, query_times_out)
{
	struct status_server *s;
	char *json;

	/* A sensor that never serves: the query gives up after 2 s. */
	cr_assert_eq(status__listen(&s, sock), 0);
	cr_assert_eq(status__query(sock, &json), -ETIMEDOUT);
	status__close(s);
}

Test(status, print_sample)
{
	char *s;
	int ret;

	s = print_to_string(sample, false, &ret);
	cr_assert_eq(ret, 0);
	cr_assert(strstr(s, "oisp-sensor 0.1.0 (pid 123)"), "%s", s);
	cr_assert(strstr(s, "42.5s"), "%s", s);
	cr_assert(strstr(s, "/var/log/oisp-sensor/events.jsonl"), "%s", s);
	cr_assert(strstr(s, "\nOutput\n"
			    "  path                   /var/log/oisp-sensor/events.jsonl\n"
			    "  lines                  10\n"
			    "  bytes                  12345\n"
			    "  write_errors           0\n"
			    "\nCapture\n"
			    "  calls                  100\n"
			    "  lost_records           0\n"), "%s", s);
	cr_assert(strstr(s, "  files_attached         3\n"), "%s", s);
	cr_assert(strstr(s, "\nAttached\n"
			    "  uprobes                perf-event\n"
			    "  rustls sockets         tracepoints, not attached "
			    "(no rustls file probed yet)\n"
			    "  - /usr/lib/x86_64-linux-gnu/libssl.so.3\n"
			    "      10 processes, dev 2049, ino 1234\n"
			    "\nPipeline\n"), "%s", s);
	cr_assert(strstr(s, "  http_messages          20\n"), "%s", s);
	cr_assert(strstr(s, "  unmatched              3\n"), "%s", s);
	cr_assert(strstr(s, "  events_request         5\n"), "%s", s);
	cr_assert_null(strstr(s, "(!)"), "nothing lost: %s", s);
	cr_assert_null(strstr(s, "\033["), "no colour off a tty");
	free(s);
}

/* A file being identified is listed apart, with since when. */
Test(status, print_identifying)
{
	char *s;
	int ret;

	s = print_to_string("{\"attach\":{\"list\":[],\"identifying\":[{"
			    "\"path\":\"/opt/codex\",\"dev\":2049,\"ino\":77,"
			    "\"processes\":1,\"identifying\":{\"since\":"
			    "\"2026-12-05T19:00:01.250Z\",\"s\":0.75}}]}}",
			    false, &ret);
	cr_assert_eq(ret, 0);
	cr_assert(strstr(s, "\nAttached\n"
			    " being identified (its code searched for a TLS stack)\n"
			    "  - /opt/codex\n"
			    "      1 processes, dev 2049, ino 77\n"
			    "      identifying since 2026-12-05T19:00:01.250Z (0.8 s)\n"),
		  "%s", s);
	free(s);
	s = print_to_string("{\"attach\":{\"identifying\":[]}}", false, &ret);
	cr_assert_null(strstr(s, "identified"), "none: no heading: %s", s);
	free(s);
}

Test(status, print_highlights_loss)
{
	char *s;
	int ret;

	s = print_to_string("{\"uptime_s\":90061,\"capture\":{\"lost_records\":"
			    "7,\"lost_bytes\":9000,\"records\":3}}", false,
			    &ret);
	cr_assert_eq(ret, 0);
	cr_assert(strstr(s, "1d 1h 1m 1s"), "%s", s);
	cr_assert(strstr(s, "  lost_records           7 (!)\n"), "%s", s);
	cr_assert(strstr(s, "  lost_bytes             9000 (!)\n"), "%s", s);
	cr_assert(strstr(s, "  records                3\n"), "%s", s);
	cr_assert(strstr(s, "(unknown version)"), "%s", s);
	cr_assert_null(strstr(s, "Output"), "missing sections skipped");
	free(s);
}

Test(status, print_tolerates_missing)
{
	char *s;
	int ret;

	s = print_to_string("{}", false, &ret);
	cr_assert_eq(ret, 0);
	free(s);
	s = print_to_string("{\"attach\":{\"list\":[{}, 3]},"
			    "\"pipeline\":\"x\",\"capture\":{\"calls\":\"x\"}}",
			    false, &ret);
	cr_assert_eq(ret, 0);
	cr_assert_str_eq(s, "Sensor" "                  " " oisp-sensor (unknown version)\n"
			 "\nCapture\n\nAttached\n");
	free(s);
}

Test(status, print_json_and_errors)
{
	char *s;
	int ret;

	s = print_to_string(sample, true, &ret);
	cr_assert_eq(ret, 0);
	cr_assert_eq(strlen(s), strlen(sample) + 1);
	cr_assert_eq(strncmp(s, sample, strlen(sample)), 0);
	free(s);

	s = print_to_string("{\"version\":", false, &ret);
	cr_assert_eq(ret, -EBADMSG);
	cr_assert_str_eq(s, "");
	free(s);
	s = print_to_string("[1,2]", true, &ret);
	cr_assert_eq(ret, -EBADMSG);
	free(s);
	s = print_to_string(NULL, false, &ret);
	cr_assert_eq(ret, -EBADMSG);
	free(s);
}

/*
 * A user names a file so that its path carries terminal controls (ESC
 * and BEL here, the 8-bit CSI U+009B, DEL and a byte that is not UTF-8),
 * and gets it attached: the report must show them escaped, never raw.
 * cJSON escapes C0 controls only, so the sensor's reply carries DEL and
 * C1 raw, as last_error does here.
 */
static const char hostile[] =
	"{\"version\":\"0.1\\u001b[2J\","
	"\"output\":{\"path\":\"/tmp/\\u001b]0;pwned\\u0007x\","
	"\"last_error\":\"open: \xc2\x9b" "31mred\x7f\"},"
	"\"kubernetes\":{\"last_error\":\"a\\r\\nb\\\\x1b\"},"
	"\"attach\":{\"mode\":\"uprobe\\u0085\",\"list\":[{\"path\":"
	"\"/tmp/caf\xc3\xa9/\xff\xc3libssl.so\xe2\x80\","
	"\"dev\":1,\"ino\":2,\"processes\":3}]}}";

/* Valid UTF-8 without C0 controls (but newlines), DEL or C1 controls. */
static void assert_inert(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t left = strlen(s);
	int n;

	while (left) {
		n = utf8__seq(p, left);
		cr_assert_gt(n, 0, "not UTF-8 at byte %zu: %s",
			     (size_t)(p - (const unsigned char *)s), s);
		cr_assert(n > 1 || *p == '\n' || (*p >= 0x20 && *p != 0x7f),
			  "control 0x%02x in: %s", *p, s);
		cr_assert(n != 2 || *p != 0xc2 || p[1] > 0x9f,
			  "C1 control in: %s", s);
		p += n;
		left -= (size_t)n;
	}
}

Test(status, print_escapes_controls)
{
	char *s;
	int ret;

	s = print_to_string(hostile, false, &ret);
	cr_assert_eq(ret, 0);
	assert_inert(s);
	cr_assert(strstr(s, "oisp-sensor 0.1\\x1b[2J\n"), "%s", s);
	cr_assert(strstr(s, "  path                   /tmp/\\x1b]0;pwned\\x07x\n"),
		  "%s", s);
	cr_assert(strstr(s, "open: \\xc2\\x9b31mred\\x7f (!)\n"), "%s", s);
	/* A backslash is escaped too, so an escape can't be faked. */
	cr_assert(strstr(s, "a\\x0d\\x0ab\\\\x1b (!)\n"), "%s", s);
	cr_assert(strstr(s, "  uprobes                uprobe\\xc2\\x85\n"), "%s", s);
	/* Valid UTF-8 stays readable; the invalid bytes are escaped. */
	cr_assert(strstr(s, "  - /tmp/caf\xc3\xa9/\\xff\\xc3libssl.so\\xe2\\x80\n"),
		  "%s", s);
	free(s);
}

Test(status, print_json_escapes_controls)
{
	cJSON *root, *item;
	char *s;
	int ret;

	s = print_to_string(hostile, true, &ret);
	cr_assert_eq(ret, 0);
	assert_inert(s);
	root = cJSON_Parse(s);
	cr_assert_not_null(root, "%s", s);
	item = cJSON_GetObjectItem(cJSON_GetObjectItem(root, "output"),
				   "last_error");
	/* The same text, written as JSON escapes. */
	cr_assert_str_eq(cJSON_GetStringValue(item),
			 "open: \xc2\x9b" "31mred\x7f");
	item = cJSON_GetArrayItem(cJSON_GetObjectItem(
			cJSON_GetObjectItem(root, "attach"), "list"), 0);
	/* Bytes that are not UTF-8 can't be JSON: U+FFFD each. */
	cr_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(item, "path")),
			 "/tmp/caf\xc3\xa9/\xef\xbf\xbd\xef\xbf\xbdlibssl.so"
			 "\xef\xbf\xbd");
	cJSON_Delete(root);
	free(s);
}
