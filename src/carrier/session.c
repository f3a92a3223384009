/*
 * carrier/session.c - the session core of the carrier links (session.h) and
 * the client API of carrier.h on top of it.
 *
 * One housekeeping timer per client (every 100 ms) reconnects links whose
 * backoff has passed, times out logins, retransmits submits and keep-alives
 * whose response is late (N times, then the link is dropped), sends a
 * keep-alive after heartbeat_s without traffic from the peer, and raises the
 * send rate again after a flow-control slow-down. Sending itself ("pump")
 * runs from a deferred event: it takes segments from the account's queue,
 * spends a token of the rate limit, and writes each on the next logged-in
 * link with a free window slot (round robin).
 *
 * Delivery is at least once: a segment in flight on a link that drops is put
 * back at the head of the queue and sent again on another link (max_attempts
 * times at most), since the carrier may or may not have taken it.
 */
#include <errno.h>
#include <iconv.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "session.h"
#include "common/xalloc.h"

#define TICK_MS 100
#define RATE_RING_UNLIMITED 4096 /* a slow-down from "no limit" starts at most here */

uint64_t carrier_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

void link_log(carrier_link *l, int level, const char *fmt, ...)
{
    carrier_client *c = l->c;
    if (c->cb.on_log == NULL)
        return;
    char msg[400], line[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    snprintf(line, sizeof(line), "carrier=%s proto=%s link=%d %s", c->cfg.name, c->proto->name,
             l->idx, msg);
    c->cb.on_log(c->cb.arg, level, line);
}

void carrier_log(carrier_client *c, int level, const char *fmt, ...)
{
    if (c->cb.on_log == NULL)
        return;
    char msg[400], line[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    snprintf(line, sizeof(line), "carrier=%s proto=%s %s", c->cfg.name, c->proto->name, msg);
    c->cb.on_log(c->cb.arg, level, line);
}

uint32_t link_next_seq(carrier_link *l)
{
    l->seq = l->seq >= 0x7fffffffu ? 1 : l->seq + 1;
    return l->seq;
}

void link_write(carrier_link *l, const void *p, size_t n)
{
    if (l->bev != NULL && l->state != LINK_DOWN)
        bufferevent_write(l->bev, p, n);
}

/* ---- the queue ---- */

static void q_push_tail(carrier_client *c, carrier_seg *s)
{
    s->next = NULL;
    if (c->q_tail)
        c->q_tail->next = s;
    else
        c->q_head = s;
    c->q_tail = s;
    c->queued++;
}

static void q_push_head(carrier_client *c, carrier_seg *s)
{
    s->next = c->q_head;
    c->q_head = s;
    if (c->q_tail == NULL)
        c->q_tail = s;
    c->queued++;
}

static carrier_seg *q_pop(carrier_client *c)
{
    carrier_seg *s = c->q_head;
    if (s == NULL)
        return NULL;
    c->q_head = s->next;
    if (c->q_head == NULL)
        c->q_tail = NULL;
    c->queued--;
    s->next = NULL;
    return s;
}

static void schedule_pump(carrier_client *c)
{
    event_active(c->pump, EV_TIMEOUT, 0);
}

static void result(carrier_client *c, carrier_seg *s, int status, const char *msgid)
{
    uint64_t ref = s->ref;
    free(s);
    if (c->cb.on_submit_result)
        c->cb.on_submit_result(c->cb.arg, ref, status, msgid);
}

/* ---- links ---- */

static void set_links_up(carrier_client *c, int delta)
{
    c->links_up += delta;
    if (c->cb.on_link)
        c->cb.on_link(c->cb.arg, c->links_up);
}

static void teardown(carrier_link *l)
{
    carrier_client *c = l->c;
    if (l->bev) {
        bufferevent_free(l->bev);
        l->bev = NULL;
    }
    /* Put what was in flight back at the head of the queue, oldest first. */
    int w = c->cfg.window;
    for (;;) {
        int best = -1;
        for (int i = 0; i < w; i++)
            if (l->slots[i].seg && (best < 0 || l->slots[i].sent_ms > l->slots[best].sent_ms))
                best = i;
        if (best < 0)
            break;
        carrier_seg *s = l->slots[best].seg;
        l->slots[best].seg = NULL;
        s->attempts++;
        if (s->attempts >= c->cfg.max_attempts)
            result(c, s, CARRIER_ETIMEOUT, "");
        else
            q_push_head(c, s);
    }
    l->inflight = 0;
    l->hb_out = 0;
    l->close_pending = 0;
    uint64_t now = carrier_now_ms();
    l->reconnect_at_ms = now + (uint64_t)l->backoff_ms;
    l->backoff_ms = l->backoff_ms * 2 > c->cfg.reconnect_max_ms ? c->cfg.reconnect_max_ms
                                                                 : l->backoff_ms * 2;
    l->state = LINK_DOWN;
    if (c->queued)
        schedule_pump(c);
}

void link_close(carrier_link *l, const char *why)
{
    if (l->state == LINK_DOWN)
        return;
    link_log(l, l->state == LINK_UP || l->state == LINK_CLOSING ? 1 : 2, "event=link_down why=%s",
             why);
    if (l->state == LINK_UP)
        set_links_up(l->c, -1);
    if (l->in_read) {
        l->state = LINK_CLOSING;
        l->close_pending = 1;
        return;
    }
    teardown(l);
}

static void event_cb(struct bufferevent *bev, short what, void *arg);

static void flushed_cb(struct bufferevent *bev, void *arg)
{
    (void)bev;
    carrier_link *l = arg;
    link_close(l, "closed by peer");
}

void link_close_after_flush(carrier_link *l, const char *why)
{
    if (l->bev == NULL)
        return;
    link_log(l, 2, "event=link_closing why=%s", why);
    if (l->state == LINK_UP)
        set_links_up(l->c, -1);
    l->state = LINK_CLOSING;
    l->login_sent_ms = carrier_now_ms(); /* the answer has the response timeout to leave */
    if (evbuffer_get_length(bufferevent_get_output(l->bev)) == 0) {
        link_close(l, why);
        return;
    }
    bufferevent_setcb(l->bev, NULL, flushed_cb, event_cb, l);
    bufferevent_disable(l->bev, EV_READ);
}

static void read_cb(struct bufferevent *bev, void *arg)
{
    carrier_link *l = arg;
    const carrier_proto *p = l->c->proto;
    struct evbuffer *in = bufferevent_get_input(bev);
    l->in_read = 1;
    while (!l->close_pending) {
        size_t avail = evbuffer_get_length(in);
        if (avail < p->header_len)
            break;
        const uint8_t *h = evbuffer_pullup(in, (ev_ssize_t)p->header_len);
        long n = p->frame_len(h, avail);
        if (n < 0) {
            link_close(l, "malformed frame");
            break;
        }
        if (n == 0 || (size_t)n > avail)
            break;
        const uint8_t *pdu = evbuffer_pullup(in, n);
        l->last_rx_ms = carrier_now_ms();
        p->on_pdu(l, pdu, (size_t)n);
        evbuffer_drain(in, (size_t)n);
        if (l->state == LINK_CLOSING && !l->close_pending)
            break; /* closing after flush: read no more */
    }
    l->in_read = 0;
    if (l->close_pending)
        teardown(l);
}

static void event_cb(struct bufferevent *bev, short what, void *arg)
{
    (void)bev;
    carrier_link *l = arg;
    if (what & BEV_EVENT_CONNECTED) {
        l->state = LINK_LOGIN;
        l->login_sent_ms = carrier_now_ms();
        l->last_rx_ms = l->login_sent_ms;
        l->c->proto->send_login(l);
        return;
    }
    if (what & BEV_EVENT_EOF)
        link_close(l, "closed by peer");
    else if (what & BEV_EVENT_ERROR)
        link_close(l, l->state == LINK_CONNECTING ? "connect failed" : "socket error");
}

static void link_connect(carrier_link *l)
{
    carrier_client *c = l->c;
    l->bev = bufferevent_socket_new(c->base, -1, BEV_OPT_CLOSE_ON_FREE);
    if (l->bev == NULL) {
        l->reconnect_at_ms = carrier_now_ms() + (uint64_t)c->cfg.reconnect_max_ms;
        return;
    }
    bufferevent_setcb(l->bev, read_cb, NULL, event_cb, l);
    bufferevent_enable(l->bev, EV_READ | EV_WRITE);
    l->state = LINK_CONNECTING;
    l->seq = 0;
    l->login_sent_ms = carrier_now_ms(); /* the connect shares the login timeout */
    c->st.reconnects++;
    /* A NULL DNS base resolves with getaddrinfo, blocking: host names of
     * carriers are few and resolve from the hosts file or a local cache. */
    if (bufferevent_socket_connect_hostname(l->bev, NULL, AF_UNSPEC, c->cfg.host, c->cfg.port) !=
        0)
        link_close(l, "connect failed");
}

/* Wire statuses are 32-bit unsigned; the session keeps them as int, and a
 * value past INT_MAX (no protocol defines one) stays a failure. */
static int wire_status(uint32_t status)
{
    return status > 0x7fffffff ? 0x7fffffff : (int)status;
}

void link_login_done(carrier_link *l, uint32_t wire)
{
    carrier_client *c = l->c;
    int status = wire_status(wire);
    if (l->state != LINK_LOGIN)
        return;
    c->st.last_login_status = status;
    if (status != 0) {
        c->st.logins_failed++;
        link_log(l, 0, "event=login_failed status=%d (%s)", status,
                 carrier_status_text(c->cfg.protocol, status));
        link_close(l, "login refused");
        return;
    }
    l->state = LINK_UP;
    l->login_sent_ms = 0;
    l->backoff_ms = c->cfg.reconnect_min_ms;
    link_log(l, 2, "event=link_up");
    set_links_up(c, 1);
    schedule_pump(c);
}

static carrier_slot *find_slot(carrier_link *l, uint32_t seq)
{
    for (int i = 0; i < l->c->cfg.window; i++)
        if (l->slots[i].seg && l->slots[i].seq == seq)
            return &l->slots[i];
    return NULL;
}

static void slow_down(carrier_client *c, uint64_t now)
{
    int r = c->rate_now;
    if (r == 0) /* no limit so far: start from what went out in the last second */
        r = (int)(c->sent_last_sec > c->sent_this_sec ? c->sent_last_sec : c->sent_this_sec);
    r /= 2;
    c->rate_now = r < 1 ? 1 : r > c->ring_cap ? c->ring_cap : r;
    c->pause_until_ms = now + (uint64_t)c->cfg.throttle_pause_ms;
    c->last_throttle_ms = now;
}

void link_submit_resp(carrier_link *l, uint32_t seq, uint32_t wire, const char *msgid)
{
    carrier_client *c = l->c;
    int status = wire_status(wire);
    carrier_slot *slot = find_slot(l, seq);
    if (slot == NULL) {
        link_log(l, 1, "event=unexpected_submit_resp seq=%u", seq);
        return;
    }
    carrier_seg *s = slot->seg;
    slot->seg = NULL;
    l->inflight--;
    if (status != 0 && c->proto->is_throttle(status)) {
        c->st.throttled++;
        slow_down(c, carrier_now_ms());
        link_log(l, 1, "event=flow_control status=%d rate=%d", status, c->rate_now);
        if (++s->throttles > c->cfg.throttle_max) {
            c->st.refused++;
            result(c, s, CARRIER_ETHROTTLED, "");
        } else {
            q_push_head(c, s);
        }
    } else if (status != 0) {
        c->st.refused++;
        result(c, s, status, "");
    } else {
        c->st.acked++;
        result(c, s, 0, msgid);
    }
    schedule_pump(c);
}

void link_keepalive_resp(carrier_link *l, uint32_t seq)
{
    if (l->hb_out && l->hb_seq == seq)
        l->hb_out = 0;
}

void link_report(carrier_link *l, const char *msgid, int ok, const char *stat, const char *dest)
{
    carrier_report(l->c, msgid, ok, stat, dest);
}

void carrier_report(carrier_client *c, const char *msgid, int ok, const char *stat,
                    const char *dest)
{
    c->st.reports++;
    if (c->cb.on_report)
        c->cb.on_report(c->cb.arg, msgid, ok, stat, dest);
}

/* ---- text ---- */

static size_t put_utf8(char *out, size_t size, size_t at, unsigned cp)
{
    char tmp[4];
    size_t n;
    if (cp < 0x80) {
        tmp[0] = (char)cp;
        n = 1;
    } else if (cp < 0x800) {
        tmp[0] = (char)(0xc0 | cp >> 6);
        tmp[1] = (char)(0x80 | (cp & 0x3f));
        n = 2;
    } else if (cp < 0x10000) {
        tmp[0] = (char)(0xe0 | cp >> 12);
        tmp[1] = (char)(0x80 | (cp >> 6 & 0x3f));
        tmp[2] = (char)(0x80 | (cp & 0x3f));
        n = 3;
    } else {
        tmp[0] = (char)(0xf0 | cp >> 18);
        tmp[1] = (char)(0x80 | (cp >> 12 & 0x3f));
        tmp[2] = (char)(0x80 | (cp >> 6 & 0x3f));
        tmp[3] = (char)(0x80 | (cp & 0x3f));
        n = 4;
    }
    if (at + n >= size)
        return at;
    memcpy(out + at, tmp, n);
    return at + n;
}

void carrier_text_utf8(enum carrier_text coding, const uint8_t *p, size_t n, char *out,
                       size_t out_size)
{
    size_t at = 0;
    if (out_size == 0)
        return;
    switch (coding) {
    case TEXT_UCS2:
        for (size_t i = 0; i + 1 < n; i += 2) {
            unsigned u = (unsigned)p[i] << 8 | p[i + 1];
            if (u >= 0xd800 && u < 0xdc00 && i + 3 < n) {
                unsigned v = (unsigned)p[i + 2] << 8 | p[i + 3];
                if (v >= 0xdc00 && v < 0xe000) {
                    u = 0x10000 + ((u - 0xd800) << 10) + (v - 0xdc00);
                    i += 2;
                }
            }
            if (u >= 0xd800 && u < 0xe000)
                u = 0xfffd;
            at = put_utf8(out, out_size, at, u);
        }
        break;
    case TEXT_GBK: {
        iconv_t cd = iconv_open("UTF-8", "GB18030");
        if (cd != (iconv_t)-1) {
            char *in = (char *)p, *o = out;
            size_t il = n, ol = out_size - 1;
            while (il > 0) {
                if (iconv(cd, &in, &il, &o, &ol) != (size_t)-1)
                    break;
                if (errno == E2BIG || ol < 3)
                    break;
                /* an invalid or cut sequence: U+FFFD, skip a byte */
                memcpy(o, "\xef\xbf\xbd", 3);
                o += 3;
                ol -= 3;
                in++;
                il--;
            }
            iconv_close(cd);
            at = (size_t)(o - out);
            break;
        }
        /* no GB18030 converter: fall through to a lossy ASCII view */
    }
    /* fall through */
    case TEXT_ASCII:
    case TEXT_LATIN1:
    case TEXT_BINARY:
        for (size_t i = 0; i < n; i++) {
            unsigned u = p[i];
            if (coding == TEXT_ASCII && u >= 0x80)
                u = 0xfffd;
            at = put_utf8(out, out_size, at, u);
        }
        break;
    }
    out[at] = '\0';
}

int carrier_udh_concat(const uint8_t *ud, size_t len, int *ref, int *total, int *seq)
{
    if (len < 1 || (size_t)ud[0] + 1 > len)
        return -1;
    size_t end = 1 + (size_t)ud[0];
    for (size_t i = 1; i + 2 <= end;) {
        uint8_t iei = ud[i], iel = ud[i + 1];
        if (i + 2 + iel > end)
            return -1;
        const uint8_t *v = ud + i + 2;
        if (iei == 0x00 && iel == 3) {
            *ref = v[0];
            *total = v[1];
            *seq = v[2];
            return 0;
        }
        if (iei == 0x08 && iel == 4) {
            *ref = v[0] << 8 | v[1];
            *total = v[2];
            *seq = v[3];
            return 0;
        }
        i += 2 + (size_t)iel;
    }
    return -1;
}

int carrier_udh_parts(const uint8_t *ud, size_t len, int *total, int *seq)
{
    int ref;
    return carrier_udh_concat(ud, len, &ref, total, seq);
}

static void deliver_mo(carrier_client *c, const char *src, const char *dest, const char *text)
{
    c->st.mo++;
    if (c->cb.on_mo)
        c->cb.on_mo(c->cb.arg, src, dest, text);
}

/* Joins the parts that arrived, passes the text on and frees the entry. */
static void mo_long_flush(carrier_client *c, int i)
{
    carrier_mo_long *m = &c->mo_long[i];
    size_t n = 1;
    for (int k = 0; k < m->total; k++)
        n += m->parts[k] ? strlen(m->parts[k]) : 0;
    char *text = malloc(n);
    if (text != NULL) {
        size_t at = 0;
        for (int k = 0; k < m->total; k++)
            if (m->parts[k] != NULL) {
                size_t l = strlen(m->parts[k]);
                memcpy(text + at, m->parts[k], l);
                at += l;
            }
        text[at] = '\0';
        if (m->have < m->total && c->cb.on_log) {
            char line[160];
            snprintf(line, sizeof(line),
                     "event=mo_parts_missing ref=%d parts=%d of %d (passed on as they are)",
                     m->ref, m->have, m->total);
            c->cb.on_log(c->cb.arg, 1, line);
        }
        deliver_mo(c, m->src, m->dest, text);
        free(text);
    }
    for (int k = 0; k < m->total; k++)
        free(m->parts[k]);
    c->mo_long[i] = c->mo_long[--c->n_mo_long];
}

void carrier_mo_long_expire(carrier_client *c, uint64_t now)
{
    for (int i = 0; i < c->n_mo_long;)
        if (now == 0 || now - c->mo_long[i].first_ms >= CARRIER_MO_WAIT_MS)
            mo_long_flush(c, i);
        else
            i++;
}

/* One part of a long message (text decoded): kept until all are here, on
 * whichever link they come. */
static void mo_long_part(carrier_client *c, const char *src, const char *dest, int ref,
                         int total, int seq, const char *text)
{
    int i;
    for (i = 0; i < c->n_mo_long; i++) {
        carrier_mo_long *m = &c->mo_long[i];
        if (m->ref == ref && m->total == total && strcmp(m->src, src) == 0 &&
            strcmp(m->dest, dest) == 0)
            break;
    }
    if (i == c->n_mo_long) {
        if (c->n_mo_long == CARRIER_MO_PENDING_MAX) {
            int oldest = 0;
            for (int k = 1; k < c->n_mo_long; k++)
                if (c->mo_long[k].first_ms < c->mo_long[oldest].first_ms)
                    oldest = k;
            mo_long_flush(c, oldest);
        }
        i = c->n_mo_long++;
        carrier_mo_long *m = &c->mo_long[i];
        memset(m, 0, sizeof(*m));
        snprintf(m->src, sizeof(m->src), "%s", src);
        snprintf(m->dest, sizeof(m->dest), "%s", dest);
        m->ref = ref;
        m->total = total;
        m->first_ms = carrier_now_ms();
    }
    carrier_mo_long *m = &c->mo_long[i];
    if (m->parts[seq - 1] == NULL) { /* a part sent again is kept once */
        m->parts[seq - 1] = xstrdup(text);
        m->have++;
    }
    if (m->have == m->total)
        mo_long_flush(c, i);
}

void link_mo(carrier_link *l, const char *src, const char *dest, enum carrier_text coding,
             int udhi, const uint8_t *content, size_t len)
{
    carrier_mo(l->c, src, dest, coding, udhi, content, len);
}

void carrier_mo(carrier_client *c, const char *src, const char *dest, enum carrier_text coding,
                int udhi, const uint8_t *content, size_t len)
{
    int ref = 0, total = 1, seq = 1;
    if (udhi && len > 0) {
        if (carrier_udh_concat(content, len, &ref, &total, &seq) != 0)
            total = seq = 1;
        size_t h = 1 + (size_t)content[0];
        if (h > len)
            h = len;
        content += h;
        len -= h;
    }
    char text[1024];
    carrier_text_utf8(coding, content, len, text, sizeof(text));
    if (total > 1 && total <= CARRIER_MO_PARTS_MAX && seq >= 1 && seq <= total)
        mo_long_part(c, src, dest, ref, total, seq, text);
    else
        deliver_mo(c, src, dest, text);
}

/* ---- sending ---- */

/* The rate limit is exact: at most rate_now submits in any 1000 ms, kept as
 * the send times of the last submits (a sliding-window log). */
static int rate_allows(const carrier_client *c, uint64_t now)
{
    int r = c->rate_now;
    if (r <= 0 || c->ring_len < r)
        return 1;
    /* the r-th most recent send must be a second old */
    int i = (c->ring_head - r + c->ring_cap) % c->ring_cap;
    return now - c->ring[i] >= 1000;
}

static void rate_record(carrier_client *c, uint64_t now)
{
    c->ring[c->ring_head] = now;
    c->ring_head = (c->ring_head + 1) % c->ring_cap;
    if (c->ring_len < c->ring_cap)
        c->ring_len++;
}

static carrier_link *free_link(carrier_client *c)
{
    for (int k = 0; k < c->nlinks; k++) {
        carrier_link *l = &c->links[(c->rr + k) % c->nlinks];
        if (l->state == LINK_UP && l->inflight < c->cfg.window) {
            c->rr = (c->rr + k + 1) % c->nlinks;
            return l;
        }
    }
    return NULL;
}

static void count_sent(carrier_client *c, uint64_t now)
{
    if (now - c->sec_start_ms >= 1000) {
        c->sent_last_sec = now - c->sec_start_ms >= 2000 ? 0 : c->sent_this_sec;
        c->sent_this_sec = 0;
        c->sec_start_ms = now;
    }
    c->sent_this_sec++;
}

static void pump(carrier_client *c)
{
    uint64_t now = carrier_now_ms();
    if (now < c->pause_until_ms)
        return;
    while (c->q_head != NULL) {
        if (!rate_allows(c, now))
            return;
        carrier_link *l = free_link(c);
        if (l == NULL)
            return;
        carrier_slot *slot = NULL;
        for (int i = 0; i < c->cfg.window; i++)
            if (l->slots[i].seg == NULL) {
                slot = &l->slots[i];
                break;
            }
        carrier_seg *s = q_pop(c);
        uint32_t seq = link_next_seq(l);
        if (c->proto->send_submit(l, s, seq) != 0) {
            c->st.refused++;
            result(c, s, CARRIER_EENCODE, "");
            continue;
        }
        slot->seg = s;
        slot->seq = seq;
        slot->sent_ms = now;
        slot->tries = 0;
        l->inflight++;
        c->st.submitted++;
        count_sent(c, now);
        rate_record(c, now);
    }
}

static void pump_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what;
    pump(arg);
}

static void tick_link(carrier_link *l, uint64_t now)
{
    carrier_client *c = l->c;
    const carrier_config *cfg = &c->cfg;
    switch (l->state) {
    case LINK_DOWN:
        if (now >= l->reconnect_at_ms)
            link_connect(l);
        return;
    case LINK_CONNECTING:
    case LINK_LOGIN:
        if (l->login_sent_ms != 0 && now - l->login_sent_ms > (uint64_t)cfg->response_timeout_ms)
            link_close(l, "login timeout");
        return;
    case LINK_CLOSING:
        if (now - l->login_sent_ms > (uint64_t)cfg->response_timeout_ms)
            link_close(l, "close timeout");
        return;
    case LINK_UP:
        break;
    }
    for (int i = 0; i < cfg->window && l->state == LINK_UP; i++) {
        carrier_slot *s = &l->slots[i];
        if (s->seg == NULL || now - s->sent_ms <= (uint64_t)cfg->response_timeout_ms)
            continue;
        if (s->tries >= cfg->retries) {
            link_close(l, "no submit response");
            return;
        }
        s->tries++;
        s->sent_ms = now;
        c->st.retransmits++;
        c->proto->send_submit(l, s->seg, s->seq);
    }
    if (l->hb_out) {
        if (now - l->hb_sent_ms > (uint64_t)cfg->response_timeout_ms) {
            if (l->hb_tries >= cfg->retries) {
                link_close(l, "no keep-alive response");
                return;
            }
            l->hb_tries++;
            l->hb_sent_ms = now;
            c->st.retransmits++;
            c->proto->send_keepalive(l, l->hb_seq);
        }
    } else if (now - l->last_rx_ms >= (uint64_t)cfg->heartbeat_s * 1000u &&
               c->proto->send_keepalive == NULL) {
        if (l->inflight == 0) { /* no keep-alive in this protocol: log out, log in again */
            link_log(l, 2, "event=idle_logout");
            c->proto->send_logout(l);
            link_close_after_flush(l, "idle");
        }
    } else if (now - l->last_rx_ms >= (uint64_t)cfg->heartbeat_s * 1000u) {
        l->hb_out = 1;
        l->hb_tries = 0;
        l->hb_seq = link_next_seq(l);
        l->hb_sent_ms = now;
        c->proto->send_keepalive(l, l->hb_seq);
    }
}

static void tick_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what;
    carrier_client *c = arg;
    uint64_t now = carrier_now_ms();
    for (int i = 0; i < c->nlinks; i++)
        tick_link(&c->links[i], now);
    carrier_mo_long_expire(c, now);
    /* recover from a slow-down: +25% a second once a second passed quietly */
    if (c->rate_now != c->cfg.rate && now - c->last_throttle_ms >= 1000 &&
        now - c->last_raise_ms >= 1000) {
        int r = c->rate_now + (c->rate_now / 4 > 1 ? c->rate_now / 4 : 1);
        if (c->cfg.rate > 0 && r >= c->cfg.rate)
            r = c->cfg.rate;
        else if (c->cfg.rate == 0 && r >= c->ring_cap)
            r = 0;
        c->rate_now = r;
        c->last_raise_ms = now;
    }
    if (c->q_head)
        pump(c);
}

