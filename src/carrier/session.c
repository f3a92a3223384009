/*
 * carrier/session.c - placeholder of the session core: the links are not
 * implemented yet, so no client can be created.
 */
#include <stdlib.h>
#include <string.h>

#include "carrier.h"

carrier_client *carrier_client_new(struct event_base *base, const carrier_config *cfg,
                                   const carrier_callbacks *cb)
{
    (void)base;
    (void)cfg;
    (void)cb;
    return NULL;
}

int carrier_submit(carrier_client *c, uint64_t seg_ref, const char *dest, const char *src_ext,
                   const uint8_t *ud, size_t ud_len, int data_coding, int has_udh,
                   int want_report)
{
    (void)c, (void)seg_ref, (void)dest, (void)src_ext, (void)ud, (void)ud_len;
    (void)data_coding, (void)has_udh, (void)want_report;
    return -1;
}

void carrier_client_stats(const carrier_client *c, carrier_stats *st)
{
    (void)c;
    memset(st, 0, sizeof(*st));
    st->last_login_status = -1;
}

void carrier_client_free(carrier_client *c)
{
    (void)c;
}
