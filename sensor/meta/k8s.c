// SPDX-License-Identifier: MIT
/*
 * Kubernetes API client: the node's pods, listed with libcurl by a worker
 * thread into a cache that lookups copy from.  The request and the
 * PodList shape follow the Kubernetes API reference (Pod v1, "list Pod":
 * GET /api/v1/pods, fieldSelector, limit, continue; Status on errors).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>

#include "lib/fdio.h"
#include "lib/log.h"
#include "meta/k8s.h"

#define PAGE_LIMIT		500		/* pods per list request */
#define MAX_PAGES		100
#define MAX_BODY		(64u << 20)	/* bytes of one response */
#define MAX_TOKEN		(64u << 10)	/* bytes of the token file */
#define CONTINUE_SIZE		4096
#define DEFAULT_MIN_REFRESH_S	5
#define DEFAULT_TIMEOUT_S	20
#define CONNECT_TIMEOUT_S	5
#define MISS_RING		32	/* UIDs whose miss asked for a list */
#define MIRROR_ANNOTATION	"kubernetes.io/config.mirror"
#define HASH_LABEL		"pod-template-hash"

/* The cache: pods, and an index by UID and static pod hash. */
struct cache_key {
	const char *key;
	const struct k8s_pod *pod;
};

struct cache {
	struct k8s_pod *pods;
	size_t n;
	struct cache_key *index;
	size_t n_index;
};

struct k8s {
	char *api_server, *node_name, *token_path, *ca_path;
	unsigned int refresh_s, min_refresh_s, timeout_s;
	pthread_t thread;
	bool thread_started;
	atomic_bool stopping;		/* read by curl's progress callback */

	pthread_mutex_t lock;		/* everything below */
	pthread_cond_t wake;		/* CLOCK_MONOTONIC */
	bool want_list;			/* a lookup missed */
	struct cache *cache;
	char missed[MISS_RING][K8S_UID_SIZE];
	unsigned int miss_next;
	struct k8s_stats st;
};

/* A growing response body. */
struct body {
	char *buf;
	size_t len, cap;
	bool too_big;
};

static void copy_field(char *dst, size_t size, const char *src)
{
	size_t n = src ? strlen(src) : 0;

	/* Too long for the API's own limits: leave it out, do not cut. */
	if (n >= size)
		n = 0;
	memcpy(dst, src ?: "", n);
	dst[n] = '\0';
}

