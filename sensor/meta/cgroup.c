// SPDX-License-Identifier: MIT
/*
 * Container id and pod UID from /proc/PID/cgroup.  The path forms are
 * those of the kubelet's cgroup managers (pkg/kubelet/cm: cgroupfs
 * "pod<uid>", systemd "<parent>-pod<uid with _>.slice"), of the runtimes'
 * scope names (containerd "cri-containerd-<id>.scope", CRI-O
 * "crio-<id>.scope", Docker "docker-<id>.scope", Podman
 * "libpod-<id>.scope") and of their cgroupfs forms (/docker/<id>,
 * <parent>/<id>, containerd's "<slice>:cri-containerd:<id>").
 */
#include <errno.h>
#include <string.h>

#include "meta/cgroup.h"

/* A runtime's scope or cgroup name prefix, as in "crio-<id>.scope". */
struct rt_prefix {
	const char *name;
	enum cgroup_runtime rt;
};

static const struct rt_prefix prefixes[] = {
	{ "cri-containerd", CGROUP_RT_CONTAINERD },
	{ "containerd", CGROUP_RT_CONTAINERD },
	{ "crio", CGROUP_RT_CRIO },
	{ "docker", CGROUP_RT_DOCKER },
	{ "libpod", CGROUP_RT_PODMAN },
};

/* A path component, not NUL-terminated. */
struct span {
	const char *s;
	size_t n;
};

static bool is_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

static bool is_hex_run(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!is_hex(s[i]))
			return false;
	return true;
}

/*
 * A UUID, 8-4-4-4-12 lower-case hex digits, whose separators are '-' or
 * (@underscore) '_' as the systemd cgroup driver writes them.
 */
static bool is_uuid(const char *s, size_t n, bool underscore)
{
	size_t i;

	if (n != 36)
		return false;
	for (i = 0; i < n; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-' && !(underscore && s[i] == '_'))
				return false;
		} else if (!is_hex(s[i])) {
			return false;
		}
	}
	return true;
}

