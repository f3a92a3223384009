/*
 * net/http1.c - the HTTP/1.1 head and chunked-body parsers of http1.h.
 *
 * Why stateless: a head is parsed again from its first byte each time more
 * bytes arrive. Heads are bounded (max_head) and nearly always arrive in one
 * read, so keeping no state between calls costs little and leaves nothing
 * to get out of step with the buffer.
 */
#include "http1.h"

#include <string.h>

/* RFC 9110 5.6.2 tchar */
static int is_tchar(unsigned char c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return 1;
    return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static unsigned char lower(unsigned char c)
{
    return c >= 'A' && c <= 'Z' ? (unsigned char)(c + 32) : c;
}

/* a (any case) equals the lower-case literal b of length n */
static int ieq(const char *a, size_t alen, const char *b, size_t n)
{
    if (alen != n)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (lower((unsigned char)a[i]) != (unsigned char)b[i])
            return 0;
    return 1;
}

#define IEQ(p, n, lit) ieq((p), (n), lit, sizeof(lit) - 1)

/* The next line of buf[*pos..len): its start and length without CR LF.
 * 1 found, 0 no line end yet. */
static int next_line(const char *buf, size_t len, size_t *pos, const char **line, size_t *n)
{
    const char *s = buf + *pos;
    const char *nl = memchr(s, '\n', len - *pos);
    if (nl == NULL)
        return 0;
    size_t l = (size_t)(nl - s);
    if (l > 0 && s[l - 1] == '\r')
        l--;
    *line = s;
    *n = l;
    *pos = (size_t)(nl - buf) + 1;
    return 1;
}

/* Fields common to requests and responses. */
typedef struct fields {
    int has_length, chunked, te, conn_close, conn_keep_alive, expect_continue;
    uint64_t length;
    const char *error;
} fields;

static int parse_length(const char *v, size_t n, uint64_t *out)
{
    uint64_t x = 0;
    if (n == 0 || n > 18)
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (v[i] < '0' || v[i] > '9')
            return -1;
        x = x * 10 + (uint64_t)(v[i] - '0');
    }
    *out = x;
    return 0;
}

/* Applies one "token, token" list of the Connection field. */
static void parse_connection(fields *f, const char *v, size_t n)
{
    size_t i = 0;
    while (i < n) {
        while (i < n && (v[i] == ',' || v[i] == ' ' || v[i] == '\t'))
            i++;
        size_t s = i;
        while (i < n && v[i] != ',' && v[i] != ' ' && v[i] != '\t')
            i++;
        if (IEQ(v + s, i - s, "close"))
            f->conn_close = 1;
        else if (IEQ(v + s, i - s, "keep-alive"))
            f->conn_keep_alive = 1;
    }
}

/* One header line; 0 or -1 with f->error. */
static int parse_field(fields *f, const char *line, size_t n)
{
    size_t i = 0;
    if (n > 0 && (line[0] == ' ' || line[0] == '\t')) {
        f->error = "obsolete line folding";
        return -1;
    }
    while (i < n && is_tchar((unsigned char)line[i]))
        i++;
    if (i == 0 || i >= n || line[i] != ':') {
        f->error = "malformed header field";
        return -1;
    }
    const char *name = line;
    size_t name_len = i++;
    while (i < n && (line[i] == ' ' || line[i] == '\t'))
        i++;
    size_t e = n;
    while (e > i && (line[e - 1] == ' ' || line[e - 1] == '\t'))
        e--;
    const char *v = line + i;
    size_t vn = e - i;
    for (size_t k = 0; k < vn; k++) {
        unsigned char c = (unsigned char)v[k];
        if ((c < 0x20 && c != '\t') || c == 0x7f) {
            f->error = "control character in a header value";
            return -1;
        }
    }
    if (IEQ(name, name_len, "content-length")) {
        uint64_t x;
        if (parse_length(v, vn, &x) != 0 || (f->has_length && x != f->length)) {
            f->error = "bad Content-Length";
            return -1;
        }
        f->has_length = 1;
        f->length = x;
    } else if (IEQ(name, name_len, "transfer-encoding")) {
        if (f->te || !IEQ(v, vn, "chunked")) {
            f->error = "unsupported Transfer-Encoding";
            return -2; /* 501 */
        }
        f->te = f->chunked = 1;
    } else if (IEQ(name, name_len, "connection")) {
        parse_connection(f, v, vn);
    } else if (IEQ(name, name_len, "expect")) {
        if (!IEQ(v, vn, "100-continue")) {
            f->error = "unsupported Expect";
            return -3; /* 417 */
        }
        f->expect_continue = 1;
    }
    return 0;
}

