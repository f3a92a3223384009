/*
 * demo/services.c - the four services of the demo provider, one handler
 * each, answering in the body shapes of LD/T 6008-2024 6.2.2:
 *
 *   ...SBKZ  card status: an object request {aac002[, aac003]} gets
 *            {"data": {...}} (6.2.2.1); a batch request {totalCount, list}
 *            (6.2.2.3) gets {"data": {"totalCount": n, "list": [...]}}.
 *   ...JYJL  employment history, paged: {aac002, cpage, rows} gets
 *            {"data": {"totalCount", "totalPage", "list"}} (6.2.2.2).
 *   ...YLYE  pension account balance: {"data": {...}} (6.2.2.1).
 *   ...LSGS  temporary card loss: records a work order, changes the card's
 *            status, answers the order number (6.2.2.1).
 *
 * Numbers and names are masked in answers as a real system would
 * (110101********0236, 张*). A person not found is a business failure
 * (commStatus 10, busiStatus 002); a malformed request is 10 with 003.
 * The log line of each transaction names the service, caller and outcome,
 * never a number or a name.
 */
#include <stdio.h>
#include <string.h>

#include "demo.h"

typedef struct demo_ctx {
    sqlite3 *db;
} demo_ctx;

static demo_ctx ctx_storage;

static const char *card_status_text(const char *code)
{
    if (strcmp(code, "1") == 0)
        return "正常";
    if (strcmp(code, "2") == 0)
        return "临时挂失";
    if (strcmp(code, "3") == 0)
        return "正式挂失";
    return "注销";
}

static void log_txn(const hrss_provider_request *req, const hrss_provider_reply *rep)
{
    fprintf(stderr, "event=transaction service=%s caller=%s req_id=%s comm=%02d busi=%s\n",
            req->service_code, req->app_code, req->req_id, (int)rep->comm_status,
            rep->busi_status[0] ? rep->busi_status : "-");
}

static void ok(hrss_provider_reply *rep, json_t *body)
{
    hrss_provider_reply_status(rep, HRSS_COMM_OK, "001", "成功");
    hrss_provider_reply_body(rep, body);
}

/* aac002 of an object; NULL (and the reply filled) when absent or invalid. */
static const char *want_id(const json_t *o, hrss_provider_reply *rep)
{
    const char *id = json_string_value(json_object_get(o, "aac002"));
    if (id == NULL || !fixture_id_valid(id)) {
        hrss_provider_reply_status(rep, HRSS_COMM_BUSINESS_FAIL, "003",
                                   "aac002: an 18-character social security number with a valid "
                                   "check digit is required");
        return NULL;
    }
    return id;
}

/* The card record of id as an object (masked), or NULL when not found. */
static json_t *card_of(sqlite3 *db, const char *id)
{
    sqlite3_stmt *st = NULL;
    json_t *o = NULL;
    char mid[64], mname[64];
    if (sqlite3_prepare_v2(db,
                           "SELECT aac003, card_no, card_status, bank FROM persons WHERE aac002=?",
                           -1, &st, NULL) != SQLITE_OK)
        return NULL;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
    if (sqlite3_step(st) == SQLITE_ROW) {
        const char *name = (const char *)sqlite3_column_text(st, 0);
        const char *card = (const char *)sqlite3_column_text(st, 1);
        const char *status = (const char *)sqlite3_column_text(st, 2);
        char mcard[32];
        fixture_mask_id(id, mid);
        fixture_mask_name(name, mname);
        snprintf(mcard, sizeof(mcard), "%.4s*****", card);
        o = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s}", "aac002", mid, "aac003", mname, "aaz500", mcard,
                      "aaz502", status, "cardStatus", card_status_text(status), "aae008",
                      (const char *)sqlite3_column_text(st, 3));
    }
    sqlite3_finalize(st);
    return o;
}

static void not_found(hrss_provider_reply *rep)
{
    hrss_provider_reply_status(rep, HRSS_COMM_BUSINESS_FAIL, "002", "no such insured person");
}

