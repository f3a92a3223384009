/*
 * sms/db.c - opening sms.db with its pragmas and schema (db.h). The schema
 * is created idempotently; user_version records its revision.
 */
#include "db.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

static const char schema[] =
    "CREATE TABLE IF NOT EXISTS accounts ("
    " app TEXT PRIMARY KEY, pw TEXT NOT NULL, ips TEXT NOT NULL, balance INTEGER NOT NULL,"
    " status INTEGER NOT NULL DEFAULT 0, signature TEXT NOT NULL, callback TEXT,"
    " created INTEGER NOT NULL, updated INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS templates ("
    " app TEXT NOT NULL, id TEXT NOT NULL, text TEXT NOT NULL, PRIMARY KEY (app, id));"
    "CREATE TABLE IF NOT EXISTS blacklist ("
    " mobile TEXT PRIMARY KEY, reason TEXT NOT NULL, added INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS words (word TEXT PRIMARY KEY);"
    "CREATE TABLE IF NOT EXISTS requests ("
    " app TEXT NOT NULL, client_id TEXT NOT NULL, response TEXT NOT NULL,"
    " created INTEGER NOT NULL, PRIMARY KEY (app, client_id));"
    "CREATE TABLE IF NOT EXISTS msgs ("
    " id INTEGER PRIMARY KEY AUTOINCREMENT, app TEXT NOT NULL, client_id TEXT,"
    " mobile TEXT NOT NULL, operator INTEGER NOT NULL, lane INTEGER NOT NULL,"
    " state INTEGER NOT NULL, content TEXT NOT NULL, parts INTEGER NOT NULL,"
    " ref INTEGER NOT NULL, created INTEGER NOT NULL, not_before INTEGER NOT NULL,"
    " expires INTEGER NOT NULL, done_parts INTEGER NOT NULL DEFAULT 0,"
    " failed_parts INTEGER NOT NULL DEFAULT 0, stat TEXT, updated INTEGER NOT NULL);"
    "CREATE INDEX IF NOT EXISTS msgs_open ON msgs (state) WHERE state < 2;"
    "CREATE TABLE IF NOT EXISTS segs ("
    " msg INTEGER NOT NULL, seq INTEGER NOT NULL, state INTEGER NOT NULL,"
    " attempts INTEGER NOT NULL DEFAULT 0, carrier TEXT, carrier_msgid TEXT, stat TEXT,"
    " submitted INTEGER, updated INTEGER NOT NULL, PRIMARY KEY (msg, seq));"
    "CREATE INDEX IF NOT EXISTS segs_msgid ON segs (carrier_msgid)"
    " WHERE carrier_msgid IS NOT NULL;"
    "CREATE TABLE IF NOT EXISTS reports_pending ("
    " id INTEGER PRIMARY KEY, carrier_msgid TEXT NOT NULL, ok INTEGER NOT NULL,"
    " stat TEXT NOT NULL, received INTEGER NOT NULL);"
    "CREATE INDEX IF NOT EXISTS reports_pending_msgid ON reports_pending (carrier_msgid);"
    "CREATE TABLE IF NOT EXISTS mo ("
    " id INTEGER PRIMARY KEY, src TEXT NOT NULL, dest TEXT NOT NULL, text TEXT NOT NULL,"
    " received INTEGER NOT NULL, handled INTEGER NOT NULL DEFAULT 0);"
    "CREATE TABLE IF NOT EXISTS pushes ("
    " msg INTEGER PRIMARY KEY, attempts INTEGER NOT NULL DEFAULT 0,"
    " next_try INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v INTEGER NOT NULL);"
    "INSERT OR IGNORE INTO meta (k, v) VALUES ('accounts_version', 0);"
    /* what the daemon's account snapshot holds: a change bumps the version */
    "CREATE TRIGGER IF NOT EXISTS acct_ins AFTER INSERT ON accounts BEGIN"
    " UPDATE meta SET v = v + 1 WHERE k = 'accounts_version'; END;"
    "CREATE TRIGGER IF NOT EXISTS acct_del AFTER DELETE ON accounts BEGIN"
    " UPDATE meta SET v = v + 1 WHERE k = 'accounts_version'; END;"
    "CREATE TRIGGER IF NOT EXISTS acct_upd AFTER UPDATE OF pw, ips, status, signature, callback"
    " ON accounts BEGIN UPDATE meta SET v = v + 1 WHERE k = 'accounts_version'; END;"
    "CREATE TRIGGER IF NOT EXISTS tmpl_ins AFTER INSERT ON templates BEGIN"
    " UPDATE meta SET v = v + 1 WHERE k = 'accounts_version'; END;"
    "CREATE TRIGGER IF NOT EXISTS tmpl_upd AFTER UPDATE ON templates BEGIN"
    " UPDATE meta SET v = v + 1 WHERE k = 'accounts_version'; END;"
    "CREATE TRIGGER IF NOT EXISTS tmpl_del AFTER DELETE ON templates BEGIN"
    " UPDATE meta SET v = v + 1 WHERE k = 'accounts_version'; END;"
    "CREATE TRIGGER IF NOT EXISTS words_ins AFTER INSERT ON words BEGIN"
    " UPDATE meta SET v = v + 1 WHERE k = 'accounts_version'; END;"
    "CREATE TRIGGER IF NOT EXISTS words_del AFTER DELETE ON words BEGIN"
    " UPDATE meta SET v = v + 1 WHERE k = 'accounts_version'; END;"
    "PRAGMA user_version = 1;";

static const char *const state_names[] = {"accepted", "queued",  "submitted",
                                          "delivered", "failed", "expired"};

const char *sms_state_name(int st)
{
    return st >= 0 && st <= SMS_ST_EXPIRED ? state_names[st] : "unknown";
}

int64_t db_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int db_exec(sqlite3 *db, const char *sql, char err[SMS_DB_ERR_MAX])
{
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        snprintf(err, SMS_DB_ERR_MAX, "sqlite: %s", msg ? msg : sqlite3_errmsg(db));
        sqlite3_free(msg);
        return -1;
    }
    return 0;
}

int db_connect(const char *path, int busy_ms, sqlite3 **out, char err[SMS_DB_ERR_MAX])
{
    sqlite3 *db = NULL;
    *out = NULL;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                        NULL) != SQLITE_OK) {
        snprintf(err, SMS_DB_ERR_MAX, "%.128s: %.100s", path, db ? sqlite3_errmsg(db) : "out of memory");
        sqlite3_close(db);
        return -1;
    }
    sqlite3_busy_timeout(db, busy_ms);
    if (db_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;", err) != 0) {
        sqlite3_close(db);
        return -1;
    }
    *out = db;
    return 0;
}

int db_open(const char *data_dir, sqlite3 **out, char err[SMS_DB_ERR_MAX])
{
    char path[4096];
    sqlite3 *db = NULL;
    *out = NULL;
    if (mkdir(data_dir, 0750) != 0 && errno != EEXIST) {
        snprintf(err, SMS_DB_ERR_MAX, "%.128s: cannot create: %.100s", data_dir, strerror(errno));
        return -1;
    }
    snprintf(path, sizeof(path), "%s/sms.db", data_dir);
    if (db_connect(path, 10000, &db, err) != 0)
        return -1;
    if (db_exec(db, "PRAGMA foreign_keys=ON;", err) != 0 || db_exec(db, "BEGIN IMMEDIATE;", err) != 0) {
        sqlite3_close(db);
        return -1;
    }
    if (db_exec(db, schema, err) != 0 || db_exec(db, "COMMIT;", err) != 0) {
        sqlite3_close(db);
        return -1;
    }
    *out = db;
    return 0;
}