static const char *json_str(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

void k8s_pod__clear(struct k8s_pod *pod)
{
	if (!pod)
		return;
	free(pod->labels);
	pod->labels = NULL;
	pod->labels_len = 0;
	pod->n_labels = 0;
}

void k8s_pods__free(struct k8s_pod *pods, size_t n)
{
	size_t i;

	if (!pods)
		return;
	for (i = 0; i < n; i++)
		k8s_pod__clear(&pods[i]);
	free(pods);
}

const char *k8s_pod__next_label(const struct k8s_pod *pod, const char *pos,
				const char **key, const char **value)
{
	const char *end;

	if (!pod->labels)
		return NULL;
	end = pod->labels + pod->labels_len;
	if (!pos)
		pos = pod->labels;
	if (pos >= end)
		return NULL;
	*key = pos;
	pos += strlen(pos) + 1;
	*value = pos;
	return pos + strlen(pos) + 1;
}

/* metadata.labels (string values only), packed "k\0v\0...". */
static int pack_labels(const cJSON *labels, struct k8s_pod *pod)
{
	const cJSON *l;
	size_t size = 0, kn, vn;
	char *p;

	cJSON_ArrayForEach(l, labels)
		if (cJSON_IsString(l) && l->string)
			size += strlen(l->string) + strlen(l->valuestring) + 2;
	if (!size)
		return 0;
	pod->labels = malloc(size);
	if (!pod->labels)
		return -ENOMEM;
	p = pod->labels;
	cJSON_ArrayForEach(l, labels) {
		if (!cJSON_IsString(l) || !l->string)
			continue;
		kn = strlen(l->string) + 1;
		vn = strlen(l->valuestring) + 1;
		memcpy(p, l->string, kn);
		memcpy(p + kn, l->valuestring, vn);
		p += kn + vn;
		pod->n_labels++;
	}
	pod->labels_len = size;
	return 0;
}

/*
 * The Deployment controller names its ReplicaSets "<deployment>-<hash>",
 * the hash being the pod's pod-template-hash label (an encoding in the
 * alphabet of k8s.io/apimachinery rand.SafeEncodeString).  Without the
 * label, a last "-suffix" of that alphabet is taken to be the hash.
 */
static void deployment_of(const cJSON *meta, const char *hash,
			  struct k8s_pod *pod)
{
	static const char safe[] = "bcdfghjklmnpqrstvwxz2456789";
	const cJSON *refs, *r;
	const char *kind, *name, *dash;
	size_t n, hn;

	refs = cJSON_GetObjectItemCaseSensitive(meta, "ownerReferences");
	cJSON_ArrayForEach(r, refs) {
		if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(r,
							"controller")))
			break;
	}
	kind = json_str(r, "kind");
	name = json_str(r, "name");
	if (!kind || !name || strcmp(kind, "ReplicaSet") != 0)
		return;
	n = strlen(name);
	if (hash && *hash) {
		hn = strlen(hash);
		if (n <= hn + 1 || name[n - hn - 1] != '-' ||
		    strcmp(name + n - hn, hash) != 0)
			return;
		n -= hn + 1;
	} else {
		dash = strrchr(name, '-');
		if (!dash || dash == name || !dash[1] ||
		    strlen(dash + 1) > 10 ||
		    strspn(dash + 1, safe) != strlen(dash + 1))
			return;
		n = (size_t)(dash - name);
	}
	if (n < sizeof(pod->deployment)) {
		memcpy(pod->deployment, name, n);
		pod->deployment[n] = '\0';
	}
}

/*
 * One item of the PodList.  Returns 0, -ENOENT (no usable metadata.uid:
 * skip it) or -ENOMEM.
 */
static int parse_pod(const cJSON *item, struct k8s_pod *pod)
{
	const cJSON *meta, *spec, *labels, *ann;
	const char *uid;

	memset(pod, 0, sizeof(*pod));
	meta = cJSON_GetObjectItemCaseSensitive(item, "metadata");
	spec = cJSON_GetObjectItemCaseSensitive(item, "spec");
	uid = json_str(meta, "uid");
	if (!uid || !*uid || strlen(uid) >= sizeof(pod->uid))
		return -ENOENT;
	copy_field(pod->uid, sizeof(pod->uid), uid);
	copy_field(pod->name, sizeof(pod->name), json_str(meta, "name"));
	copy_field(pod->namespace, sizeof(pod->namespace),
		   json_str(meta, "namespace"));
	copy_field(pod->node_name, sizeof(pod->node_name),
		   json_str(spec, "nodeName"));
	copy_field(pod->service_account, sizeof(pod->service_account),
		   json_str(spec, "serviceAccountName") ?:
		   json_str(spec, "serviceAccount"));
	ann = cJSON_GetObjectItemCaseSensitive(meta, "annotations");
	copy_field(pod->mirror_uid, sizeof(pod->mirror_uid),
		   json_str(ann, MIRROR_ANNOTATION));
	labels = cJSON_GetObjectItemCaseSensitive(meta, "labels");
	deployment_of(meta, json_str(labels, HASH_LABEL), pod);
	return pack_labels(labels, pod);
}

/*
 * The pods of the PodList's @items into @dst, which has room for all of
 * them; *@n receives the number kept.  Returns 0 or -ENOMEM (then the
 * pods filled so far are cleared).
 */