static void card_status(void *arg, const hrss_provider_request *req, hrss_provider_reply *rep)
{
    demo_ctx *c = arg;
    json_t *list = NULL;
    hrss_error e;

    if (json_object_get(req->body, "list") != NULL) { /* 6.2.2.3 batch */
        if (hrss_body_get_batch(req->body, &list, &e) != HRSS_OK || json_array_size(list) > 100) {
            hrss_provider_reply_status(rep, HRSS_COMM_BUSINESS_FAIL, "003", "%s",
                                       json_array_size(list) > 100 ? "at most 100 persons"
                                                                   : e.msg);
            goto done;
        }
        json_t *out = json_array();
        size_t i;
        json_t *item;
        json_array_foreach(list, i, item)
        {
            const char *id = json_string_value(json_object_get(item, "aac002"));
            json_t *card = id != NULL && fixture_id_valid(id) ? card_of(c->db, id) : NULL;
            if (card == NULL) {
                char mid[64];
                fixture_mask_id(id != NULL ? id : "", mid);
                card = json_pack("{s:s,s:s}", "aac002", mid, "cardStatus", "未找到");
            }
            json_array_append_new(out, card);
        }
        json_t *data = json_pack("{s:I,s:o}", "totalCount", (json_int_t)json_array_size(out),
                                 "list", out);
        ok(rep, json_pack("{s:o}", "data", data));
        goto done;
    }
    const char *id = want_id(req->body, rep);
    if (id == NULL)
        goto done;
    json_t *card = card_of(c->db, id);
    if (card == NULL)
        not_found(rep);
    else
        ok(rep, hrss_body_data(card));
done:
    log_txn(req, rep);
}

static void employment(void *arg, const hrss_provider_request *req, hrss_provider_reply *rep)
{
    demo_ctx *c = arg;
    long long cpage, rows;
    hrss_error e;
    sqlite3_stmt *st = NULL;
    char mid[64], mname[64];

    const char *id = want_id(req->body, rep);
    if (id == NULL)
        goto done;
    if (hrss_body_get_paging(req->body, &cpage, &rows, &e) != HRSS_OK) {
        hrss_provider_reply_status(rep, HRSS_COMM_BUSINESS_FAIL, "003", "%s", e.msg);
        goto done;
    }
    json_t *person = card_of(c->db, id);
    if (person == NULL) {
        not_found(rep);
        goto done;
    }
    snprintf(mname, sizeof(mname), "%s", json_string_value(json_object_get(person, "aac003")));
    json_decref(person);
    fixture_mask_id(id, mid);
    long long total = 0;
    if (sqlite3_prepare_v2(c->db, "SELECT count(*) FROM jobs WHERE aac002=?", -1, &st, NULL) ==
        SQLITE_OK) {
        sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
        if (sqlite3_step(st) == SQLITE_ROW)
            total = sqlite3_column_int64(st, 0);
    }
    sqlite3_finalize(st);
    st = NULL;
    json_t *list = json_array();
    if (sqlite3_prepare_v2(c->db,
                           "SELECT unit, start, finish FROM jobs WHERE aac002=? ORDER BY seq "
                           "LIMIT ? OFFSET ?",
                           -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 2, rows);
        sqlite3_bind_int64(st, 3, (cpage - 1) * rows);
        while (sqlite3_step(st) == SQLITE_ROW) {
            const char *finish = (const char *)sqlite3_column_text(st, 2);
            json_array_append_new(
                list, json_pack("{s:s,s:s,s:s,s:s,s:s}", "aac002", mid, "aac003", mname, "aab004",
                                (const char *)sqlite3_column_text(st, 0), "aae030",
                                (const char *)sqlite3_column_text(st, 1), "aae031",
                                finish != NULL ? finish : ""));
        }
    }
    sqlite3_finalize(st);
    ok(rep, hrss_body_paged_response(list, total, (total + rows - 1) / rows));
done:
    log_txn(req, rep);
}

