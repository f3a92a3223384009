/*
 * survey.c - surveys and return visits of hrss-sms (LD/T 6007 7.4) on
 * SQLite: definitions, recipients, answers matched from uplink texts,
 * reminders and results. See survey.h for the rules.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "hrss/errors.h"

#include "command.h"
#include "reply.h"
#include "survey.h"

#define CSV_MAX (64 * 1024 * 1024)
#define MATCH_TEXT_MAX 64 /* bytes of a normalised answer text */

static const char schema[] =
    "CREATE TABLE IF NOT EXISTS survey ("
    " id INTEGER PRIMARY KEY,"
    " title TEXT NOT NULL,"
    " question TEXT NOT NULL,"
    " thanks TEXT NOT NULL,"
    " opens_at INTEGER NOT NULL,"
    " closes_at INTEGER NOT NULL,"
    " reply_code TEXT NOT NULL,"
    " max_reminders INTEGER NOT NULL);"
    "CREATE INDEX IF NOT EXISTS survey_by_code ON survey(reply_code);"
    "CREATE TABLE IF NOT EXISTS survey_choice ("
    " survey_id INTEGER NOT NULL REFERENCES survey(id),"
    " pos INTEGER NOT NULL,"
    " code TEXT NOT NULL,"
    " label TEXT NOT NULL,"
    " PRIMARY KEY (survey_id, code)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS survey_recipient ("
    " phone TEXT NOT NULL,"
    " survey_id INTEGER NOT NULL REFERENCES survey(id),"
    " answer TEXT,"
    " answered_at INTEGER,"
    " changes INTEGER NOT NULL DEFAULT 0,"
    " reminders INTEGER NOT NULL DEFAULT 0,"
    " reminded_at INTEGER,"
    " PRIMARY KEY (phone, survey_id)) WITHOUT ROWID;"
    "CREATE INDEX IF NOT EXISTS survey_recipient_by_survey"
    " ON survey_recipient(survey_id, answer);";

/* ---- small helpers ---- */

static int db_fail(sqlite3 *db, const char *what, char *err, size_t errlen)
{
    if (err != NULL && errlen > 0)
        snprintf(err, errlen, "%s: %s", what, sqlite3_errmsg(db));
    return HRSS_EIO;
}

static int exec(sqlite3 *db, const char *sql)
{
    return sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : -1;
}

static void rollback(sqlite3 *db)
{
    if (!sqlite3_get_autocommit(db))
        exec(db, "ROLLBACK");
}

static int prepare(sqlite3 *db, const char *sql, sqlite3_stmt **st)
{
    sqlite3_busy_timeout(db, SURVEY_BUSY_MS);
    return sqlite3_prepare_v2(db, sql, -1, st, NULL) == SQLITE_OK ? 0 : -1;
}

/* Characters of a valid UTF-8 text between lo and hi; -1 otherwise. */
static int text_check(const char *s, size_t lo, size_t hi)
{
    if (s == NULL || !utf8_is_valid(s, strlen(s)))
        return -1;
    size_t n = utf8_count(s, strlen(s));
    return n >= lo && n <= hi ? 0 : -1;
}

static int is_digits(const char *s, size_t lo, size_t hi)
{
    size_t n = strlen(s);
    if (n < lo || n > hi)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return 0;
    return 1;
}

/* An answer code: one or two digits, or one letter. */
static int answer_shape(const char *s)
{
    size_t n = strlen(s);
    if (n == 1 && ((s[0] >= 'A' && s[0] <= 'Z') || (s[0] >= 'a' && s[0] <= 'z')))
        return 1;
    return is_digits(s, 1, 2);
}

static void upper(char *s)
{
    for (; *s; s++)
        if (*s >= 'a' && *s <= 'z')
            *s = (char)(*s - 'a' + 'A');
}

/* ---- schema ---- */

int survey_init(sqlite3 *db, char *err, size_t errlen)
{
    sqlite3_busy_timeout(db, SURVEY_BUSY_MS);
    if (exec(db, "BEGIN IMMEDIATE") != 0 || exec(db, schema) != 0 || exec(db, "COMMIT") != 0) {
        int rc = db_fail(db, "survey tables", err, errlen);
        rollback(db);
        return rc;
    }
    return HRSS_OK;
}

/* ---- creating ---- */

