/* SPDX-License-Identifier: MIT */
/*
 * k8s.h - pod metadata from the Kubernetes API server, for the pods of
 * this node.
 *
 * A worker thread lists the node's pods (GET /api/v1/pods?fieldSelector=
 * spec.nodeName=NODE, Kubernetes API reference "list Pod", paginated with
 * limit/continue) with the service account's bearer token, verifying the
 * server against the cluster CA, every refresh interval and soon after a
 * lookup misses (a new pod).  Each list replaces a cache of pod UID ->
 * metadata under a mutex.  The token file is read again for every list:
 * projected service account tokens rotate.  Failures are logged when the
 * error changes, not at every refresh; lookups keep answering from the
 * last good list, and the sensor works without any.
 *
 * The PodList parser is separate (k8s__parse_podlist) so that it is
 * tested without a network.
 */
#ifndef OISP_K8S_H
#define OISP_K8S_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "meta/k8s_stats.h"

struct k8s;

/* Field sizes, with the NUL, from the API's validation limits. */
#define K8S_UID_SIZE	40	/* a UUID (36), or a static pod's hash (32) */
#define K8S_NAME_SIZE	254	/* DNS subdomain names: pods, accounts, nodes */
#define K8S_NS_SIZE	64	/* DNS label: namespaces */

/*
 * One pod.  Strings are "" when absent.  @labels holds @n_labels pairs
 * packed as "key\0value\0key\0value\0" (@labels_len bytes, malloc'd, NULL
 * when there are none); walk it with k8s_pod__next_label().
 */
struct k8s_pod {
	char uid[K8S_UID_SIZE];			/* metadata.uid */
	/*
	 * Static (mirror) pods: the kubelet's config hash, the UID their
	 * cgroups carry (annotation kubernetes.io/config.mirror).
	 */
	char mirror_uid[K8S_UID_SIZE];
	char name[K8S_NAME_SIZE];		/* metadata.name */
	char namespace[K8S_NS_SIZE];		/* metadata.namespace */
	char node_name[K8S_NAME_SIZE];		/* spec.nodeName */
	char service_account[K8S_NAME_SIZE];	/* spec.serviceAccountName */
	/*
	 * The Deployment, when the controlling owner is a ReplicaSet named
	 * "<deployment>-<pod-template-hash>": the name without that suffix.
	 */
	char deployment[K8S_NAME_SIZE];
	char *labels;
	size_t labels_len;
	size_t n_labels;
};

struct k8s_opts {
	const char *api_server;	/* "https://host:port", required; only https */
	const char *node_name;	/* spec.nodeName to select, required */
	const char *token_path;	/* bearer token file, required */
	const char *ca_path;	/* PEM CA bundle; NULL: the system's */
	unsigned int refresh_s;	/* seconds between lists, >= 1 */
	/*
	 * Least seconds between two lists that lookup misses ask for
	 * (0: the default, 5).
	 */
	unsigned int min_refresh_s;
	unsigned int timeout_s;	/* per HTTP request (0: the default, 20) */
};

/*
 * Copies the options, starts the worker thread (it lists at once) and
 * returns the client in *@out.  Does not wait for the first list.
 * Returns 0, -EINVAL (a required option missing, refresh_s 0),
 * -EPROTONOSUPPORT when api_server does not start with "https://" (the
 * bearer token never travels in clear; logged naming
 * kubernetes.api_server), -ENOMEM, or the -errno of curl's global init
 * or pthread_create.
 */
int k8s__start(struct k8s **out, const struct k8s_opts *opts);

/*
 * Copies the metadata of the pod whose UID (or static pod hash) is
 * @pod_uid into @out, which then owns its labels (k8s_pod__clear()).
 * Holds the cache's lock only while copying.  A miss asks the worker for
 * an early list (at most one per min_refresh_s).  @k may be NULL.
 * Returns 0, -ENOENT (not in the cache, or @k or @pod_uid NULL/empty), or
 * -ENOMEM (then @out is cleared).
 */
int k8s__lookup(struct k8s *k, const char *pod_uid, struct k8s_pod *out);

/* Counters and the last error, copied under the lock; @k NULL gives zeros. */
void k8s__stats(struct k8s *k, struct k8s_stats *st);

/*
 * Wakes the worker, aborts a request in progress, joins the thread and
 * frees everything.  Returns within about a second.  NULL is fine.
 */
void k8s__stop(struct k8s *k);

/*
 * Parses a PodList (the JSON of "list Pod", kind "PodList", apiVersion
 * "v1") of @len bytes at @json.  Appends its pods to the malloc'd array
 * *@pods of *@n_pods entries (both start as NULL / 0; on error the array
 * keeps what it had), and copies metadata.continue to @next (@next_size
 * bytes; "" when this is the last page).  Items without metadata.uid are
 * skipped; over-long strings are left empty.  Returns 0, -EINVAL (not
 * JSON, not a PodList: the reason in @err), -ENOBUFS (continue token
 * longer than @next_size) or -ENOMEM.
 */
int k8s__parse_podlist(const char *json, size_t len, struct k8s_pod **pods,
		       size_t *n_pods, char *next, size_t next_size,
		       char *err, size_t err_size);

/* Frees the labels of @n pods of @pods, then @pods.  NULL is fine. */
void k8s_pods__free(struct k8s_pod *pods, size_t n);

/* Frees @pod's labels and empties them; NULL is fine. */
void k8s_pod__clear(struct k8s_pod *pod);

/*
 * Label iteration: @pos NULL starts at the first label.  Sets *@key and
 * *@value (pointing into @pod->labels) and returns the position to pass
 * next, or NULL when there are no more labels:
 *   const char *pos = NULL, *key, *value;
 *   while ((pos = k8s_pod__next_label(pod, pos, &key, &value)))
 *           use(key, value);
 */
const char *k8s_pod__next_label(const struct k8s_pod *pod, const char *pos,
				const char **key, const char **value);

#endif /* OISP_K8S_H */
