/*
 * cli/conform/report.c - the results of a conformance run and their three
 * forms: the terminal summary (per clause), JSON for machines and a
 * self-contained one-page HTML report (inline style, no script, no external
 * resource), with the requests and answers of each failure, redacted.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/conform/conform.h"
#include "common/util.h"

static const char *const verdict_names[] = {"pass", "fail", "differs", "skip"};

const char *cf_verdict_name(cf_verdict v)
{
    return verdict_names[v];
}

static void *must(void *p)
{
    if (p == NULL) {
        cli_error("conform: out of memory");
        exit(CLI_USAGE);
    }
    return p;
}

static void put(hrss_buf *b, const void *p, size_t n)
{
    must(buf_append(b, p, n) == 0 ? b : NULL);
}

static void put_str(hrss_buf *b, const char *s)
{
    put(b, s, strlen(s));
}

static char *dup_or_empty(const char *s)
{
    return must(strdup(s != NULL ? s : ""));
}

void cf_report_secret(cf_report *r, const char *s, size_t len)
{
    for (size_t i = 0; i < HRSS_ARRAY_LEN(r->secrets); i++)
        if (r->secrets[i] == NULL) {
            r->secrets[i] = s;
            r->secret_lens[i] = len;
            return;
        }
}

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static int is_alnum(char c)
{
    return is_digit(c) || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

/* Length of an ID number (17 digits + digit or X) or an 11-digit mobile
 * number starting at s, not glued to letters or digits before it (the
 * digits of serviceReqId/serviceResId follow a system code); 0 when none. */
static size_t personal_number_at(const char *s, size_t left, int glued)
{
    if (glued)
        return 0;
    size_t d = 0;
    while (d < left && is_digit(s[d]))
        d++;
    if (d == 17 && left > 17 && (s[17] == 'X' || s[17] == 'x'))
        return 18;
    if (d == 18)
        return 18;
    if (d == 11 && s[0] == '1')
        return 11;
    return 0;
}

char *cf_redact(const cf_report *r, const char *text)
{
    hrss_buf b;
    size_t len = strlen(text);
    buf_init(&b, len * 2 + 64);
    for (size_t i = 0; i < len;) {
        int hit = 0;
        for (size_t k = 0; k < HRSS_ARRAY_LEN(r->secrets) && !hit; k++)
            if (r->secrets[k] != NULL && r->secret_lens[k] > 0 && len - i >= r->secret_lens[k] &&
                memcmp(text + i, r->secrets[k], r->secret_lens[k]) == 0) {
                put_str(&b, "[redacted]");
                i += r->secret_lens[k];
                hit = 1;
            }
        if (hit)
            continue;
        size_t n = personal_number_at(text + i, len - i, i > 0 && is_alnum(text[i - 1]));
        if (n > 0) {
            /* 440101********0236, 138****5678: enough to find the record */
            put(&b, text + i, n == 18 ? 6 : 3);
            put_str(&b, n == 18 ? "********" : "****");
            put(&b, text + i + n - 4, 4);
            i += n;
            continue;
        }
        put(&b, text + i, 1);
        i++;
    }
    size_t n;
    return must(buf_detach(&b, &n));
}

void cf_add(cf_report *r, const char *clause, const char *id, const char *title,
            const char *reading, cf_verdict v, const char *req, const char *resp, const char *fmt,
            ...)
{
    if (r->n == r->cap) {
        r->cap = r->cap ? r->cap * 2 : 64;
        r->items = must(realloc(r->items, r->cap * sizeof(*r->items)));
    }
    cf_result *x = &r->items[r->n++];
    char detail[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof(detail), fmt, ap);
    va_end(ap);
    x->clause = dup_or_empty(clause);
    x->id = dup_or_empty(id);
    x->title = dup_or_empty(title);
    x->reading = dup_or_empty(reading);
    x->detail = cf_redact(r, detail);
    x->verdict = v;
    int keep = v == CF_FAIL || v == CF_DIFFERS;
    x->request = keep && req != NULL ? cf_redact(r, req) : NULL;
    x->response = keep && resp != NULL ? cf_redact(r, resp) : NULL;
}

void cf_report_free(cf_report *r)
{
    for (size_t i = 0; i < r->n; i++) {
        cf_result *x = &r->items[i];
        free(x->clause);
        free(x->id);
        free(x->title);
        free(x->reading);
        free(x->detail);
        free(x->request);
        free(x->response);
    }
    free(r->items);
    r->items = NULL;
    r->n = r->cap = 0;
}

size_t cf_count(const cf_report *r, cf_verdict v)
{
    size_t n = 0;
    for (size_t i = 0; i < r->n; i++)
        n += r->items[i].verdict == v;
    return n;
}

