/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef NUQ_FILE_H
#define NUQ_FILE_H

#include <stddef.h>
#include <stdint.h>

/*
 * Read a whole regular file of at most @max bytes into a new buffer.
 * Returns 0 or a negative errno with a message naming @path.
 */
int nuq_read_file(const char *path, unsigned long long max, uint8_t **buf, size_t *len,
		  char *msg, size_t msglen);

/* Prefix the message in @msg with "@path: ". */
void nuq_msg_prefix_path(char *msg, size_t msglen, const char *path);

#endif
