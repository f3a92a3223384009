/*
 * cli/conform/target.c - "hrss conform node" and "hrss conform provider":
 * well-formed requests and every violation a receiver can detect, sent over
 * HTTP to a node or a provider of any vendor, and each answer judged: its
 * envelope (table 2), the echo of the request's ids, commStatus (6.2.1.3),
 * its signature (7.1.1.2) and its cipher (7.1.1.1), and for providers the
 * shapes of 6.2.2. Expected answers follow hrss's readings (docs/
 * design.md, by decision number); another answer where the standard leaves room is
 * "differs", an answer the text forbids (a replay accepted, a request
 * answered with another's id) is "fail".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "cli/cli.h"
#include "cli/conform/conform.h"
#include "common/util.h"

#define ANSWER_MAX (8u * 1024 * 1024)
#define WINDOW_SEC 900
#define MAX_RESIDS 256

typedef struct tctx {
    cf_sign_reading variant; /* hrss's, or the peer's once a probe found it */
    const cf_target_opts *o;
    cf_report *r;
    CURL *curl;
    hrss_idgen *ids;
    char url[2048];
    json_t *body; /* the good request's body */
    char *resids[MAX_RESIDS];
    size_t nresids;
} tctx;

/* One exchange: what went out and what came back. */
typedef struct exch {
    char *req;
    long http; /* 0: no answer */
    char *resp;
    size_t resplen;
    char neterr[CURL_ERROR_SIZE];
    json_t *doc;    /* the answer as JSON, when it is */
    json_t *header; /* borrowed from doc */
} exch;

static void exch_free(exch *x)
{
    free(x->req);
    free(x->resp);
    json_decref(x->doc);
    memset(x, 0, sizeof(*x));
}

static size_t on_data(char *p, size_t size, size_t n, void *ud)
{
    return buf_append(ud, p, size * n) == 0 ? size * n : 0;
}

