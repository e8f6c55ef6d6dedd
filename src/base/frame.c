/* frame.c — Docker's stream framing (see frame.h). */
#include "base/frame.h"

#include <string.h>

void sn_frame_header(unsigned char h[SN_FRAME_HDR], int stream, uint32_t len)
{
	h[0] = (unsigned char)stream;
	h[1] = h[2] = h[3] = 0;
	h[4] = (unsigned char)(len >> 24);
	h[5] = (unsigned char)(len >> 16);
	h[6] = (unsigned char)(len >> 8);
	h[7] = (unsigned char)len;
}

bool sn_frame_feed(struct sn_frame_reader *r, const char *p, size_t n,
		   bool (*emit)(int stream, const char *p, size_t n, void *arg), void *arg)
{
	while (n) {
		if (!r->left) {
			size_t t = SN_FRAME_HDR - r->hlen < n ? SN_FRAME_HDR - r->hlen : n;
			memcpy(r->hdr + r->hlen, p, t);
			r->hlen += t;
			p += t;
			n -= t;
			if (r->hlen < SN_FRAME_HDR)
				return true;
			r->hlen = 0;
			r->stream = r->hdr[0];
			r->left = (size_t)r->hdr[4] << 24 | (size_t)r->hdr[5] << 16 |
				  (size_t)r->hdr[6] << 8 | r->hdr[7];
			continue;
		}
		size_t t = r->left < n ? r->left : n;
		if (!emit(r->stream, p, t, arg))
			return false;
		r->left -= t;
		p += t;
		n -= t;
	}
	return true;
}