/* ---- the client API ---- */

static int dup_str(carrier_client *c, int i, const char **field)
{
    c->strs[i] = strdup(*field ? *field : "");
    if (c->strs[i] == NULL)
        return -1;
    *field = c->strs[i];
    return 0;
}

carrier_client *carrier_client_new(struct event_base *base, const carrier_config *cfg,
                                   const carrier_callbacks *cb)
{
    if (base == NULL || cfg == NULL || cfg->host == NULL || cfg->host[0] == '\0' ||
        cfg->connections < 1 || cfg->connections > 64 || cfg->window < 1 ||
        cfg->window > 1024 || cfg->rate < 0 || cfg->rate > 100000 || cfg->queue_max < 1 || cfg->heartbeat_s < 1 ||
        cfg->response_timeout_ms < 1 || cfg->retries < 0 || cfg->max_attempts < 1 ||
        cfg->reconnect_min_ms < 1 || cfg->reconnect_max_ms < cfg->reconnect_min_ms ||
        cfg->throttle_pause_ms < 0 || cfg->throttle_max < 0)
        return NULL;
    const carrier_proto *proto;
    if (cfg->protocol == CARRIER_CMPP30)
        proto = &carrier_cmpp_proto;
    else if (cfg->protocol == CARRIER_SMPP34)
        proto = &carrier_smpp_proto;
    else if (cfg->protocol == CARRIER_SGIP12)
        proto = &carrier_sgip_proto;
    else if (cfg->protocol == CARRIER_SMGP30)
        proto = &carrier_smgp_proto;
    else
        return NULL;
    carrier_client *c = calloc(1, sizeof(*c));
    if (c == NULL)
        return NULL;
    c->base = base;
    c->cfg = *cfg;
    c->proto = proto;
    if (cb)
        c->cb = *cb;
    if (dup_str(c, 0, &c->cfg.name) || dup_str(c, 1, &c->cfg.host) ||
        dup_str(c, 2, &c->cfg.account) || dup_str(c, 3, &c->cfg.secret) ||
        dup_str(c, 4, &c->cfg.system_type) || dup_str(c, 5, &c->cfg.service_id) ||
        dup_str(c, 6, &c->cfg.src_addr) || dup_str(c, 7, &c->cfg.fee_type) ||
        dup_str(c, 8, &c->cfg.fee_code) || dup_str(c, 9, &c->cfg.corp_id) ||
        dup_str(c, 10, &c->cfg.listen) || dup_str(c, 11, &c->cfg.gw_login) ||
        dup_str(c, 12, &c->cfg.gw_password))
        goto fail;
    c->nlinks = cfg->connections;
    c->links = calloc((size_t)c->nlinks, sizeof(*c->links));
    if (c->links == NULL)
        goto fail;
    for (int i = 0; i < c->nlinks; i++) {
        carrier_link *l = &c->links[i];
        l->c = c;
        l->idx = i;
        l->state = LINK_DOWN;
        l->backoff_ms = cfg->reconnect_min_ms;
        l->slots = calloc((size_t)cfg->window, sizeof(*l->slots));
        if (l->slots == NULL)
            goto fail;
    }
    c->tick = event_new(base, -1, EV_PERSIST, tick_cb, c);
    c->pump = event_new(base, -1, 0, pump_cb, c);
    if (c->tick == NULL || c->pump == NULL)
        goto fail;
    c->rate_now = cfg->rate;
    /* room for the configured rate, or for a slow-down from "no limit" */
    c->ring_cap = cfg->rate > 0 ? cfg->rate : RATE_RING_UNLIMITED;
    c->ring = calloc((size_t)c->ring_cap, sizeof(*c->ring));
    if (c->ring == NULL)
        goto fail;
    c->sec_start_ms = carrier_now_ms();
    c->st.last_login_status = -1;
    if (proto->start != NULL && proto->start(c) != 0)
        goto fail;
    struct timeval tv = {0, TICK_MS * 1000};
    event_add(c->tick, &tv);
    for (int i = 0; i < c->nlinks; i++)
        link_connect(&c->links[i]);
    return c;
fail:
    carrier_client_free(c);
    return NULL;
}

