/*
 * tests/unit/sms/test_survey.c - surveys and return visits (LD/T 6007 7.4)
 * on a real SQLite file in a temporary directory: definitions, question
 * texts, answers matched from uplink texts (one and several open surveys,
 * full-width forms, window edges, invalid and repeated answers), bounded
 * reminders, results, the masked CSV export, and answers from several
 * threads on their own connections.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <pthread.h>

#include <cmocka.h>

#include "common/util.h"
#include "hrss/errors.h"
#include "sms/survey.h"

#define T0 1795000000 /* a fixed "now" */
#define ROOM 63       /* 70 UCS2 characters less a signature such as 【12333】 */

typedef struct fixture {
    char dir[256];
    char path[300];
    sqlite3 *db;
} fixture;

/* the shipped reply templates (etc/sms-replies.json): the texts a citizen gets */
static sms_replies *replies;

static const survey_answer satisfaction[] = {
    {"1", "满意"}, {"2", "基本满意"}, {"3", "不满意"}};

static sqlite3 *open_db(const char *path)
{
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "PRAGMA journal_mode=WAL", NULL, NULL, NULL), SQLITE_OK);
    return db;
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    char err[SURVEY_ERR_MAX];
    const char *tmp = getenv("TMPDIR");
    snprintf(f->dir, sizeof(f->dir), "%s/hrss-survey-XXXXXX", tmp ? tmp : "/tmp");
    if (mkdtemp(f->dir) == NULL)
        return -1;
    snprintf(f->path, sizeof(f->path), "%s/sms.db", f->dir);
    f->db = open_db(f->path);
    if (survey_init(f->db, err, sizeof(err)) != HRSS_OK)
        return -1;
    /* twice: the tables are created if missing */
    if (survey_init(f->db, err, sizeof(err)) != HRSS_OK)
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    char p[400];
    sqlite3_close(f->db);
    const char *sfx[] = {"", "-wal", "-shm"};
    for (size_t i = 0; i < 3; i++) {
        snprintf(p, sizeof(p), "%s%s", f->path, sfx[i]);
        unlink(p);
    }
    rmdir(f->dir);
    free(f);
    return 0;
}

static survey_def def_of(const char *title, const char *code, int64_t o, int64_t c)
{
    survey_def d = {
        .title = title,
        .question = "您对社保卡服务是否满意？",
        .answers = satisfaction,
        .nanswers = HRSS_ARRAY_LEN(satisfaction),
        .opens_at = o,
        .closes_at = c,
        .reply_code = code,
        .thanks = "感谢您的评价！",
        .max_reminders = 2,
    };
    return d;
}

static int64_t make(sqlite3 *db, const char *code, int64_t o, int64_t c)
{
    char err[SURVEY_ERR_MAX];
    int64_t id = 0;
    survey_def d = def_of("社保卡服务", code, o, c);
    int rc = survey_create(db, &d, &id, NULL, err, sizeof(err));
    if (rc != HRSS_OK)
        fail_msg("%s", err);
    return id;
}

static void add(sqlite3 *db, int64_t id, const char *phone)
{
    char err[SURVEY_ERR_MAX];
    const char *p[] = {phone};
    if (survey_add_recipients(db, id, p, 1, NULL, err, sizeof(err)) != HRSS_OK)
        fail_msg("%s", err);
}

static survey_match_status match(sqlite3 *db, const char *phone, const char *text, int64_t now,
                                 survey_match_result *m)
{
    assert_int_equal(survey_match(db, phone, text, now, m), HRSS_OK);
    return m->status;
}

/* ---- definitions ---- */

