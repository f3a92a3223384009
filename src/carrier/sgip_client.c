/*
 * carrier/sgip_client.c - the SGIP 1.2 driver of the session core and the
 * SGIP listener of the same client.
 *
 * The SP side of SGIP is two halves. As a client it Binds (LoginType 1,
 * plaintext name and password) to the gateway, sends Submits within the
 * window and reads Submit_Resp; SGIP has no keep-alive, so a link idle for
 * heartbeat_s is closed with Unbind and logs in again (gateways close idle
 * links after a minute). As a server it accepts the connections the
 * gateway opens to deliver uplink messages (Deliver) and status reports
 * (Report): the gateway's Bind (LoginType 2) must carry the configured
 * login, compared in constant time, or the connection is refused and
 * closed. Deliver and Report are answered after they were handed over.
 *
 * Sequence numbers have three parts: the SP's node id, the MMDDHHMMSS of
 * the link's login (unique per client: two links logging in within the
 * same second get consecutive values) and the link's counter. A Submit's
 * sequence number is its message id; the Report names it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <event2/util.h>

#include "cmpp.h"
#include "hrss/crypto.h"
#include "common/str.h"
#include "session.h"
#include "sgip.h"

#define SRV_CONNS_MAX 16     /* gateway connections at once */
#define SRV_IDLE_S 180       /* a gateway connection silent this long is closed */

static enum carrier_text text_of(uint8_t coding)
{
    switch (coding) {
    case 0: return TEXT_ASCII;
    case 8: return TEXT_UCS2;
    case 15: return TEXT_GBK;
    case 3:
    case 4: return TEXT_BINARY;
    default: return TEXT_LATIN1;
    }
}

/* SGIP writes numbers with 86 in front: the national form for the caller. */
static const char *national(const char *n)
{
    return strlen(n) == 13 && n[0] == '8' && n[1] == '6' && n[2] == '1' ? n + 2 : n;
}

static int encode(const sgip_pdu *p, hrss_buf *b)
{
    buf_init(b, SGIP_MAX_PDU);
    return sgip_encode(p, b);
}

/* ---- the client half ---- */

static sgip_seq link_seq(carrier_link *l, uint32_t counter)
{
    return (sgip_seq){l->c->cfg.sgip_node_id, l->stamp, counter};
}

static void send_pdu(carrier_link *l, const sgip_pdu *p)
{
    hrss_buf b;
    if (encode(p, &b) == 0)
        link_write(l, b.p, b.len);
    else
        link_log(l, 0, "event=encode_failed command=%s", sgip_command_name(p->command_id));
    buf_free(&b);
}

static void send_resp(carrier_link *l, uint32_t cmd, const sgip_seq *seq, uint8_t result)
{
    sgip_pdu p = {.command_id = cmd, .seq = *seq};
    p.u.resp.result = result;
    send_pdu(l, &p);
}

static void send_login(carrier_link *l)
{
    carrier_client *c = l->c;
    uint32_t t = cmpp_timestamp(time(NULL));
    if (t <= c->last_stamp)
        t = c->last_stamp + 1;
    c->last_stamp = t;
    l->stamp = t;
    sgip_pdu p = {.command_id = SGIP_BIND, .seq = link_seq(l, link_next_seq(l))};
    p.u.bind.login_type = SGIP_LOGIN_SP;
    str_copy(p.u.bind.login_name, sizeof(p.u.bind.login_name), c->cfg.account);
    str_copy(p.u.bind.login_password, sizeof(p.u.bind.login_password), c->cfg.secret);
    send_pdu(l, &p);
}

static int send_submit(carrier_link *l, const carrier_seg *s, uint32_t seq)
{
    const carrier_config *cfg = &l->c->cfg;
    sgip_pdu *p = calloc(1, sizeof(*p));
    if (p == NULL)
        return -1;
    p->command_id = SGIP_SUBMIT;
    p->seq = link_seq(l, seq);
    sgip_submit *m = &p->u.submit;
    str_copy(m->sp_number, sizeof(m->sp_number), s->src);
    memset(m->charge_number, '0', 21); /* all zeros: the SP pays */
    m->user_count = 1;
    if (strlen(s->dest) == 11 && s->dest[0] == '1') { /* 86 in front (4.2.3.3.1) */
        memcpy(m->user_number[0], "86", 2);
        memcpy(m->user_number[0] + 2, s->dest, 12);
    } else
        str_copy(m->user_number[0], sizeof(m->user_number[0]), s->dest);
    str_copy(m->corp_id, sizeof(m->corp_id), cfg->corp_id);
    str_copy(m->service_type, sizeof(m->service_type), cfg->service_id);
    m->fee_type = (uint8_t)strtoul(cfg->fee_type, NULL, 10);
    str_copy(m->fee_value, sizeof(m->fee_value), cfg->fee_code);
    str_copy(m->given_value, sizeof(m->given_value), "0");
    m->morelateto_mt_flag = 2; /* not caused by an MO */
    m->report_flag = s->report ? 1 : 2;
    m->tp_udhi = s->udh;
    m->message_coding = s->coding;
    m->message_length = (uint32_t)s->ud_len;
    memcpy(m->content, s->ud, s->ud_len);
    hrss_buf b;
    int rc = encode(p, &b);
    if (rc == 0)
        link_write(l, b.p, b.len);
    buf_free(&b);
    free(p);
    return rc;
}

