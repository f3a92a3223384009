/*
 * daemon/route.c - the route table (route.h).
 */
#include "daemon/route.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/http1.h"

static void add(route_table *t, route r)
{
    if (t->n >= ROUTE_MAX)
        abort(); /* more routes than ROUTE_MAX: raise it */
    t->r[t->n++] = r;
}

void route_add(route_table *t, int method, const char *path, route_fn fn, void *ctx)
{
    add(t, (route){method, path, NULL, fn, ctx});
}

void route_add_match(route_table *t, int method, int (*match)(const char *path), route_fn fn,
                     void *ctx)
{
    add(t, (route){method, NULL, match, fn, ctx});
}

static int method_fits(int want, int m)
{
    return want == ROUTE_ANY_METHOD || want == m || (m == HTTP1_HEAD && want == HTTP1_GET);
}

int route_dispatch(const route_table *t, hserver_req *req, int worker)
{
    int m = hserver_req_method(req);
    const char *path = hserver_req_path(req);
    int known = 0;
    for (int pass = 0; pass < 2; pass++) {
        for (int i = 0; i < t->n; i++) {
            const route *r = &t->r[i];
            if (pass == 0 ? r->path == NULL || strcmp(r->path, path) != 0
                          : r->match == NULL || !r->match(path))
                continue;
            known = 1;
            if (method_fits(r->method, m))
                return r->fn(r->ctx, req, worker);
        }
        if (known)
            break;
    }
    if (known)
        return route_reply_error(req, 405, "method_not_allowed", "method not allowed on this path");
    return route_reply_error(req, 404, "not_found", "no such path");
}

int route_reply_error(hserver_req *req, int status, const char *code, const char *message)
{
    char body[512];
    int n = snprintf(body, sizeof(body), "{\"error\":\"%s\",\"message\":\"%s\"}\n", code, message);
    hserver_reply(req, status, "application/json", body,
                  n > 0 && (size_t)n < sizeof(body) ? (size_t)n : 0);
    return status;
}

int route_reply_text(hserver_req *req, int status, const char *text)
{
    hserver_reply(req, status, "text/plain; charset=utf-8", text, strlen(text));
    return status;
}