static void test_create_checks_definition(void **state)
{
    fixture *f = *state;
    char err[SURVEY_ERR_MAX], code[SURVEY_CODE_MAX + 1];
    int64_t id;
    survey_def d = def_of("满意度", "2301", T0, T0 + 86400);
    assert_int_equal(survey_create(f->db, &d, &id, code, err, sizeof(err)), HRSS_OK);
    assert_string_equal(code, "2301");

    survey_answer bad_code[] = {{"1", "是"}, {"AB", "否"}};
    d.answers = bad_code;
    d.nanswers = 2;
    assert_int_equal(survey_create(f->db, &d, &id, NULL, err, sizeof(err)), HRSS_EFORMAT);
    assert_non_null(strstr(err, "answer 2"));
    survey_answer repeated[] = {{"a", "是"}, {"A", "否"}};
    d.answers = repeated;
    assert_int_equal(survey_create(f->db, &d, &id, NULL, err, sizeof(err)), HRSS_EFORMAT);
    survey_answer one[] = {{"1", "是"}};
    d.answers = one;
    d.nanswers = 1;
    assert_int_equal(survey_create(f->db, &d, &id, NULL, err, sizeof(err)), HRSS_ERANGE);

    d = def_of("满意度", "2302", T0, T0);
    assert_int_equal(survey_create(f->db, &d, &id, NULL, err, sizeof(err)), HRSS_ERANGE);
    d = def_of("满意度", "1", T0, T0 + 10);
    assert_int_equal(survey_create(f->db, &d, &id, NULL, err, sizeof(err)), HRSS_EFORMAT);
    d = def_of("满意度", "12a", T0, T0 + 10);
    assert_int_equal(survey_create(f->db, &d, &id, NULL, err, sizeof(err)), HRSS_EFORMAT);
    d = def_of("", "12", T0, T0 + 10);
    assert_int_equal(survey_create(f->db, &d, &id, NULL, err, sizeof(err)), HRSS_EFORMAT);
    d = def_of("满意度", "12", T0, T0 + 10);
    d.max_reminders = 11;
    assert_int_equal(survey_create(f->db, &d, &id, NULL, err, sizeof(err)), HRSS_ERANGE);
}

static void test_reply_code_unique_while_open(void **state)
{
    fixture *f = *state;
    char err[SURVEY_ERR_MAX], code[SURVEY_CODE_MAX + 1];
    int64_t id;
    make(f->db, "2301", T0, T0 + 100);
    /* overlapping windows: refused */
    survey_def d = def_of("回访", "2301", T0 + 99, T0 + 200);
    assert_int_equal(survey_create(f->db, &d, &id, NULL, err, sizeof(err)), HRSS_EDUPKEY);
    /* the next window may use the code again: [o, c) do not overlap */
    d = def_of("回访", "2301", T0 + 100, T0 + 200);
    assert_int_equal(survey_create(f->db, &d, &id, code, err, sizeof(err)), HRSS_OK);
    /* no code given: the lowest free one */
    d = def_of("回访", NULL, T0, T0 + 100);
    assert_int_equal(survey_create(f->db, &d, &id, code, err, sizeof(err)), HRSS_OK);
    assert_string_equal(code, "10");
    assert_int_equal(survey_create(f->db, &d, &id, code, err, sizeof(err)), HRSS_OK);
    assert_string_equal(code, "11");
}

static void test_recipients_checked(void **state)
{
    fixture *f = *state;
    char err[SURVEY_ERR_MAX];
    size_t added = 0;
    int64_t id = make(f->db, "2301", T0, T0 + 100);
    const char *ok[] = {"13800138000", "+8613900139000", "13800138000"};
    assert_int_equal(survey_add_recipients(f->db, id, ok, 3, &added, err, sizeof(err)), HRSS_OK);
    assert_int_equal(added, 2);
    const char *bad[] = {"13700137000", "1380013800"};
    assert_int_equal(survey_add_recipients(f->db, id, bad, 2, &added, err, sizeof(err)),
                     HRSS_EFORMAT);
    assert_non_null(strstr(err, "recipient 2"));
    assert_null(strstr(err, "1380013800")); /* the number is never in the message */
    survey_results r;
    assert_int_equal(survey_results_get(f->db, id, &r, err, sizeof(err)), HRSS_OK);
    assert_int_equal(r.recipients, 2); /* all or nothing: 13700137000 was not added */
    assert_int_equal(survey_add_recipients(f->db, id + 100, ok, 1, &added, err, sizeof(err)),
                     HRSS_ENOTFOUND);
}

/* ---- texts ---- */

