/*
 * sms/survey.h - surveys and return visits (调查回访类, LD/T 6007 7.4): the
 * platform sends a question to a list of phones and records their answers
 * from the uplink messages, with reminders and results.
 *
 * A survey has a title, a question, its valid answers, a time window
 * [opens_at, closes_at) in epoch seconds, a reply code and a thank-you text.
 * Answers are short (6.2.2 c): one or two digits ("1", "12") or one letter
 * ("A", case-insensitive), each with a label ("满意"). Command names are two
 * letters or more, so a valid answer never hides a command such as TD.
 * The reply code (2-4 digits) tells the surveys of one phone apart when
 * several are open at once: "2301#1" or "2301 1" answers survey 2301.
 *
 * Rules of survey_match, which the command engine calls before it parses an
 * uplink text as a command:
 * - the text is normalised as commands are (full-width ０-９, Ａ-Ｚ, ＃ and the
 *   ideographic space to half-width, blanks trimmed, letters upper case);
 * - only answer-shaped texts are considered: a bare answer (1-4 digits or
 *   one letter) or "<code>#<answer>" / "<code> <answer>" with a 2-4 digit
 *   code; anything else goes on to the command engine (SURVEY_NO_MATCH);
 * - a survey is open for a phone when the phone is one of its recipients
 *   and opens_at <= now < closes_at; with none open: SURVEY_NO_MATCH;
 * - with exactly one open, a bare answer or one with its code is checked;
 *   with several, the reply must carry a code of one of them, else
 *   SURVEY_AMBIGUOUS (the caller replies asking for the code);
 * - an answer that is not one of the survey's gets SURVEY_INVALID (the
 *   caller replies with the valid answers);
 * - a second answer replaces the first: the last answer counts, so that a
 *   citizen who mistyped can correct it while the survey is open
 *   (out->replaced says so; the number of changes is kept).
 *
 * Every change that reads before it writes runs in one BEGIN IMMEDIATE
 * transaction, so several processes or threads on their own connections
 * to one database keep these rules. Functions take the caller's connection
 * (one connection per thread, as SQLite requires) and set a busy timeout on
 * it. Nothing here logs; results hold no phone number except the one the
 * caller gave, and exports show phones masked (138****5678).
 */
#ifndef HRSS_SMS_SURVEY_H
#define HRSS_SMS_SURVEY_H

#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

#include "hrss/person.h"
#include "reply.h"

#define SURVEY_ERR_MAX 160
#define SURVEY_ANSWERS_MAX 9      /* answers of one survey */
#define SURVEY_ANSWER_MAX 2       /* bytes of an answer code */
#define SURVEY_LABEL_MAX 8        /* characters of an answer's label */
#define SURVEY_CODE_MAX 4         /* digits of a reply code (at least 2) */
#define SURVEY_TITLE_MAX 20       /* characters */
#define SURVEY_QUESTION_MAX 300   /* characters */
#define SURVEY_THANKS_MAX 60      /* characters */
#define SURVEY_OPEN_MAX 16        /* open surveys of one phone looked at */
#define SURVEY_BUSY_MS 5000       /* busy timeout set on the connection */

/* Creates the tables if they are missing. HRSS_OK or HRSS_EIO with err. */
int survey_init(sqlite3 *db, char *err, size_t errlen);

typedef struct survey_answer {
    const char *code;  /* "1", "12" or "A" (stored upper case) */
    const char *label; /* "满意": 1-SURVEY_LABEL_MAX characters */
} survey_answer;

typedef struct survey_def {
    const char *title;    /* 1-SURVEY_TITLE_MAX characters, for operators */
    const char *question; /* 1-SURVEY_QUESTION_MAX characters */
    const survey_answer *answers;
    size_t nanswers;      /* 2-SURVEY_ANSWERS_MAX, codes distinct */
    int64_t opens_at;     /* epoch seconds; the window is [opens_at, closes_at) */
    int64_t closes_at;
    const char *reply_code; /* 2-4 digits, or NULL: the lowest free one from "10" */
    const char *thanks;     /* 1-SURVEY_THANKS_MAX characters, sent after an answer */
    int max_reminders;      /* reminders per recipient, 0-10 */
} survey_def;

/* Creates a survey. The reply code must not be used by another survey whose
 * window overlaps this one's. Returns HRSS_OK with *id (and the code in
 * code_out, SURVEY_CODE_MAX + 1 bytes, may be NULL); HRSS_EFORMAT or
 * HRSS_ERANGE with the broken rule in err; HRSS_EDUPKEY when the code is
 * taken; HRSS_EIO on a database error. */
int survey_create(sqlite3 *db, const survey_def *def, int64_t *id, char *code_out, char *err,
                  size_t errlen);

/* Adds recipients (mainland mobile numbers, "+86"/"86" accepted and
 * stored as 11 digits). All or nothing: one invalid number refuses the list
 * with its index in err (never the number). Numbers already on the list are
 * skipped; *added (may be NULL) counts the new ones. HRSS_ENOTFOUND for an
 * unknown survey. */
