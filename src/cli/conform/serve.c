/*
 * cli/conform/serve.c - "hrss conform serve": a reference node and provider
 * that a vendor's caller SDK points at. Each request it receives is judged
 * (table 1, the caller's ids, the time, the nonce's form and freshness, the
 * signature with the diagnoses of judge.c, the body's cipher, the shapes of
 * 6.2.2) and answered as hrss answers: HTTP 400/413 with a JSON error when
 * it cannot be parsed, a response envelope with commStatus 30, 40, 50 or 90
 * when refused, else 00 with the request's plaintext echoed in body.data,
 * sealed and signed as the grant says. One libevent loop on 127.0.0.1.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "cli/cli.h"
#include "cli/conform/conform.h"
#include "common/util.h"

#define WINDOW_SEC 900
#define MAX_IDS 4096

typedef struct sctx {
    const cf_serve_opts *o;
    cf_report *r;
    struct event_base *base;
    hrss_idgen *ids;
    hrss_replay *nonces;
    char *req_ids[MAX_IDS]; /* serviceReqIds seen, to find repeats */
    size_t nreq_ids;
    long served;
    char label[32];
    const char *req_text; /* of the request being judged, for the report */
} sctx;

static void add(sctx *s, const char *clause, const char *check, const char *title,
                const char *reading, cf_verdict v, const char *detail)
{
    char id[96];
    snprintf(id, sizeof(id), "%s.%s", s->label, check);
    cf_add(s->r, clause, id, title, reading, v, s->req_text, NULL, "%s", detail);
}

typedef struct violations {
    char text[1024];
    size_t used;
} violations;

static void on_violation(void *ctx, int code, const char *field, const char *msg)
{
    violations *v = ctx;
    (void)code;
    int w = snprintf(v->text + v->used, sizeof(v->text) - v->used, "%s%s: %s", v->used ? "; " : "",
                     field, msg);
    if (w > 0 && (size_t)w < sizeof(v->text) - v->used)
        v->used += (size_t)w;
}

static void reply(struct evhttp_request *req, int status, const char *text)
{
    struct evbuffer *b = evbuffer_new();
    evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", "application/json");
    if (b != NULL)
        evbuffer_add(b, text, strlen(text));
    evhttp_send_reply(req, status, status == 200 ? "OK" : "Bad Request", b);
    if (b != NULL)
        evbuffer_free(b);
}

static void reply_error(struct evhttp_request *req, int status, const char *code, const char *msg)
{
    json_t *doc = json_pack("{s:s,s:s}", "error", code, "message", msg);
    char *text = doc != NULL ? json_dumps(doc, JSON_COMPACT) : NULL;
    reply(req, status, text != NULL ? text : "{\"error\":\"internal\"}");
    free(text);
    json_decref(doc);
}

/* A response envelope to e: refusals without body, unsigned (as nodes
 * answer); success with body, sealed and signed as the grant says. */
static void reply_envelope(sctx *s, struct evhttp_request *req, const hrss_envelope *e,
                           hrss_comm_status st, const char *msg, json_t *body)
{
    const cf_serve_opts *o = s->o;
    char rid[HRSS_ID_LEN + 1];
    hrss_envelope *out = NULL;
    hrss_error err;
    char *text = NULL;
    size_t len = 0;
    if (hrss_idgen_next(s->ids, rid, &err) != HRSS_OK ||
        hrss_envelope_new_response(e, rid, st, st == HRSS_COMM_OK ? "001" : NULL, msg, &out,
                                   &err) != HRSS_OK)
        goto fail;
    if (body != NULL) {
        hrss_body_key k = {.cipher = o->cipher, .encoding = o->encoding, .sm2 = o->caller_sm2};
        hrss_envelope_set_body(out, body);
        body = NULL;
        if (o->cipher == HRSS_BODY_SM4_ECB &&
            hrss_sm4_key_from_digits(o->sm4_key, strlen(o->sm4_key), k.sm4, &err) != HRSS_OK)
            goto fail;
        int rc = o->cipher == HRSS_BODY_PLAIN ? HRSS_OK : hrss_envelope_seal_body(out, &k, &err);
        explicit_bzero(k.sm4, sizeof(k.sm4));
        if (rc != HRSS_OK || hrss_envelope_sign(out, &o->sign, &err) != HRSS_OK)
            goto fail;
    }
    if (hrss_envelope_serialize(out, &text, &len) != HRSS_OK)
        goto fail;
    reply(req, 200, text);
    hrss_free(text);
    hrss_envelope_free(out);
    return;
fail:
    json_decref(body);
    hrss_envelope_free(out);
    reply_error(req, 500, "internal", err.msg);
}

