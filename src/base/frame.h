/* frame.h — Docker's stream framing, encoded and decoded in one place.
 *
 * A non-terminal stream of logs, attach or exec carries stdout and stderr
 * on one connection as frames: an 8-byte header (byte 0 the stream: 1
 * stdout, 2 stderr; bytes 4..7 the payload's length, big-endian) and the
 * payload. The daemon writes headers with sn_frame_header; clients feed
 * what they read, in pieces of any size, to sn_frame_feed, which calls
 * back with each payload piece and its stream.
 */
#ifndef SN_BASE_FRAME_H
#define SN_BASE_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SN_FRAME_HDR 8

void sn_frame_header(unsigned char h[SN_FRAME_HDR], int stream, uint32_t len);

struct sn_frame_reader {
	unsigned char hdr[SN_FRAME_HDR];
	size_t hlen;  /* header bytes collected */
	size_t left;  /* payload bytes left in the current frame */
	int stream;   /* of the current frame */
};

/* Feed n bytes; emit(stream, piece, len, arg) for every payload piece.
 * false as soon as emit returns false. */
bool sn_frame_feed(struct sn_frame_reader *r, const char *p, size_t n,
		   bool (*emit)(int stream, const char *p, size_t n, void *arg), void *arg);

#endif
