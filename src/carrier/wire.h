/*
 * carrier/wire.h - big-endian integers and fixed-width octet strings, the
 * building blocks shared by the CMPP and SMPP codecs. A reader walks a byte
 * range and latches an error instead of reading past its end, so that a
 * decoder checks once at the end (like Go's binary reader with a sticky err).
 */
#ifndef HRSS_CARRIER_WIRE_H
#define HRSS_CARRIER_WIRE_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "common/util.h"

typedef struct wire_rd {
    const uint8_t *p;
    size_t left;
    int err; /* set once a read wanted more than was left */
} wire_rd;

static inline void wire_rd_init(wire_rd *r, const uint8_t *p, size_t n)
{
    r->p = p;
    r->left = n;
    r->err = 0;
}

static inline const uint8_t *wire_take(wire_rd *r, size_t n)
{
    if (r->err || r->left < n) {
        r->err = 1;
        return NULL;
    }
    const uint8_t *q = r->p;
    r->p += n;
    r->left -= n;
    return q;
}

static inline uint8_t wire_u8(wire_rd *r)
{
    const uint8_t *q = wire_take(r, 1);
    return q ? q[0] : 0;
}

static inline uint16_t wire_u16(wire_rd *r)
{
    const uint8_t *q = wire_take(r, 2);
    return q ? (uint16_t)(q[0] << 8 | q[1]) : 0;
}

static inline uint32_t wire_get32(const uint8_t *q)
{
    return (uint32_t)q[0] << 24 | (uint32_t)q[1] << 16 | (uint32_t)q[2] << 8 | q[3];
}

static inline uint32_t wire_u32(wire_rd *r)
{
    const uint8_t *q = wire_take(r, 4);
    return q ? wire_get32(q) : 0;
}

static inline uint64_t wire_u64(wire_rd *r)
{
    const uint8_t *q = wire_take(r, 8);
    return q ? (uint64_t)wire_get32(q) << 32 | wire_get32(q + 4) : 0;
}

/* A fixed-width octet string of w bytes into dst (dst_size >= w + 1): the
 * bytes up to the first NUL, always NUL-terminated. */
static inline void wire_fixed(wire_rd *r, size_t w, char *dst)
{
    const uint8_t *q = wire_take(r, w);
    size_t n = 0;
    if (q != NULL)
        while (n < w && q[n] != 0)
            n++;
    if (n > 0)
        memcpy(dst, q, n);
    dst[n] = '\0';
}

/* Length of the PDU at data whose first u32 is its whole length: 0 when the
 * header (hdr bytes) is not all there, -1 when the length is below hdr or
 * above max (the peer must be dropped), else the length. */
static inline long wire_frame_len(const uint8_t *data, size_t avail, size_t hdr, uint32_t max)
{
    if (avail < hdr)
        return 0;
    uint32_t len = wire_get32(data);
    if (len < hdr || len > max)
        return -1;
    return (long)len;
}

static inline void wire_put32(uint8_t *q, uint32_t v)
{
    q[0] = (uint8_t)(v >> 24);
    q[1] = (uint8_t)(v >> 16);
    q[2] = (uint8_t)(v >> 8);
    q[3] = (uint8_t)v;
}

static inline int wire_add_u8(hrss_buf *b, unsigned v)
{
    uint8_t c = (uint8_t)v;
    return buf_append(b, &c, 1);
}

static inline int wire_add_u16(hrss_buf *b, unsigned v)
{
    uint8_t q[2] = {(uint8_t)(v >> 8), (uint8_t)v};
    return buf_append(b, q, 2);
}

static inline int wire_add_u32(hrss_buf *b, uint32_t v)
{
    uint8_t q[4];
    wire_put32(q, v);
    return buf_append(b, q, 4);
}

static inline int wire_add_u64(hrss_buf *b, uint64_t v)
{
    return wire_add_u32(b, (uint32_t)(v >> 32)) | wire_add_u32(b, (uint32_t)v);
}

/* s (strlen <= w, else -1) padded with NULs to w bytes. */
static inline int wire_add_fixed(hrss_buf *b, const char *s, size_t w)
{
    static const uint8_t zeros[64];
    size_t n = strlen(s);
    if (n > w || w - n > sizeof(zeros))
        return -1;
    return buf_append(b, s, n) | buf_append(b, zeros, w - n);
}

#endif