static void test_question_text(void **state)
{
    fixture *f = *state;
    char err[SURVEY_ERR_MAX];
    int64_t a = make(f->db, "2301", T0, T0 + 100);
    add(f->db, a, "13800138000");
    char *t = survey_question_text(f->db, a, "13800138000", ROOM, err, sizeof(err));
    assert_non_null(t);
    assert_string_equal(t, "您对社保卡服务是否满意？回复1满意 2基本满意 3不满意");
    assert_true(utf8_count(t, strlen(t)) <= ROOM);
    free(t);

    /* a second survey open at the same time: both texts carry their code */
    int64_t b = make(f->db, "2302", T0 + 50, T0 + 150);
    add(f->db, b, "13800138000");
    t = survey_question_text(f->db, b, "13800138000", ROOM, err, sizeof(err));
    assert_non_null(t);
    assert_string_equal(t, "您对社保卡服务是否满意？回复2302#加答案：1满意 2基本满意 3不满意");
    free(t);
    t = survey_question_text(f->db, a, "13800138000", ROOM, err, sizeof(err));
    assert_non_null(strstr(t, "回复2301#"));
    free(t);
    /* another phone has only one */
    add(f->db, b, "13900139000");
    t = survey_question_text(f->db, b, "13900139000", ROOM, err, sizeof(err));
    assert_null(strstr(t, "2302"));
    free(t);

    /* too long for the room: refused, never cut */
    assert_null(survey_question_text(f->db, a, NULL, 20, err, sizeof(err)));
    assert_null(survey_question_text(f->db, a + 100, NULL, ROOM, err, sizeof(err)));
    assert_null(survey_question_text(f->db, a, "12345", ROOM, err, sizeof(err)));
}

/* ---- matching ---- */

static void test_one_open_survey(void **state)
{
    fixture *f = *state;
    char err[SURVEY_ERR_MAX];
    survey_match_result m;
    int64_t id = make(f->db, "2301", T0, T0 + 100);
    add(f->db, id, "13800138000");

    assert_int_equal(match(f->db, "13800138000", " 1 ", T0 + 1, &m), SURVEY_RECORDED);
    assert_string_equal(m.reply, "survey_thanks");
    assert_int_equal(m.survey_id, id);
    assert_string_equal(m.answer, "1");
    assert_false(m.replaced);
    char *t = survey_reply_text(f->db, &m, replies, ROOM, err, sizeof(err));
    assert_string_equal(t, "感谢您的评价！");
    free(t);

    /* the code may be given with a single survey too; last answer counts */
    assert_int_equal(match(f->db, "13800138000", "2301#3", T0 + 2, &m), SURVEY_RECORDED);
    assert_true(m.replaced);
    assert_string_equal(m.answer, "3");

    /* "+86" form of the sender */
    assert_int_equal(match(f->db, "+8613800138000", "2", T0 + 3, &m), SURVEY_RECORDED);

    /* invalid answer: the reply lists the valid ones */
    assert_int_equal(match(f->db, "13800138000", "4", T0 + 4, &m), SURVEY_INVALID);
    assert_string_equal(m.reply, "survey_invalid");
    assert_int_equal(m.survey_id, id);
    assert_string_equal(m.choices, "1满意 2基本满意 3不满意");
    t = survey_reply_text(f->db, &m, replies, ROOM, err, sizeof(err));
    assert_string_equal(t, "答案无效，请回复：1满意 2基本满意 3不满意");
    free(t);
    assert_int_equal(match(f->db, "13800138000", "X", T0 + 4, &m), SURVEY_INVALID);
    assert_int_equal(match(f->db, "13800138000", "99#1", T0 + 4, &m), SURVEY_INVALID);

    survey_results r;
    assert_int_equal(survey_results_get(f->db, id, &r, err, sizeof(err)), HRSS_OK);
    assert_int_equal(r.answered, 1);
    assert_int_equal(r.counts[1], 1); /* "2", the last answer */
    assert_int_equal(r.counts[2], 0);

    /* commands and other texts go on to the command engine */
    const char *not_answers[] = {"TD", "cbxx#张三", "BD#440101199003070236#123456", "你好",
                                 "", "   ", "12#", "1 2 3", "2301#满意"};
    for (size_t i = 0; i < HRSS_ARRAY_LEN(not_answers); i++) {
        assert_int_equal(match(f->db, "13800138000", not_answers[i], T0 + 5, &m),
                         SURVEY_NO_MATCH);
        assert_null(m.reply);
    }
    /* a phone that is not a recipient */
    assert_int_equal(match(f->db, "13900139000", "1", T0 + 5, &m), SURVEY_NO_MATCH);
    assert_int_equal(match(f->db, "not a phone", "1", T0 + 5, &m), SURVEY_NO_MATCH);
}

