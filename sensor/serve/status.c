// SPDX-License-Identifier: MIT
/*
 * The status socket (unix(7)) and the `status` command's printing.
 * Protocol: connect, read one JSON document up to EOF, done.
 */
#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "lib/termout.h"
#include "serve/stats.h"
#include "serve/status.h"

#define SERVE_SNDTIMEO_MS	200
#define LISTEN_BACKLOG		16

struct status_server {
	int fd;
	dev_t dev;
	ino_t ino;
	char *path;
};

static int make_addr(struct sockaddr_un *sa, const char *path)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if (!path || !*path || strlen(path) >= sizeof(sa->sun_path))
		return -ENAMETOOLONG;
	strcpy(sa->sun_path, path);
	return 0;
}

static void set_timeout(int fd, int opt, int ms)
{
	struct timeval tv = { .tv_sec = ms / 1000,
			      .tv_usec = (suseconds_t)(ms % 1000) * 1000 };

	/* Best effort: without it the call is only less bounded. */
	(void)setsockopt(fd, SOL_SOCKET, opt, &tv, sizeof(tv));
}

/* mkdir -p of the directories above @path's last component, mode 0750. */
static int mkdir_parents(const char *path)
{
	char *dir, *p;
	int err = 0;

	dir = strdup(path);
	if (!dir)
		return -ENOMEM;
	for (p = strchr(dir + 1, '/'); p; p = strchr(p + 1, '/')) {
		*p = '\0';
		if (mkdir(dir, 0750) && errno != EEXIST) {
			err = -errno;
			break;
		}
		*p = '/';
	}
	free(dir);
	return err;
}

/*
 * Deals with whatever is at @path before bind(2): nothing, a stale
 * socket (unlinked), a live sensor (-EADDRINUSE) or something else.
 */
static int clear_stale(const struct sockaddr_un *sa)
{
	struct stat st;
	int fd, err;

	if (lstat(sa->sun_path, &st))
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISSOCK(st.st_mode))
		return -EEXIST;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	/* In use: it accepts, or it is alive with its backlog full. */
	if (connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) == 0 ||
	    errno == EAGAIN || errno == EINPROGRESS)
		err = -EADDRINUSE;
	else if (errno == ECONNREFUSED)
		err = unlink(sa->sun_path) && errno != ENOENT ? -errno : 0;
	else
		err = -errno;
	close(fd);
	return err;
}

/* DIR/STATUS_LOCK_NAME for the socket DIR/NAME ("." without a slash). */
static int lock_path(const char *sock_path, char *path, size_t pathlen)
{
	const char *slash = strrchr(sock_path, '/');
	int dirlen = slash ? (int)(slash - sock_path) : 1;
	int n;

	if (slash == sock_path)
		dirlen = 0;	/* a socket in "/" */
	n = snprintf(path, pathlen, "%.*s/%s", dirlen,
		     slash ? sock_path : ".", STATUS_LOCK_NAME);
	return n < 0 || (size_t)n >= pathlen ? -ENAMETOOLONG : 0;
}

/* The pid a lock holder wrote into its lock file, 0 if none. */
static long read_holder(int fd)
{
	char buf[32];
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
	char *end;
	long pid;

	if (n <= 0)
		return 0;
	buf[n] = '\0';
	errno = 0;
	pid = strtol(buf, &end, 10);
	if (errno || end == buf || pid <= 0)
		return 0;
	return pid;
}

int status__lock(const char *sock_path, int *fd, long *holder, char *path,
		 size_t pathlen)
{
	char pid[32];
	int err, lfd, n;

	*fd = -1;
	*holder = 0;
	if (pathlen)
		path[0] = '\0';
	if (!sock_path || !*sock_path)
		return -ENAMETOOLONG;
	err = lock_path(sock_path, path, pathlen);
	if (err)
		return err;
	err = mkdir_parents(sock_path);
	if (err)
		return err;
	lfd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0640);
	if (lfd < 0)
		return -errno;
	if (flock(lfd, LOCK_EX | LOCK_NB)) {
		err = errno == EWOULDBLOCK ? -EADDRINUSE : -errno;
		if (err == -EADDRINUSE)
			*holder = read_holder(lfd);
		goto out_close;
	}
	/* Informational only: the flock is the lock. */
	n = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
	if (ftruncate(lfd, 0) == 0)
		(void)!pwrite(lfd, pid, (size_t)n, 0);
	*fd = lfd;
	return 0;