/* Dotted clause numbers in the standard's order: 5.4 < 6.2.1.2 < 6.2.1.10. */
static int clause_cmp(const char *a, const char *b)
{
    while (*a != '\0' && *b != '\0') {
        char *ea, *eb;
        long x = strtol(a, &ea, 10), y = strtol(b, &eb, 10);
        if (x != y)
            return x < y ? -1 : 1;
        a = *ea == '.' ? ea + 1 : ea;
        b = *eb == '.' ? eb + 1 : eb;
        if (ea == a && eb == b) /* neither advanced: not numbers */
            return strcmp(a, b);
    }
    return (*a != '\0') - (*b != '\0');
}

/* The clauses of the results, sorted; returns how many (at most max). */
static size_t clauses_of(const cf_report *r, const char **out, size_t max)
{
    size_t n = 0;
    for (size_t i = 0; i < r->n; i++) {
        size_t j = 0;
        while (j < n && strcmp(out[j], r->items[i].clause) != 0)
            j++;
        if (j < n || n == max)
            continue;
        /* insertion keeps the list sorted */
        while (j > 0 && clause_cmp(out[j - 1], r->items[i].clause) > 0) {
            out[j] = out[j - 1];
            j--;
        }
        out[j] = r->items[i].clause;
        n++;
    }
    return n;
}

static const char *clause_title(const char *c)
{
    static const struct {
        const char *clause, *title;
    } t[] = {
        {"5.2", "交易约束 HTTP, JSON, UTF-8"},
        {"5.3", "信息系统编码 system codes and ids"},
        {"5.4", "平台对接管理 registration and grants"},
        {"6.2.1.2", "请求报文 request envelope (table 1)"},
        {"6.2.1.3", "响应报文 response envelope (table 2)"},
        {"6.2.2.1", "对象类型普通请求 object request"},
        {"6.2.2.2", "对象类型分页请求 paged request"},
        {"6.2.2.3", "数组类型批量请求 batch request"},
        {"7.1.1.1", "报文加密解密 body encryption"},
        {"7.1.1.2", "数字签名验签 signature, nonce"},
    };
    for (size_t i = 0; i < HRSS_ARRAY_LEN(t); i++)
        if (strcmp(t[i].clause, c) == 0)
            return t[i].title;
    return "";
}

void cf_print_summary(const cf_report *r, FILE *f)
{
    const char *cl[64];
    size_t n = clauses_of(r, cl, HRSS_ARRAY_LEN(cl));
    if (strcmp(r->mode, "serve") == 0)
        fprintf(f, "LD/T 6008-2024 conformance of the callers served at %s\n", r->target);
    else
        fprintf(f, "LD/T 6008-2024 conformance of the %s at %s\n", r->mode, r->target);
    fprintf(f, "%-9s %5s %5s %8s %5s  %s\n", "clause", "pass", "fail", "differs", "skip", "");
    for (size_t c = 0; c < n; c++) {
        size_t k[4] = {0, 0, 0, 0};
        for (size_t i = 0; i < r->n; i++)
            if (strcmp(r->items[i].clause, cl[c]) == 0)
                k[r->items[i].verdict]++;
        fprintf(f, "%-9s %5zu %5zu %8zu %5zu  %s\n", cl[c], k[0], k[1], k[2], k[3],
                clause_title(cl[c]));
    }
    for (size_t i = 0; i < r->n; i++) {
        const cf_result *x = &r->items[i];
        if (x->verdict == CF_FAIL || x->verdict == CF_DIFFERS)
            fprintf(f, "%-7s %s %s: %s\n", x->verdict == CF_FAIL ? "FAIL" : "DIFFERS", x->clause,
                    x->id, x->detail);
    }
    fprintf(f, "total: %zu pass, %zu fail, %zu differ from hrss's reading, %zu skipped\n",
            cf_count(r, CF_PASS), cf_count(r, CF_FAIL), cf_count(r, CF_DIFFERS),
            cf_count(r, CF_SKIP));
}

static char *report_json(const cf_report *r)
{
    json_t *items = json_array(), *doc;
    for (size_t i = 0; i < r->n; i++) {
        const cf_result *x = &r->items[i];
        json_t *o = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s}", "clause", x->clause, "id", x->id,
                              "title", x->title, "reading", x->reading, "verdict",
                              cf_verdict_name(x->verdict), "detail", x->detail);
        if (o != NULL && x->request != NULL)
            json_object_set_new(o, "request", json_string(x->request));
        if (o != NULL && x->response != NULL)
            json_object_set_new(o, "response", json_string(x->response));
        json_array_append_new(items, o);
    }
    doc = json_pack("{s:s,s:s,s:s,s:s,s:{s:I,s:I,s:I,s:I},s:o}", "standard", "LD/T 6008-2024",
                    "mode", r->mode, "target", r->target, "started", r->started, "totals", "pass",
                    (json_int_t)cf_count(r, CF_PASS), "fail", (json_int_t)cf_count(r, CF_FAIL),
                    "differs", (json_int_t)cf_count(r, CF_DIFFERS), "skip",
                    (json_int_t)cf_count(r, CF_SKIP), "results", items);
    char *s = doc != NULL ? json_dumps(doc, JSON_INDENT(1)) : NULL;
    json_decref(doc);
    return must(s);
}