static int seen_req_id(sctx *s, const char *id)
{
    for (size_t i = 0; i < s->nreq_ids; i++)
        if (strcmp(s->req_ids[i], id) == 0)
            return 1;
    if (s->nreq_ids < MAX_IDS && (s->req_ids[s->nreq_ids] = strdup(id)) != NULL)
        s->nreq_ids++;
    return 0;
}

/* Judges the parsed request e and answers it. */
static void judge(sctx *s, struct evhttp_request *req, hrss_envelope *e)
{
    const cf_serve_opts *o = s->o;
    const json_t *h = hrss_envelope_header(e);
    char d[1024];
    hrss_error err;
    const char *app = hrss_envelope_get(e, "appCode");
    const char *svc = hrss_envelope_get(e, "serviceCode");
    const char *area = hrss_envelope_get(e, "serviceAreaCode");
    const char *rid = hrss_envelope_get(e, "serviceReqId");
    const char *rtime = hrss_envelope_get(e, "serviceReqTime");
    const char *nonce = hrss_envelope_get(e, "nonce");
    /* the caller and its service: the kit's configuration, not a rule */
    if (strcmp(app, o->caller) != 0 || strcmp(svc, o->service) != 0 || strcmp(area, o->area) != 0) {
        snprintf(d, sizeof(d),
                 "appCode %s, serviceCode %s, serviceAreaCode %s: the kit serves "
                 "%s calling %s in %s",
                 app, svc, area, o->caller, o->service, o->area);
        add(s, "5.4", "routing", "the request names the caller, service and area served", "",
            CF_FAIL, d);
        reply_envelope(s, req, e,
                       strcmp(app, o->caller) != 0 ? HRSS_COMM_PERMISSION : HRSS_COMM_OTHER, d,
                       NULL);
        return;
    }
    /* serviceReqId: the caller's code + date + sequence, never repeated */
    const char *title = "serviceReqId: the caller's system code + YYYYMMDD + 9 digits, new";
    if (strncmp(rid, app, 11) != 0) {
        snprintf(d, sizeof(d), "serviceReqId %.11s... is not made from appCode %s (5.3)", rid, app);
        add(s, "5.3", "serviceReqId", title, "design.md decision 6", CF_FAIL, d);
    } else if (seen_req_id(s, rid)) {
        snprintf(d, sizeof(d), "serviceReqId %s was sent before (table 1: 请求流水号不能重复)",
                 rid);
        add(s, "5.3", "serviceReqId", title, "design.md decision 6", CF_FAIL, d);
    } else
        add(s, "5.3", "serviceReqId", title, "design.md decision 6", CF_PASS, "well-formed and new");
    /* the time */
    int64_t when = 0, now = (int64_t)time(NULL);
    title = "serviceReqTime: China Standard Time, within 15 minutes";
    hrss_time_parse(rtime, strlen(rtime), &when, NULL);
    long long off = (long long)(when - now);
    int time_ok = off >= -WINDOW_SEC && off <= WINDOW_SEC;
    if (time_ok)
        add(s, "7.1.1.2", "time", title, "design.md decisions 3 and 11", CF_PASS, "within the window");
    else {
        long long a = off < 0 ? -off : off;
        snprintf(d, sizeof(d), "serviceReqTime %s is %lld s %s the kit's clock%s", rtime, a,
                 off < 0 ? "behind" : "ahead of",
                 off < 0 && (a + 900) / 3600 == 8 ? ": UTC instead of China Standard Time?" : "");
        add(s, "7.1.1.2", "time", title, "design.md decisions 3 and 11", CF_FAIL, d);
    }
    /* the nonce's form */
    title = "nonce: header field nonce, 24 random characters";
    int nonce_ok = 0;
    if (o->verify.profile == HRSS_SIG_NONE)
        add(s, "7.1.1.2", "nonce", title, "design.md decision 1", CF_SKIP,
            "the caller's profile is none: no nonce asked for");
    else if (nonce == NULL)
        add(s, "7.1.1.2", "nonce", title, "design.md decision 1", CF_DIFFERS,
            "no header field nonce; 7.1.1.2 adds a nonce to the signed string without saying "
            "where it travels, hrss reads: header field nonce");
    else if (hrss_nonce_check(nonce, strlen(nonce), &err) != HRSS_OK)
        add(s, "7.1.1.2", "nonce", title, "design.md decision 1", CF_FAIL, err.msg);
    else {
        nonce_ok = 1;
        add(s, "7.1.1.2", "nonce", title, "design.md decision 1", CF_PASS, "24 characters");
    }
    /* the signature: judged by judge.c, answered as hrss verifies */
    int sig_ok = 1;
    if (o->verify.profile != HRSS_SIG_NONE) {
        cf_verdict v = cf_judge_signature(h, &o->verify, d, sizeof(d));
        add(s, "7.1.1.2", "signature", "the header signature under the caller's profile",
            "design.md decisions 1 and 2", v, d);
        sig_ok = hrss_envelope_verify(e, &o->verify, NULL) == HRSS_OK;
    }
    if (!time_ok || !sig_ok || (o->verify.profile != HRSS_SIG_NONE && !nonce_ok)) {
        reply_envelope(s, req, e, HRSS_COMM_SIGNATURE,
                       !time_ok  ? "request time outside the window"
                       : !sig_ok ? "signature mismatch"
                                 : "nonce missing or malformed",
                       NULL);
        return;
    }
    /* the nonce's freshness, recorded once the signature holds */
    if (nonce_ok) {
        int rc = hrss_replay_check(s->nonces, app, strlen(app), nonce, strlen(nonce), now, &err);
        title = "a nonce used once in 15 minutes";
        if (rc != HRSS_OK) {
            add(s, "7.1.1.2", "replay", title, "design.md decision 3", CF_FAIL,
                "the nonce was used before within 15 minutes (7.1.1.2 note 1)");
            reply_envelope(s, req, e, HRSS_COMM_SIGNATURE, "nonce replayed", NULL);
            return;
        }
        add(s, "7.1.1.2", "replay", title, "design.md decision 3", CF_PASS, "first use");
    }
    /* the body */
    json_t *plain = NULL;
    cf_verdict v = cf_judge_cipher(hrss_envelope_body(e), o->cipher, o->encoding, o->sm4_key,
                                   o->own_sm2, &plain, d, sizeof(d));
    add(s, "7.1.1.1", "cipher", "the body under the grant's profile", "design.md decisions 4 and 5", v,
        d);
    if (v != CF_PASS) {
        json_decref(plain);
        reply_envelope(s, req, e, HRSS_COMM_DECRYPT, "body does not decrypt", NULL);
        return;
    }
    /* its shape (6.2.2) */
    json_t *list = NULL, *data;
    long long cpage = 0, rows = 0;
    if (json_object_get(plain, "cpage") != NULL || json_object_get(plain, "rows") != NULL) {
        int ok = hrss_body_get_paging(plain, &cpage, &rows, &err) == HRSS_OK;
        add(s, "6.2.2.2", "shape", "paged request: cpage >= 1 and rows", "", ok ? CF_PASS : CF_FAIL,
            ok ? "cpage and rows" : err.msg);
        data = hrss_body_paged_response(json_array(), 0, 0);
    } else if (json_object_get(plain, "list") != NULL) {
        int ok = hrss_body_get_batch(plain, &list, &err) == HRSS_OK;
        add(s, "6.2.2.3", "shape", "batch request: totalCount = size of list", "",
            ok ? CF_PASS : CF_FAIL, ok ? "totalCount and list" : err.msg);
        data = hrss_body_data(json_pack("{s:O}", "echo", plain));
    } else {
        add(s, "6.2.2.1", "shape", "object request: conditions in a JSON object", "", CF_PASS,
            "a JSON object");
        data = hrss_body_data(json_pack("{s:O}", "echo", plain));
    }
    json_decref(plain);
    reply_envelope(s, req, e, HRSS_COMM_OK, "成功", data);
}