out_close:
	close(lfd);
	return err;
}

void status__unlock(int fd)
{
	if (fd >= 0)
		close(fd);
}

int status__listen(struct status_server **out, const char *path)
{
	struct status_server *s;
	struct sockaddr_un sa;
	struct stat st;
	int err;

	err = make_addr(&sa, path);
	if (err)
		return err;
	err = mkdir_parents(path);
	if (err)
		return err;
	err = clear_stale(&sa);
	if (err)
		return err;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->path = strdup(path);
	if (!s->path) {
		err = -ENOMEM;
		goto out_free;
	}
	s->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (s->fd < 0) {
		err = -errno;
		goto out_free;
	}
	if (bind(s->fd, (struct sockaddr *)&sa, sizeof(sa))) {
		err = -errno;
		goto out_close;
	}
	if (chmod(path, 0660) || stat(path, &st) ||
	    listen(s->fd, LISTEN_BACKLOG)) {
		err = -errno;
		goto out_unlink;
	}
	s->dev = st.st_dev;
	s->ino = st.st_ino;
	*out = s;
	return 0;

out_unlink:
	unlink(path);
out_close:
	close(s->fd);
out_free:
	free(s->path);
	free(s);
	return err;
}

int status__fd(const struct status_server *s)
{
	return s->fd;
}

static int send_all(int fd, const char *p, size_t n)
{
	ssize_t w;

	while (n) {
		w = send(fd, p, n, MSG_NOSIGNAL);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int status__serve(struct status_server *s, const char *json)
{
	int fd, err;

	fd = accept4(s->fd, NULL, NULL, SOCK_CLOEXEC);
	if (fd < 0)
		return errno == EWOULDBLOCK ? -EAGAIN : -errno;
	/* The accepted socket is blocking: bound how long it may block. */
	set_timeout(fd, SO_SNDTIMEO, SERVE_SNDTIMEO_MS);
	err = send_all(fd, json, strlen(json));
	if (!err)
		err = send_all(fd, "\n", 1);
	close(fd);
	return err;
}

void status__close(struct status_server *s)
{
	struct stat st;

	if (!s)
		return;
	close(s->fd);
	/* Don't remove a socket that another sensor has since bound. */
	if (lstat(s->path, &st) == 0 && st.st_dev == s->dev &&
	    st.st_ino == s->ino)
		unlink(s->path);
	free(s->path);
	free(s);
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Reads until EOF into a malloc'd buffer, within @deadline (now_ms()). */
static int read_reply(int fd, long long deadline, char **out, size_t *outlen)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	size_t len = 0, cap = 16384;
	char *buf, *nbuf;
	long long left;
	ssize_t n;
	int err;

	buf = malloc(cap);
	if (!buf)
		return -ENOMEM;
	for (;;) {
		left = deadline - now_ms();
		if (left <= 0) {
			err = -ETIMEDOUT;
			goto out_free;
		}
		n = poll(&pfd, 1, (int)left);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err = -errno;
			goto out_free;
		}
		if (n == 0)
			continue;	/* the deadline check ends it */
		if (len + 1 >= cap) {
			if (cap > STATUS_REPLY_MAX) {
				err = -EMSGSIZE;
				goto out_free;
			}
			nbuf = realloc(buf, cap * 2);
			if (!nbuf) {
				err = -ENOMEM;
				goto out_free;
			}
			buf = nbuf;
			cap *= 2;
		}
		n = read(fd, buf + len, cap - 1 - len);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n < 0) {
			err = -errno;
			goto out_free;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len > STATUS_REPLY_MAX) {
			err = -EMSGSIZE;
			goto out_free;
		}
	}
	buf[len] = '\0';
	*out = buf;
	*outlen = len;
	return 0;

out_free:
	free(buf);
	return err;
}