static void pension(void *arg, const hrss_provider_request *req, hrss_provider_reply *rep)
{
    demo_ctx *c = arg;
    sqlite3_stmt *st = NULL;
    char mid[64], balance[32];

    const char *id = want_id(req->body, rep);
    if (id == NULL)
        goto done;
    json_t *person = card_of(c->db, id);
    if (person == NULL) {
        not_found(rep);
        goto done;
    }
    fixture_mask_id(id, mid);
    if (sqlite3_prepare_v2(c->db,
                           "SELECT balance_cents, months, as_of FROM pensions WHERE aac002=?", -1,
                           &st, NULL) == SQLITE_OK) {
        sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
        if (sqlite3_step(st) == SQLITE_ROW) {
            long long cents = sqlite3_column_int64(st, 0);
            snprintf(balance, sizeof(balance), "%lld.%02lld", cents / 100, cents % 100);
            ok(rep, hrss_body_data(json_pack(
                        "{s:s,s:O,s:s,s:i,s:s}", "aac002", mid, "aac003",
                        json_object_get(person, "aac003"), "balance", balance, "paidMonths",
                        sqlite3_column_int(st, 1), "asOf", (const char *)sqlite3_column_text(st, 2))));
        } else {
            not_found(rep);
        }
    }
    sqlite3_finalize(st);
    json_decref(person);
done:
    log_txn(req, rep);
}

static void card_loss(void *arg, const hrss_provider_request *req, hrss_provider_reply *rep)
{
    demo_ctx *c = arg;
    sqlite3_stmt *st = NULL;
    char mid[64], order[48];

    const char *id = want_id(req->body, rep);
    if (id == NULL)
        goto done;
    json_t *card = card_of(c->db, id);
    if (card == NULL) {
        not_found(rep);
        goto done;
    }
    const char *status = json_string_value(json_object_get(card, "aaz502"));
    if (strcmp(status, "1") != 0) {
        hrss_provider_reply_status(rep, HRSS_COMM_BUSINESS_FAIL, "004", "card is %s already",
                                   card_status_text(status));
        json_decref(card);
        goto done;
    }
    json_decref(card);
    /* the order number: GS + the request id's date and sequence */
    snprintf(order, sizeof(order), "GS%s", req->req_id + HRSS_SYSTEM_CODE_LEN);
    char now[HRSS_TIME_LEN + 1];
    hrss_time_now(now);
    sqlite3_exec(c->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
    int good = sqlite3_prepare_v2(c->db,
                                  "INSERT INTO work_orders (order_no, aac002, kind, caller, "
                                  "req_id, created) VALUES (?,?,'card_loss',?,?,?)",
                                  -1, &st, NULL) == SQLITE_OK;
    if (good) {
        sqlite3_bind_text(st, 1, order, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 2, id, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 3, req->app_code, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 4, req->req_id, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 5, now, -1, SQLITE_TRANSIENT);
        good = sqlite3_step(st) == SQLITE_DONE;
    }
    sqlite3_finalize(st);
    st = NULL;
    if (good && sqlite3_prepare_v2(c->db, "UPDATE persons SET card_status='2' WHERE aac002=?",
                                   -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
        good = sqlite3_step(st) == SQLITE_DONE;
    } else {
        good = 0;
    }
    sqlite3_finalize(st);
    sqlite3_exec(c->db, good ? "COMMIT" : "ROLLBACK", NULL, NULL, NULL);
    if (!good) {
        hrss_provider_reply_status(rep, HRSS_COMM_SYSTEM_ERROR, NULL, "work order not recorded");
        goto done;
    }
    fixture_mask_id(id, mid);
    ok(rep, hrss_body_data(json_pack("{s:s,s:s,s:s,s:s,s:s}", "workOrder", order, "aac002", mid,
                                     "aaz502", "2", "cardStatus", card_status_text("2"),
                                     "acceptedAt", now)));
done:
    log_txn(req, rep);
}

int services_register(hrss_provider *p, const char *system_code, sqlite3 *db, hrss_error *err)
{
    static const struct {
        const char *suffix;
        hrss_provider_handler fn;
    } table[] = {{DEMO_SVC_CARD, card_status},
                 {DEMO_SVC_JOBS, employment},
                 {DEMO_SVC_PENSION, pension},
                 {DEMO_SVC_LOSS, card_loss}};
    char code[HRSS_INTERFACE_CODE_LEN + 1];
    ctx_storage.db = db;
    for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
        snprintf(code, sizeof(code), "%s%s", system_code, table[i].suffix);
        int rc = hrss_provider_route(p, code, table[i].fn, &ctx_storage, err);
        if (rc != HRSS_OK)
            return rc;
    }
    return HRSS_OK;
}