static int def_check(const survey_def *d, char *err, size_t errlen)
{
    if (text_check(d->title, 1, SURVEY_TITLE_MAX) != 0) {
        snprintf(err, errlen, "title: 1-%d characters of UTF-8", SURVEY_TITLE_MAX);
        return HRSS_EFORMAT;
    }
    if (text_check(d->question, 1, SURVEY_QUESTION_MAX) != 0) {
        snprintf(err, errlen, "question: 1-%d characters of UTF-8", SURVEY_QUESTION_MAX);
        return HRSS_EFORMAT;
    }
    if (text_check(d->thanks, 1, SURVEY_THANKS_MAX) != 0) {
        snprintf(err, errlen, "thanks: 1-%d characters of UTF-8", SURVEY_THANKS_MAX);
        return HRSS_EFORMAT;
    }
    if (d->answers == NULL || d->nanswers < 2 || d->nanswers > SURVEY_ANSWERS_MAX) {
        snprintf(err, errlen, "answers: 2-%d of them", SURVEY_ANSWERS_MAX);
        return HRSS_ERANGE;
    }
    for (size_t i = 0; i < d->nanswers; i++) {
        const char *c = d->answers[i].code;
        if (c == NULL || !answer_shape(c)) {
            snprintf(err, errlen, "answer %zu: code of 1-2 digits or one letter", i + 1);
            return HRSS_EFORMAT;
        }
        if (text_check(d->answers[i].label, 1, SURVEY_LABEL_MAX) != 0) {
            snprintf(err, errlen, "answer %zu: label of 1-%d characters", i + 1,
                     SURVEY_LABEL_MAX);
            return HRSS_EFORMAT;
        }
        for (size_t k = 0; k < i; k++) {
            char a[SURVEY_ANSWER_MAX + 1], b[SURVEY_ANSWER_MAX + 1];
            snprintf(a, sizeof(a), "%s", c);
            snprintf(b, sizeof(b), "%s", d->answers[k].code);
            upper(a);
            upper(b);
            if (strcmp(a, b) == 0) {
                snprintf(err, errlen, "answer %zu: code repeats answer %zu", i + 1, k + 1);
                return HRSS_EFORMAT;
            }
        }
    }
    if (d->closes_at <= d->opens_at) {
        snprintf(err, errlen, "window: closes_at must be after opens_at");
        return HRSS_ERANGE;
    }
    if (d->reply_code != NULL && !is_digits(d->reply_code, 2, SURVEY_CODE_MAX)) {
        snprintf(err, errlen, "reply_code: 2-%d digits", SURVEY_CODE_MAX);
        return HRSS_EFORMAT;
    }
    if (d->max_reminders < 0 || d->max_reminders > 10) {
        snprintf(err, errlen, "max_reminders: 0-10");
        return HRSS_ERANGE;
    }
    return HRSS_OK;
}

/* 1 when code is used by a survey whose window overlaps [o, c); -1 on error. */
static int code_taken(sqlite3 *db, const char *code, int64_t o, int64_t c)
{
    sqlite3_stmt *st = NULL;
    int r = -1;
    if (prepare(db,
                "SELECT 1 FROM survey WHERE reply_code = ?1 AND opens_at < ?3 AND ?2 < closes_at",
                &st) != 0)
        return -1;
    sqlite3_bind_text(st, 1, code, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, o);
    sqlite3_bind_int64(st, 3, c);
    int s = sqlite3_step(st);
    if (s == SQLITE_ROW)
        r = 1;
    else if (s == SQLITE_DONE)
        r = 0;
    sqlite3_finalize(st);
    return r;
}

