/*
 * examples/provider.c - an LD/T 6008-2024 provider in C with the provider
 * API (hrss/provider.h): one service, the grant's SM4 key for one caller,
 * responses signed sm3, served by the SDK's embedded HTTP server.
 *
 *   cc provider.c -lhrss $(pkg-config --cflags --libs jansson) -o provider
 *   ./provider 127.0.0.1:8081
 */
#include <stdio.h>
#include <string.h>

#include <hrss/hrss.h>
#include <hrss/person.h>

static void card_status(void *ctx, const hrss_provider_request *req, hrss_provider_reply *rep)
{
    (void)ctx;
    const char *id = json_string_value(json_object_get(req->body, "aac002"));
    char masked[HRSS_SSN_LEN + 1];
    if (id == NULL || hrss_ssn_check(id, strlen(id), NULL) != HRSS_OK) {
        hrss_provider_reply_status(rep, HRSS_COMM_BUSINESS_FAIL, "003", "aac002 is required");
        return;
    }
    hrss_provider_reply_status(rep, HRSS_COMM_OK, "001", "成功");
    hrss_provider_reply_body(rep, hrss_body_data(json_pack("{s:s,s:s}", "aac002",
                             hrss_ssn_mask(id, strlen(id), masked), "aaz502", "1")));
}

int main(int argc, char **argv)
{
    hrss_provider *p;
    hrss_provider_server *srv;
    hrss_error err;
    hrss_provider_options o = {.system_code = "S110000Y70P", .sign = {.profile = HRSS_SIG_SM3}};
    hrss_provider_grant g = {.caller = "B100000KJGK", .cipher = HRSS_BODY_SM4_ECB,
                             .sm4_key = "1234567890123456"};
    if (hrss_provider_new(&o, &p, &err) != HRSS_OK ||
        hrss_provider_grant_add(p, &g, &err) != HRSS_OK ||
        hrss_provider_route(p, "S110000Y70PYTjb", card_status, NULL, &err) != HRSS_OK ||
        hrss_provider_server_new(p, argc > 1 ? argv[1] : "127.0.0.1:8081", &srv, &err) != HRSS_OK)
        return fprintf(stderr, "%s\n", err.msg), 1;
    fprintf(stderr, "listening on port %d\n", hrss_provider_server_port(srv));
    int rc = hrss_provider_server_run(srv, 1, &err); /* until SIGINT or SIGTERM */
    hrss_provider_server_free(srv);
    hrss_provider_free(p);
    return rc == HRSS_OK ? 0 : 1;
}