int carrier_submit(carrier_client *c, uint64_t seg_ref, const char *dest, const char *src_ext,
                   const uint8_t *ud, size_t ud_len, int data_coding, int has_udh,
                   int want_report)
{
    if (c == NULL || dest == NULL || c->links_up == 0 || c->queued >= (size_t)c->cfg.queue_max)
        return -1;
    if (src_ext == NULL)
        src_ext = "";
    size_t dl = strlen(dest), sl = strlen(c->cfg.src_addr), el = strlen(src_ext);
    if (dl == 0 || dl > 21 || sl + el > 21 || ud_len > 254 || (ud_len > 0 && ud == NULL) ||
        data_coding < 0 || data_coding > 255)
        return -1;
    carrier_seg *s = calloc(1, sizeof(*s));
    if (s == NULL)
        return -1;
    s->ref = seg_ref;
    memcpy(s->dest, dest, dl + 1);
    memcpy(s->src, c->cfg.src_addr, sl);
    memcpy(s->src + sl, src_ext, el + 1);
    if (ud_len)
        memcpy(s->ud, ud, ud_len);
    s->ud_len = ud_len;
    s->coding = (uint8_t)data_coding;
    s->udh = has_udh ? 1 : 0;
    s->report = want_report ? 1 : 0;
    q_push_tail(c, s);
    schedule_pump(c);
    return 0;
}

