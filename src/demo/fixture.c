/*
 * demo/fixture.c - the demo provider's database: persons, social security
 * cards, employment history, pension accounts and work orders, generated
 * once from a fixed seed so that every demo shows the same fictitious
 * people. Social security numbers are GB 11643 citizen numbers with valid
 * check digits, in Beijing's districts; names are drawn from common
 * characters and belong to nobody.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "demo.h"

static const char schema[] =
    "CREATE TABLE IF NOT EXISTS persons (aac002 TEXT PRIMARY KEY, aac003 TEXT NOT NULL,"
    " card_no TEXT NOT NULL, card_status TEXT NOT NULL, bank TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS jobs (aac002 TEXT NOT NULL, seq INTEGER NOT NULL,"
    " unit TEXT NOT NULL, start TEXT NOT NULL, finish TEXT, PRIMARY KEY(aac002, seq));"
    "CREATE TABLE IF NOT EXISTS pensions (aac002 TEXT PRIMARY KEY, balance_cents INTEGER NOT NULL,"
    " months INTEGER NOT NULL, as_of TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS work_orders (id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " order_no TEXT NOT NULL UNIQUE, aac002 TEXT NOT NULL, kind TEXT NOT NULL,"
    " caller TEXT NOT NULL, req_id TEXT NOT NULL, created TEXT NOT NULL);";

static const char *const districts[] = {"110101", "110102", "110105", "110106", "110107", "110108"};
static const char *const surnames[] = {"张", "王", "李", "赵", "刘", "陈", "杨", "黄", "周", "吴",
                                       "欧阳"};
static const char *const given[] = {"伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋",
                                    "勇", "艳", "杰", "娟", "涛", "明", "超", "秀英", "华", "平"};
static const char *const banks[] = {"中国工商银行", "中国建设银行", "中国农业银行", "中国银行",
                                    "北京银行"};
static const char *const unit_a[] = {"华信", "远航", "星海", "青禾", "云杉", "明德", "恒远", "致和"};
static const char *const unit_b[] = {"科技", "物流", "建设", "餐饮", "医药", "教育", "传媒"};

#define LEN(a) (sizeof(a) / sizeof((a)[0]))

static uint64_t rng = 0x6008202400000001ULL;

static uint32_t next(void)
{
    /* xorshift64*: the same people on every machine */
    rng ^= rng >> 12;
    rng ^= rng << 25;
    rng ^= rng >> 27;
    return (uint32_t)((rng * 0x2545F4914F6CDD1DULL) >> 32);
}

int fixture_id_valid(const char *s)
{
    return s != NULL && hrss_ssn_check(s, strlen(s), NULL) == HRSS_OK;
}

void fixture_mask_id(const char *id, char out[64])
{
    hrss_ssn_mask(id, strlen(id), out);
}

void fixture_mask_name(const char *name, char out[64])
{
    /* keep the first character (one UTF-8 sequence), a * for each other */
    size_t n = strlen(name), i = 1, w = 0;
    while (i < n && ((unsigned char)name[i] & 0xC0) == 0x80)
        i++;
    if (i > 60)
        i = 0;
    memcpy(out, name, i);
    w = i;
    for (size_t j = i; j < n && w < 62; j++)
        if (((unsigned char)name[j] & 0xC0) != 0x80)
            out[w++] = '*';
    out[w] = '\0';
}

static int exec(sqlite3 *db, const char *sql)
{
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        fprintf(stderr, "hrss-demo-provider: database: %s\n", msg ? msg : "error");
        sqlite3_free(msg);
        return -1;
    }
    return 0;
}