static void test_full_width_and_letters(void **state)
{
    fixture *f = *state;
    char err[SURVEY_ERR_MAX];
    int64_t id;
    survey_match_result m;
    survey_answer yn[] = {{"Y", "是"}, {"N", "否"}};
    survey_def d = def_of("回访", "88", T0, T0 + 100);
    d.answers = yn;
    d.nanswers = 2;
    assert_int_equal(survey_create(f->db, &d, &id, NULL, err, sizeof(err)), HRSS_OK);
    add(f->db, id, "13800138000");
    int64_t sat = make(f->db, "2301", T0, T0 + 100);
    add(f->db, sat, "13900139000");

    assert_int_equal(match(f->db, "13900139000", "１", T0, &m), SURVEY_RECORDED);
    assert_string_equal(m.answer, "1");
    /* ideographic spaces around, full-width code and ＃ */
    assert_int_equal(match(f->db, "13900139000", "\u3000２３０１＃３\u3000", T0, &m),
                     SURVEY_RECORDED);
    assert_string_equal(m.answer, "3");
    assert_int_equal(match(f->db, "13800138000", "ｙ", T0, &m), SURVEY_RECORDED);
    assert_string_equal(m.answer, "Y");
    assert_int_equal(match(f->db, "13800138000", "88 n", T0, &m), SURVEY_RECORDED);
    assert_string_equal(m.answer, "N");
    assert_int_equal(match(f->db, "13800138000", "1", T0, &m), SURVEY_INVALID);
    assert_string_equal(m.choices, "Y是 N否");
}

static void test_two_open_surveys(void **state)
{
    fixture *f = *state;
    char err[SURVEY_ERR_MAX];
    survey_match_result m;
    int64_t a = make(f->db, "2301", T0, T0 + 100);
    int64_t b = make(f->db, "2302", T0, T0 + 200);
    add(f->db, a, "13800138000");
    add(f->db, b, "13800138000");

    assert_int_equal(match(f->db, "13800138000", "1", T0, &m), SURVEY_AMBIGUOUS);
    assert_string_equal(m.reply, "survey_ambiguous");
    assert_int_equal(m.survey_id, 0);
    assert_string_equal(m.codes, "2301 2302");
    char *t = survey_reply_text(f->db, &m, replies, ROOM, err, sizeof(err));
    assert_string_equal(t, "您有多项调查待回复，请回复编号#答案，如2301#1。编号：2301 2302");
    free(t);
    /* an unknown code is ambiguous too */
    assert_int_equal(match(f->db, "13800138000", "2399#1", T0, &m), SURVEY_AMBIGUOUS);

    assert_int_equal(match(f->db, "13800138000", "2302#2", T0, &m), SURVEY_RECORDED);
    assert_int_equal(m.survey_id, b);
    assert_int_equal(match(f->db, "13800138000", "2301 1", T0, &m), SURVEY_RECORDED);
    assert_int_equal(m.survey_id, a);
    assert_int_equal(match(f->db, "13800138000", "2301#7", T0, &m), SURVEY_INVALID);
    assert_string_equal(m.reply, "survey_invalid_code");
    assert_int_equal(m.survey_id, a);
    t = survey_reply_text(f->db, &m, replies, ROOM, err, sizeof(err));
    assert_string_equal(t, "答案无效，请回复2301#加答案：1满意 2基本满意 3不满意");
    free(t);

    /* once a has closed, a bare answer goes to b */
    assert_int_equal(match(f->db, "13800138000", "3", T0 + 100, &m), SURVEY_RECORDED);
    assert_int_equal(m.survey_id, b);
    assert_true(m.replaced);

    survey_results r;
    assert_int_equal(survey_results_get(f->db, a, &r, err, sizeof(err)), HRSS_OK);
    assert_int_equal(r.counts[0], 1);
    assert_int_equal(survey_results_get(f->db, b, &r, err, sizeof(err)), HRSS_OK);
    assert_int_equal(r.counts[1], 0);
    assert_int_equal(r.counts[2], 1);
}