static void html_text(hrss_buf *b, const char *s)
{
    for (; *s != '\0'; s++) {
        const char *e = *s == '<'   ? "&lt;"
                        : *s == '>' ? "&gt;"
                        : *s == '&' ? "&amp;"
                        : *s == '"' ? "&quot;"
                                    : NULL;
        if (e != NULL)
            put_str(b, e);
        else
            put(b, s, 1);
    }
}

static void html_raw(hrss_buf *b, const char *s)
{
    put_str(b, s);
}

static char *report_html(const cf_report *r)
{
    hrss_buf b;
    char line[1024];
    const char *cl[64];
    size_t n = clauses_of(r, cl, HRSS_ARRAY_LEN(cl));
    buf_init(&b, 64u * 1024 * 1024);
    html_raw(&b, "<!DOCTYPE html>\n<html lang=\"zh-CN\"><head><meta charset=\"utf-8\">\n"
                 "<title>LD/T 6008-2024 符合性报告 conformance report</title>\n<style>\n"
                 "body{font:14px/1.4 sans-serif;margin:2em;max-width:75em}\n"
                 "table{border-collapse:collapse;width:100%;margin-bottom:1.5em}\n"
                 "th,td{border:1px solid #bbb;padding:.3em .5em;text-align:left;"
                 "vertical-align:top}\nth{background:#eee}\n"
                 ".pass{color:#070}.fail{color:#b00;font-weight:bold}"
                 ".differs{color:#a60;font-weight:bold}.skip{color:#777}\n"
                 "pre{white-space:pre-wrap;word-break:break-all;background:#f6f6f6;"
                 "padding:.4em;margin:.2em 0}\n</style></head><body>\n"
                 "<h1>LD/T 6008-2024 符合性报告 / conformance report</h1>\n<p>");
    html_text(&b, r->mode);
    html_raw(&b, ": ");
    html_text(&b, r->target);
    const char *t = r->started; /* YYYYMMDDHHMISS, shown as YYYY-MM-DD HH:MI:SS */
    snprintf(line, sizeof(line), " &mdash; %.4s-%.2s-%.2s %.2s:%.2s:%.2s", t, t + 4, t + 6, t + 8,
             t + 10, t + 12);
    html_raw(&b, line);
    snprintf(line, sizeof(line),
             " (CST)</p>\n<p><span class=\"pass\">%zu 通过 pass</span>, "
             "<span class=\"fail\">%zu 不符合 fail</span>, <span class=\"differs\">%zu "
             "与 hrss 的解读不同 differs</span>, <span class=\"skip\">%zu 跳过 skip</span></p>\n"
             "<p>“differs”: the standard is ambiguous here and the peer reads it otherwise "
             "than hrss (docs/design.md, the numbered decisions); both readings are shown. "
             "Secrets, keys and personal numbers are redacted.</p>\n",
             cf_count(r, CF_PASS), cf_count(r, CF_FAIL), cf_count(r, CF_DIFFERS),
             cf_count(r, CF_SKIP));
    html_raw(&b, line);
    for (size_t c = 0; c < n; c++) {
        html_raw(&b, "<h2>");
        html_text(&b, cl[c]);
        html_raw(&b, " ");
        html_text(&b, clause_title(cl[c]));
        html_raw(&b, "</h2>\n<table><tr><th>check</th><th>verdict</th><th>what was checked</th>"
                     "<th>reading relied on</th><th>observed</th></tr>\n");
        for (size_t i = 0; i < r->n; i++) {
            const cf_result *x = &r->items[i];
            if (strcmp(x->clause, cl[c]) != 0)
                continue;
            html_raw(&b, "<tr><td>");
            html_text(&b, x->id);
            snprintf(line, sizeof(line), "</td><td class=\"%s\">%s</td><td>",
                     cf_verdict_name(x->verdict), cf_verdict_name(x->verdict));
            html_raw(&b, line);
            html_text(&b, x->title);
            html_raw(&b, "</td><td>");
            html_text(&b, x->reading);
            html_raw(&b, "</td><td>");
            html_text(&b, x->detail);
            if (x->request != NULL) {
                html_raw(&b, "<br>request:<pre>");
                html_text(&b, x->request);
                html_raw(&b, "</pre>");
            }
            if (x->response != NULL) {
                html_raw(&b, "answer:<pre>");
                html_text(&b, x->response);
                html_raw(&b, "</pre>");
            }
            html_raw(&b, "</td></tr>\n");
        }
        html_raw(&b, "</table>\n");
    }
    html_raw(&b, "</body></html>\n");
    size_t len;
    return must(buf_detach(&b, &len));
}

static int ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}

int cf_write_report(const cf_report *r, const char *path)
{
    char *text;
    if (ends_with(path, ".json"))
        text = report_json(r);
    else if (ends_with(path, ".html") || ends_with(path, ".htm"))
        text = report_html(r);
    else {
        cli_error("conform: --report %s: the name must end in .json or .html", path);
        return CLI_USAGE;
    }
    int rc = cli_write_file(path, text, strlen(text), 0644);
    free(text);
    return rc;
}