/* Header lines from *pos to the empty line. > 0 head length, 0 more, < 0
 * the -status for an error. */
static int parse_fields(const char *buf, size_t len, size_t pos, size_t max_head, fields *f,
                        int error_status)
{
    const char *line;
    size_t n;
    for (;;) {
        if (!next_line(buf, len, &pos, &line, &n))
            return len > max_head ? -431 : HTTP1_MORE;
        if (pos > max_head)
            return -431;
        if (n == 0)
            break;
        int rc = parse_field(f, line, n);
        if (rc == -2)
            return error_status == 400 ? -501 : -error_status;
        if (rc == -3)
            return error_status == 400 ? -417 : -error_status;
        if (rc != 0)
            return -error_status;
    }
    if (f->has_length && f->te) {
        f->error = "both Content-Length and Transfer-Encoding";
        return -error_status;
    }
    return (int)pos;
}

static int parse_version(const char *s, size_t n, int *minor)
{
    if (n != 8 || memcmp(s, "HTTP/1.", 7) != 0 || s[7] < '0' || s[7] > '9')
        return -1;
    *minor = s[7] - '0';
    return 0;
}

int http1_parse_request(const char *buf, size_t len, size_t max_head, http1_request *r)
{
    const char *line;
    size_t n, pos = 0;
    fields f;

    memset(r, 0, sizeof(*r));
    memset(&f, 0, sizeof(f));
    /* RFC 9112 2.2: empty lines before the request line are ignored */
    while (pos < len && (buf[pos] == '\r' || buf[pos] == '\n') && pos < 4)
        pos++;
    if (!next_line(buf, len, &pos, &line, &n))
        return len > max_head ? -431 : HTTP1_MORE;
    if (pos > max_head)
        return -431;
    /* method SP request-target SP HTTP-version */
    size_t i = 0;
    while (i < n && is_tchar((unsigned char)line[i]))
        i++;
    if (i == 0 || i >= n || line[i] != ' ') {
        r->error = "malformed request line";
        return -400;
    }
    if (i == 3 && memcmp(line, "GET", 3) == 0)
        r->method = HTTP1_GET;
    else if (i == 4 && memcmp(line, "POST", 4) == 0)
        r->method = HTTP1_POST;
    else if (i == 4 && memcmp(line, "HEAD", 4) == 0)
        r->method = HTTP1_HEAD;
    else
        r->method = HTTP1_OTHER;
    size_t t = ++i;
    while (i < n && line[i] != ' ') {
        unsigned char c = (unsigned char)line[i];
        if (c <= 0x20 || c == 0x7f) {
            r->error = "control character in the request target";
            return -400;
        }
        i++;
    }
    if (i == t || i >= n || line[t] != '/') {
        r->error = "malformed request target";
        return -400;
    }
    r->target = line + t;
    r->target_len = i - t;
    const char *q = memchr(r->target, '?', r->target_len);
    r->path_len = q ? (size_t)(q - r->target) : r->target_len;
    if (parse_version(line + i + 1, n - i - 1, &r->minor) != 0) {
        r->error = "unsupported HTTP version";
        const char *v = line + i + 1; /* HTTP/d.d of another major version: 505 */
        return n - i - 1 == 8 && memcmp(v, "HTTP/", 5) == 0 && v[5] >= '0' && v[5] <= '9' &&
                       v[6] == '.' && v[7] >= '0' && v[7] <= '9'
                   ? -505
                   : -400;
    }
    int rc = parse_fields(buf, len, pos, max_head, &f, 400);
    if (rc <= 0) {
        r->error = f.error ? f.error : rc == -431 ? "request head too large" : NULL;
        return rc;
    }
    if (f.te && r->minor == 0) {
        r->error = "Transfer-Encoding in an HTTP/1.0 request";
        return -400;
    }
    r->keep_alive = r->minor >= 1 ? !f.conn_close : f.conn_keep_alive && !f.conn_close;
    r->chunked = f.chunked;
    r->expect_continue = f.expect_continue && r->minor >= 1;
    r->content_length = f.has_length ? f.length : 0;
    return rc;
}