static void test_window_edges(void **state)
{
    fixture *f = *state;
    survey_match_result m;
    int64_t id = make(f->db, "2301", T0, T0 + 100);
    add(f->db, id, "13800138000");
    assert_int_equal(match(f->db, "13800138000", "1", T0 - 1, &m), SURVEY_NO_MATCH);
    assert_int_equal(m.nopen, 0);
    assert_int_equal(match(f->db, "13800138000", "1", T0, &m), SURVEY_RECORDED);
    assert_int_equal(match(f->db, "13800138000", "2", T0 + 99, &m), SURVEY_RECORDED);
    assert_int_equal(match(f->db, "13800138000", "3", T0 + 100, &m), SURVEY_NO_MATCH);
    assert_int_equal(match(f->db, "13800138000", "2301#3", T0 + 100, &m), SURVEY_NO_MATCH);

    char err[SURVEY_ERR_MAX];
    survey_results r;
    assert_int_equal(survey_results_get(f->db, id, &r, err, sizeof(err)), HRSS_OK);
    assert_int_equal(r.counts[1], 1); /* the answer inside the window stands */
    assert_int_equal(r.counts[2], 0);
}

/* ---- reminders, results, export ---- */

static void test_reminders_bounded(void **state)
{
    fixture *f = *state;
    char err[SURVEY_ERR_MAX], phones[8][HRSS_MOBILE_LEN + 1];
    size_t n;
    survey_match_result m;
    int64_t id = make(f->db, "2301", T0, T0 + 100); /* max_reminders 2 */
    const char *p[] = {"13800138000", "13800138001", "13800138002"};
    assert_int_equal(survey_add_recipients(f->db, id, p, 3, NULL, err, sizeof(err)), HRSS_OK);
    assert_int_equal(match(f->db, "13800138001", "1", T0, &m), SURVEY_RECORDED);

    /* not open yet: nobody */
    assert_int_equal(survey_remind_take(f->db, id, T0 - 1, 8, phones, &n, err, sizeof(err)),
                     HRSS_OK);
    assert_int_equal(n, 0);
    /* a limit of one, then the rest */
    assert_int_equal(survey_remind_take(f->db, id, T0 + 1, 1, phones, &n, err, sizeof(err)),
                     HRSS_OK);
    assert_int_equal(n, 1);
    assert_string_equal(phones[0], "13800138000");
    assert_int_equal(survey_remind_take(f->db, id, T0 + 1, 8, phones, &n, err, sizeof(err)),
                     HRSS_OK);
    assert_int_equal(n, 2); /* the one not yet reminded comes first */
    assert_string_equal(phones[0], "13800138002");
    assert_string_equal(phones[1], "13800138000");
    assert_int_equal(survey_remind_take(f->db, id, T0 + 2, 8, phones, &n, err, sizeof(err)),
                     HRSS_OK);
    assert_int_equal(n, 1);
    assert_string_equal(phones[0], "13800138002");
    /* both reached two reminders */
    assert_int_equal(survey_remind_take(f->db, id, T0 + 3, 8, phones, &n, err, sizeof(err)),
                     HRSS_OK);
    assert_int_equal(n, 0);
    /* closed */
    assert_int_equal(survey_remind_take(f->db, id, T0 + 100, 8, phones, &n, err, sizeof(err)),
                     HRSS_OK);
    assert_int_equal(n, 0);
    assert_int_equal(survey_remind_take(f->db, id + 9, T0, 8, phones, &n, err, sizeof(err)),
                     HRSS_ENOTFOUND);

    survey_results r;
    assert_int_equal(survey_results_get(f->db, id, &r, err, sizeof(err)), HRSS_OK);
    assert_int_equal(r.reminded, 2);
}