int survey_add_recipients(sqlite3 *db, int64_t id, const char *const *phones, size_t n,
                          size_t *added, char *err, size_t errlen);

/* The question message for one recipient: "<question>回复1满意 2基本满意
 * 3不满意", or, when the phone is also a recipient of another survey whose
 * window overlaps this one's, "<question>回复2301#加答案：1满意 ..." so that
 * the answer carries the code. phone NULL: without the code. The text is at
 * most max_chars characters (0: no limit). Returns a malloc'd text (free
 * with free()) or NULL with err (unknown survey, too long, database). */
char *survey_question_text(sqlite3 *db, int64_t id, const char *phone, size_t max_chars,
                           char *err, size_t errlen);

typedef enum survey_match_status {
    SURVEY_NO_MATCH = 0, /* not an answer: the text goes on to the command engine */
    SURVEY_RECORDED,     /* answer recorded; reply "survey_thanks" */
    SURVEY_INVALID,      /* not one of the survey's answers; reply "survey_invalid"
                          * ("survey_invalid_code" when several are open) */
    SURVEY_AMBIGUOUS,    /* several open, no known code; reply "survey_ambiguous" */
} survey_match_status;

typedef struct survey_match_result {
    survey_match_status status;
    const char *reply;   /* reply name as above, NULL for SURVEY_NO_MATCH (static) */
    int64_t survey_id;   /* RECORDED and INVALID; 0 otherwise */
    int replaced;        /* RECORDED: an earlier answer was replaced */
    int nopen;           /* open surveys of the phone (at most SURVEY_OPEN_MAX) */
    char answer[SURVEY_ANSWER_MAX + 1];        /* RECORDED: the answer, normalised */
    char reply_code[SURVEY_CODE_MAX + 1];      /* RECORDED and INVALID */
    char choices[SURVEY_ANSWERS_MAX * 32];     /* INVALID: "1满意 2基本满意 3不满意" */
    char codes[SURVEY_OPEN_MAX * (SURVEY_CODE_MAX + 1)]; /* AMBIGUOUS: "2301 2302" */
} survey_match_result;

/* Decides whether text, an uplink message from phone received at now, is
 * an answer to a survey open for that phone, and records it (rules above).
 * out is always filled. Returns HRSS_OK; HRSS_EIO when the database fails
 * (out->status is then SURVEY_NO_MATCH and nothing was recorded: the caller
 * may reply "try later"). Safe from any thread on its own connection. */
int survey_match(sqlite3 *db, const char *phone, const char *text, int64_t now,
                 survey_match_result *out);

/* The reply for a match that is not SURVEY_NO_MATCH, within max_chars
 * characters (0: no limit): the survey's own thank-you text, or the
 * template m->reply of replies (the valid answers, or the codes to use:
 * ${choices}, ${code}, ${codes}, ${example}). malloc'd text or NULL with
 * err. */
char *survey_reply_text(sqlite3 *db, const survey_match_result *m, const sms_replies *replies,
                        size_t max_chars, char *err, size_t errlen);

/* Reminders: takes up to limit recipients of survey id who have not
 * answered and have had fewer than the survey's max_reminders reminders,
 * counts one more reminder for each (reminded_at = now) and returns their
 * numbers in phones (limit entries, filled first), *n of them, in one
 * transaction, so that two senders never remind the same phone twice. None
 * when the survey is not open at now. The caller sends each the question
 * again (survey_question_text). HRSS_ENOTFOUND, HRSS_EIO. */
int survey_remind_take(sqlite3 *db, int64_t id, int64_t now, size_t limit,
                       char (*phones)[HRSS_MOBILE_LEN + 1], size_t *n, char *err, size_t errlen);

typedef struct survey_results {
    int64_t recipients;
    int64_t answered;
    int64_t reminded;          /* recipients reminded at least once */
    size_t nanswers;
    char codes[SURVEY_ANSWERS_MAX][SURVEY_ANSWER_MAX + 1];
    int64_t counts[SURVEY_ANSWERS_MAX]; /* per answer, in the survey's order */
    int rate_permille;         /* answered * 1000 / recipients, 0 without recipients */
} survey_results;

/* Counts of a survey. HRSS_OK, HRSS_ENOTFOUND, HRSS_EIO. */
int survey_results_get(sqlite3 *db, int64_t id, survey_results *out, char *err, size_t errlen);

/* The recipients as CSV (RFC 4180, UTF-8, CRLF), header
 * "phone,answer,label,answered_at,changes,reminders", phones masked with
 * hrss_mobile_mask, times as epoch seconds (empty when not answered).
 * malloc'd text with *len, or NULL with err. */
char *survey_export_csv(sqlite3 *db, int64_t id, size_t *len, char *err, size_t errlen);

#endif