int survey_create(sqlite3 *db, const survey_def *def, int64_t *id, char *code_out, char *err,
                  size_t errlen)
{
    char code[SURVEY_CODE_MAX + 1];
    sqlite3_stmt *st = NULL;
    int rc = def_check(def, err, errlen);
    if (rc != HRSS_OK)
        return rc;
    sqlite3_busy_timeout(db, SURVEY_BUSY_MS);
    if (exec(db, "BEGIN IMMEDIATE") != 0)
        return db_fail(db, "begin", err, errlen);
    if (def->reply_code != NULL) {
        snprintf(code, sizeof(code), "%s", def->reply_code);
        int t = code_taken(db, code, def->opens_at, def->closes_at);
        if (t < 0) {
            rc = db_fail(db, "reply code", err, errlen);
            goto done;
        }
        if (t > 0) {
            snprintf(err, errlen, "reply_code %s: used by a survey open at the same time", code);
            rc = HRSS_EDUPKEY;
            goto done;
        }
    } else {
        int t = 1;
        for (int k = 10; k <= 9999 && t == 1; k++) {
            snprintf(code, sizeof(code), "%d", k);
            t = code_taken(db, code, def->opens_at, def->closes_at);
        }
        if (t != 0) {
            rc = t < 0 ? db_fail(db, "reply code", err, errlen) : HRSS_EFULL;
            if (t > 0)
                snprintf(err, errlen, "reply_code: none free in that window");
            goto done;
        }
    }
    if (prepare(db,
                "INSERT INTO survey (title, question, thanks, opens_at, closes_at, reply_code,"
                " max_reminders) VALUES (?, ?, ?, ?, ?, ?, ?)",
                &st) != 0) {
        rc = db_fail(db, "insert survey", err, errlen);
        goto done;
    }
    sqlite3_bind_text(st, 1, def->title, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, def->question, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, def->thanks, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, def->opens_at);
    sqlite3_bind_int64(st, 5, def->closes_at);
    sqlite3_bind_text(st, 6, code, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 7, def->max_reminders);
    if (sqlite3_step(st) != SQLITE_DONE) {
        rc = db_fail(db, "insert survey", err, errlen);
        goto done;
    }
    sqlite3_finalize(st);
    st = NULL;
    int64_t sid = sqlite3_last_insert_rowid(db);
    if (prepare(db, "INSERT INTO survey_choice (survey_id, pos, code, label) VALUES (?, ?, ?, ?)",
                &st) != 0) {
        rc = db_fail(db, "insert answers", err, errlen);
        goto done;
    }
    for (size_t i = 0; i < def->nanswers; i++) {
        char c[SURVEY_ANSWER_MAX + 1];
        snprintf(c, sizeof(c), "%s", def->answers[i].code);
        upper(c);
        sqlite3_reset(st);
        sqlite3_bind_int64(st, 1, sid);
        sqlite3_bind_int(st, 2, (int)i);
        sqlite3_bind_text(st, 3, c, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 4, def->answers[i].label, -1, SQLITE_STATIC);
        if (sqlite3_step(st) != SQLITE_DONE) {
            rc = db_fail(db, "insert answers", err, errlen);
            goto done;
        }
    }
    sqlite3_finalize(st);
    st = NULL;
    if (exec(db, "COMMIT") != 0) {
        rc = db_fail(db, "commit", err, errlen);
        goto done;
    }
    *id = sid;
    if (code_out != NULL)
        memcpy(code_out, code, strlen(code) + 1);
    rc = HRSS_OK;
done:
    sqlite3_finalize(st);
    if (rc != HRSS_OK)
        rollback(db);
    return rc;
}

/* 1 when survey id exists, 0 when not, -1 on error. */
static int survey_exists(sqlite3 *db, int64_t id)
{
    sqlite3_stmt *st = NULL;
    if (prepare(db, "SELECT 1 FROM survey WHERE id = ?", &st) != 0)
        return -1;
    sqlite3_bind_int64(st, 1, id);
    int s = sqlite3_step(st);
    sqlite3_finalize(st);
    return s == SQLITE_ROW ? 1 : s == SQLITE_DONE ? 0 : -1;
}

int survey_add_recipients(sqlite3 *db, int64_t id, const char *const *phones, size_t n,
                          size_t *added, char *err, size_t errlen)
{
    sqlite3_stmt *st = NULL;
    size_t count = 0;
    int rc;
    for (size_t i = 0; i < n; i++) {
        char canon[HRSS_MOBILE_LEN + 1];
        hrss_error e;
        if (phones[i] == NULL ||
            hrss_mobile_check(phones[i], strlen(phones[i]), canon, &e) != HRSS_OK) {
            snprintf(err, errlen, "recipient %zu: not a mainland mobile number", i + 1);
            return HRSS_EFORMAT;
        }
    }
    sqlite3_busy_timeout(db, SURVEY_BUSY_MS);
    if (exec(db, "BEGIN IMMEDIATE") != 0)
        return db_fail(db, "begin", err, errlen);
    int ex = survey_exists(db, id);
    if (ex <= 0) {
        rc = ex < 0 ? db_fail(db, "survey", err, errlen) : HRSS_ENOTFOUND;
        if (ex == 0)
            snprintf(err, errlen, "survey %lld: not found", (long long)id);
        goto done;
    }
    if (prepare(db, "INSERT OR IGNORE INTO survey_recipient (phone, survey_id) VALUES (?, ?)",
                &st) != 0) {
        rc = db_fail(db, "insert recipients", err, errlen);
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        char canon[HRSS_MOBILE_LEN + 1];
        hrss_error e;
        hrss_mobile_check(phones[i], strlen(phones[i]), canon, &e);
        sqlite3_reset(st);
        sqlite3_bind_text(st, 1, canon, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 2, id);
        if (sqlite3_step(st) != SQLITE_DONE) {
            rc = db_fail(db, "insert recipients", err, errlen);
            goto done;
        }
        count += (size_t)sqlite3_changes(db);
    }
    sqlite3_finalize(st);
    st = NULL;
    if (exec(db, "COMMIT") != 0) {
        rc = db_fail(db, "commit", err, errlen);
        goto done;
    }
    if (added != NULL)
        *added = count;
    rc = HRSS_OK;
done:
    sqlite3_finalize(st);
    if (rc != HRSS_OK)
        rollback(db);
    return rc;
}