static void test_results_and_export(void **state)
{
    fixture *f = *state;
    char err[SURVEY_ERR_MAX];
    survey_match_result m;
    survey_results r;
    int64_t id = make(f->db, "2301", T0, T0 + 100);
    assert_int_equal(survey_results_get(f->db, id, &r, err, sizeof(err)), HRSS_OK);
    assert_int_equal(r.recipients, 0);
    assert_int_equal(r.rate_permille, 0);

    const char *p[] = {"13800138000", "13800138001", "13800138002", "13800138003"};
    assert_int_equal(survey_add_recipients(f->db, id, p, 4, NULL, err, sizeof(err)), HRSS_OK);
    assert_int_equal(match(f->db, p[0], "1", T0 + 1, &m), SURVEY_RECORDED);
    assert_int_equal(match(f->db, p[1], "1", T0 + 2, &m), SURVEY_RECORDED);
    assert_int_equal(match(f->db, p[2], "3", T0 + 3, &m), SURVEY_RECORDED);
    assert_int_equal(match(f->db, p[2], "2", T0 + 4, &m), SURVEY_RECORDED);

    assert_int_equal(survey_results_get(f->db, id, &r, err, sizeof(err)), HRSS_OK);
    assert_int_equal(r.recipients, 4);
    assert_int_equal(r.answered, 3);
    assert_int_equal(r.nanswers, 3);
    assert_string_equal(r.codes[0], "1");
    assert_int_equal(r.counts[0], 2);
    assert_int_equal(r.counts[1], 1);
    assert_int_equal(r.counts[2], 0);
    assert_int_equal(r.rate_permille, 750);
    assert_int_equal(survey_results_get(f->db, id + 5, &r, err, sizeof(err)), HRSS_ENOTFOUND);

    size_t len;
    char *csv = survey_export_csv(f->db, id, &len, err, sizeof(err));
    assert_non_null(csv);
    assert_int_equal(strlen(csv), len);
    assert_string_equal(csv, "phone,answer,label,answered_at,changes,reminders\r\n"
                             "138****8000,1,满意,1795000001,0,0\r\n"
                             "138****8001,1,满意,1795000002,0,0\r\n"
                             "138****8002,2,基本满意,1795000004,1,0\r\n"
                             "138****8003,,,,0,0\r\n");
    assert_null(strstr(csv, "13800138"));
    free(csv);
    assert_null(survey_export_csv(f->db, id + 5, &len, err, sizeof(err)));
}

/* ---- concurrency ---- */

#define THREADS 4
#define PER_THREAD 25

typedef struct worker {
    const char *path;
    int idx;
    int64_t a, b;
    int recorded;
    int errors;
} worker;

/* Each thread, on its own connection, answers for its phones both surveys
 * (with codes, the phone has two open) and once more the first. */
