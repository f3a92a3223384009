/*
 * fuzz/fuzz_sgip.c - the SGIP 1.2 codec. Any bytes are framed and decoded
 * without reading out of bounds; a PDU that decodes re-encodes, the
 * re-encoding decodes and encodes to the same bytes again (fields are
 * normalised once: text stops at its first NUL, Trace_Resp keeps its first
 * records).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "carrier/sgip.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static sgip_pdu p, q;
    long n = sgip_frame_len(data, size);
    (void)sgip_decode(data, size, &p);
    if (n <= 0 || (size_t)n > size)
        return 0;
    if (sgip_decode(data, (size_t)n, &p) != 0)
        return 0;
    char text[36];
    sgip_seq_text(&p.seq, text);
    if (strlen(text) < 14)
        abort();
    hrss_buf a, b;
    buf_init(&a, SGIP_MAX_PDU);
    buf_init(&b, SGIP_MAX_PDU);
    if (sgip_encode(&p, &a) != 0)
        abort();
    if (sgip_decode((const uint8_t *)a.p, a.len, &q) != 0)
        abort();
    if (sgip_encode(&q, &b) != 0 || a.len != b.len || memcmp(a.p, b.p, a.len) != 0)
        abort();
    buf_free(&a);
    buf_free(&b);
    return 0;
}
