/*
 * fuzz/fuzz_provider.c - the provider's request path (provider.c) on any
 * bytes: hrss_provider_handle always answers, with HTTP 200 and a response
 * envelope that parses strictly, or with HTTP 400/413 and a JSON error
 * object. The provider serves one service for a plain caller and for a
 * caller whose grant is SM4-ECB with an sm3 signature, so that parsing,
 * routing, grants, signatures, opening and sealing are all reached.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <unistd.h>

#include "hrss/hrss.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: %s\n", __FILE__, __LINE__, #cond);                             \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

static void handler(void *ctx, const hrss_provider_request *req, hrss_provider_reply *rep)
{
    (void)ctx;
    CHECK(json_is_object(req->body));
    if (json_object_get(req->body, "fail") != NULL)
        hrss_provider_reply_status(rep, HRSS_COMM_BUSINESS_FAIL, "002", "business failure");
    else
        hrss_provider_reply_body(rep, hrss_body_data(json_deep_copy(req->body)));
}

static hrss_provider *p;
static char dir[] = "/tmp/hrss-fuzz-provider-XXXXXX";

/* The id state files go with the process. */
static void cleanup(void)
{
    DIR *d = opendir(dir);
    struct dirent *ent;
    char path[sizeof(dir) + 300];
    hrss_provider_free(p);
    while (d != NULL && (ent = readdir(d)) != NULL) {
        if (ent->d_name[0] == '.' && (ent->d_name[1] == '\0' || ent->d_name[1] == '.'))
            continue;
        snprintf(path, sizeof(path), "%s/%s", dir, ent->d_name);
        unlink(path);
    }
    if (d != NULL)
        closedir(d);
    rmdir(dir);
}

static hrss_provider *provider(void)
{
    hrss_error e;
    if (p != NULL)
        return p;
    CHECK(mkdtemp(dir) != NULL);
    atexit(cleanup);
    hrss_provider_options o = {.system_code = "S110000Y70P", .state_dir = dir,
                               .sign = {HRSS_SIG_SM3, NULL, 0, NULL}};
    CHECK(hrss_provider_new(&o, &p, &e) == HRSS_OK);
    CHECK(hrss_provider_route(p, "S110000Y70PYTjb", handler, NULL, &e) == HRSS_OK);
    hrss_provider_grant g = {"B100000KJGK", NULL, {HRSS_SIG_SM3, NULL, 0, NULL},
                             HRSS_BODY_SM4_ECB, HRSS_TEXT_BASE64, "1234567890123456", NULL};
    CHECK(hrss_provider_grant_add(p, &g, &e) == HRSS_OK);
    return p;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *out = NULL;
    size_t outlen = 0;
    int status = 0;
    hrss_error e;
    CHECK(hrss_provider_handle(provider(), (const char *)data, size, &out, &outlen, &status, &e) ==
          HRSS_OK);
    CHECK(out != NULL && outlen == strlen(out));
    if (status == 200) {
        hrss_envelope *res = NULL;
        CHECK(hrss_envelope_parse(out, outlen, HRSS_ENV_RESPONSE, &res, NULL, NULL, &e) ==
              HRSS_OK);
        hrss_envelope_free(res);
    } else {
        CHECK(status == 400 || status == 413);
        json_t *doc = json_loadb(out, outlen, 0, NULL);
        CHECK(json_is_string(json_object_get(doc, "error")));
        json_decref(doc);
    }
    hrss_free(out);
    return 0;
}