static void *answer_worker(void *arg)
{
    worker *w = arg;
    sqlite3 *db = NULL;
    if (sqlite3_open_v2(w->path, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
        w->errors++;
        sqlite3_close(db);
        return NULL;
    }
    for (int i = 0; i < PER_THREAD; i++) {
        char phone[16], text[32];
        survey_match_result m;
        snprintf(phone, sizeof(phone), "139%08d", w->idx * PER_THREAD + i);
        snprintf(text, sizeof(text), "2301#%d", 1 + i % 3);
        if (survey_match(db, phone, text, T0, &m) != HRSS_OK || m.status != SURVEY_RECORDED)
            w->errors++;
        else
            w->recorded++;
        snprintf(text, sizeof(text), "２３０２＃%d", 1 + (i + 1) % 3);
        if (survey_match(db, phone, text, T0, &m) != HRSS_OK || m.status != SURVEY_RECORDED)
            w->errors++;
        else
            w->recorded++;
    }
    sqlite3_close(db);
    return NULL;
}

static void test_concurrent_answers(void **state)
{
    fixture *f = *state;
    char err[SURVEY_ERR_MAX];
    int64_t a = make(f->db, "2301", T0, T0 + 100);
    int64_t b = make(f->db, "2302", T0, T0 + 100);
    for (int i = 0; i < THREADS * PER_THREAD; i++) {
        char phone[16];
        snprintf(phone, sizeof(phone), "139%08d", i);
        add(f->db, a, phone);
        add(f->db, b, phone);
    }
    pthread_t th[THREADS];
    worker w[THREADS];
    for (int i = 0; i < THREADS; i++) {
        w[i] = (worker){.path = f->path, .idx = i, .a = a, .b = b};
        assert_int_equal(pthread_create(&th[i], NULL, answer_worker, &w[i]), 0);
    }
    int recorded = 0;
    for (int i = 0; i < THREADS; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(w[i].errors, 0);
        recorded += w[i].recorded;
    }
    assert_int_equal(recorded, 2 * THREADS * PER_THREAD);
    int64_t want[3] = {0, 0, 0};
    for (int i = 0; i < PER_THREAD; i++)
        want[i % 3] += THREADS;
    survey_results r;
    assert_int_equal(survey_results_get(f->db, a, &r, err, sizeof(err)), HRSS_OK);
    assert_int_equal(r.answered, THREADS * PER_THREAD);
    for (int k = 0; k < 3; k++)
        assert_int_equal(r.counts[k], want[k]);
    assert_int_equal(r.rate_permille, 1000);
    assert_int_equal(survey_results_get(f->db, b, &r, err, sizeof(err)), HRSS_OK);
    assert_int_equal(r.answered, THREADS * PER_THREAD);
    assert_int_equal(r.counts[0] + r.counts[1] + r.counts[2], THREADS * PER_THREAD);
    /* recorded once: no answer replaced another */
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(f->db, "SELECT sum(changes) FROM survey_recipient", -1,
                                        &st, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(st, 0), 0);
    sqlite3_finalize(st);
}

/* Two senders on their own connections take reminders at once: nobody is
 * reminded more often than the survey allows. */
typedef struct taker {
    const char *path;
    int64_t id;
    int taken;
    int errors;
} taker;

static void *remind_worker(void *arg)
{
    taker *t = arg;
    sqlite3 *db = NULL;
    char err[SURVEY_ERR_MAX], phones[7][HRSS_MOBILE_LEN + 1];
    if (sqlite3_open_v2(t->path, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
        t->errors++;
        sqlite3_close(db);
        return NULL;
    }
    for (int i = 0; i < 20; i++) {
        size_t n = 0;
        if (survey_remind_take(db, t->id, T0, 7, phones, &n, err, sizeof(err)) != HRSS_OK)
            t->errors++;
        t->taken += (int)n;
    }
    sqlite3_close(db);
    return NULL;
}

static void test_concurrent_reminders(void **state)
{
    fixture *f = *state;
    int64_t id = make(f->db, "2301", T0, T0 + 100); /* max_reminders 2 */
    for (int i = 0; i < 30; i++) {
        char phone[16];
        snprintf(phone, sizeof(phone), "137%08d", i);
        add(f->db, id, phone);
    }
    pthread_t th[3];
    taker t[3];
    for (int i = 0; i < 3; i++) {
        t[i] = (taker){.path = f->path, .id = id};
        assert_int_equal(pthread_create(&th[i], NULL, remind_worker, &t[i]), 0);
    }
    int taken = 0;
    for (int i = 0; i < 3; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(t[i].errors, 0);
        taken += t[i].taken;
    }
    assert_int_equal(taken, 60);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_create_checks_definition, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reply_code_unique_while_open, setup, teardown),
        cmocka_unit_test_setup_teardown(test_recipients_checked, setup, teardown),
        cmocka_unit_test_setup_teardown(test_question_text, setup, teardown),
        cmocka_unit_test_setup_teardown(test_one_open_survey, setup, teardown),
        cmocka_unit_test_setup_teardown(test_full_width_and_letters, setup, teardown),
        cmocka_unit_test_setup_teardown(test_two_open_surveys, setup, teardown),
        cmocka_unit_test_setup_teardown(test_window_edges, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reminders_bounded, setup, teardown),
        cmocka_unit_test_setup_teardown(test_results_and_export, setup, teardown),
        cmocka_unit_test_setup_teardown(test_concurrent_answers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_concurrent_reminders, setup, teardown),
    };
    char path[1024], err[256];
    const char *src = getenv("HRSS_SOURCE_DIR");
    snprintf(path, sizeof(path), "%s/etc/sms-replies.json", src ? src : ".");
    replies = sms_replies_load_file(path, NULL, ROOM, err);
    if (replies == NULL) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    sms_replies_free(replies);
    return rc;
}
