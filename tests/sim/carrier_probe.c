/*
 * tests/sim/carrier_probe.c - a test driver of the carrier links: one
 * carrier_client on a libevent loop, commands on stdin, every callback as a
 * line on stdout, so that tests/integration/test_carrier*.py can run it
 * against the simulators (tests/sim/smsc.py, smsc_netsmpp.pl).
 *
 *   carrier-probe --protocol cmpp|smpp|sgip|smgp --port N [--host H] [--account A]
 *       [--secret S] [--connections N] [--window N] [--rate N]
 *       [--timeout-ms N] [--retries N] [--heartbeat-s N] [--reconnect-ms N]
 *       [--throttle-pause-ms N] [--src-addr S] [--service-id S]
 *       [--msgid-type N] [--max-attempts N] [--listen HOST:PORT]
 *       [--gw-login L] [--gw-password P] [--corp-id C] [--node-id N] [--dst-ton N]
 *
 * stdin:  submit REF DEST EXT CODING UDH REPORT HEXBYTES | stats | quit
 * stdout: listen PORT (SGIP) | link UP | result REF STATUS MSGID | report MSGID OK STAT DEST |
 *         mo SRC DEST HEXUTF8 | submit REF ok|refused | stats k=v ... | log L text
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "carrier/carrier.h"

static carrier_client *client;
static struct event_base *base;

static void on_result(void *arg, uint64_t ref, int status, const char *msgid)
{
    (void)arg;
    printf("result %" PRIu64 " %d %s\n", ref, status, msgid[0] ? msgid : "-");
    fflush(stdout);
}

static void on_report(void *arg, const char *msgid, int ok, const char *stat, const char *dest)
{
    (void)arg;
    printf("report %s %d %s %s\n", msgid, ok, stat[0] ? stat : "-", dest[0] ? dest : "-");
    fflush(stdout);
}

static void on_mo(void *arg, const char *src, const char *dest, const char *text)
{
    (void)arg;
    printf("mo %s %s ", src, dest);
    for (const char *p = text; *p; p++)
        printf("%02x", (unsigned char)*p);
    printf("\n");
    fflush(stdout);
}

static void on_link(void *arg, int up)
{
    (void)arg;
    printf("link %d\n", up);
    fflush(stdout);
}

static void on_log(void *arg, int level, const char *line)
{
    (void)arg;
    printf("log %d %s\n", level, line);
    fflush(stdout);
}

static int unhex(const char *h, uint8_t *out, size_t cap, size_t *n)
{
    size_t len = strlen(h);
    if (len % 2 || len / 2 > cap)
        return -1;
    for (size_t i = 0; i < len / 2; i++) {
        unsigned v;
        if (sscanf(h + 2 * i, "%2x", &v) != 1)
            return -1;
        out[i] = (uint8_t)v;
    }
    *n = len / 2;
    return 0;
}

static void command(char *line)
{
    char dest[64], ext[64], hex[1024];
    unsigned long long ref;
    int coding, udh, report;
    if (strncmp(line, "submit ", 7) == 0) {
        uint8_t ud[512];
        size_t n = 0;
        if (sscanf(line + 7, "%llu %63s %63s %d %d %d %1023s", &ref, dest, ext, &coding, &udh,
                   &report, hex) != 7 ||
            unhex(strcmp(hex, "-") == 0 ? "" : hex, ud, sizeof(ud), &n) != 0) {
            printf("error bad submit\n");
        } else {
            int rc = carrier_submit(client, ref, dest, strcmp(ext, "-") == 0 ? "" : ext, ud, n,
                                    coding, udh, report);
            printf("submit %llu %s\n", ref, rc == 0 ? "ok" : "refused");
        }
    } else if (strcmp(line, "stats") == 0) {
        carrier_stats st;
        carrier_client_stats(client, &st);
        printf("stats links_up=%d queued=%zu inflight=%zu submitted=%" PRIu64 " acked=%" PRIu64
               " refused=%" PRIu64 " throttled=%" PRIu64 " retransmits=%" PRIu64
               " reports=%" PRIu64 " mo=%" PRIu64 " logins_failed=%" PRIu64
               " reconnects=%" PRIu64 " last_login_status=%d rate_now=%d\n",
               st.links_up, st.queued, st.inflight, st.submitted, st.acked, st.refused,
               st.throttled, st.retransmits, st.reports, st.mo, st.logins_failed, st.reconnects,
               st.last_login_status, st.rate_now);
    } else if (strcmp(line, "quit") == 0) {
        event_base_loopbreak(base);
    } else {
        printf("error unknown command\n");
    }
    fflush(stdout);
}

static void stdin_read(struct bufferevent *bev, void *arg)
{
    (void)arg;
    char *line;
    size_t n;
    while ((line = evbuffer_readln(bufferevent_get_input(bev), &n, EVBUFFER_EOL_LF)) != NULL) {
        command(line);
        free(line);
    }
}

static void stdin_event(struct bufferevent *bev, short what, void *arg)
{
    (void)bev, (void)what, (void)arg;
    event_base_loopbreak(base);
}

int main(int argc, char **argv)
{
    carrier_config cfg;
    carrier_protocol proto = CARRIER_CMPP30;
    for (int i = 1; i + 1 < argc; i++)
        if (strcmp(argv[i], "--protocol") == 0) {
            if (strcmp(argv[i + 1], "smpp") == 0)
                proto = CARRIER_SMPP34;
            else if (strcmp(argv[i + 1], "sgip") == 0)
                proto = CARRIER_SGIP12;
            else if (strcmp(argv[i + 1], "smgp") == 0)
                proto = CARRIER_SMGP30;
        }
    carrier_config_init(&cfg, proto);
    cfg.name = "probe";
    cfg.host = "127.0.0.1";
    cfg.account = "900001";
    cfg.secret = "888888";
    cfg.service_id = "HRSS12333";
    cfg.src_addr = "10658012333";
    static const struct option opts[] = {
        {"protocol", 1, 0, 'P'},     {"host", 1, 0, 'H'},          {"port", 1, 0, 'p'},
        {"account", 1, 0, 'a'},      {"secret", 1, 0, 's'},        {"connections", 1, 0, 'c'},
        {"window", 1, 0, 'w'},       {"rate", 1, 0, 'r'},          {"timeout-ms", 1, 0, 't'},
        {"retries", 1, 0, 'n'},      {"heartbeat-s", 1, 0, 'b'},   {"reconnect-ms", 1, 0, 'R'},
        {"throttle-pause-ms", 1, 0, 'T'}, {"src-addr", 1, 0, 'S'}, {"service-id", 1, 0, 'i'},
        {"msgid-type", 1, 0, 'm'},   {"max-attempts", 1, 0, 'A'},  {"system-type", 1, 0, 'y'},
        {"listen", 1, 0, 'L'},       {"gw-login", 1, 0, 'g'},      {"gw-password", 1, 0, 'G'},
        {"corp-id", 1, 0, 'C'},      {"node-id", 1, 0, 'N'},       {"dst-ton", 1, 0, 'D'},
        {0, 0, 0, 0},
    };
    int o;
    while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        long v = optarg ? strtol(optarg, NULL, 10) : 0;
        switch (o) {
        case 'P': break;
        case 'H': cfg.host = optarg; break;
        case 'p': cfg.port = (uint16_t)v; break;
        case 'a': cfg.account = optarg; break;
        case 's': cfg.secret = optarg; break;
        case 'c': cfg.connections = (int)v; break;
        case 'w': cfg.window = (int)v; break;
        case 'r': cfg.rate = (int)v; break;
        case 't': cfg.response_timeout_ms = (int)v; break;
        case 'n': cfg.retries = (int)v; break;
        case 'b': cfg.heartbeat_s = (int)v; break;
        case 'R': cfg.reconnect_min_ms = (int)v; cfg.reconnect_max_ms = (int)v * 4; break;
        case 'T': cfg.throttle_pause_ms = (int)v; break;
        case 'S': cfg.src_addr = optarg; break;
        case 'i': cfg.service_id = optarg; break;
        case 'm': cfg.smpp_msgid_type = (int)v; break;
        case 'A': cfg.max_attempts = (int)v; break;
        case 'y': cfg.system_type = optarg; break;
        case 'L': cfg.listen = optarg; break;
        case 'g': cfg.gw_login = optarg; break;
        case 'G': cfg.gw_password = optarg; break;
        case 'C': cfg.corp_id = optarg; break;
        case 'D': cfg.dst_ton = (int)v; break;
        case 'N': cfg.sgip_node_id = (uint32_t)strtoul(optarg, NULL, 10); break;
        default: return 2;
        }
    }
    base = event_base_new();
    carrier_callbacks cb = {on_result, on_report, on_mo, on_link, on_log, NULL};
    client = carrier_client_new(base, &cfg, &cb);
    if (client == NULL) {
        fprintf(stderr, "carrier_client_new refused the configuration\n");
        return 2;
    }
    if (carrier_listen_port(client) > 0) {
        printf("listen %d\n", carrier_listen_port(client));
        fflush(stdout);
    }
    struct bufferevent *in = bufferevent_socket_new(base, 0, 0);
    bufferevent_setcb(in, stdin_read, NULL, stdin_event, NULL);
    bufferevent_enable(in, EV_READ);
    event_base_dispatch(base);
    bufferevent_free(in);
    carrier_client_free(client);
    event_base_free(base);
    printf("bye\n");
    return 0;
}