/* POSTs text (taken) and fills x. */
static void post(tctx *t, char *text, size_t len, exch *x)
{
    hrss_buf b;
    struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
    memset(x, 0, sizeof(*x));
    x->req = text;
    buf_init(&b, ANSWER_MAX);
    curl_easy_setopt(t->curl, CURLOPT_URL, t->url);
    curl_easy_setopt(t->curl, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(t->curl, CURLOPT_POSTFIELDS, text);
    curl_easy_setopt(t->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    curl_easy_setopt(t->curl, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(t->curl, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(t->curl, CURLOPT_ERRORBUFFER, x->neterr);
    curl_easy_setopt(t->curl, CURLOPT_TIMEOUT_MS, t->o->timeout_ms > 0 ? t->o->timeout_ms : 10000L);
    curl_easy_setopt(t->curl, CURLOPT_NOSIGNAL, 1L);
    CURLcode rc = curl_easy_perform(t->curl);
    curl_slist_free_all(h);
    x->resp = buf_detach(&b, &x->resplen);
    if (rc != CURLE_OK) {
        if (x->neterr[0] == '\0')
            snprintf(x->neterr, sizeof(x->neterr), "%s", curl_easy_strerror(rc));
        return;
    }
    curl_easy_getinfo(t->curl, CURLINFO_RESPONSE_CODE, &x->http);
    x->doc = json_loadb(x->resp, x->resplen, JSON_REJECT_DUPLICATES, NULL);
    if (json_is_object(x->doc) && json_is_object(json_object_get(x->doc, "header")))
        x->header = json_object_get(x->doc, "header");
}

static const char *hget(const json_t *h, const char *k)
{
    return json_string_value(json_object_get(h, k));
}

/* ---- building requests ---- */

static hrss_envelope *request(tctx *t, const char *service, const char *area, int seal)
{
    const cf_target_opts *o = t->o;
    hrss_envelope *e = hrss_envelope_new(HRSS_ENV_REQUEST);
    hrss_error err;
    if (e == NULL)
        return NULL;
    hrss_envelope_set(e, "serviceCode", service);
    hrss_envelope_set(e, "appCode", o->caller);
    hrss_envelope_set(e, "serviceAreaCode", area);
    if (hrss_envelope_fill_request(e, t->ids, &err) != HRSS_OK ||
        hrss_envelope_set_body(e, json_deep_copy(t->body)) != HRSS_OK)
        goto fail;
    if (seal && o->cipher != HRSS_BODY_PLAIN) {
        hrss_body_key k = {.cipher = o->cipher, .encoding = o->encoding, .sm2 = o->peer_sm2};
        if (o->sm4_key != NULL &&
            hrss_sm4_key_from_digits(o->sm4_key, strlen(o->sm4_key), k.sm4, &err) != HRSS_OK)
            goto fail;
        int rc = hrss_envelope_seal_body(e, &k, &err);
        explicit_bzero(k.sm4, sizeof(k.sm4));
        if (rc != HRSS_OK)
            goto fail;
    }
    return e;
fail:
    cli_error("conform: cannot build a request: %s", err.msg);
    hrss_envelope_free(e);
    return NULL;
}

static int sign(tctx *t, hrss_envelope *e)
{
    hrss_error err = {0, ""};
    if (t->variant == CF_SIGN_HRSS || t->o->sign.profile == HRSS_SIG_NONE) {
        if (hrss_envelope_sign(e, &t->o->sign, &err) != HRSS_OK) {
            cli_error("conform: cannot sign: %s", err.msg);
            return -1;
        }
        return 0;
    }
    json_t *h = cf_header_as_read(hrss_envelope_header(e), t->variant);
    char *canon = NULL, *sig = NULL;
    size_t len = 0, slen = 0;
    int rc = -1;
    if (h == NULL)
        return -1;
    if (hrss_canonical_header(h, &canon, &len, &err) == HRSS_OK &&
        hrss_sign_string(&t->o->sign, canon, len, &sig, &slen, &err) == HRSS_OK) {
        for (size_t i = 0; t->variant == CF_SIGN_UPPER && i < slen; i++)
            if (sig[i] >= 'a' && sig[i] <= 'f')
                sig[i] = (char)(sig[i] - 32);
        rc = hrss_envelope_set(e, "signature", sig) == HRSS_OK ? 0 : -1;
    } else
        cli_error("conform: cannot sign: %s", err.msg);
    hrss_free(canon);
    hrss_free(sig);
    json_decref(h);
    return rc;
}

/* Serializes e (the header order of insertion) and posts it. */
static void send_env(tctx *t, const hrss_envelope *e, exch *x)
{
    char *text = NULL;
    size_t len = 0;
    if (hrss_envelope_serialize(e, &text, &len) != HRSS_OK) {
        memset(x, 0, sizeof(*x));
        snprintf(x->neterr, sizeof(x->neterr), "could not serialize the request");
        return;
    }
    char *copy = malloc(len + 1);
    if (copy != NULL)
        memcpy(copy, text, len + 1);
    hrss_free(text);
    if (copy == NULL) {
        memset(x, 0, sizeof(*x));
        snprintf(x->neterr, sizeof(x->neterr), "out of memory");
        return;
    }
    post(t, copy, len, x);
}

/* Posts a request made as JSON text by hand (malformed ones). */
static void send_text(tctx *t, const char *text, size_t len, exch *x)
{
    char *copy = malloc(len + 1);
    if (copy == NULL) {
        memset(x, 0, sizeof(*x));
        snprintf(x->neterr, sizeof(x->neterr), "out of memory");
        return;
    }
    memcpy(copy, text, len);
    copy[len] = '\0';
    post(t, copy, len, x);
}

/* ---- judging answers ---- */

typedef struct expect {
    const char *clause, *id, *title, *reading;
    const char *want;    /* "30", "40", "50", "90" or "4xx" */
    cf_verdict accepted; /* verdict when the answer is commStatus 00 */
    const char *why_ok;  /* detail of an accepted answer (differs or skip) */
} expect;

static void add(tctx *t, const char *clause, const char *id, const char *title, const char *reading,
                cf_verdict v, const exch *x, const char *detail)
{
    cf_add(t->r, clause, id, title, reading, v, x != NULL ? x->req : NULL,
           x != NULL ? x->resp : NULL, "%s", detail);
}

/* The request's ids in a refusal envelope: a receiver must answer the
 * request it was sent (table 2: serviceReqId "即所响应的请求报文中的业务请求流水号"). */
static int echo_problems(const json_t *req, const json_t *resp, char *out, size_t n)
{
    static const char *const f[] = {"serviceCode", "appCode", "serviceAreaCode", "serviceReqId",
                                    "serviceReqTime"};
    int bad = 0;
    size_t used = 0;
    out[0] = '\0';
    for (size_t i = 0; i < HRSS_ARRAY_LEN(f); i++) {
        const char *a = hget(req, f[i]), *b = hget(resp, f[i]);
        if (a == NULL && strcmp(f[i], "serviceReqTime") == 0)
            a = hget(req, "timestamp");
        if (a == NULL || (b != NULL && strcmp(a, b) == 0))
            continue;
        bad = 1;
        int w = b == NULL ? snprintf(out + used, n - used, "%s%s missing", used ? "; " : "", f[i])
                          : snprintf(out + used, n - used, "%s%s is %s, the request's %s",
                                     used ? "; " : "", f[i], b, a);
        if (w > 0 && (size_t)w < n - used)
            used += (size_t)w;
    }
    return bad;
}

static void judge_refusal(tctx *t, const expect *e, const json_t *reqh, const exch *x)
{
    char d[1024];
    if (x->http == 0) {
        snprintf(d, sizeof(d), "no answer: %s", x->neterr);
        add(t, e->clause, e->id, e->title, e->reading, CF_FAIL, x, d);
        return;
    }
    const char *st = x->header != NULL ? hget(x->header, "commStatus") : NULL;
    const char *msg = x->header != NULL ? hget(x->header, "msg") : NULL;
    int want4xx = strcmp(e->want, "4xx") == 0;
    if (x->http >= 400 && x->http < 500) {
        if (want4xx) {
            snprintf(d, sizeof(d), "HTTP %ld%s", x->http,
                     x->doc != NULL && json_object_get(x->doc, "error") ? " with a JSON error"
                                                                        : "");
            add(t, e->clause, e->id, e->title, e->reading, CF_PASS, NULL, d);
        } else {
            snprintf(d, sizeof(d),
                     "answered HTTP %ld; hrss answers a request it can parse with a response "
                     "envelope, commStatus %s (design.md decision 7)",
                     x->http, e->want);
            add(t, e->clause, e->id, e->title, e->reading, CF_DIFFERS, x, d);
        }
        return;
    }
    if (x->http != 200 || st == NULL) {
        snprintf(d, sizeof(d), "answered HTTP %ld %s; expected %s%s", x->http,
                 st == NULL ? "without a response envelope" : "", want4xx ? "HTTP " : "commStatus ",
                 e->want);
        add(t, e->clause, e->id, e->title, e->reading, CF_FAIL, x, d);
        return;
    }
    if (strcmp(st, "00") == 0) {
        snprintf(d, sizeof(d), "accepted (commStatus 00)%s%s", e->why_ok ? ": " : "",
                 e->why_ok ? e->why_ok : "");
        add(t, e->clause, e->id, e->title, e->reading, e->accepted, x, d);
        return;
    }
    char echo[512];
    if (reqh != NULL && echo_problems(reqh, x->header, echo, sizeof(echo))) {
        snprintf(d, sizeof(d),
                 "refused with commStatus %s, but the answer is not this "
                 "request's: %s",
                 st, echo);
        add(t, e->clause, e->id, e->title, e->reading, CF_FAIL, x, d);
        return;
    }
    hrss_comm_status cs;
    if (hrss_comm_status_parse(st, strlen(st), &cs, NULL) != HRSS_OK) {
        snprintf(d, sizeof(d), "commStatus %s is none of table 2's codes", st);
        add(t, e->clause, e->id, e->title, e->reading, CF_FAIL, x, d);
    } else if (want4xx) {
        snprintf(d, sizeof(d),
                 "refused with a response envelope, commStatus %s (%s); hrss reads: a request "
                 "that cannot be parsed gets HTTP 4xx and a JSON error, since its header cannot "
                 "be echoed (design.md decision 7)",
                 st, msg != NULL ? msg : "no msg");
        add(t, e->clause, e->id, e->title, e->reading, CF_DIFFERS, x, d);
    } else if (strcmp(st, e->want) == 0) {
        snprintf(d, sizeof(d), "commStatus %s (%s)", st, msg != NULL ? msg : "no msg");
        add(t, e->clause, e->id, e->title, e->reading, CF_PASS, NULL, d);
    } else {
        snprintf(d, sizeof(d), "refused with commStatus %s (%s: %s); hrss answers %s (%s)", st,
                 hrss_comm_status_meaning(cs), msg != NULL ? msg : "no msg", e->want, e->reading);
        add(t, e->clause, e->id, e->title, e->reading, CF_DIFFERS, x, d);
    }
}

static int seen_resid(tctx *t, const char *id)
{
    for (size_t i = 0; i < t->nresids; i++)
        if (strcmp(t->resids[i], id) == 0)
            return 1;
    if (t->nresids < MAX_RESIDS) {
        t->resids[t->nresids] = strdup(id);
        if (t->resids[t->nresids] != NULL)
            t->nresids++;
    }
    return 0;
}

typedef enum shape { SHAPE_OBJECT, SHAPE_PAGED, SHAPE_BATCH } shape;

static void judge_shape(tctx *t, const char *label, shape s, long long rows, const json_t *plain,
                        const exch *x)
{
    char id[128], d[512];
    const json_t *data = json_object_get(plain, "data");
    static const char *const clause[] = {"6.2.2.1", "6.2.2.2", "6.2.2.3"};
    snprintf(id, sizeof(id), "%s.shape", label);
    if (s == SHAPE_OBJECT) {
        if (json_is_object(data))
            add(t, clause[s], id, "object answer: the result in body.data", "", CF_PASS, NULL,
                "body.data is an object");
        else
            add(t, clause[s], id, "object answer: the result in body.data",
                "6.2.2.1.2 example: {\"data\": {...}}", CF_DIFFERS, x,
                "no object body.data; the standard's examples put the result there and hrss "
                "reads that as the shape (6.2.2.1.2)");
        return;
    }
    json_t *tc = json_object_get(data, "totalCount"), *list = json_object_get(data, "list");
    if (s == SHAPE_PAGED) {
        json_t *tp = json_object_get(data, "totalPage");
        if (!json_is_integer(tc) || !json_is_integer(tp) || !json_is_array(list))
            snprintf(d, sizeof(d),
                     "body.data must hold totalCount, totalPage (integers) and "
                     "list (an array)");
        else if ((long long)json_array_size(list) > rows)
            snprintf(d, sizeof(d), "list has %zu items, more than rows = %lld",
                     json_array_size(list), rows);
        else if (json_integer_value(tp) != (json_integer_value(tc) + rows - 1) / rows)
            snprintf(d, sizeof(d), "totalPage %lld for totalCount %lld and rows %lld",
                     (long long)json_integer_value(tp), (long long)json_integer_value(tc), rows);
        else
            d[0] = '\0';
    } else {
        if (!json_is_object(data))
            snprintf(d, sizeof(d), "body.data must be an object");
        else if (list != NULL && (!json_is_array(list) || !json_is_integer(tc) ||
                                  (size_t)json_integer_value(tc) != json_array_size(list)))
            snprintf(d, sizeof(d), "totalCount must be the size of list");
        else
            d[0] = '\0';
    }
    if (d[0] == '\0')
        add(t, clause[s], id,
            s == SHAPE_PAGED ? "paged answer: totalCount, totalPage, list"
                             : "batch answer: data, totalCount = size of list",
            "", CF_PASS, NULL, "shape as 6.2.2 shows");
    else
        add(t, clause[s], id,
            s == SHAPE_PAGED ? "paged answer: totalCount, totalPage, list"
                             : "batch answer: data, totalCount = size of list",
            "", CF_FAIL, x, d);
}

/* Every check of the answer to a well-formed request. Returns 1 when the
 * answer was a success (commStatus 00). */
static int judge_good(tctx *t, const char *label, const hrss_envelope *req, const exch *x, shape s,
                      long long rows)
{
    const cf_target_opts *o = t->o;
    char id[128], d[1024];
    const json_t *reqh = hrss_envelope_header(req);
#define ID(suffix) (snprintf(id, sizeof(id), "%s." suffix, label), id)
    if (x->http == 0) {
        snprintf(d, sizeof(d), "no answer: %s", x->neterr);
        add(t, "5.2", ID("http"), "a well-formed request is answered over HTTP", "", CF_FAIL, x, d);
        return 0;
    }
    if (x->http != 200 || x->header == NULL) {
        snprintf(d, sizeof(d), "HTTP %ld%s", x->http,
                 x->header == NULL ? ", no response envelope" : "");
        add(t, "6.2.1.3", ID("answer"), "a well-formed request gets a response envelope",
            "design.md decision 7", CF_FAIL, x, d);
        return 0;
    }
    /* table 2, strictly */
    hrss_envelope *resp = NULL;
    hrss_error err;
    if (hrss_envelope_parse(x->resp, x->resplen, HRSS_ENV_RESPONSE, &resp, NULL, NULL, &err) ==
        HRSS_OK)
        add(t, "6.2.1.3", ID("form"), "response envelope: fields, lengths and formats of table 2",
            "lengths are limits in characters (design.md decision 7)", CF_PASS, NULL,
            "every field of table 2 present and well-formed");
    else
        add(t, "6.2.1.3", ID("form"), "response envelope: fields, lengths and formats of table 2",
            "lengths are limits in characters (design.md decision 7)", CF_FAIL, x, err.msg);
    hrss_envelope_free(resp);
    /* ids echoed */
    if (echo_problems(reqh, x->header, d, sizeof(d)))
        add(t, "6.2.1.3", ID("echo"),
            "the request's serviceCode, appCode, serviceAreaCode, "
            "serviceReqId, serviceReqTime echoed",
            "", CF_FAIL, x, d);
    else
        add(t, "6.2.1.3", ID("echo"),
            "the request's serviceCode, appCode, serviceAreaCode, "
            "serviceReqId, serviceReqTime echoed",
            "", CF_PASS, NULL, "all five echoed");
    const char *st = hget(x->header, "commStatus");
    int ok = st != NULL && strcmp(st, "00") == 0;
    snprintf(d, sizeof(d), "commStatus %s%s%s", st ? st : "missing",
             hget(x->header, "msg") ? ", msg: " : "",
             hget(x->header, "msg") ? hget(x->header, "msg") : "");
    add(t, "6.2.1.3", ID("commStatus"), "a well-formed, granted request succeeds: commStatus 00",
        "", ok ? CF_PASS : CF_FAIL, x, d);
    /* serviceResId */
    const char *rid = hget(x->header, "serviceResId");
    const char *title = "serviceResId: system code + YYYYMMDD + 9 digits, never repeated";
    if (rid == NULL || hrss_id_check(rid, strlen(rid), &err) != HRSS_OK) {
        snprintf(d, sizeof(d), "%s", rid == NULL ? "serviceResId missing" : err.msg);
        add(t, "5.3", ID("serviceResId"), title, "design.md decision 6", CF_FAIL, x, d);
    } else if (seen_resid(t, rid)) {
        snprintf(d, sizeof(d), "serviceResId %s was already given to another answer", rid);
        add(t, "5.3", ID("serviceResId"), title, "design.md decision 6", CF_FAIL, x, d);
    } else if (o->provider && strncmp(rid, o->service, 11) != 0) {
        snprintf(d, sizeof(d),
                 "serviceResId %.11s... is not from the provider's system code "
                 "%.11s (5.3: the provider makes it from its own code)",
                 rid, o->service);
        add(t, "5.3", ID("serviceResId"), title, "design.md decision 6", CF_FAIL, x, d);
    } else
        add(t, "5.3", ID("serviceResId"), title, "design.md decision 6", CF_PASS, NULL,
            "well-formed and new");
    /* serviceResTime, China Standard Time */
    const char *rt = hget(x->header, "serviceResTime");
    int64_t when = 0;
    title = "serviceResTime: YYYYMMDDHH24MISS, China Standard Time, now";
    if (rt == NULL || hrss_time_parse(rt, strlen(rt), &when, &err) != HRSS_OK) {
        add(t, "6.2.1.3", ID("serviceResTime"), title, "design.md decision 11", CF_FAIL, x,
            rt == NULL ? "serviceResTime missing" : err.msg);
    } else {
        long long off = (long long)(when - (int64_t)time(NULL));
        if (off >= -WINDOW_SEC && off <= WINDOW_SEC)
            add(t, "6.2.1.3", ID("serviceResTime"), title, "design.md decision 11", CF_PASS, NULL,
                "within 15 minutes of the kit's clock");
        else {
            long long h = (off < 0 ? -off : off) + 900;
            snprintf(d, sizeof(d), "serviceResTime %s is %lld s %s the kit's clock%s", rt,
                     off < 0 ? -off : off, off < 0 ? "behind" : "ahead of",
                     off < 0 && h / 3600 == 8 ? ": UTC instead of China Standard Time?" : "");
            add(t, "6.2.1.3", ID("serviceResTime"), title, "design.md decision 11", CF_FAIL, x, d);
        }
    }
    /* the answer's signature */
    title = "the answer's header signature";
    if (!ok && hget(x->header, "signature") == NULL)
        add(t, "7.1.1.2", ID("signature"), title, "design.md decision 2", CF_SKIP, NULL,
            "a refusal without a body, unsigned (nodes do not sign their refusals: client.h)");
    else if (o->verify.profile == HRSS_SIG_NONE)
        add(t, "7.1.1.2", ID("signature"), title, "design.md decision 2", CF_SKIP, NULL,
            "no --response-profile given: answers not checked");
    else {
        cf_verdict v = cf_judge_signature(x->header, &o->verify, d, sizeof(d));
        add(t, "7.1.1.2", ID("signature"), title, "design.md decisions 1 and 2", v, x, d);
    }
    /* the answer's cipher, and the shape of what it holds */
    if (!ok)
        return 0;
    json_t *plain = NULL;
    cf_verdict v = cf_judge_cipher(json_object_get(x->doc, "body"), o->cipher, o->encoding,
                                   o->sm4_key, o->own_sm2, &plain, d, sizeof(d));
    add(t, "7.1.1.1", ID("cipher"), "the answer's body under the grant's profile",
        "design.md decisions 4 and 5", v, x, d);
    if (plain != NULL && o->provider)
        judge_shape(t, label, s, rows, plain, x);
    json_decref(plain);
#undef ID
    return 1;
}

/* ---- the checks ---- */

static int answered(const exch *x, const char *status)
{
    const char *st = x->header != NULL ? hget(x->header, "commStatus") : NULL;
    return x->http == 200 && st != NULL && strcmp(st, status) == 0;
}

/* A well-formed request refused for its signature (30): is it signed the
 * way the receiver reads 7.1.1.2 otherwise? The first variant it serves is
 * reported and used for the rest of the run; *e and *x become that
 * exchange. */
static void probe_signing(tctx *t, const char *service, hrss_envelope **e, exch *x)
{
    if (t->o->sign.profile == HRSS_SIG_NONE || !answered(x, "30"))
        return;
    for (cf_sign_reading v = CF_SIGN_NO_NONCE; v <= CF_SIGN_UPPER; v++) {
        if (v == CF_SIGN_UPPER && t->o->sign.profile == HRSS_SIG_SM2)
            continue;
        hrss_envelope *e2 = request(t, service, t->o->area, 1);
        exch y;
        if (e2 == NULL)
            return;
        t->variant = v;
        sign(t, e2);
        send_env(t, e2, &y);
        if (answered(&y, "00")) {
            cf_add(t->r, "7.1.1.2", "signature.reading",
                   "the receiver verifies signatures as hrss reads 7.1.1.2",
                   "design.md decisions 1 and 2", CF_DIFFERS, x->req, x->resp,
                   "%s: the request signed as hrss reads it was refused 30, the same signed "
                   "its way was served; the checks after this one sign its way",
                   cf_sign_reading_text(v));
            exch_free(x);
            *x = y;
            hrss_envelope_free(*e);
            *e = e2;
            return;
        }
        exch_free(&y);
        hrss_envelope_free(e2);
    }
    t->variant = CF_SIGN_HRSS;
}

static int good_call(tctx *t, const char *label, const char *service, json_t *body, shape s,
                     long long rows, exch *x, hrss_envelope **keep)
{
    json_t *saved = t->body;
    if (body != NULL)
        t->body = body;
    hrss_envelope *e = request(t, service, t->o->area, 1);
    t->body = saved;
    if (e == NULL || sign(t, e) != 0) {
        hrss_envelope_free(e);
        return -1;
    }
    send_env(t, e, x);
    if (strcmp(label, "request") == 0)
        probe_signing(t, service, &e, x);
    int ok = judge_good(t, label, e, x, s, rows);
    if (keep != NULL)
        *keep = e;
    else
        hrss_envelope_free(e);
    return ok;
}

/* A signed request changed by edit (before signing when pre is 1, after it
 * otherwise), judged as a refusal. */
static void refused(tctx *t, const expect *ex, const char *service, const char *area,
                    void (*edit)(tctx *, hrss_envelope *), int pre)
{
    hrss_envelope *e = request(t, service, area, 1);
    exch x;
    if (e == NULL)
        return;
    if (pre && edit != NULL)
        edit(t, e);
    if (t->o->sign.profile != HRSS_SIG_NONE || !pre)
        sign(t, e);
    if (!pre && edit != NULL)
        edit(t, e);
    send_env(t, e, &x);
    judge_refusal(t, ex, hrss_envelope_header(e), &x);
    exch_free(&x);
    hrss_envelope_free(e);
}

static void flip_signature(tctx *t, hrss_envelope *e)
{
    (void)t;
    const char *s = hrss_envelope_get(e, "signature");
    if (s == NULL)
        return;
    char *c = strdup(s);
    if (c == NULL)
        return;
    size_t n = strlen(c);
    /* a character of the same alphabet (hex or Base64), not padding */
    size_t i = n > 4 ? n / 2 : 0;
    c[i] = c[i] == 'a' ? 'b' : 'a';
    hrss_envelope_set(e, "signature", c);
    free(c);
}

static void shift_time(hrss_envelope *e, int64_t by)
{
    const char *s = hrss_envelope_get(e, "serviceReqTime");
    int64_t when;
    char out[HRSS_TIME_LEN + 1];
    if (s == NULL || hrss_time_parse(s, strlen(s), &when, NULL) != HRSS_OK)
        return;
    hrss_time_format(when + by, out);
    hrss_envelope_set(e, "serviceReqTime", out);
}

static void time_plus_1s(tctx *t, hrss_envelope *e)
{
    (void)t;
    shift_time(e, 1);
}

static void time_stale(tctx *t, hrss_envelope *e)
{
    (void)t;
    shift_time(e, -20 * 60);
}

static void time_future(tctx *t, hrss_envelope *e)
{
    (void)t;
    shift_time(e, 20 * 60);
}

static void new_nonce(tctx *t, hrss_envelope *e)
{
    (void)t;
    char n[HRSS_NONCE_LEN + 1];
    if (hrss_nonce_new(n) == HRSS_OK)
        hrss_envelope_set(e, "nonce", n);
}

static void drop_signature(tctx *t, hrss_envelope *e)
{
    (void)t;
    hrss_envelope_set(e, "signature", NULL);
}

static void drop_nonce(tctx *t, hrss_envelope *e)
{
    (void)t;
    hrss_envelope_set(e, "nonce", NULL);
}

static void bad_ciphertext(tctx *t, hrss_envelope *e)
{
    /* well-formed text of the grant's encoding that opens to nothing */
    hrss_envelope_set_body(e, json_string(t->o->encoding == HRSS_TEXT_HEX
                                              ? "00112233445566778899aabbccddeeff"
                                              : "ABEiM0RVZneImaq7zN3u/w=="));
}

static void unknown_caller(tctx *t, hrss_envelope *e)
{
    char code[12], id[HRSS_ID_LEN + 1];
    snprintf(code, sizeof(code), "%.7s%s", t->o->caller,
             strcmp(t->o->caller + 7, "Zq9x") == 0 ? "Zq9y" : "Zq9x");
    const char *rid = hrss_envelope_get(e, "serviceReqId");
    snprintf(id, sizeof(id), "%s%s", code,
             rid != NULL && strlen(rid) == HRSS_ID_LEN ? rid + 11 : "");
    hrss_envelope_set(e, "appCode", code);
    hrss_envelope_set(e, "serviceReqId", id);
}

static const char *other_area(const char *area)
{
    return strcmp(area, "120000") == 0 ? "130000" : "120000";
}

/* 7.1.1.2: signatures, nonces, times. */
static void check_signatures(tctx *t)
{
    const cf_target_opts *o = t->o;
    int prov = o->provider && !o->standalone;
    const char *left = "a provider behind a node may leave this to the node (provider.h); "
                       "--standalone when it is reachable without one";
    if (o->sign.profile == HRSS_SIG_NONE) {
        cf_add(t->r, "7.1.1.2", "signature", "signature checks", "design.md decision 2", CF_SKIP, NULL,
               NULL, "the caller's profile is none: no signature to tamper with");
        return;
    }
    expect e = {"7.1.1.2",
                "signature.altered",
                "a changed signature is refused",
                "signature failure is commStatus 30",
                "30",
                prov ? CF_SKIP : CF_FAIL,
                prov ? left : "the signature is not checked"};
    refused(t, &e, o->service, o->area, flip_signature, 0);
    e.id = "signature.field_changed";
    e.title = "a header field changed after signing is refused";
    e.why_ok = prov ? left : "serviceReqTime is not covered by the signature";
    refused(t, &e, o->service, o->area, time_plus_1s, 0);
    e.id = "signature.nonce_changed";
    e.title = "a nonce changed after signing is refused";
    e.reading = "design.md decision 1: the nonce is a header field and is signed";
    e.accepted = prov ? CF_SKIP : CF_DIFFERS;
    e.why_ok = prov ? left
                    : "the nonce is not part of the signed string here; hrss signs it as header "
                      "field nonce (design.md decision 1)";
    refused(t, &e, o->service, o->area, new_nonce, 0);
    e.id = "signature.missing";
    e.title = "a request without a signature is refused";
    e.reading = "the caller's profile requires one; commStatus 30";
    e.why_ok = prov ? left
                    : "table 1 lets a service without a signature requirement take unsigned "
                      "requests; hrss requires the profile registered for the caller";
    refused(t, &e, o->service, o->area, drop_signature, 0);
    e.id = "nonce.missing";
    e.title = "a signed request without a nonce is refused";
    e.reading = "design.md decision 1: the nonce travels as header field nonce; commStatus 30";
    e.why_ok = prov ? left
                    : "7.1.1.2 adds a nonce to the signed string but does not say where it "
                      "travels; hrss requires header field nonce";
    refused(t, &e, o->service, o->area, drop_nonce, 1);
    /* replays */
    exch a, b;
    hrss_envelope *first = NULL;
    int ok = good_call(t, "replay.first", o->service, NULL, SHAPE_OBJECT, 0, &a, &first);
    if (ok == 1) {
        e = (expect){"7.1.1.2",
                     "nonce.replay",
                     "the same request sent again is refused",
                     "design.md decision 3: a nonce once in 15 minutes per caller; replays are "
                     "commStatus 30",
                     "30",
                     prov ? CF_SKIP : CF_FAIL,
                     prov ? left
                          : "7.1.1.2 note 1: a nonce may not be used again within 15 "
                            "minutes"};
        send_text(t, a.req, strlen(a.req), &b);
        judge_refusal(t, &e, hrss_envelope_header(first), &b);
        exch_free(&b);
        /* the same nonce under a new id */
        hrss_envelope *e2 = request(t, o->service, o->area, 1);
        if (e2 != NULL) {
            hrss_envelope_set(e2, "nonce", hrss_envelope_get(first, "nonce"));
            sign(t, e2);
            send_env(t, e2, &b);
            e.id = "nonce.reused";
            e.title = "a new request with a used nonce is refused";
            judge_refusal(t, &e, hrss_envelope_header(e2), &b);
            exch_free(&b);
            hrss_envelope_free(e2);
        }
    } else
        cf_add(t->r, "7.1.1.2", "nonce.replay", "the same request sent again is refused",
               "design.md decision 3", CF_SKIP, NULL, NULL,
               "the first request did not succeed, so its replay proves nothing");
    exch_free(&a);
    hrss_envelope_free(first);
    e = (expect){"7.1.1.2",
                 "time.stale",
                 "a request 20 minutes old (fresh nonce) is refused",
                 "design.md decisions 3 and 11: request time within 15 minutes of the receiver's clock, "
                 "else commStatus 30",
                 "30",
                 prov ? CF_SKIP : CF_DIFFERS,
                 prov ? left
                      : "the standard names no time window; hrss refuses times more "
                        "than 15 minutes away, the nonces' memory"};
    refused(t, &e, o->service, o->area, time_stale, 1);
    e.id = "time.future";
    e.title = "a request dated 20 minutes ahead is refused";
    refused(t, &e, o->service, o->area, time_future, 1);
}

/* Table 1, field by field, and the JSON itself: requests that cannot be
 * parsed. */
typedef struct bad_field {
    const char *id, *field, *value; /* value NULL: the field removed */
    const char *title;
} bad_field;

static void check_malformed(tctx *t)
{
    const cf_target_opts *o = t->o;
    char longsig[257];
    memset(longsig, 'a', 256);
    longsig[256] = '\0';
    char svc16[17], app12[13], id29[30], area7[8];
    snprintf(svc16, sizeof(svc16), "%sX", o->service);
    snprintf(app12, sizeof(app12), "%sX", o->caller);
    snprintf(area7, sizeof(area7), "%s0", o->area);
    const bad_field bf[] = {
        {"table1.serviceCode.missing", "serviceCode", NULL, "serviceCode missing"},
        {"table1.serviceCode.length", "serviceCode", svc16, "serviceCode of 16 characters"},
        {"table1.appCode.missing", "appCode", NULL, "appCode missing"},
        {"table1.appCode.length", "appCode", app12, "appCode of 12 characters"},
        {"table1.appCode.format", "appCode", "X1100001234", "appCode not B/S + area + 4"},
        {"table1.serviceAreaCode.missing", "serviceAreaCode", NULL, "serviceAreaCode missing"},
        {"table1.serviceAreaCode.length", "serviceAreaCode", area7,
         "serviceAreaCode of 7 characters"},
        {"table1.serviceAreaCode.format", "serviceAreaCode", "999999",
         "serviceAreaCode not a GB/T 2260 province-level code"},
        {"table1.serviceReqId.missing", "serviceReqId", NULL, "serviceReqId missing"},
        {"table1.serviceReqId.length", "serviceReqId", id29, "serviceReqId of 29 characters"},
        {"table1.serviceReqTime.missing", "serviceReqTime", NULL, "serviceReqTime missing"},
        {"table1.serviceReqTime.format", "serviceReqTime", "20241301250000",
         "serviceReqTime not a real YYYYMMDDHH24MISS time"},
        {"table1.signature.length", "signature", longsig, "signature of 256 characters"},
    };
    for (size_t i = 0; i < HRSS_ARRAY_LEN(bf); i++) {
        hrss_envelope *e = request(t, o->service, o->area, 1);
        exch x;
        if (e == NULL)
            return;
        if (strcmp(bf[i].id, "table1.serviceReqId.length") == 0)
            snprintf(id29, sizeof(id29), "%s0", hrss_envelope_get(e, "serviceReqId"));
        int is_sig = strcmp(bf[i].field, "signature") == 0;
        if (!is_sig) {
            hrss_envelope_set(e, bf[i].field, bf[i].value);
            sign(t, e);
        } else
            hrss_envelope_set(e, "signature", bf[i].value);
        send_env(t, e, &x);
        expect ex = {"6.2.1.2",
                     bf[i].id,
                     bf[i].title,
                     "design.md decision 7: a request that cannot be parsed gets HTTP 4xx and a "
                     "JSON error",
                     "4xx",
                     CF_FAIL,
                     "a request table 1 forbids was served"};
        judge_refusal(t, &ex, NULL, &x);
        exch_free(&x);
        hrss_envelope_free(e);
    }
    /* JSON and UTF-8 (5.2) */
    hrss_envelope *e = request(t, o->service, o->area, 1);
    if (e == NULL)
        return;
    sign(t, e);
    char *text = NULL;
    size_t len = 0;
    if (hrss_envelope_serialize(e, &text, &len) != HRSS_OK) {
        hrss_envelope_free(e);
        return;
    }
    hrss_buf b;
    exch x;
    expect ex = {"5.2",
                 "json.syntax",
                 "text that is not JSON is refused",
                 "design.md decision 7: HTTP 4xx and a JSON error",
                 "4xx",
                 CF_FAIL,
                 "text that is not JSON was served"};
    send_text(t, text, len > 10 ? len - 10 : len, &x); /* cut short */
    judge_refusal(t, &ex, NULL, &x);
    exch_free(&x);
    /* a duplicate key: {"header":{"appCode":"X",...}} with appCode twice */
    buf_init(&b, len + 64);
    if (len > 11 && strncmp(text, "{\"header\":{", 11) == 0) {
        buf_append(&b, text, 11);
        buf_append_str(&b, "\"appCode\":\"");
        buf_append_str(&b, o->caller);
        buf_append_str(&b, "\",");
        buf_append(&b, text + 11, len - 11);
        ex.id = "json.duplicate_key";
        ex.title = "a header with a key twice is refused";
        ex.reading = "duplicate keys are refused at any depth (strict JSON, 6.2.1; one meaning "
                     "per field)";
        ex.why_ok = "a key given twice was served (which value counted?)";
        send_text(t, b.p, b.len, &x);
        judge_refusal(t, &ex, NULL, &x);
        exch_free(&x);
    }
    buf_free(&b);
    /* invalid UTF-8 inside a string (5.2: UTF-8) */
    char *bad = malloc(len + 1);
    if (bad != NULL) {
        memcpy(bad, text, len + 1);
        char *q = strstr(bad, o->service);
        if (q != NULL) {
            q[14] = (char)0xC3; /* a lead byte followed by a quote */
            ex.id = "utf8.invalid";
            ex.title = "a request that is not UTF-8 is refused";
            ex.reading = "5.2: UTF-8; invalid sequences refused";
            ex.why_ok = "invalid UTF-8 was served";
            send_text(t, bad, len, &x);
            judge_refusal(t, &ex, NULL, &x);
            exch_free(&x);
        }
        free(bad);
    }
    hrss_free(text);
    hrss_envelope_free(e);
    /* body over 100K characters */
    e = request(t, o->service, o->area, 0);
    if (e == NULL)
        return;
    size_t big = HRSS_BODY_MAX_CHARS + 16;
    char *pad = malloc(big + 1);
    if (pad != NULL) {
        memset(pad, 'a', big);
        pad[big] = '\0';
        hrss_envelope_set_body(e, json_string(pad));
        free(pad);
        sign(t, e);
        send_env(t, e, &x);
        ex = (expect){"6.2.1.2",
                      "table1.body.length",
                      "a body over 100K characters is refused",
                      "design.md decision 7: 100K = 102,400 characters; HTTP 413",
                      "4xx",
                      CF_FAIL,
                      "a body over the limit of table 1 was served"};
        judge_refusal(t, &ex, NULL, &x);
        exch_free(&x);
    }
    hrss_envelope_free(e);
}

/* Callers, grants, routing, ciphers. */
static void check_access(tctx *t)
{
    const cf_target_opts *o = t->o;
    int prov = o->provider && !o->standalone;
    char svc[16];
    expect e = {"5.4",
                "caller.unknown",
                "a caller the receiver does not know is refused",
                "no permission is commStatus 50",
                "50",
                prov ? CF_SKIP : CF_FAIL,
                prov ? "a provider behind a node may leave callers to the node (provider.h)"
                     : "an unregistered caller was served"};
    refused(t, &e, o->service, o->area, unknown_caller, 1);
    if (o->ungranted_service != NULL) {
        e = (expect){"5.4",
                     "grant.none",
                     "a service the caller has no grant for is refused",
                     "no permission is commStatus 50",
                     "50",
                     CF_FAIL,
                     "a caller without a grant was served"};
        refused(t, &e, o->ungranted_service, o->area, NULL, 1);
    } else
        cf_add(t->r, "5.4", "grant.none", "a service the caller has no grant for is refused", "",
               CF_SKIP, NULL, NULL, "no --ungranted-service given");
    snprintf(svc, sizeof(svc), "%.11s%s", o->service,
             strcmp(o->service + 11, "Zz9Q") == 0 ? "Zz9R" : "Zz9Q");
    e = (expect){"5.4",
                 "service.unknown",
                 "a service nobody publishes is refused",
                 "design.md decision 13: unknown service is commStatus 90 (other "
                 "error: routing, not permission)",
                 "90",
                 CF_FAIL,
                 "an unpublished service code was answered as a success"};
    refused(t, &e, svc, o->area, NULL, 1);
    if (!o->provider) {
        e = (expect){"5.4",
                     "area.wrong",
                     "a service asked in another area is refused",
                     "design.md decision 13: wrong area is commStatus 90",
                     "90",
                     CF_FAIL,
                     "served in an area that is not its provider's"};
        refused(t, &e, o->service, other_area(o->area), NULL, 1);
    }
    if (o->cipher == HRSS_BODY_SM4_ECB || o->cipher == HRSS_BODY_SM2) {
        e = (expect){"7.1.1.1",
                     "cipher.undecryptable",
                     "a body that does not decrypt is refused",
                     "table 2: 40 解密失败",
                     "40",
                     CF_FAIL,
                     "a body that does not decrypt was answered as a success"};
        refused(t, &e, o->service, o->area, bad_ciphertext, 1);
    }
}

int conform_target_run(const cf_target_opts *o, cf_report *r)
{
    tctx t = {.o = o, .r = r};
    hrss_error err;
    int rc = CLI_USAGE;
    json_error_t je;
    t.body = o->body_json != NULL ? json_loads(o->body_json, JSON_REJECT_DUPLICATES, &je)
                                  : json_object();
    if (!json_is_object(t.body)) {
        cli_error("conform: --body: %s", t.body == NULL ? je.text : "not a JSON object");
        goto done;
    }
    /* the node's transaction path when the URL names none, as the SDK does */
    const char *path = strstr(o->url, "://");
    path = path != NULL ? strchr(path + 3, '/') : NULL;
    snprintf(t.url, sizeof(t.url), "%s%s", o->url,
             !o->provider && (path == NULL || strcmp(path, "/") == 0)
                 ? (path == NULL ? "/api/v1/transaction" : "api/v1/transaction")
                 : "");
    if (hrss_idgen_new(o->caller, o->state_dir, &t.ids, &err) != HRSS_OK) {
        cli_error("conform: %s", err.msg);
        goto done;
    }
    t.curl = curl_easy_init();
    if (t.curl == NULL) {
        cli_error("conform: cannot start libcurl");
        goto done;
    }
    /* well-formed requests first: the run means little when they fail */
    exch x;
    int ok = good_call(&t, "request", o->service, NULL, SHAPE_OBJECT, 0, &x, NULL);
    exch_free(&x);
    if (ok < 0)
        goto done;
    if (o->paged_service != NULL) {
        json_t *b = json_deep_copy(t.body);
        json_object_set_new(b, "cpage", json_integer(1));
        json_object_set_new(b, "rows", json_integer(2));
        good_call(&t, "paged", o->paged_service, b, SHAPE_PAGED, 2, &x, NULL);
        exch_free(&x);
        json_decref(b);
    }
    if (o->batch_service != NULL) {
        json_t *list = json_array();
        json_array_append(list, t.body);
        json_array_append(list, t.body);
        json_t *b = hrss_body_batch_request(list);
        good_call(&t, "batch", o->batch_service, b, SHAPE_BATCH, 0, &x, NULL);
        exch_free(&x);
        json_decref(b);
    }
    check_signatures(&t);
    check_malformed(&t);
    check_access(&t);
    rc = CLI_OK;
done:
    for (size_t i = 0; i < t.nresids; i++)
        free(t.resids[i]);
    if (t.curl != NULL)
        curl_easy_cleanup(t.curl);
    hrss_idgen_free(t.ids);
    json_decref(t.body);
    return rc;
}