/* ---- texts ---- */

/* "1满意 2基本满意 3不满意" into out; 0, or -1 when the survey has no
 * answers (unknown) or the database fails. */
static int choices_of(sqlite3 *db, int64_t id, char *out, size_t outlen)
{
    sqlite3_stmt *st = NULL;
    size_t o = 0;
    int n = 0, s;
    out[0] = '\0';
    if (prepare(db, "SELECT code, label FROM survey_choice WHERE survey_id = ? ORDER BY pos",
                &st) != 0)
        return -1;
    sqlite3_bind_int64(st, 1, id);
    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
        int w = snprintf(out + o, outlen - o, "%s%s%s", n > 0 ? " " : "",
                         (const char *)sqlite3_column_text(st, 0),
                         (const char *)sqlite3_column_text(st, 1));
        if (w < 0 || (size_t)w >= outlen - o)
            break; /* cannot happen with the checked label sizes */
        o += (size_t)w;
        n++;
    }
    sqlite3_finalize(st);
    return n > 0 && (s == SQLITE_ROW || s == SQLITE_DONE) ? 0 : -1;
}

char *survey_question_text(sqlite3 *db, int64_t id, const char *phone, size_t max_chars,
                           char *err, size_t errlen)
{
    sqlite3_stmt *st = NULL;
    char question[SURVEY_QUESTION_MAX * 4 + 1], code[SURVEY_CODE_MAX + 1];
    char choices[SURVEY_ANSWERS_MAX * 32];
    int64_t o, c;
    int with_code = 0;
    char *text = NULL;

    if (prepare(db, "SELECT question, reply_code, opens_at, closes_at FROM survey WHERE id = ?",
                &st) != 0) {
        db_fail(db, "survey", err, errlen);
        return NULL;
    }
    sqlite3_bind_int64(st, 1, id);
    int s = sqlite3_step(st);
    if (s != SQLITE_ROW) {
        if (s == SQLITE_DONE)
            snprintf(err, errlen, "survey %lld: not found", (long long)id);
        else
            db_fail(db, "survey", err, errlen);
        sqlite3_finalize(st);
        return NULL;
    }
    snprintf(question, sizeof(question), "%s", (const char *)sqlite3_column_text(st, 0));
    snprintf(code, sizeof(code), "%s", (const char *)sqlite3_column_text(st, 1));
    o = sqlite3_column_int64(st, 2);
    c = sqlite3_column_int64(st, 3);
    sqlite3_finalize(st);
    st = NULL;

    if (phone != NULL) {
        char canon[HRSS_MOBILE_LEN + 1];
        hrss_error e;
        if (hrss_mobile_check(phone, strlen(phone), canon, &e) != HRSS_OK) {
            snprintf(err, errlen, "phone: not a mainland mobile number");
            return NULL;
        }
        if (prepare(db,
                    "SELECT 1 FROM survey_recipient r JOIN survey s ON s.id = r.survey_id"
                    " WHERE r.phone = ?1 AND r.survey_id <> ?2 AND s.opens_at < ?4"
                    " AND ?3 < s.closes_at LIMIT 1",
                    &st) != 0) {
            db_fail(db, "other surveys", err, errlen);
            return NULL;
        }
        sqlite3_bind_text(st, 1, canon, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 2, id);
        sqlite3_bind_int64(st, 3, o);
        sqlite3_bind_int64(st, 4, c);
        s = sqlite3_step(st);
        sqlite3_finalize(st);
        if (s != SQLITE_ROW && s != SQLITE_DONE) {
            db_fail(db, "other surveys", err, errlen);
            return NULL;
        }
        with_code = s == SQLITE_ROW;
    }
    if (choices_of(db, id, choices, sizeof(choices)) != 0) {
        db_fail(db, "answers", err, errlen);
        return NULL;
    }
    const sms_var vars[] = {{"question", question}, {"code", code}, {"choices", choices}};
    text = sms_render(with_code ? "${question}回复${code}#加答案：${choices}"
                                : "${question}回复${choices}",
                      vars, HRSS_ARRAY_LEN(vars), max_chars, err, errlen);
    return text;
}

/* ---- matching ---- */

static void result_reset(survey_match_result *out)
{
    memset(out, 0, sizeof(*out));
    out->status = SURVEY_NO_MATCH;
}