static int parse_items(const cJSON *items, struct k8s_pod *dst, size_t *n)
{
	const cJSON *item;
	size_t i = 0;
	int ret;

	cJSON_ArrayForEach(item, items) {
		ret = parse_pod(item, &dst[i]);
		if (ret == -ENOENT)
			continue;
		if (ret) {
			k8s_pod__clear(&dst[i]);
			while (i)
				k8s_pod__clear(&dst[--i]);
			return ret;
		}
		i++;
	}
	*n = i;
	return 0;
}

int k8s__parse_podlist(const char *json, size_t len, struct k8s_pod **pods,
		       size_t *n_pods, char *next, size_t next_size,
		       char *err, size_t err_size)
{
	const cJSON *items, *meta;
	const char *kind, *cont;
	struct k8s_pod *arr;
	cJSON *root;
	size_t n;
	int ret;

	if (next_size)
		next[0] = '\0';
	root = cJSON_ParseWithLength(json, len);
	if (!root) {
		log__errbuf(err, err_size, "the pod list is not JSON");
		return -EINVAL;
	}
	kind = json_str(root, "kind");
	items = cJSON_GetObjectItemCaseSensitive(root, "items");
	if (!cJSON_IsObject(root) || (kind && strcmp(kind, "PodList") != 0) ||
	    !(cJSON_IsArray(items) || cJSON_IsNull(items))) {
		log__errbuf(err, err_size, "not a PodList (kind %s)",
			    kind ?: "missing");
		ret = -EINVAL;
		goto out;
	}
	meta = cJSON_GetObjectItemCaseSensitive(root, "metadata");
	cont = json_str(meta, "continue");
	if (cont && strlen(cont) >= next_size) {
		log__errbuf(err, err_size, "continue token too long");
		ret = -ENOBUFS;
		goto out;
	}
	n = (size_t)cJSON_GetArraySize(items);
	if (n) {
		arr = realloc(*pods, (*n_pods + n) * sizeof(*arr));
		if (!arr) {
			ret = -ENOMEM;
			goto out;
		}
		*pods = arr;
		ret = parse_items(items, arr + *n_pods, &n);
		if (ret)
			goto out;
		*n_pods += n;
	}
	if (cont)
		strcpy(next, cont);
	ret = 0;
out:
	cJSON_Delete(root);
	return ret;
}

/* ------------------------------------------------------------------ */
/* The cache */

static void cache_free(struct cache *c)
{
	if (!c)
		return;
	k8s_pods__free(c->pods, c->n);
	free(c->index);
	free(c);
}

static int key_cmp(const void *a, const void *b)
{
	return strcmp(((const struct cache_key *)a)->key,
		      ((const struct cache_key *)b)->key);
}

/* Takes @pods; builds the sorted index by UID and static pod hash. */
static struct cache *cache_new(struct k8s_pod *pods, size_t n)
{
	struct cache *c = calloc(1, sizeof(*c));
	size_t i;

	if (!c) {
		k8s_pods__free(pods, n);
		return NULL;
	}
	c->pods = pods;
	c->n = n;
	c->index = calloc(2 * n + 1, sizeof(*c->index));
	if (!c->index) {
		cache_free(c);
		return NULL;
	}
	for (i = 0; i < n; i++) {
		c->index[c->n_index++] = (struct cache_key){ pods[i].uid,
							     &pods[i] };
		if (pods[i].mirror_uid[0])
			c->index[c->n_index++] = (struct cache_key){
				pods[i].mirror_uid, &pods[i] };
	}
	qsort(c->index, c->n_index, sizeof(*c->index), key_cmp);
	return c;
}

static const struct k8s_pod *cache_find(const struct cache *c,
					const char *uid)
{
	struct cache_key want = { uid, NULL };
	const struct cache_key *hit;

	if (!c || !c->n_index)
		return NULL;
	hit = bsearch(&want, c->index, c->n_index, sizeof(*c->index),
		      key_cmp);
	return hit ? hit->pod : NULL;
}

