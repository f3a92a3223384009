/*
 * fuzz/fuzz_smpp.c - the SMPP 3.4 codec. Any bytes are framed and decoded
 * without reading out of bounds; a PDU that decodes re-encodes, and the
 * re-encoding decodes and encodes to the same bytes again (unknown TLVs are
 * dropped once). A short message is also parsed as a delivery receipt, and
 * its id put in canonical form in both bases.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "carrier/smpp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    smpp_pdu *p = malloc(sizeof(*p)), *q = malloc(sizeof(*q));
    if (p == NULL || q == NULL)
        abort();
    (void)smpp_decode(data, size, p);
    long n = smpp_frame_len(data, size);
    if (n > 0 && (size_t)n <= size && smpp_decode(data, (size_t)n, p) == 0) {
        if (p->command_id == SMPP_DELIVER_SM || p->command_id == SMPP_SUBMIT_SM) {
            smpp_receipt r;
            memset(&r, 0, sizeof(r));
            if (smpp_receipt_parse(p->u.sm.short_message, p->u.sm.sm_length, &r) == 0) {
                char out[80];
                smpp_msgid_canon(r.id, 10, out, sizeof(out));
                smpp_msgid_canon(r.id, 16, out, sizeof(out));
                if (strlen(r.id) >= sizeof(r.id) || strlen(r.stat) >= sizeof(r.stat))
                    abort();
            }
        }
        hrss_buf a, b;
        buf_init(&a, SMPP_MAX_PDU);
        buf_init(&b, SMPP_MAX_PDU);
        if (smpp_encode(p, &a) != 0)
            abort();
        if (smpp_decode((const uint8_t *)a.p, a.len, q) != 0)
            abort();
        if (smpp_encode(q, &b) != 0 || a.len != b.len || memcmp(a.p, b.p, a.len) != 0)
            abort();
        buf_free(&a);
        buf_free(&b);
    }
    free(p);
    free(q);
    return 0;
}