/* Splits a normalised, upper-cased text into an optional code and an
 * answer. Returns 1 when the text is answer-shaped, else 0. */
static int split_answer(char *t, char **code, char **answer)
{
    char *sep = strchr(t, '#');
    if (sep == NULL)
        sep = strchr(t, ' ');
    *code = NULL;
    if (sep != NULL) {
        *sep = '\0';
        char *a = sep + 1;
        while (*a == ' ')
            a++;
        size_t cl = strlen(t);
        while (cl > 0 && t[cl - 1] == ' ')
            t[--cl] = '\0';
        if (!is_digits(t, 2, SURVEY_CODE_MAX) || (!is_digits(a, 1, SURVEY_CODE_MAX) &&
                                                  !(strlen(a) == 1 && a[0] >= 'A' && a[0] <= 'Z')))
            return 0;
        *code = t;
        *answer = a;
        return 1;
    }
    *answer = t;
    return is_digits(t, 1, SURVEY_CODE_MAX) || (strlen(t) == 1 && t[0] >= 'A' && t[0] <= 'Z');
}

typedef struct open_survey {
    int64_t id;
    char code[SURVEY_CODE_MAX + 1];
} open_survey;

/* Records answer a to survey sid of phone; 1 when it replaced one, 0 when
 * first, -1 on error. */
static int record(sqlite3 *db, const char *phone, int64_t sid, const char *a, int64_t now)
{
    sqlite3_stmt *st = NULL;
    int prev = -1;
    if (prepare(db, "SELECT answer IS NOT NULL FROM survey_recipient"
                    " WHERE phone = ? AND survey_id = ?",
                &st) != 0)
        return -1;
    sqlite3_bind_text(st, 1, phone, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, sid);
    if (sqlite3_step(st) == SQLITE_ROW)
        prev = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    if (prev < 0)
        return -1;
    if (prepare(db,
                "UPDATE survey_recipient SET answer = ?, answered_at = ?, changes = changes + ?"
                " WHERE phone = ? AND survey_id = ?",
                &st) != 0)
        return -1;
    sqlite3_bind_text(st, 1, a, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, now);
    sqlite3_bind_int(st, 3, prev);
    sqlite3_bind_text(st, 4, phone, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 5, sid);
    int s = sqlite3_step(st);
    sqlite3_finalize(st);
    return s == SQLITE_DONE ? prev : -1;
}

/* 1 when a is an answer of survey sid, 0 when not, -1 on error. */
static int answer_valid(sqlite3 *db, int64_t sid, const char *a)
{
    sqlite3_stmt *st = NULL;
    if (prepare(db, "SELECT 1 FROM survey_choice WHERE survey_id = ? AND code = ?", &st) != 0)
        return -1;
    sqlite3_bind_int64(st, 1, sid);
    sqlite3_bind_text(st, 2, a, -1, SQLITE_STATIC);
    int s = sqlite3_step(st);
    sqlite3_finalize(st);
    return s == SQLITE_ROW ? 1 : s == SQLITE_DONE ? 0 : -1;
}