/* ------------------------------------------------------------------ */
/* HTTP */

static size_t on_data(char *ptr, size_t size, size_t nmemb, void *arg)
{
	struct body *b = arg;
	size_t n = size * nmemb, cap;
	char *p;

	if (b->len + n + 1 > MAX_BODY) {
		b->too_big = true;
		return 0;
	}
	if (b->len + n + 1 > b->cap) {
		cap = b->cap ? b->cap : 65536;
		while (cap < b->len + n + 1)
			cap *= 2;
		p = realloc(b->buf, cap);
		if (!p)
			return 0;
		b->buf = p;
		b->cap = cap;
	}
	memcpy(b->buf + b->len, ptr, n);
	b->len += n;
	b->buf[b->len] = '\0';
	return n;
}

/* Non-zero aborts the transfer: k8s__stop() does not wait for it. */
static int on_progress(void *arg, curl_off_t dltotal, curl_off_t dlnow,
		       curl_off_t ultotal, curl_off_t ulnow)
{
	struct k8s *k = arg;

	return atomic_load(&k->stopping);
}

/*
 * Reads the token file: at most MAX_TOKEN bytes, trailing white space
 * dropped.  Returns 0 and a malloc'd "Authorization: Bearer ..." header
 * in *@hdr, or -errno.
 */
static int read_token_header(const char *path, char **hdr)
{
	static const char prefix[] = "Authorization: Bearer ";
	size_t got = 0, plen = sizeof(prefix) - 1;
	char *buf;
	ssize_t n;
	int fd, err = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	buf = malloc(plen + MAX_TOKEN + 1);
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	memcpy(buf, prefix, plen);
	n = fdio__read_full(fd, buf + plen, MAX_TOKEN);
	close(fd);
	if (n < 0)
		err = (int)n;
	else
		got = (size_t)n;
	while (got && strchr(" \t\r\n", buf[plen + got - 1]))
		got--;
	if (!err && !got)
		err = -ENODATA;
	if (!err && memchr(buf + plen, '\n', got))
		err = -EINVAL;
	if (err) {
		explicit_bzero(buf, plen + MAX_TOKEN + 1);
		free(buf);
		return err;
	}
	buf[plen + got] = '\0';
	*hdr = buf;
	return 0;
}

static void free_secret(char *s)
{
	if (s) {
		explicit_bzero(s, strlen(s));
		free(s);
	}
}

/* The message of a Status object in an error response, if any. */
static void status_message(const struct body *b, char *out, size_t size)
{
	cJSON *root = b->buf ? cJSON_ParseWithLength(b->buf, b->len) : NULL;
	const char *msg = json_str(root, "message");

	snprintf(out, size, "%s", msg ?: "");
	cJSON_Delete(root);
}

/* https://API/api/v1/pods?fieldSelector=spec.nodeName%3DNODE&limit=N... */
static char *list_url(struct k8s *k, CURL *h, const char *cont)
{
	char *node, *c = NULL, *url = NULL;
	size_t n = strlen(k->api_server);

	while (n && k->api_server[n - 1] == '/')
		n--;
	node = curl_easy_escape(h, k->node_name, 0);
	if (cont && *cont)
		c = curl_easy_escape(h, cont, 0);
	if (node && (!cont || !*cont || c) &&
	    asprintf(&url, "%.*s/api/v1/pods?fieldSelector=spec.nodeName%%3D"
		     "%s&limit=%d%s%s", (int)n, k->api_server, node,
		     PAGE_LIMIT, c ? "&continue=" : "", c ?: "") < 0)
		url = NULL;
	curl_free(node);
	curl_free(c);
	return url;
}