static int generate(sqlite3 *db)
{
    sqlite3_stmt *ps = NULL, *js = NULL, *pn = NULL;
    int rc = -1;
    if (exec(db, "BEGIN") != 0)
        return -1;
    if (sqlite3_prepare_v2(db, "INSERT INTO persons VALUES (?,?,?,?,?)", -1, &ps, NULL) ||
        sqlite3_prepare_v2(db, "INSERT INTO jobs VALUES (?,?,?,?,?)", -1, &js, NULL) ||
        sqlite3_prepare_v2(db, "INSERT INTO pensions VALUES (?,?,?,?)", -1, &pn, NULL))
        goto done;
    for (int i = 0; i < DEMO_PERSONS; i++) {
        char id[19], name[32], card[16], date[16], unit[96], start[16], finish[16];
        int year = 1962 + (int)(next() % 38), month = 1 + (int)(next() % 12);
        int day = 1 + (int)(next() % 28);
        snprintf(id, sizeof(id), "%s%04d%02d%02d%03u", districts[next() % LEN(districts)], year,
                 month, day, next() % 1000);
        id[17] = hrss_ssn_check_char(id);
        id[18] = '\0';
        snprintf(name, sizeof(name), "%s%s%s", surnames[next() % LEN(surnames)],
                 given[next() % LEN(given)], next() % 2 ? given[next() % LEN(given)] : "");
        snprintf(card, sizeof(card), "B%08u", next() % 100000000u);
        const char *status = i % 10 == 9 ? "3" : "1";
        sqlite3_bind_text(ps, 1, id, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(ps, 2, name, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(ps, 3, card, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(ps, 4, status, -1, SQLITE_STATIC);
        sqlite3_bind_text(ps, 5, banks[next() % LEN(banks)], -1, SQLITE_STATIC);
        if (sqlite3_step(ps) != SQLITE_DONE)
            goto done;
        sqlite3_reset(ps);

        /* a working life from 22, one to seven employers */
        int jobs = 1 + (int)(next() % 7), y = year + 22, m = 1 + (int)(next() % 12);
        for (int j = 0; j < jobs && y < 2025; j++) {
            snprintf(unit, sizeof(unit), "北京%s%s有限公司", unit_a[next() % LEN(unit_a)],
                     unit_b[next() % LEN(unit_b)]);
            snprintf(start, sizeof(start), "%04d-%02d", y, m);
            y += 1 + (int)(next() % 6);
            m = 1 + (int)(next() % 12);
            int last = j == jobs - 1 || y >= 2025;
            snprintf(finish, sizeof(finish), "%04d-%02d", y, m);
            sqlite3_bind_text(js, 1, id, -1, SQLITE_TRANSIENT);
            sqlite3_bind_int(js, 2, j + 1);
            sqlite3_bind_text(js, 3, unit, -1, SQLITE_TRANSIENT);
            sqlite3_bind_text(js, 4, start, -1, SQLITE_TRANSIENT);
            if (last)
                sqlite3_bind_null(js, 5);
            else
                sqlite3_bind_text(js, 5, finish, -1, SQLITE_TRANSIENT);
            if (sqlite3_step(js) != SQLITE_DONE)
                goto done;
            sqlite3_reset(js);
        }
        snprintf(date, sizeof(date), "2025-10");
        sqlite3_bind_text(pn, 1, id, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(pn, 2, 100000 + (int64_t)(next() % 40000000));
        sqlite3_bind_int(pn, 3, 12 + (int)(next() % 400));
        sqlite3_bind_text(pn, 4, date, -1, SQLITE_TRANSIENT);
        if (sqlite3_step(pn) != SQLITE_DONE)
            goto done;
        sqlite3_reset(pn);
    }
    rc = 0;
done:
    if (rc != 0)
        fprintf(stderr, "hrss-demo-provider: fixture: %s\n", sqlite3_errmsg(db));
    sqlite3_finalize(ps);
    sqlite3_finalize(js);
    sqlite3_finalize(pn);
    exec(db, rc == 0 ? "COMMIT" : "ROLLBACK");
    return rc;
}

int fixture_open(const char *path, sqlite3 **out)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *count = NULL;
    int fresh = 0;
    *out = NULL;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
        SQLITE_OK) {
        fprintf(stderr, "hrss-demo-provider: %s: %s\n", path, db ? sqlite3_errmsg(db) : "no memory");
        sqlite3_close(db);
        return -1;
    }
    sqlite3_busy_timeout(db, 5000);
    if (exec(db, "PRAGMA journal_mode=WAL") != 0 || exec(db, schema) != 0) {
        sqlite3_close(db);
        return -1;
    }
    /* an empty database gets the fixture */
    if (sqlite3_prepare_v2(db, "SELECT count(*) FROM persons", -1, &count, NULL) == SQLITE_OK &&
        sqlite3_step(count) == SQLITE_ROW)
        fresh = sqlite3_column_int(count, 0) == 0;
    sqlite3_finalize(count);
    if (fresh && generate(db) != 0) {
        sqlite3_close(db);
        return -1;
    }
    *out = db;
    return 0;
}