int survey_match(sqlite3 *db, const char *phone, const char *text, int64_t now,
                 survey_match_result *out)
{
    char canon[HRSS_MOBILE_LEN + 1], norm[MATCH_TEXT_MAX];
    char *code, *answer;
    open_survey open[SURVEY_OPEN_MAX];
    int nopen = 0, s, rc = HRSS_OK;
    const open_survey *target = NULL;
    sqlite3_stmt *st = NULL;
    hrss_error e;

    result_reset(out);
    if (phone == NULL || text == NULL ||
        hrss_mobile_check(phone, strlen(phone), canon, &e) != HRSS_OK)
        return HRSS_OK;
    if (sms_cmd_normalise(text, strlen(text), norm, sizeof(norm)) < 0)
        return HRSS_OK;
    upper(norm);
    if (!split_answer(norm, &code, &answer))
        return HRSS_OK; /* not an answer: for the command engine, no database work */

    sqlite3_busy_timeout(db, SURVEY_BUSY_MS);
    if (exec(db, "BEGIN IMMEDIATE") != 0)
        return HRSS_EIO;
    if (prepare(db,
                "SELECT s.id, s.reply_code FROM survey_recipient r JOIN survey s"
                " ON s.id = r.survey_id WHERE r.phone = ?1 AND s.opens_at <= ?2"
                " AND ?2 < s.closes_at ORDER BY s.id LIMIT ?3",
                &st) != 0) {
        rc = HRSS_EIO;
        goto done;
    }
    sqlite3_bind_text(st, 1, canon, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, now);
    sqlite3_bind_int(st, 3, SURVEY_OPEN_MAX);
    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
        open[nopen].id = sqlite3_column_int64(st, 0);
        snprintf(open[nopen].code, sizeof(open[nopen].code), "%s",
                 (const char *)sqlite3_column_text(st, 1));
        nopen++;
    }
    sqlite3_finalize(st);
    st = NULL;
    if (s != SQLITE_DONE) {
        rc = HRSS_EIO;
        goto done;
    }
    out->nopen = nopen;
    if (nopen == 0)
        goto done; /* no survey open: the text is for the command engine */

    if (code != NULL)
        for (int i = 0; i < nopen; i++)
            if (strcmp(open[i].code, code) == 0)
                target = &open[i];
    if (target == NULL && nopen == 1)
        target = &open[0]; /* a bare answer, or an unknown code: checked below */
    if (target == NULL) {
        size_t o = 0;
        out->status = SURVEY_AMBIGUOUS;
        out->reply = "survey_ambiguous";
        for (int i = 0; i < nopen; i++) {
            int w = snprintf(out->codes + o, sizeof(out->codes) - o, "%s%s", i > 0 ? " " : "",
                             open[i].code);
            if (w > 0)
                o += (size_t)w;
        }
        goto done;
    }
    out->survey_id = target->id;
    memcpy(out->reply_code, target->code, sizeof(out->reply_code));
    int valid = (code == NULL || strcmp(code, target->code) == 0) && answer_shape(answer)
                    ? answer_valid(db, target->id, answer)
                    : 0;
    if (valid < 0) {
        rc = HRSS_EIO;
        goto done;
    }
    if (!valid) {
        out->status = SURVEY_INVALID;
        /* with several surveys open, the reply says which code to use */
        out->reply = nopen > 1 ? "survey_invalid_code" : "survey_invalid";
        if (choices_of(db, target->id, out->choices, sizeof(out->choices)) != 0)
            rc = HRSS_EIO;
        goto done;
    }
    int prev = record(db, canon, target->id, answer, now);
    if (prev < 0) {
        rc = HRSS_EIO;
        goto done;
    }
    out->status = SURVEY_RECORDED;
    out->reply = "survey_thanks";
    out->replaced = prev;
    memcpy(out->answer, answer, strlen(answer) + 1);
done:
    sqlite3_finalize(st);
    if (rc == HRSS_OK && exec(db, "COMMIT") != 0)
        rc = HRSS_EIO;
    if (rc != HRSS_OK) {
        rollback(db);
        result_reset(out);
    }
    return rc;
}

char *survey_reply_text(sqlite3 *db, const survey_match_result *m, const sms_replies *replies,
                        size_t max_chars, char *err, size_t errlen)
{
    if (m->status == SURVEY_AMBIGUOUS || m->status == SURVEY_INVALID) {
        const char *tmpl = sms_replies_get(replies, m->reply);
        if (tmpl == NULL) {
            snprintf(err, errlen, "no reply template %s", m->reply);
            return NULL;
        }
        char example[SURVEY_CODE_MAX + 1];
        snprintf(example, sizeof(example), "%.*s", (int)strcspn(m->codes, " "), m->codes);
        const sms_var vars[] = {{"choices", m->choices},
                                {"code", m->reply_code},
                                {"codes", m->codes},
                                {"example", example}};
        return sms_render(tmpl, vars, HRSS_ARRAY_LEN(vars), max_chars, err, errlen);
    }
    if (m->status != SURVEY_RECORDED) {
        snprintf(err, errlen, "no reply: the text is not an answer");
        return NULL;
    }
    sqlite3_stmt *st = NULL;
    char *text = NULL;
    if (prepare(db, "SELECT thanks FROM survey WHERE id = ?", &st) != 0) {
        db_fail(db, "survey", err, errlen);
        return NULL;
    }
    sqlite3_bind_int64(st, 1, m->survey_id);
    int s = sqlite3_step(st);
    if (s == SQLITE_ROW) {
        const sms_var vars[] = {{"thanks", (const char *)sqlite3_column_text(st, 0)}};
        text = sms_render("${thanks}", vars, 1, max_chars, err, errlen);
    } else if (s == SQLITE_DONE) {
        snprintf(err, errlen, "survey %lld: not found", (long long)m->survey_id);
    } else {
        db_fail(db, "survey", err, errlen);
    }
    sqlite3_finalize(st);
    return text;
}

/* ---- reminders ---- */