int status__query(const char *path, char **json)
{
	long long deadline = now_ms() + STATUS_TIMEOUT_MS;
	struct sockaddr_un sa;
	size_t len = 0;
	char *buf = NULL;
	int fd, err;

	err = make_addr(&sa, path);
	if (err)
		return err;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* A blocking connect waits while the backlog is full: bound it. */
	set_timeout(fd, SO_SNDTIMEO, STATUS_TIMEOUT_MS);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		err = errno == EAGAIN || errno == EINPROGRESS ? -ETIMEDOUT
							     : -errno;
		goto out_close;
	}
	err = read_reply(fd, deadline, &buf, &len);
	if (err)
		goto out_close;
	while (len && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
		buf[--len] = '\0';
	if (!len) {
		free(buf);
		err = -EBADMSG;
		goto out_close;
	}
	*json = buf;
out_close:
	close(fd);
	return err;
}

/* Printing ------------------------------------------------------------ */

struct printer {
	FILE *out;
	bool color;
};

#define LABEL_WIDTH	22	/* the longest row name, and one */

/* One row: @label is ours, @value may come from a user (termout__text()). */
static void print_value_line(const struct printer *pr, const char *label,
			     const char *value, bool highlight)
{
	fprintf(pr->out, "  %-*s ", LABEL_WIDTH, label);
	if (highlight && pr->color)
		fputs("\033[1;31m", pr->out);
	termout__text(pr->out, value);
	if (highlight)
		fputs(pr->color ? " (!)\033[0m\n" : " (!)\n", pr->out);
	else
		fputc('\n', pr->out);
}

/* Formats a JSON number: integers without a fraction, others with one. */
static void fmt_number(char *buf, size_t size, double v)
{
	if (v == floor(v) && fabs(v) < 9007199254740992.0)
		snprintf(buf, size, "%.0f", v);
	else
		snprintf(buf, size, "%.1f", v);
}

/* The rows of @t present in @obj, in the table's order. */
static void print_counters(const struct printer *pr, const cJSON *obj,
			   const struct stats_table *t)
{
	const struct stats_field *f;
	const cJSON *item;
	char buf[64];
	size_t i;

	for (i = 0; i < t->n; i++) {
		f = &t->fields[i];
		item = cJSON_GetObjectItemCaseSensitive(obj, f->name);
		if (!cJSON_IsNumber(item))
			continue;
		fmt_number(buf, sizeof(buf), item->valuedouble);
		print_value_line(pr, f->name, buf,
				 f->alert && item->valuedouble != 0);
	}
}

static void fmt_uptime(char *buf, size_t size, double s)
{
	unsigned long long t;

	if (s < 60) {
		snprintf(buf, size, "%.1fs", s);
		return;
	}
	t = (unsigned long long)s;
	if (t >= 86400)
		snprintf(buf, size, "%llud %lluh %llum %llus", t / 86400,
			 t / 3600 % 24, t / 60 % 60, t % 60);
	else if (t >= 3600)
		snprintf(buf, size, "%lluh %llum %llus", t / 3600,
			 t / 60 % 60, t % 60);
	else
		snprintf(buf, size, "%llum %llus", t / 60, t % 60);
}

static void print_header(const struct printer *pr, const cJSON *root)
{
	const cJSON *ver, *pid, *up;
	char buf[128], num[64];

	ver = cJSON_GetObjectItemCaseSensitive(root, "version");
	pid = cJSON_GetObjectItemCaseSensitive(root, "pid");
	up = cJSON_GetObjectItemCaseSensitive(root, "uptime_s");
	fmt_number(num, sizeof(num), cJSON_IsNumber(pid) ? pid->valuedouble
							 : 0);
	snprintf(buf, sizeof(buf), "oisp-sensor %s%s%s%s",
		 cJSON_IsString(ver) ? ver->valuestring : "(unknown version)",
		 cJSON_IsNumber(pid) ? " (pid " : "",
		 cJSON_IsNumber(pid) ? num : "",
		 cJSON_IsNumber(pid) ? ")" : "");
	fprintf(pr->out, "%-*s ", LABEL_WIDTH + 2, "Sensor");
	termout__text(pr->out, buf);
	fputc('\n', pr->out);
	if (cJSON_IsNumber(up) && up->valuedouble >= 0) {
		fmt_uptime(buf, sizeof(buf), up->valuedouble);
		fprintf(pr->out, "%-*s %s\n", LABEL_WIDTH + 2, "Uptime", buf);
	}
}