static void send_logout(carrier_link *l)
{
    sgip_pdu p = {.command_id = SGIP_UNBIND, .seq = link_seq(l, link_next_seq(l))};
    send_pdu(l, &p);
}

/* A Report: the Submit it names, its outcome. State 1 (waiting) is not an
 * outcome and is only logged. */
static void take_report(carrier_client *c, const sgip_report *r)
{
    char id[36];
    sgip_seq_text(&r->submit_seq, id);
    if (r->report_type != 0 || r->state == SGIP_STATE_WAITING) {
        carrier_log(c, 2, "event=report_not_final type=%u state=%u", r->report_type, r->state);
        return;
    }
    carrier_report(c, id, r->state == SGIP_STATE_OK, r->state == SGIP_STATE_OK ? "DELIVRD" : "UNDELIV",
                   national(r->user_number));
}

static void take_deliver(carrier_client *c, const sgip_deliver *d)
{
    carrier_mo(c, national(d->user_number), d->sp_number, text_of(d->message_coding),
               d->tp_udhi & 1, d->content, d->message_length);
}

static void on_pdu(carrier_link *l, const uint8_t *data, size_t len)
{
    sgip_pdu *p = malloc(sizeof(*p));
    if (p == NULL) {
        link_close(l, "out of memory");
        return;
    }
    if (sgip_decode(data, len, p) != 0) {
        link_log(l, 1, "event=bad_pdu command=0x%08x", p->command_id);
        if (p->command_id == SGIP_SUBMIT_RESP)
            link_submit_resp(l, p->seq.counter, SGIP_RESULT_BAD_FORMAT, "");
        else if (p->command_id == SGIP_DELIVER || p->command_id == SGIP_REPORT)
            send_resp(l, p->command_id | 0x80000000u, &p->seq, SGIP_RESULT_BAD_FORMAT);
        else if (l->state == LINK_LOGIN)
            link_close(l, "malformed login answer");
        free(p);
        return;
    }
    switch (p->command_id) {
    case SGIP_BIND_RESP:
        link_login_done(l, p->u.resp.result);
        break;
    case SGIP_SUBMIT_RESP: {
        char id[36];
        sgip_seq_text(&p->seq, id);
        link_submit_resp(l, p->seq.counter, p->u.resp.result, id);
        break;
    }
    /* a gateway may also deliver on the SP's own connection */
    case SGIP_DELIVER:
        if (l->state == LINK_UP)
            take_deliver(l->c, &p->u.deliver);
        send_resp(l, SGIP_DELIVER_RESP, &p->seq, l->state == LINK_UP ? 0 : SGIP_RESULT_BAD_LOGIN);
        break;
    case SGIP_REPORT:
        if (l->state == LINK_UP)
            take_report(l->c, &p->u.report);
        send_resp(l, SGIP_REPORT_RESP, &p->seq, l->state == LINK_UP ? 0 : SGIP_RESULT_BAD_LOGIN);
        break;
    case SGIP_UNBIND: {
        sgip_pdu r = {.command_id = SGIP_UNBIND_RESP, .seq = p->seq};
        send_pdu(l, &r);
        link_close_after_flush(l, "Unbind from the gateway");
        break;
    }
    case SGIP_UNBIND_RESP:
        link_close(l, "Unbind answered");
        break;
    default:
        link_log(l, 1, "event=unexpected_pdu command=%s", sgip_command_name(p->command_id));
        break;
    }
    free(p);
}

static int is_throttle(int status)
{
    return status == SGIP_RESULT_BUSY;
}

/* ---- the server half: the gateway's connections ---- */

typedef struct srv_conn {
    struct sgip_srv *srv;
    struct bufferevent *bev;
    int bound;
    int closing;
} srv_conn;

typedef struct sgip_srv {
    carrier_client *c;
    struct evconnlistener *lis;
    int port;
    srv_conn *conns[SRV_CONNS_MAX];
    int n;
} sgip_srv;

static void conn_free(srv_conn *k)
{
    sgip_srv *s = k->srv;
    for (int i = 0; i < s->n; i++)
        if (s->conns[i] == k) {
            s->conns[i] = s->conns[--s->n];
            break;
        }
    bufferevent_free(k->bev);
    free(k);
}