int http1_parse_response(const char *buf, size_t len, size_t max_head, http1_response *r)
{
    const char *line;
    size_t n, pos = 0;
    fields f;

    memset(r, 0, sizeof(*r));
    memset(&f, 0, sizeof(f));
    if (!next_line(buf, len, &pos, &line, &n))
        return len > max_head ? -502 : HTTP1_MORE;
    if (pos > max_head)
        return -502;
    /* HTTP-version SP 3DIGIT SP [reason] */
    if (n < 12 || parse_version(line, 8, &r->minor) != 0 || line[8] != ' ' ||
        line[9] < '1' || line[9] > '5' || line[10] < '0' || line[10] > '9' || line[11] < '0' ||
        line[11] > '9' || (n > 12 && line[12] != ' ')) {
        r->error = "malformed status line";
        return -502;
    }
    r->status = (line[9] - '0') * 100 + (line[10] - '0') * 10 + (line[11] - '0');
    int rc = parse_fields(buf, len, pos, max_head, &f, 502);
    if (rc <= 0) {
        r->error = f.error ? f.error : rc < 0 ? "response head too large" : NULL;
        return rc == -431 ? -502 : rc;
    }
    r->keep_alive = r->minor >= 1 ? !f.conn_close : f.conn_keep_alive && !f.conn_close;
    r->chunked = f.chunked;
    r->has_length = f.has_length;
    r->content_length = f.has_length ? f.length : 0;
    if (r->status < 200 || r->status == 204 || r->status == 304) {
        r->has_length = 1; /* no body */
        r->content_length = 0;
        r->chunked = 0;
    }
    return rc;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = (char)lower((unsigned char)c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Walks a chunked body; decodes when out != NULL (only called once the
 * walk without out found it complete). */
static long walk_chunks(char *buf, size_t len, size_t max, size_t *out_len, int decode)
{
    size_t pos = 0, total = 0;
    const char *line;
    size_t n;
    for (;;) {
        if (!next_line(buf, len, &pos, &line, &n))
            return len - pos > 4096 ? -1 : 0; /* a size line is short */
        size_t i = 0, size = 0;
        int d;
        while (i < n && (d = hexval(line[i])) >= 0) {
            if (i >= 15)
                return -1;
            size = size * 16 + (size_t)d;
            i++;
        }
        if (i == 0 || (i < n && line[i] != ';' && line[i] != ' ' && line[i] != '\t'))
            return -1;
        if (size == 0)
            break;
        if (size > max || total + size > max)
            return -1;
        if (len - pos < size)
            return 0;
        if (decode)
            memmove(buf + total, buf + pos, size);
        total += size;
        pos += size;
        if (len - pos < 1)
            return 0;
        if (buf[pos] == '\r') {
            if (len - pos < 2)
                return 0;
            if (buf[pos + 1] != '\n')
                return -1;
            pos += 2;
        } else if (buf[pos] == '\n') {
            pos += 1;
        } else {
            return -1;
        }
    }
    /* trailer fields, then the empty line */
    for (;;) {
        if (!next_line(buf, len, &pos, &line, &n))
            return len - pos > 8192 ? -1 : 0;
        if (n == 0)
            break;
    }
    *out_len = total;
    return (long)pos;
}

long http1_dechunk(char *buf, size_t len, size_t max, size_t *out_len)
{
    size_t n = 0;
    long rc = walk_chunks(buf, len, max, &n, 0);
    if (rc <= 0)
        return rc;
    walk_chunks(buf, len, max, out_len, 1);
    return rc;
}

const char *http1_reason(int status)
{
    switch (status) {
    case 100: return "Continue";
    case 200: return "OK";
    case 204: return "No Content";
    case 400: return "Bad Request";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 411: return "Length Required";
    case 413: return "Content Too Large";
    case 417: return "Expectation Failed";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    case 505: return "HTTP Version Not Supported";
    default: return "";
    }
}