/* "<32 hex>-<1..10 digits>": ECS on Fargate (platform 1.4). */
static bool is_fargate_id(const char *s, size_t n)
{
	size_t i;

	if (n < 34 || n > 43 || !is_hex_run(s, 32) || s[32] != '-')
		return false;
	for (i = 33; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

static bool is_container_id(const char *s, size_t n)
{
	return (n == 64 && is_hex_run(s, 64)) || is_fargate_id(s, n) ||
	       is_uuid(s, n, false);
}

static bool span_eq(struct span c, const char *str)
{
	return c.n == strlen(str) && memcmp(c.s, str, c.n) == 0;
}

static bool span_ends(struct span c, const char *suffix)
{
	size_t k = strlen(suffix);

	return c.n >= k && memcmp(c.s + c.n - k, suffix, k) == 0;
}

/* The runtime a whole component names ("docker" in /docker/<id>). */
static enum cgroup_runtime runtime_of(struct span c)
{
	size_t i;

	for (i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
		if (span_eq(c, prefixes[i].name))
			return prefixes[i].rt;
	return CGROUP_RT_UNKNOWN;
}

/*
 * The pod UID in @c: "pod<uid>" (cgroupfs) or "...-pod<uid>.slice"
 * (systemd).  The UID is a UUID or a static pod's 32-hex config hash.
 * Copies it, normalised, to @uid and returns true when found.
 */
static bool pod_uid_of(struct span c, char *uid)
{
	const char *p = NULL;
	size_t n, i;

	if (span_ends(c, ".slice")) {
		c.n -= 6;
		for (i = c.n; i >= 4; i--) {
			if (memcmp(c.s + i - 4, "-pod", 4) == 0) {
				p = c.s + i;
				break;
			}
		}
	} else if (c.n > 3 && memcmp(c.s, "pod", 3) == 0) {
		p = c.s + 3;
	}
	if (!p)
		return false;
	n = (size_t)(c.s + c.n - p);
	if (!is_uuid(p, n, true) && !(n == 32 && is_hex_run(p, n)))
		return false;
	memcpy(uid, p, n);
	uid[n] = '\0';
	for (i = 0; i < n; i++)
		if (uid[i] == '_')
			uid[i] = '-';
	return true;
}

/*
 * The container id in @c: "<prefix>-<id>[.scope]" or a bare id, whose
 * runtime @prev (the component before) may name.  Copies the id to @id,
 * sets *@rt and returns true when found.
 */
static bool container_of(struct span c, struct span prev, char *id,
			 enum cgroup_runtime *rt)
{
	size_t i, k;

	if (span_ends(c, ".scope"))
		c.n -= 6;
	*rt = CGROUP_RT_UNKNOWN;
	for (i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++) {
		k = strlen(prefixes[i].name);
		if (c.n > k + 1 && memcmp(c.s, prefixes[i].name, k) == 0 &&
		    c.s[k] == '-') {
			c.s += k + 1;
			c.n -= k + 1;
			*rt = prefixes[i].rt;
			break;
		}
	}
	if (!is_container_id(c.s, c.n))
		return false;
	if (*rt == CGROUP_RT_UNKNOWN)
		*rt = runtime_of(prev);
	memcpy(id, c.s, c.n);
	id[c.n] = '\0';
	return true;
}

static bool span_starts(struct span c, const char *prefix)
{
	size_t k = strlen(prefix);

	return c.n >= k && memcmp(c.s, prefix, k) == 0;
}

/*
 * A cgroup that systemd delegates to an unprivileged user (systemd.resource-
 * control(5), Delegate=: user@UID.service, below user-UID.slice below
 * user.slice): the user may create any cgroup under it, so nothing below
 * names a pod.
 */
static bool is_delegated(struct span c)
{
	return span_eq(c, "user.slice") || span_starts(c, "user@") ||
	       (span_starts(c, "user-") && span_ends(c, ".slice"));
}

/*
 * The top of the kubelet's cgroups: "kubepods" (cgroupfs driver),
 * "kubepods.slice" (systemd driver), or a QoS slice of them as seen from
 * a cgroup namespace or under a kubelet --cgroup-root (kind's
 * "kubelet-kubepods.slice").
 */
static bool is_kubepods(struct span c)
{
	return span_eq(c, "kubepods") ||
	       (span_ends(c, ".slice") &&
		(span_starts(c, "kubepods") || span_starts(c, "kubelet-kubepods")));
}

/* A QoS class level between the top and the pods. */
static bool is_qos(struct span c)
{
	return span_eq(c, "burstable") || span_eq(c, "besteffort") ||
	       span_ends(c, "-burstable.slice") ||
	       span_ends(c, "-besteffort.slice");
}

/* Where cgroup__parse_path() is in the path. */
enum walk {
	WALK_OUTSIDE,	/* before the kubelet's cgroups */
	WALK_KUBEPODS,	/* in them, above the pod */
	WALK_POD,	/* just below the pod: its container comes next */
	WALK_DONE,	/* the rest is the pod's or a user's own business */
};

/*
 * Only the kubelet and the runtime may name a pod or its container: the
 * first kubelet hierarchy in the path is read (top, QoS, pod, then the
 * container directly below the pod, or containerd's "pod:runtime:id"),
 * and nothing after it, since a container allowed to write its cgroup
 * could create "kubepods-...-pod<other uid>.slice" below its own.  A pod
 * below a delegated user cgroup is a user's fake: the walk stops there.
 * Outside Kubernetes the last container id wins (Docker in Docker, the
 * node container of kind).
 */
static enum walk step(enum walk w, struct span c, struct span prev,
		      bool delegated, struct cgroup_info *out)
{
	char id[CGROUP_ID_MAX + 1];
	enum cgroup_runtime rt;

	if (w == WALK_POD) {
		if (container_of(c, prev, id, &rt)) {
			memcpy(out->container_id, id, sizeof(id));
			out->runtime = rt;
			return WALK_DONE;
		}
		/* containerd's "<pod slice>:cri-containerd:<id>". */
		return runtime_of(c) != CGROUP_RT_UNKNOWN ? WALK_POD : WALK_DONE;
	}
	if (pod_uid_of(c, id)) {
		if (delegated)
			return WALK_DONE;
		memcpy(out->pod_uid, id, sizeof(out->pod_uid));
		/* A new pod: an outer container is not its. */
		out->container_id[0] = '\0';
		out->runtime = CGROUP_RT_UNKNOWN;
		return WALK_POD;
	}
	if (w == WALK_KUBEPODS)
		return is_qos(c) ? WALK_KUBEPODS : WALK_DONE;
	if (is_kubepods(c))
		return delegated ? WALK_DONE : WALK_KUBEPODS;
	if (container_of(c, prev, id, &rt)) {
		memcpy(out->container_id, id, sizeof(id));
		out->runtime = rt;
	}
	return WALK_OUTSIDE;
}

bool cgroup__parse_path(const char *path, size_t len, struct cgroup_info *out)
{
	struct span c, prev = { "", 0 };
	const char *end = path + len, *p = path, *q;
	enum walk w = WALK_OUTSIDE;
	bool delegated = false;

	memset(out, 0, sizeof(*out));
	/* Components split at '/' and, for containerd's "a:b:c", at ':'. */
	while (p < end && w != WALK_DONE) {
		for (q = p; q < end && *q != '/' && *q != ':'; q++)
			;
		c = (struct span){ p, (size_t)(q - p) };
		if (c.n) {
			delegated = delegated || is_delegated(c);
			w = step(w, c, prev, delegated, out);
			prev = c;
		}
		p = q + 1;
	}
	return out->container_id[0] || out->pod_uid[0];
}

int cgroup__parse(const char *text, size_t len, struct cgroup_info *out)
{
	const char *end = text + len, *line = text, *eol, *path;
	struct cgroup_info cur, pod_only;
	bool have_pod = false;

	memset(out, 0, sizeof(*out));
	memset(&pod_only, 0, sizeof(pod_only));
	for (; line < end; line = eol + 1) {
		eol = memchr(line, '\n', (size_t)(end - line));
		if (!eol)
			eol = end;
		/* hierarchy-ID:controller-list:path; the path may hold ':'. */
		path = memchr(line, ':', (size_t)(eol - line));
		if (path)
			path = memchr(path + 1, ':', (size_t)(eol - path - 1));
		if (!path)
			continue;
		path++;
		if (!cgroup__parse_path(path, (size_t)(eol - path), &cur))
			continue;
		if (cur.container_id[0]) {
			*out = cur;
			return 0;
		}
		if (!have_pod) {
			pod_only = cur;
			have_pod = true;
		}
	}
	if (!have_pod)
		return -ENOENT;
	*out = pod_only;
	return 0;
}

const char *cgroup__runtime_name(enum cgroup_runtime rt)
{
	switch (rt) {
	case CGROUP_RT_CONTAINERD:
		return "containerd";
	case CGROUP_RT_CRIO:
		return "crio";
	case CGROUP_RT_DOCKER:
		return "docker";
	case CGROUP_RT_PODMAN:
		return "podman";
	default:
		return NULL;
	}
}