void carrier_client_stats(const carrier_client *c, carrier_stats *st)
{
    *st = c->st;
    st->links_up = c->links_up;
    st->queued = c->queued;
    st->inflight = 0;
    for (int i = 0; i < c->nlinks; i++)
        st->inflight += (size_t)c->links[i].inflight;
    st->rate_now = c->rate_now;
}

int carrier_listen_port(const carrier_client *c)
{
    return c->proto->listen_port != NULL ? c->proto->listen_port(c) : 0;
}

void carrier_client_free(carrier_client *c)
{
    if (c == NULL)
        return;
    if (c->proto_data != NULL && c->proto->stop != NULL)
        c->proto->stop(c);
    for (int i = 0; c->links && i < c->nlinks; i++) {
        carrier_link *l = &c->links[i];
        if (l->bev) {
            if (l->state == LINK_UP) {
                /* best effort: the logout leaves now, its answer is not awaited */
                c->proto->send_logout(l);
                struct evbuffer *out = bufferevent_get_output(l->bev);
                size_t n = evbuffer_get_length(out);
                const unsigned char *p = evbuffer_pullup(out, (ev_ssize_t)n);
                if (p != NULL && n > 0)
                    (void)send(bufferevent_getfd(l->bev), p, n, MSG_NOSIGNAL | MSG_DONTWAIT);
            }
            bufferevent_free(l->bev);
        }
        for (int k = 0; l->slots && k < c->cfg.window; k++)
            free(l->slots[k].seg);
        free(l->slots);
    }
    free(c->links);
    free(c->ring);
    carrier_seg *s;
    while ((s = q_pop(c)) != NULL)
        free(s);
    if (c->tick)
        event_free(c->tick);
    if (c->pump)
        event_free(c->pump);
    for (size_t i = 0; i < sizeof(c->strs) / sizeof(c->strs[0]); i++)
        free(c->strs[i]);
    /* parts of long uplink messages still awaited are dropped: the window
     * documented in carrier.h (the client's owner may be gone already) */
    for (int i = 0; i < c->n_mo_long; i++)
        for (int k = 0; k < c->mo_long[i].total; k++)
            free(c->mo_long[i].parts[k]);
    free(c);
}