int survey_remind_take(sqlite3 *db, int64_t id, int64_t now, size_t limit,
                       char (*phones)[HRSS_MOBILE_LEN + 1], size_t *n, char *err, size_t errlen)
{
    sqlite3_stmt *st = NULL, *up = NULL;
    int rc = HRSS_OK, s, max_rem = 0, open = 0;
    size_t k = 0;

    *n = 0;
    sqlite3_busy_timeout(db, SURVEY_BUSY_MS);
    if (exec(db, "BEGIN IMMEDIATE") != 0)
        return db_fail(db, "begin", err, errlen);
    if (prepare(db, "SELECT max_reminders, opens_at <= ?2 AND ?2 < closes_at FROM survey"
                    " WHERE id = ?1",
                &st) != 0) {
        rc = db_fail(db, "survey", err, errlen);
        goto done;
    }
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int64(st, 2, now);
    s = sqlite3_step(st);
    if (s == SQLITE_ROW) {
        max_rem = sqlite3_column_int(st, 0);
        open = sqlite3_column_int(st, 1);
    }
    sqlite3_finalize(st);
    st = NULL;
    if (s != SQLITE_ROW) {
        rc = s == SQLITE_DONE ? HRSS_ENOTFOUND : db_fail(db, "survey", err, errlen);
        if (s == SQLITE_DONE)
            snprintf(err, errlen, "survey %lld: not found", (long long)id);
        goto done;
    }
    if (!open || limit == 0)
        goto done;
    if (prepare(db,
                "SELECT phone FROM survey_recipient WHERE survey_id = ? AND answer IS NULL"
                " AND reminders < ? ORDER BY reminders, phone LIMIT ?",
                &st) != 0 ||
        prepare(db,
                "UPDATE survey_recipient SET reminders = reminders + 1, reminded_at = ?"
                " WHERE phone = ? AND survey_id = ?",
                &up) != 0) {
        rc = db_fail(db, "reminders", err, errlen);
        goto done;
    }
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int(st, 2, max_rem);
    sqlite3_bind_int64(st, 3, limit > INT32_MAX ? INT32_MAX : (int64_t)limit);
    while ((s = sqlite3_step(st)) == SQLITE_ROW && k < limit) {
        snprintf(phones[k], HRSS_MOBILE_LEN + 1, "%s", (const char *)sqlite3_column_text(st, 0));
        k++;
    }
    if (s != SQLITE_DONE && s != SQLITE_ROW) {
        rc = db_fail(db, "reminders", err, errlen);
        goto done;
    }
    for (size_t i = 0; i < k; i++) {
        sqlite3_reset(up);
        sqlite3_bind_int64(up, 1, now);
        sqlite3_bind_text(up, 2, phones[i], -1, SQLITE_STATIC);
        sqlite3_bind_int64(up, 3, id);
        if (sqlite3_step(up) != SQLITE_DONE) {
            rc = db_fail(db, "reminders", err, errlen);
            goto done;
        }
    }
done:
    sqlite3_finalize(st);
    sqlite3_finalize(up);
    if (rc == HRSS_OK && exec(db, "COMMIT") != 0)
        rc = db_fail(db, "commit", err, errlen);
    if (rc != HRSS_OK) {
        rollback(db);
        k = 0;
    }
    *n = k;
    return rc;
}

/* ---- results ---- */

int survey_results_get(sqlite3 *db, int64_t id, survey_results *out, char *err, size_t errlen)
{
    sqlite3_stmt *st = NULL;
    int rc = HRSS_OK, s;
    memset(out, 0, sizeof(*out));
    int ex = survey_exists(db, id);
    if (ex <= 0) {
        if (ex == 0)
            snprintf(err, errlen, "survey %lld: not found", (long long)id);
        return ex == 0 ? HRSS_ENOTFOUND : db_fail(db, "survey", err, errlen);
    }
    /* one statement reads one snapshot: counts agree with each other */
    if (prepare(db,
                "SELECT c.code, (SELECT count(*) FROM survey_recipient r WHERE r.survey_id ="
                " c.survey_id AND r.answer = c.code) FROM survey_choice c WHERE c.survey_id = ?"
                " ORDER BY c.pos",
                &st) != 0)
        return db_fail(db, "results", err, errlen);
    sqlite3_bind_int64(st, 1, id);
    if (exec(db, "BEGIN") != 0) {
        sqlite3_finalize(st);
        return db_fail(db, "results", err, errlen);
    }
    while ((s = sqlite3_step(st)) == SQLITE_ROW && out->nanswers < SURVEY_ANSWERS_MAX) {
        snprintf(out->codes[out->nanswers], sizeof(out->codes[0]), "%s",
                 (const char *)sqlite3_column_text(st, 0));
        out->counts[out->nanswers] = sqlite3_column_int64(st, 1);
        out->nanswers++;
    }
    sqlite3_finalize(st);
    st = NULL;
    if (s != SQLITE_DONE) {
        rc = db_fail(db, "results", err, errlen);
        goto done;
    }
    if (prepare(db,
                "SELECT count(*), count(answer), count(CASE WHEN reminders > 0 THEN 1 END)"
                " FROM survey_recipient WHERE survey_id = ?",
                &st) != 0) {
        rc = db_fail(db, "results", err, errlen);
        goto done;
    }
    sqlite3_bind_int64(st, 1, id);
    if (sqlite3_step(st) != SQLITE_ROW) {
        rc = db_fail(db, "results", err, errlen);
        goto done;
    }
    out->recipients = sqlite3_column_int64(st, 0);
    out->answered = sqlite3_column_int64(st, 1);
    out->reminded = sqlite3_column_int64(st, 2);
    out->rate_permille =
        out->recipients > 0 ? (int)(out->answered * 1000 / out->recipients) : 0;
done:
    sqlite3_finalize(st);
    if (rc == HRSS_OK && exec(db, "COMMIT") != 0)
        rc = db_fail(db, "results", err, errlen);
    if (rc != HRSS_OK)
        rollback(db);
    return rc;
}

