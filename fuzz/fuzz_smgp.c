/*
 * fuzz/fuzz_smgp.c - the SMGP 3.0 codec. Any bytes are framed and decoded
 * without reading out of bounds; a PDU that decodes re-encodes, the
 * re-encoding decodes and encodes to the same bytes again (fields are
 * normalised once: text stops at its first NUL, TLVs come in tag order,
 * unknown ones dropped). A Deliver's content is also read as a status
 * report, and the whole input as one too.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "carrier/smgp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static smgp_pdu p, q;
    smgp_report r;
    if (smgp_report_parse(data, size, &r) == 0 && strlen(r.id) != 20)
        abort();
    long n = smgp_frame_len(data, size);
    (void)smgp_decode(data, size, &p);
    if (n <= 0 || (size_t)n > size)
        return 0;
    if (smgp_decode(data, (size_t)n, &p) != 0)
        return 0;
    if (p.request_id == SMGP_DELIVER && p.u.deliver.is_report &&
        smgp_report_parse(p.u.deliver.content, p.u.deliver.msg_length, &r) == 0 &&
        strlen(r.id) != 20)
        abort();
    hrss_buf a, b;
    buf_init(&a, SMGP_MAX_PDU);
    buf_init(&b, SMGP_MAX_PDU);
    if (smgp_encode(&p, &a) != 0)
        abort();
    if (smgp_decode((const uint8_t *)a.p, a.len, &q) != 0)
        abort();
    if (smgp_encode(&q, &b) != 0 || a.len != b.len || memcmp(a.p, b.p, a.len) != 0)
        abort();
    buf_free(&a);
    buf_free(&b);
    return 0;
}