static void on_last_sent(struct evhttp_request *req, void *base)
{
    (void)req;
    event_base_loopexit(base, NULL);
}

static void on_request(struct evhttp_request *req, void *arg)
{
    sctx *s = arg;
    const char *uri = evhttp_request_get_uri(req);
    if (evhttp_request_get_command(req) == EVHTTP_REQ_GET && uri != NULL &&
        strcmp(uri, "/healthz") == 0) {
        struct evbuffer *b = evbuffer_new();
        evbuffer_add(b, "ok\n", 3);
        evhttp_send_reply(req, 200, "OK", b);
        evbuffer_free(b);
        return;
    }
    if (evhttp_request_get_command(req) != EVHTTP_REQ_POST) {
        reply_error(req, 405, "method", "POST an LD/T 6008 request envelope");
        return;
    }
    struct evbuffer *in = evhttp_request_get_input_buffer(req);
    size_t len = evbuffer_get_length(in);
    char *text = malloc(len + 1);
    if (text == NULL) {
        reply_error(req, 500, "internal", "out of memory");
        return;
    }
    evbuffer_copyout(in, text, len);
    text[len] = '\0';
    s->served++;
    /* the last request: stop once its answer is out */
    if (s->o->count > 0 && s->served >= s->o->count)
        evhttp_request_set_on_complete_cb(req, on_last_sent, s->base);
    snprintf(s->label, sizeof(s->label), "r%ld", s->served);
    s->req_text = text;
    size_t before = s->r->n;
    hrss_envelope *e = NULL;
    violations vs = {"", 0};
    hrss_error err;
    if (hrss_envelope_parse(text, len, HRSS_ENV_REQUEST, &e, on_violation, &vs, &err) != HRSS_OK) {
        add(s, "6.2.1.2", "form", "request envelope: fields, lengths and formats of table 1",
            "design.md decision 7", CF_FAIL, vs.used ? vs.text : err.msg);
        reply_error(req, err.code == HRSS_ETOOBIG ? 413 : 400, "bad_envelope", err.msg);
    } else {
        add(s, "6.2.1.2", "form", "request envelope: fields, lengths and formats of table 1",
            "design.md decision 7", CF_PASS, "every field of table 1 present and well-formed");
        judge(s, req, e);
    }
    hrss_envelope_free(e);
    free(text);
    s->req_text = NULL;
    /* one line per request, and the report kept current */
    size_t bad = 0, differs = 0;
    for (size_t i = before; i < s->r->n; i++) {
        bad += s->r->items[i].verdict == CF_FAIL;
        differs += s->r->items[i].verdict == CF_DIFFERS;
    }
    printf("request %ld: %zu checks, %zu failed, %zu differ from hrss's reading\n", s->served,
           s->r->n - before, bad, differs);
    for (size_t i = before; i < s->r->n; i++)
        if (s->r->items[i].verdict == CF_FAIL || s->r->items[i].verdict == CF_DIFFERS)
            printf("  %s %s %s: %s\n", s->r->items[i].verdict == CF_FAIL ? "FAIL" : "DIFFERS",
                   s->r->items[i].clause, s->r->items[i].id, s->r->items[i].detail);
    fflush(stdout);
    if (s->o->report != NULL)
        cf_write_report(s->r, s->o->report);
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
    (void)sig;
    (void)what;
    event_base_loopexit(arg, NULL);
}

