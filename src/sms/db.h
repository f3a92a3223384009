/*
 * sms/db.h - the hrss-sms database: one SQLite file, DATA_DIR/sms.db, in
 * WAL mode with synchronous=FULL (a commit is on disk before any request it
 * answers is acknowledged). Tables: accounts, templates, blacklist, words,
 * requests (client message ids, for idempotent answers), msgs (one row per
 * destination), segs (one row per part handed to a carrier), reports_pending
 * (reports whose carrier msgid is not known yet), mo (uplink messages),
 * pushes (delivery reports owed to business systems).
 *
 * A connection belongs to one thread at a time. Several processes may open
 * the file (the daemon and the account commands); writers wait for each
 * other up to 10 s.
 */
#ifndef HRSS_SMS_DB_H
#define HRSS_SMS_DB_H

#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

#define SMS_DB_ERR_MAX 256

/* Message states (msgs.state). */
#define SMS_ST_ACCEPTED 0  /* on disk, waiting for its scheduled time */
#define SMS_ST_QUEUED 1    /* due, waiting for a carrier */
#define SMS_ST_SUBMITTED 2 /* every part acknowledged by a carrier */
#define SMS_ST_DELIVERED 3 /* every part reported delivered */
#define SMS_ST_FAILED 4    /* refused, undeliverable, or out of retries */
#define SMS_ST_EXPIRED 5   /* not sent (or not reported) within its validity */

const char *sms_state_name(int st);

/* Opens (creating DATA_DIR with mode 0750 and the schema when missing).
 * Returns 0, or -1 with err. Close with sqlite3_close. */
int db_open(const char *data_dir, sqlite3 **out, char err[SMS_DB_ERR_MAX]);

/* Opens (creating) the SQLite file at path as hrss-sms's databases are: WAL,
 * synchronous=FULL, the busy timeout busy_ms. 0, or -1 with err. */
int db_connect(const char *path, int busy_ms, sqlite3 **out, char err[SMS_DB_ERR_MAX]);

/* Runs sql (no result rows); -1 with err on failure. */
int db_exec(sqlite3 *db, const char *sql, char err[SMS_DB_ERR_MAX]);

/* Milliseconds since the epoch (wall clock). */
int64_t db_now_ms(void);

#endif