/* Appends a CSV field, quoted when it holds a comma, quote or line break. */
static int csv_field(hrss_buf *b, const char *v, int last)
{
    int q = strpbrk(v, ",\"\r\n") != NULL;
    if (q && buf_append(b, "\"", 1) != 0)
        return -1;
    for (const char *p = v; *p; p++) {
        if (*p == '"' && buf_append(b, "\"", 1) != 0)
            return -1;
        if (buf_append(b, p, 1) != 0)
            return -1;
    }
    if (q && buf_append(b, "\"", 1) != 0)
        return -1;
    return buf_append_str(b, last ? "\r\n" : ",");
}

char *survey_export_csv(sqlite3 *db, int64_t id, size_t *len, char *err, size_t errlen)
{
    sqlite3_stmt *st = NULL;
    hrss_buf b;
    int s = SQLITE_DONE, ok = 1;
    int ex = survey_exists(db, id);
    if (ex <= 0) {
        if (ex == 0)
            snprintf(err, errlen, "survey %lld: not found", (long long)id);
        else
            db_fail(db, "survey", err, errlen);
        return NULL;
    }
    if (prepare(db,
                "SELECT r.phone, r.answer, c.label, r.answered_at, r.changes, r.reminders"
                " FROM survey_recipient r LEFT JOIN survey_choice c ON c.survey_id ="
                " r.survey_id AND c.code = r.answer WHERE r.survey_id = ? ORDER BY r.phone",
                &st) != 0) {
        db_fail(db, "export", err, errlen);
        return NULL;
    }
    sqlite3_bind_int64(st, 1, id);
    buf_init(&b, CSV_MAX);
    if (buf_append_str(&b, "phone,answer,label,answered_at,changes,reminders\r\n") != 0)
        ok = 0;
    while (ok && (s = sqlite3_step(st)) == SQLITE_ROW) {
        char masked[HRSS_MOBILE_LEN + 1], at[24] = "", ch[24], rem[24];
        const char *phone = (const char *)sqlite3_column_text(st, 0);
        const char *a = (const char *)sqlite3_column_text(st, 1);
        const char *label = (const char *)sqlite3_column_text(st, 2);
        hrss_mobile_mask(phone, strlen(phone), masked);
        if (sqlite3_column_type(st, 3) != SQLITE_NULL)
            snprintf(at, sizeof(at), "%lld", (long long)sqlite3_column_int64(st, 3));
        snprintf(ch, sizeof(ch), "%lld", (long long)sqlite3_column_int64(st, 4));
        snprintf(rem, sizeof(rem), "%lld", (long long)sqlite3_column_int64(st, 5));
        if (csv_field(&b, masked, 0) != 0 || csv_field(&b, a ? a : "", 0) != 0 ||
            csv_field(&b, label ? label : "", 0) != 0 || csv_field(&b, at, 0) != 0 ||
            csv_field(&b, ch, 0) != 0 || csv_field(&b, rem, 1) != 0)
            ok = 0;
    }
    if (ok && s != SQLITE_DONE) {
        db_fail(db, "export", err, errlen);
        ok = 0;
    } else if (!ok) {
        snprintf(err, errlen, "export: larger than %d bytes", CSV_MAX);
    }
    sqlite3_finalize(st);
    if (!ok) {
        buf_free(&b);
        return NULL;
    }
    return buf_detach(&b, len);
}
