/*
 * carrier/smpp_client.c - placeholder of the SMPP 3.4 driver.
 */
#include "session.h"

static long frame_len(const uint8_t *data, size_t avail)
{
    (void)data, (void)avail;
    return -1;
}
static void nop_link(carrier_link *l)
{
    link_close(l, "SMPP not available");
}
static int nop_submit(carrier_link *l, const carrier_seg *s, uint32_t seq)
{
    (void)l, (void)s, (void)seq;
    return -1;
}
static void nop_keepalive(carrier_link *l, uint32_t seq)
{
    (void)l, (void)seq;
}
static void nop_logout(carrier_link *l)
{
    (void)l;
}
static void nop_pdu(carrier_link *l, const uint8_t *p, size_t n)
{
    (void)l, (void)p, (void)n;
}
static int nop_throttle(int s)
{
    return s == 0x58;
}
const carrier_proto carrier_smpp_proto = {"smpp34", 16, frame_len, nop_link, nop_submit,
                                          nop_keepalive, nop_logout, nop_pdu, nop_throttle};
