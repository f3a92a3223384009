/*
 * fuzz/fuzz_cmpp.c - the CMPP 3.0 codec. Any bytes are framed and decoded
 * without reading out of bounds; a PDU that decodes re-encodes, the
 * re-encoding decodes to the same PDU and encodes to the same bytes again
 * (fields are normalised once: text stops at its first NUL). A DELIVER's
 * content is also tried as a status report.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "carrier/cmpp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static cmpp_pdu p, q;
    long n = cmpp_frame_len(data, size);
    if (n < 0 || (n > 0 && (size_t)n > size && n > CMPP_MAX_PDU))
        return 0;
    /* decode the whole input as one PDU as well as its framed prefix */
    (void)cmpp_decode(data, size, &p);
    if (n <= 0 || (size_t)n > size)
        return 0;
    if (cmpp_decode(data, (size_t)n, &p) != 0)
        return 0;
    if (p.command_id == CMPP_DELIVER) {
        cmpp_report r;
        uint8_t again[CMPP_REPORT_LEN];
        if (cmpp_report_decode(p.u.deliver.content, p.u.deliver.msg_length, &r) == 0 &&
            cmpp_report_encode(&r, again) != 0)
            abort();
    }
    hrss_buf a, b;
    buf_init(&a, CMPP_MAX_PDU);
    buf_init(&b, CMPP_MAX_PDU);
    if (cmpp_encode(&p, &a) != 0)
        abort();
    if (cmpp_decode((const uint8_t *)a.p, a.len, &q) != 0)
        abort();
    if (cmpp_encode(&q, &b) != 0 || a.len != b.len || memcmp(a.p, b.p, a.len) != 0)
        abort();
    buf_free(&a);
    buf_free(&b);
    return 0;
}
