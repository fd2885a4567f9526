// SPDX-License-Identifier: MIT
/*
 * record.c - the shape check of capture records (record.h).
 */
#include <errno.h>
#include <string.h>

#include "capture/record.h"

/* Size of each fixed-size kind that leaves capture; 0: not one. */
static const size_t fixed_size[] = {
	[CAP_KIND_EXEC] = sizeof(struct cap_proc),
	[CAP_KIND_EXIT] = sizeof(struct cap_proc),
	[CAP_KIND_DLOPEN] = sizeof(struct cap_proc),
	[CAP_KIND_FREE] = sizeof(struct cap_free),
};

static int check_data(const void *rec, size_t len)
{
	__u32 dlen, dir;

	if (len < CAP_DATA_HDR_SIZE)
		return -EBADMSG;
	memcpy(&dlen, (const char *)rec +
	       __builtin_offsetof(struct cap_data, len), sizeof(dlen));
	memcpy(&dir, (const char *)rec +
	       __builtin_offsetof(struct cap_data, dir), sizeof(dir));
	if (dlen > CAP_CHUNK_MAX || len != CAP_DATA_HDR_SIZE + dlen)
		return -EBADMSG;
	if (dir != CAP_DIR_WRITE && dir != CAP_DIR_READ)
		return -EBADMSG;
	return 0;
}

int record__check(const void *rec, size_t len)
{
	struct cap_hdr hdr;

	if (!rec || len < sizeof(hdr))
		return -EBADMSG;
	memcpy(&hdr, rec, sizeof(hdr));
	if (hdr.kind == CAP_KIND_DATA)
		return check_data(rec, len);
	if (hdr.kind >= sizeof(fixed_size) / sizeof(fixed_size[0]) ||
	    !fixed_size[hdr.kind])
		return -EBADMSG;
	return len == fixed_size[hdr.kind] ? 0 : -EBADMSG;
}