/* One page.  Returns 0 with the body in @b, or -errno with @err set. */
static int get_page(struct k8s *k, CURL *h, struct curl_slist *hdrs,
		    const char *url, struct body *b, char *err,
		    size_t err_size)
{
	char cerr[CURL_ERROR_SIZE] = "", msg[200];
	long status = 0;
	CURLcode rc;

	curl_easy_reset(h);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "https");
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "");
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, (long)CONNECT_TIMEOUT_S);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, (long)k->timeout_s);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, cerr);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, b);
	curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(h, CURLOPT_XFERINFODATA, k);
	if (k->ca_path)
		curl_easy_setopt(h, CURLOPT_CAINFO, k->ca_path);
	rc = curl_easy_perform(h);
	if (rc != CURLE_OK) {
		if (b->too_big)
			log__errbuf(err, err_size, "response over %u bytes",
				    MAX_BODY);
		else
			log__errbuf(err, err_size, "%s: %s",
				    curl_easy_strerror(rc), cerr);
		return rc == CURLE_OUT_OF_MEMORY ? -ENOMEM : -EIO;
	}
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	if (status != 200) {
		status_message(b, msg, sizeof(msg));
		log__errbuf(err, err_size, "HTTP %ld%s%s", status,
			    msg[0] ? ": " : "", msg);
		return status == 401 || status == 403 ? -EACCES : -EIO;
	}
	return 0;
}

/*
 * Lists the node's pods, page by page.  Returns 0 and the pods, or
 * -errno with the reason in @err.
 */
static int list_pods(struct k8s *k, struct k8s_pod **pods, size_t *n,
		     char *err, size_t err_size)
{
	struct curl_slist *hdrs = NULL, *tmp;
	struct body b = { 0 };
	char *auth = NULL, *url = NULL, *cont;
	int ret, page;
	CURL *h;

	*pods = NULL;
	*n = 0;
	cont = calloc(1, CONTINUE_SIZE);
	h = curl_easy_init();
	if (!cont || !h) {
		log__errbuf(err, err_size, "out of memory");
		ret = -ENOMEM;
		goto out;
	}
	ret = read_token_header(k->token_path, &auth);
	if (ret) {
		log__errbuf(err, err_size, "token %s: %s", k->token_path,
			    strerror(-ret));
		goto out;
	}
	tmp = curl_slist_append(NULL, "Accept: application/json");
	hdrs = tmp ? curl_slist_append(tmp, auth) : NULL;
	if (!hdrs) {
		curl_slist_free_all(tmp);
		log__errbuf(err, err_size, "out of memory");
		ret = -ENOMEM;
		goto out;
	}
	for (page = 0; page < MAX_PAGES; page++) {
		free(url);
		url = list_url(k, h, cont);
		if (!url) {
			log__errbuf(err, err_size, "out of memory");
			ret = -ENOMEM;
			goto out;
		}
		b.len = 0;
		b.too_big = false;
		ret = get_page(k, h, hdrs, url, &b, err, err_size);
		if (ret)
			goto out;
		ret = k8s__parse_podlist(b.buf ?: "", b.len, pods, n, cont,
					 CONTINUE_SIZE, err, err_size);
		if (ret)
			goto out;
		if (!cont[0])
			goto out;
	}
	log__errbuf(err, err_size, "more than %d pages", MAX_PAGES);
	ret = -E2BIG;
out:
	if (ret) {
		k8s_pods__free(*pods, *n);
		*pods = NULL;
		*n = 0;
	}
	/* The header list holds a copy of the token. */
	for (tmp = hdrs; tmp; tmp = tmp->next)
		explicit_bzero(tmp->data, strlen(tmp->data));
	curl_slist_free_all(hdrs);
	free_secret(auth);
	curl_easy_cleanup(h);
	free(b.buf);
	free(url);
	free(cont);
	return ret;
}

