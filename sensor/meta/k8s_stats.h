/* SPDX-License-Identifier: MIT */
/*
 * k8s_stats.h - the Kubernetes client's counters (k8s__stats()), one row
 * each in the layout of lib/stats.h.  Section "kubernetes".
 */
#ifndef OISP_K8S_STATS_H
#define OISP_K8S_STATS_H

#include <stdbool.h>

#include "lib/stats.h"

#define K8S_STATS(X) \
	X(lists_ok, COUNTER, OK, \
	  "Complete lists of the node's pods from the API server.") \
	X(lists_failed, COUNTER, BAD, \
	  "Pod lists that failed.") \
	X(pods, GAUGE, OK, \
	  "Pods in the cache, from the last complete list.")

struct k8s_stats {
	K8S_STATS(STATS_MEMBER)
	bool have_list;		/* a list has succeeded since the start */
	char last_error[256];	/* "" when the last list succeeded */
};

#endif /* OISP_K8S_STATS_H */
