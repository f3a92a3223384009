/*
 * examples/caller.c - one LD/T 6008-2024 transaction through a node with
 * the caller API (hrss/client.h): HMAC-SM3 signature, SM4-ECB body.
 *
 *   cc caller.c -lhrss $(pkg-config --cflags --libs jansson) -o caller
 *   HRSS_SECRET=... ./caller http://127.0.0.1:8080
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hrss/hrss.h>

int main(int argc, char **argv)
{
    const char *secret = getenv("HRSS_SECRET");
    hrss_client *c;
    hrss_response *r = NULL;
    hrss_error err;
    if (argc != 2 || secret == NULL)
        return fprintf(stderr, "usage: HRSS_SECRET=... %s NODE_URL\n", argv[0]), 2;

    hrss_client_options o = {.node_url = argv[1], .system_code = "B100000KJGK",
        .sign = {HRSS_SIG_HMAC_SM3, (const unsigned char *)secret, strlen(secret), NULL}};
    if (hrss_client_new(&o, &c, &err) != HRSS_OK)
        return fprintf(stderr, "%s\n", err.msg), 1;
    json_t *body = json_pack("{s:s}", "aac002", "110101199003077774");
    hrss_call call = {.service_code = "S110000Y70PYTjb", .area_code = "110000", .body = body,
                      .cipher = HRSS_BODY_SM4_ECB, .sm4_key = "1234567890123456"};
    int rc = hrss_client_call(c, &call, &r, &err), ok = 0;
    if (rc == HRSS_OK) {
        ok = hrss_response_comm_status(r) == HRSS_COMM_OK;
        char *data = json_dumps(hrss_response_body(r), JSON_COMPACT);
        printf("commStatus %s %s\n", hrss_response_get(r, "commStatus"), data ? data : "");
        free(data);
    } else
        fprintf(stderr, "%s: %s\n", hrss_err_name(rc), err.msg);

    hrss_response_free(r);
    json_decref(body);
    hrss_client_free(c);
    return ok ? 0 : 1;
}