/* ------------------------------------------------------------------ */
/* The worker */

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Lists once and installs the result or records the failure. */
static void refresh(struct k8s *k)
{
	struct cache *fresh = NULL, *old = NULL;
	struct k8s_pod *pods;
	char err[256] = "";
	bool first, recovered;
	size_t n = 0;
	int ret;

	ret = list_pods(k, &pods, &n, err, sizeof(err));
	if (!ret) {
		fresh = cache_new(pods, n);
		if (!fresh) {
			ret = -ENOMEM;
			snprintf(err, sizeof(err), "out of memory");
		}
	}
	if (atomic_load(&k->stopping)) {
		cache_free(fresh);
		return;
	}
	pthread_mutex_lock(&k->lock);
	if (!ret) {
		old = k->cache;
		k->cache = fresh;
		first = !k->st.have_list;
		recovered = k->st.last_error[0] != '\0';
		k->st.lists_ok++;
		k->st.pods = n;
		k->st.have_list = true;
		k->st.last_error[0] = '\0';
		pthread_mutex_unlock(&k->lock);
		cache_free(old);
		if (first || recovered)
			pr_info("kubernetes: %zu pods on node %s from %s%s", n,
				k->node_name, k->api_server,
				recovered ? " (listing works again)" : "");
		else
			pr_debug("kubernetes: %zu pods on node %s", n,
				 k->node_name);
		return;
	}
	k->st.lists_failed++;
	/* Logged when the error changes, not at every refresh. */
	if (strcmp(k->st.last_error, err) != 0) {
		snprintf(k->st.last_error, sizeof(k->st.last_error), "%s", err);
		pthread_mutex_unlock(&k->lock);
		pr_warn("kubernetes: listing the pods of node %s at %s failed: "
			"%s (retrying every %u s; events keep their container "
			"and pod ids)", k->node_name, k->api_server, err,
			k->refresh_s);
		return;
	}
	pthread_mutex_unlock(&k->lock);
}

static void deadline_ts(uint64_t ms, struct timespec *ts)
{
	ts->tv_sec = (time_t)(ms / 1000);
	ts->tv_nsec = (long)(ms % 1000) * 1000000;
}

static void *worker(void *arg)
{
	struct k8s *k = arg;
	uint64_t last, due, early;
	struct timespec ts;

	while (!atomic_load(&k->stopping)) {
		/* Misses during the list ask for the next one. */
		pthread_mutex_lock(&k->lock);
		k->want_list = false;
		pthread_mutex_unlock(&k->lock);
		last = now_ms();
		refresh(k);
		due = last + (uint64_t)k->refresh_s * 1000;
		early = last + (uint64_t)k->min_refresh_s * 1000;
		pthread_mutex_lock(&k->lock);
		while (!atomic_load(&k->stopping)) {
			if (now_ms() >= due ||
			    (k->want_list && now_ms() >= early))
				break;
			deadline_ts(k->want_list && early < due ? early : due,
				    &ts);
			pthread_cond_timedwait(&k->wake, &k->lock, &ts);
		}
		pthread_mutex_unlock(&k->lock);
	}
	return NULL;
}

/* ------------------------------------------------------------------ */
/* The public side */

static void k8s_free(struct k8s *k)
{
	if (!k)
		return;
	cache_free(k->cache);
	pthread_cond_destroy(&k->wake);
	pthread_mutex_destroy(&k->lock);
	free(k->api_server);
	free(k->node_name);
	free(k->token_path);
	free(k->ca_path);
	free(k);
}

/*
 * The token is a credential for the cluster: it goes only over TLS.  A
 * URL without "https://" (curl would guess http for a bare host) is
 * refused, with a message naming the setting.
 */
static int check_url(const char *url)
{
	if (strncasecmp(url, "https://", 8) == 0)
		return 0;
	pr_err("kubernetes.api_server \"%s\": not an https:// URL; the service account token is sent only over TLS",
	       url);
	return -EPROTONOSUPPORT;
}

