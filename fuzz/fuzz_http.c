/*
 * fuzz/fuzz_http.c - the HTTP/1.1 parsers of net/http1.c (the node's
 * server reads every request head with them). Any input is a request
 * head, a response head and a chunked body in turn. Whatever is accepted
 * lies within the input and is self-contained: the head alone parses to
 * the same length and fields; a refusal is an HTTP error status; a decoded
 * chunked body is no longer than what it used and is only written once
 * complete.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "net/http1.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    http1_request r, r2;
    int rc = http1_parse_request(text, size, 4096, &r);
    if (rc > 0) {
        if ((size_t)rc > size || (size_t)rc > 4096 || r.target < text ||
            r.target + r.target_len > text + rc || r.path_len > r.target_len ||
            r.target_len == 0 || r.target[0] != '/' || r.method < HTTP1_GET ||
            r.method > HTTP1_OTHER || (r.chunked && r.content_length != 0))
            abort();
        if (http1_parse_request(text, (size_t)rc, 4096, &r2) != rc ||
            r2.content_length != r.content_length || r2.keep_alive != r.keep_alive ||
            r2.chunked != r.chunked || r2.path_len != r.path_len)
            abort();
    } else if (rc < 0) {
        if (rc != -400 && rc != -417 && rc != -431 && rc != -501 && rc != -505)
            abort();
    }

    http1_response s;
    rc = http1_parse_response(text, size, 4096, &s);
    if (rc > 0 && ((size_t)rc > size || s.status < 100 || s.status > 599))
        abort();
    if (rc < 0 && rc != -502)
        abort();

    char *copy = malloc(size ? size : 1);
    if (copy == NULL)
        abort();
    memcpy(copy, data, size);
    size_t out = 0;
    long used = http1_dechunk(copy, size, 65536, &out);
    if (used > 0 && ((size_t)used > size || out > (size_t)used || out > 65536))
        abort();
    if (used <= 0 && memcmp(copy, data, size) != 0)
        abort(); /* incomplete or refused: left as it was */
    free(copy);
    return 0;
}