static void conn_flushed(struct bufferevent *bev, void *arg)
{
    (void)bev;
    conn_free(arg);
}

/* Closes once what was written has gone out. */
static void conn_close_after_flush(srv_conn *k)
{
    k->closing = 1;
    bufferevent_disable(k->bev, EV_READ);
    if (evbuffer_get_length(bufferevent_get_output(k->bev)) == 0) {
        conn_free(k);
        return;
    }
    bufferevent_setcb(k->bev, NULL, conn_flushed, NULL, k);
}

static void conn_send(srv_conn *k, const sgip_pdu *p)
{
    hrss_buf b;
    if (encode(p, &b) == 0)
        bufferevent_write(k->bev, b.p, b.len);
    buf_free(&b);
}

static void conn_resp(srv_conn *k, uint32_t cmd, const sgip_seq *seq, uint8_t result)
{
    sgip_pdu p = {.command_id = cmd, .seq = *seq};
    p.u.resp.result = result;
    conn_send(k, &p);
}

/* The gateway's login: LoginType 2 with the configured name and password. */
static int login_ok(const carrier_config *cfg, const sgip_bind *b)
{
    char want_name[17] = {0}, want_pw[17] = {0}, got_name[17] = {0}, got_pw[17] = {0};
    str_copy(want_name, sizeof(want_name), cfg->gw_login);
    str_copy(want_pw, sizeof(want_pw), cfg->gw_password);
    memcpy(got_name, b->login_name, sizeof(got_name) - 1);
    memcpy(got_pw, b->login_password, sizeof(got_pw) - 1);
    int ok = hrss_ct_equal(want_name, got_name, sizeof(want_name));
    ok &= hrss_ct_equal(want_pw, got_pw, sizeof(want_pw));
    return ok && b->login_type == SGIP_LOGIN_SMG && want_name[0] != '\0';
}

/* One PDU from the gateway; returns -1 when the connection was closed. */
static int conn_pdu(srv_conn *k, const uint8_t *data, size_t len)
{
    carrier_client *c = k->srv->c;
    sgip_pdu *p = malloc(sizeof(*p));
    if (p == NULL)
        return -1;
    int rc = 0;
    if (sgip_decode(data, len, p) != 0) {
        carrier_log(c, 1, "event=gateway_bad_pdu command=0x%08x", p->command_id);
        if (!(p->command_id & 0x80000000u) && k->bound)
            conn_resp(k, p->command_id | 0x80000000u, &p->seq, SGIP_RESULT_BAD_FORMAT);
        else {
            conn_close_after_flush(k);
            rc = -1;
        }
    } else if (p->command_id == SGIP_BIND) {
        if (k->bound) {
            conn_resp(k, SGIP_BIND_RESP, &p->seq, 2); /* repeated login */
        } else if (login_ok(&c->cfg, &p->u.bind)) {
            k->bound = 1;
            conn_resp(k, SGIP_BIND_RESP, &p->seq, 0);
            carrier_log(c, 2, "event=gateway_login");
        } else {
            c->st.logins_failed++;
            carrier_log(c, 1, "event=gateway_login_refused login_type=%u",
                        p->u.bind.login_type);
            conn_resp(k, SGIP_BIND_RESP, &p->seq, SGIP_RESULT_BAD_LOGIN);
            conn_close_after_flush(k);
            rc = -1;
        }
    } else if (!k->bound) {
        carrier_log(c, 1, "event=gateway_not_logged_in command=%s",
                    sgip_command_name(p->command_id));
        conn_close_after_flush(k);
        rc = -1;
    } else if (p->command_id == SGIP_DELIVER) {
        take_deliver(c, &p->u.deliver);
        conn_resp(k, SGIP_DELIVER_RESP, &p->seq, 0);
    } else if (p->command_id == SGIP_REPORT) {
        take_report(c, &p->u.report);
        conn_resp(k, SGIP_REPORT_RESP, &p->seq, 0);
    } else if (p->command_id == SGIP_UNBIND) {
        sgip_pdu r = {.command_id = SGIP_UNBIND_RESP, .seq = p->seq};
        conn_send(k, &r);
        conn_close_after_flush(k);
        rc = -1;
    } else if (p->command_id & 0x80000000u) {
        /* an answer: nothing of ours awaits one on this connection */
    } else {
        conn_resp(k, p->command_id | 0x80000000u, &p->seq, SGIP_RESULT_BAD_FORMAT);
    }
    free(p);
    return rc;
}