int k8s__start(struct k8s **out, const struct k8s_opts *o)
{
	pthread_condattr_t ca;
	sigset_t all, old;
	struct k8s *k;
	int ret;

	if (!o->api_server || !*o->api_server || !o->node_name ||
	    !*o->node_name || !o->token_path || !o->refresh_s)
		return -EINVAL;
	ret = check_url(o->api_server);
	if (ret)
		return ret;
	k = calloc(1, sizeof(*k));
	if (!k)
		return -ENOMEM;
	pthread_mutex_init(&k->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&k->wake, &ca);
	pthread_condattr_destroy(&ca);
	atomic_init(&k->stopping, false);
	k->api_server = strdup(o->api_server);
	k->node_name = strdup(o->node_name);
	k->token_path = strdup(o->token_path);
	k->ca_path = o->ca_path ? strdup(o->ca_path) : NULL;
	if (!k->api_server || !k->node_name || !k->token_path ||
	    (o->ca_path && !k->ca_path)) {
		k8s_free(k);
		return -ENOMEM;
	}
	k->refresh_s = o->refresh_s;
	k->min_refresh_s = o->min_refresh_s ?: DEFAULT_MIN_REFRESH_S;
	k->timeout_s = o->timeout_s ?: DEFAULT_TIMEOUT_S;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		k8s_free(k);
		return -ENOMEM;
	}
	/*
	 * The worker takes no signals: the main loop reads them from a
	 * signalfd, which works only while every thread blocks them.
	 */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	ret = -pthread_create(&k->thread, NULL, worker, k);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (ret) {
		curl_global_cleanup();
		k8s_free(k);
		return ret;
	}
	k->thread_started = true;
	*out = k;
	return 0;
}

/* True (and remembered) when @uid has not asked for a list yet. */
static bool first_miss(struct k8s *k, const char *uid)
{
	unsigned int i;

	for (i = 0; i < MISS_RING; i++)
		if (strcmp(k->missed[i], uid) == 0)
			return false;
	snprintf(k->missed[k->miss_next], K8S_UID_SIZE, "%s", uid);
	k->miss_next = (k->miss_next + 1) % MISS_RING;
	return true;
}

int k8s__lookup(struct k8s *k, const char *pod_uid, struct k8s_pod *out)
{
	const struct k8s_pod *p;
	int ret = 0;

	memset(out, 0, sizeof(*out));
	if (!k || !pod_uid || !*pod_uid || strlen(pod_uid) >= K8S_UID_SIZE)
		return -ENOENT;
	pthread_mutex_lock(&k->lock);
	p = cache_find(k->cache, pod_uid);
	if (!p) {
		/* A pod newer than the list: ask for an early one, once. */
		if (first_miss(k, pod_uid)) {
			k->want_list = true;
			pthread_cond_signal(&k->wake);
		}
		ret = -ENOENT;
	} else {
		*out = *p;
		if (p->labels) {
			out->labels = malloc(p->labels_len);
			if (out->labels)
				memcpy(out->labels, p->labels, p->labels_len);
		}
		if (p->labels && !out->labels) {
			memset(out, 0, sizeof(*out));
			ret = -ENOMEM;
		}
	}
	pthread_mutex_unlock(&k->lock);
	return ret;
}

void k8s__stats(struct k8s *k, struct k8s_stats *st)
{
	if (!k) {
		memset(st, 0, sizeof(*st));
		return;
	}
	pthread_mutex_lock(&k->lock);
	*st = k->st;
	pthread_mutex_unlock(&k->lock);
}

void k8s__stop(struct k8s *k)
{
	if (!k)
		return;
	if (k->thread_started) {
		pthread_mutex_lock(&k->lock);
		atomic_store(&k->stopping, true);
		pthread_cond_broadcast(&k->wake);
		pthread_mutex_unlock(&k->lock);
		pthread_join(k->thread, NULL);
		curl_global_cleanup();
	}
	k8s_free(k);
}