static const cJSON *section(const struct printer *pr, const cJSON *root,
			    const char *key, const char *title)
{
	const cJSON *obj = cJSON_GetObjectItemCaseSensitive(root, key);

	if (!cJSON_IsObject(obj))
		return NULL;
	fprintf(pr->out, "\n%s\n", title);
	return obj;
}

/* The section of @t: its title and rows; NULL when @root has none. */
static const cJSON *print_table(const struct printer *pr, const cJSON *root,
				const struct stats_table *t)
{
	const cJSON *obj = section(pr, root, t->section, t->title);

	if (obj)
		print_counters(pr, obj, t);
	return obj;
}

static void print_last_error(const struct printer *pr, const cJSON *obj)
{
	const cJSON *last = cJSON_GetObjectItemCaseSensitive(obj, "last_error");

	if (cJSON_IsString(last))
		print_value_line(pr, "last_error", last->valuestring, true);
}

static void print_output(const struct printer *pr, const cJSON *root)
{
	const cJSON *obj, *path;

	obj = section(pr, root, stats_output.section, stats_output.title);
	if (!obj)
		return;
	path = cJSON_GetObjectItemCaseSensitive(obj, "path");
	if (cJSON_IsString(path))
		print_value_line(pr, "path", path->valuestring, false);
	print_counters(pr, obj, &stats_output);
	print_last_error(pr, obj);
}

/* "capture_by_stack": a heading per TLS stack and its rows. */
static void print_by_stack(const struct printer *pr, const cJSON *root)
{
	const cJSON *obj, *e;

	obj = section(pr, root, "capture_by_stack", stats_capture_stack.title);
	if (!obj)
		return;
	cJSON_ArrayForEach(e, obj) {
		if (!cJSON_IsObject(e) || !e->string)
			continue;
		fputs(" ", pr->out);
		termout__text(pr->out, e->string);
		fputc('\n', pr->out);
		print_counters(pr, e, &stats_capture_stack);
	}
}

/* A file's "identifying" (its code being searched): since when. */
static void print_identifying(const struct printer *pr, const cJSON *e)
{
	const cJSON *id, *since, *s;
	char n[64];

	id = cJSON_GetObjectItemCaseSensitive(e, "identifying");
	if (!cJSON_IsObject(id))
		return;
	since = cJSON_GetObjectItemCaseSensitive(id, "since");
	s = cJSON_GetObjectItemCaseSensitive(id, "s");
	fputs("      identifying since ", pr->out);
	termout__text(pr->out, cJSON_IsString(since) ? since->valuestring : "?");
	if (cJSON_IsNumber(s)) {
		snprintf(n, sizeof(n), " (%.1f s)", s->valuedouble);
		fputs(n, pr->out);
	}
	fputc('\n', pr->out);
}