int conform_serve_run(const cf_serve_opts *o, cf_report *r)
{
    sctx s = {.o = o, .r = r};
    struct evhttp *http = NULL;
    struct event *sigs[2] = {NULL, NULL};
    hrss_error err;
    int rc = CLI_USAGE;
    char host[64];
    const char *colon = strrchr(o->listen, ':');
    long port = colon != NULL ? strtol(colon + 1, NULL, 10) : -1;
    if (colon == NULL || (size_t)(colon - o->listen) >= sizeof(host) || port < 0 || port > 65535) {
        cli_error("conform: --listen %s: HOST:PORT", o->listen);
        return CLI_USAGE;
    }
    snprintf(host, sizeof(host), "%.*s", (int)(colon - o->listen), o->listen);
    char system[12];
    snprintf(system, sizeof(system), "%.11s", o->system != NULL ? o->system : o->service);
    if (hrss_idgen_new(system, o->state_dir, &s.ids, &err) != HRSS_OK ||
        hrss_replay_memory_new(100000, WINDOW_SEC * 2, &s.nonces, &err) != HRSS_OK) {
        cli_error("conform: %s", err.msg);
        goto done;
    }
    s.base = event_base_new();
    http = s.base != NULL ? evhttp_new(s.base) : NULL;
    if (http == NULL) {
        cli_error("conform: cannot start the event loop");
        goto done;
    }
    evhttp_set_max_body_size(http, HRSS_ENVELOPE_MAX_BYTES);
    evhttp_set_gencb(http, on_request, &s);
    struct evhttp_bound_socket *sock = evhttp_bind_socket_with_handle(http, host, (int)port);
    if (sock == NULL) {
        cli_error("conform: cannot listen on %s", o->listen);
        goto done;
    }
    sigs[0] = evsignal_new(s.base, SIGINT, on_signal, s.base);
    sigs[1] = evsignal_new(s.base, SIGTERM, on_signal, s.base);
    for (int i = 0; i < 2; i++)
        if (sigs[i] != NULL)
            event_add(sigs[i], NULL);
    struct sockaddr_storage ss;
    ev_socklen_t sl = sizeof(ss);
    int bound = (int)port;
    if (getsockname(evhttp_bound_socket_get_fd(sock), (struct sockaddr *)&ss, &sl) == 0)
        bound = ss.ss_family == AF_INET6 ? ntohs(((struct sockaddr_in6 *)&ss)->sin6_port)
                                         : ntohs(((struct sockaddr_in *)&ss)->sin_port);
    static char where[96]; /* the report's target outlives this run */
    snprintf(where, sizeof(where), "http://%s:%d/", host, bound);
    r->target = where;
    fprintf(stderr, "hrss conform serve: listening on %s:%d as %s, for %s calling %s\n", host,
            bound, system, o->caller, o->service);
    printf("reference node and provider on http://%s:%d/ (any path); judging each request\n", host,
           bound);
    fflush(stdout);
    event_base_dispatch(s.base);
    rc = CLI_OK;
done:
    for (int i = 0; i < 2; i++)
        if (sigs[i] != NULL)
            event_free(sigs[i]);
    if (http != NULL)
        evhttp_free(http);
    if (s.base != NULL)
        event_base_free(s.base);
    for (size_t i = 0; i < s.nreq_ids; i++)
        free(s.req_ids[i]);
    hrss_replay_free(s.nonces);
    hrss_idgen_free(s.ids);
    return rc;
}