static void conn_read(struct bufferevent *bev, void *arg)
{
    srv_conn *k = arg;
    struct evbuffer *in = bufferevent_get_input(bev);
    while (!k->closing) {
        size_t avail = evbuffer_get_length(in);
        if (avail < SGIP_HEADER_LEN)
            return;
        long n = sgip_frame_len(evbuffer_pullup(in, SGIP_HEADER_LEN), avail);
        if (n < 0) {
            carrier_log(k->srv->c, 1, "event=gateway_malformed_frame");
            conn_free(k);
            return;
        }
        if ((size_t)n > avail)
            return;
        const uint8_t *pdu = evbuffer_pullup(in, n);
        if (conn_pdu(k, pdu, (size_t)n) != 0)
            return; /* closing: k may be gone */
        evbuffer_drain(in, (size_t)n);
    }
}

static void conn_event(struct bufferevent *bev, short what, void *arg)
{
    (void)bev;
    srv_conn *k = arg;
    if (what & BEV_EVENT_TIMEOUT)
        carrier_log(k->srv->c, 2, "event=gateway_idle_closed");
    conn_free(k);
}

static void on_accept(struct evconnlistener *lis, evutil_socket_t fd, struct sockaddr *sa,
                      int salen, void *arg)
{
    (void)lis, (void)sa, (void)salen;
    sgip_srv *s = arg;
    if (s->n >= SRV_CONNS_MAX) {
        carrier_log(s->c, 1, "event=gateway_connection_refused why=too_many");
        evutil_closesocket(fd);
        return;
    }
    srv_conn *k = calloc(1, sizeof(*k));
    struct bufferevent *bev =
        k ? bufferevent_socket_new(s->c->base, fd, BEV_OPT_CLOSE_ON_FREE) : NULL;
    if (bev == NULL) {
        free(k);
        evutil_closesocket(fd);
        return;
    }
    k->srv = s;
    k->bev = bev;
    s->conns[s->n++] = k;
    struct timeval idle = {SRV_IDLE_S, 0};
    bufferevent_set_timeouts(bev, &idle, NULL);
    bufferevent_setcb(bev, conn_read, NULL, conn_event, k);
    bufferevent_enable(bev, EV_READ | EV_WRITE);
}

static void srv_stop(carrier_client *c)
{
    sgip_srv *s = c->proto_data;
    if (s == NULL)
        return;
    while (s->n > 0)
        conn_free(s->conns[0]);
    if (s->lis)
        evconnlistener_free(s->lis);
    free(s);
    c->proto_data = NULL;
}

static int srv_start(carrier_client *c)
{
    if (c->cfg.listen[0] == '\0')
        return 0;
    /* HOST:PORT; libevent's parser refuses port 0, which picks a free port */
    struct sockaddr_storage ss;
    int sl = sizeof(ss);
    char addr[128];
    const char *colon = strrchr(c->cfg.listen, ':');
    char *end = NULL;
    long port = colon ? strtol(colon + 1, &end, 10) : -1;
    if (colon == NULL || end == colon + 1 || *end != '\0' || port < 0 || port > 65535 ||
        (size_t)(colon - c->cfg.listen) + 3 > sizeof(addr) || c->cfg.gw_login[0] == '\0')
        return -1;
    snprintf(addr, sizeof(addr), "%.*s:1", (int)(colon - c->cfg.listen), c->cfg.listen);
    if (evutil_parse_sockaddr_port(addr, (struct sockaddr *)&ss, &sl) != 0)
        return -1;
    if (ss.ss_family == AF_INET6)
        ((struct sockaddr_in6 *)&ss)->sin6_port = htons((uint16_t)port);
    else
        ((struct sockaddr_in *)&ss)->sin_port = htons((uint16_t)port);
    sgip_srv *s = calloc(1, sizeof(*s));
    if (s == NULL)
        return -1;
    s->c = c;
    c->proto_data = s;
    s->lis = evconnlistener_new_bind(c->base, on_accept, s,
                                     LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE, 16,
                                     (struct sockaddr *)&ss, sl);
    if (s->lis == NULL) {
        srv_stop(c);
        return -1;
    }
    struct sockaddr_storage bound;
    socklen_t bl = sizeof(bound);
    if (getsockname(evconnlistener_get_fd(s->lis), (struct sockaddr *)&bound, &bl) == 0)
        s->port = ntohs(bound.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&bound)->sin6_port
                                                     : ((struct sockaddr_in *)&bound)->sin_port);
    carrier_log(c, 2, "event=gateway_listener port=%d", s->port);
    return 0;
}

static int srv_port(const carrier_client *c)
{
    const sgip_srv *s = c->proto_data;
    return s ? s->port : 0;
}

const carrier_proto carrier_sgip_proto = {
    .name = "sgip12",
    .header_len = SGIP_HEADER_LEN,
    .frame_len = sgip_frame_len,
    .send_login = send_login,
    .send_submit = send_submit,
    .send_keepalive = NULL,
    .send_logout = send_logout,
    .on_pdu = on_pdu,
    .is_throttle = is_throttle,
    .start = srv_start,
    .stop = srv_stop,
    .listen_port = srv_port,
};
