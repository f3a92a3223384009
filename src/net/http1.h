/*
 * net/http1.h - HTTP/1.1 message heads (RFC 9112) as the node's server and
 * upstream client need them: a request head, a response head, and a chunked
 * body, parsed from a buffer that holds the bytes received so far. Nothing
 * is allocated and nothing is copied: the results point into the buffer.
 *
 * Strict on what matters for request smuggling and limits: one
 * Content-Length (digits only, repeated only with the same value), no
 * Content-Length together with Transfer-Encoding, only "chunked" as a
 * transfer coding, no whitespace before a header's colon, no obsolete line
 * folding, no control characters in the request line or in header values.
 * Lenient where clients differ: a bare LF ends a line like CRLF.
 */
#ifndef HRSS_NET_HTTP1_H
#define HRSS_NET_HTTP1_H

#include <stddef.h>
#include <stdint.h>

/* Results: > 0 the head is complete and that many bytes long; 0 more bytes
 * are needed; < 0 an HTTP error status, negated (the message is refused). */
#define HTTP1_MORE 0

enum http1_method { HTTP1_GET = 1, HTTP1_HEAD, HTTP1_POST, HTTP1_OTHER };

typedef struct http1_request {
    int method;          /* enum http1_method */
    const char *target;  /* request-target, not NUL-terminated */
    size_t target_len;
    size_t path_len;     /* of target up to '?' */
    int minor;           /* HTTP/1.minor */
    int keep_alive;      /* the connection may carry another request */
    int chunked;         /* Transfer-Encoding: chunked */
    int expect_continue; /* Expect: 100-continue */
    uint64_t content_length; /* 0 when absent or chunked */
    const char *error;   /* why the request was refused (static text) */
} http1_request;

/* Parses the head at buf[0..len). max_head bounds the head (request line
 * and header fields): a longer one is refused with 431. */
int http1_parse_request(const char *buf, size_t len, size_t max_head, http1_request *r);

typedef struct http1_response {
    int status;          /* 100..599 */
    int minor;
    int keep_alive;
    int chunked;
    int has_length;      /* Content-Length given (else chunked or until close) */
    uint64_t content_length;
    const char *error;
} http1_response;

/* The same for a response head; errors are -502. */
int http1_parse_response(const char *buf, size_t len, size_t max_head, http1_response *r);

/*
 * Decodes a chunked body in place. buf[0..len) holds what was received
 * after the head. Returns 0 while incomplete, the number of bytes of buf
 * the body used (chunks, trailers, final CRLF) once complete, with the
 * decoded data moved to buf[0..*out_len), or -1 when malformed or the data
 * would exceed max. Only a complete body is rewritten, so calling again
 * with more bytes is fine.
 */
long http1_dechunk(char *buf, size_t len, size_t max, size_t *out_len);

/* The reason phrase of a status ("OK", "Not Found"...; "" when unknown). */
const char *http1_reason(int status);

#endif