/* The files of "attach": "list" or "identifying". */
static void print_files(const struct printer *pr, const cJSON *list)
{
	const cJSON *e, *path, *procs, *dev, *ino, *stack, *skipped, *found;
	char n1[64], n2[64], n3[64];

	if (!cJSON_IsArray(list))
		return;
	cJSON_ArrayForEach(e, list) {
		path = cJSON_GetObjectItemCaseSensitive(e, "path");
		procs = cJSON_GetObjectItemCaseSensitive(e, "processes");
		dev = cJSON_GetObjectItemCaseSensitive(e, "dev");
		ino = cJSON_GetObjectItemCaseSensitive(e, "ino");
		stack = cJSON_GetObjectItemCaseSensitive(e, "stack");
		if (!cJSON_IsString(path))
			continue;
		fmt_number(n1, sizeof(n1),
			   cJSON_IsNumber(procs) ? procs->valuedouble : 0);
		fmt_number(n2, sizeof(n2),
			   cJSON_IsNumber(dev) ? dev->valuedouble : 0);
		fmt_number(n3, sizeof(n3),
			   cJSON_IsNumber(ino) ? ino->valuedouble : 0);
		fputs("  - ", pr->out);
		termout__text(pr->out, path->valuestring);
		fputs("\n      ", pr->out);
		if (cJSON_IsString(stack)) {
			termout__text(pr->out, stack->valuestring);
			fputs(", ", pr->out);
		}
		fprintf(pr->out, "%s processes, dev %s, ino %s\n",
			cJSON_IsNumber(procs) ? n1 : "?",
			cJSON_IsNumber(dev) ? n2 : "?",
			cJSON_IsNumber(ino) ? n3 : "?");
		print_identifying(pr, e);
		stack = cJSON_GetObjectItemCaseSensitive(e, "stack");
		skipped = cJSON_GetObjectItemCaseSensitive(e, "skipped");
		if (!cJSON_IsString(stack))
			continue;
		fputs(cJSON_IsString(skipped) ? "      not probed as " :
						"      stack ", pr->out);
		termout__text(pr->out, stack->valuestring);
		if (cJSON_IsString(skipped)) {
			fputs(": ", pr->out);
			termout__text(pr->out, skipped->valuestring);
		}
		fputc('\n', pr->out);
		found = cJSON_GetObjectItemCaseSensitive(e, "found");
		if (cJSON_IsString(found)) {
			fputs("      found: ", pr->out);
			termout__text(pr->out, found->valuestring);
			fputc('\n', pr->out);
		}
	}
}

static void print_attach(const struct printer *pr, const cJSON *root)
{
	const cJSON *obj, *list, *mode, *rs, *on;
	char buf[96];

	obj = section(pr, root, "attach", "Attached");
	if (!obj)
		return;
	mode = cJSON_GetObjectItemCaseSensitive(obj, "mode");
	if (cJSON_IsString(mode))
		print_value_line(pr, "uprobes", mode->valuestring, false);
	rs = cJSON_GetObjectItemCaseSensitive(obj, "rustls_sockets");
	on = cJSON_GetObjectItemCaseSensitive(obj, "rustls_attached");
	if (cJSON_IsString(rs)) {
		snprintf(buf, sizeof(buf), "%.32s, %s", rs->valuestring,
			 cJSON_IsTrue(on) ? "attached" :
			 "not attached (no rustls file probed yet)");
		print_value_line(pr, "rustls sockets", buf, false);
	}
	print_files(pr, cJSON_GetObjectItemCaseSensitive(obj, "list"));
	list = cJSON_GetObjectItemCaseSensitive(obj, "identifying");
	if (cJSON_IsArray(list) && cJSON_GetArraySize(list) > 0) {
		fputs(" being identified (its code searched for a TLS stack)\n",
		      pr->out);
		print_files(pr, list);
	}
}

int status__print(const char *json, bool as_json, FILE *out)
{
	struct printer pr = { .out = out };
	const cJSON *k8s;
	cJSON *root;

	if (!json)
		return -EBADMSG;
	root = cJSON_Parse(json);
	if (!cJSON_IsObject(root)) {
		cJSON_Delete(root);
		return -EBADMSG;
	}
	if (as_json) {
		termout__json(out, json);
		fputc('\n', out);
		goto out;
	}
	pr.color = isatty(fileno(out));
	print_header(&pr, root);
	print_output(&pr, root);
	k8s = print_table(&pr, root, &stats_kubernetes);
	if (k8s)
		print_last_error(&pr, k8s);
	print_table(&pr, root, &stats_capture);
	print_by_stack(&pr, root);
	print_attach(&pr, root);
	print_table(&pr, root, &stats_pipeline);
out:
	cJSON_Delete(root);
	return 0;
}
