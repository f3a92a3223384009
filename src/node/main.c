/*
 * node/main.c - the hrss-node executable: command-line dispatch to the
 * daemon (daemon.c) and to the registry commands (registry.c).
 *
 *   hrss-node [--config FILE]                 run the node
 *   hrss-node [--config FILE] --check         check the configuration, exit
 *   hrss-node [--config FILE | --data-dir DIR] registry import FILE.json|-
 *   hrss-node [--config FILE | --data-dir DIR] registry export [--with-secrets]
 *   hrss-node [--config FILE | --data-dir DIR] audit --since TIME [--service S] [--caller C]
 *
 * Exit status: 0 success, 1 refused (invalid registry document, requests
 * left unanswered at shutdown), 2 bad usage, configuration or environment.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "common/util.h"
#include "config.h"
#include "daemon.h"
#include "hrss/hrss.h"
#include "registry.h"

#define DEFAULT_CONFIG "/etc/hrss-node/hrss-node.conf"

static const char usage[] =
    "usage: hrss-node [--config FILE] [--check]\n"
    "       hrss-node [--config FILE | --data-dir DIR] registry import FILE.json|-\n"
    "       hrss-node [--config FILE | --data-dir DIR] registry export [--with-secrets]\n"
    "       hrss-node [--config FILE | --data-dir DIR] audit --since YYYYMMDDHHMMSS\n"
    "                 [--service CODE] [--caller CODE]   (China Standard Time)\n"
    "\n"
    "Runs the LD/T 6008-2024 platform node, or manages its registry.\n"
    "  --config FILE    configuration (default $HRSS_NODE_CONFIG, else " DEFAULT_CONFIG ")\n"
    "  --data-dir DIR   the data directory, instead of the configuration's data_dir\n"
    "  --check          check the configuration and exit\n"
    "  --version        print the version\n"
    "Signals: SIGTERM drains and exits, SIGHUP reloads the configuration and registry.\n";

static int registry_cmd(const char *data_dir, int argc, char **argv)
{
    int rc = 2, with_secrets = 0;
    registry *r = NULL;
    char err[REGISTRY_ERR_MAX];
    char *text = NULL, *out = NULL;
    FILE *f = NULL;

    if (argc < 1)
        goto usage;
    if (strcmp(argv[0], "import") == 0) {
        if (argc != 2)
            goto usage;
        f = strcmp(argv[1], "-") == 0 ? stdin : fopen(argv[1], "rb");
        if (f == NULL) {
            perror(argv[1]);
            goto done;
        }
        size_t len = 0;
        int toobig = 0;
        text = read_stream(f, REGISTRY_JSON_MAX, &len, &toobig);
        if (text == NULL) {
            fprintf(stderr, "hrss-node: %s: %s\n", argv[1],
                    toobig ? "larger than 64 MiB" : "read error");
            goto done;
        }
        if (registry_open(data_dir, &r, err) != 0) {
            fprintf(stderr, "hrss-node: %s\n", err);
            goto done;
        }
        if (registry_import(r, text, len, err) != 0) {
            /* one problem per line, each prefixed by the file name */
            for (char *line = err, *nl; line != NULL; line = nl) {
                nl = strchr(line, '\n');
                if (nl != NULL)
                    *nl++ = '\0';
                fprintf(stderr, "%s: %s\n", argv[1], line);
            }
            rc = 1;
            goto done;
        }
        snapshot *s = NULL;
        if (registry_load(r, &s, err) == 0) {
            printf("imported: %d systems, %d services, %d grants (registry version %lld)\n",
                   s->n_systems, s->n_services, s->n_grants, (long long)s->version);
            snapshot_unref(s);
        }
        rc = 0;
    } else if (strcmp(argv[0], "export") == 0) {
        if (argc > 2 || (argc == 2 && strcmp(argv[1], "--with-secrets") != 0))
            goto usage;
        with_secrets = argc == 2;
        if (registry_open(data_dir, &r, err) != 0 ||
            registry_export(r, with_secrets, &out, err) != 0) {
            fprintf(stderr, "hrss-node: %s\n", err);
            goto done;
        }
        printf("%s\n", out);
        rc = 0;
    } else {
        goto usage;
    }
    goto done;
usage:
    fputs(usage, stderr);
done:
    if (f != NULL && f != stdin)
        fclose(f);
    free(text);
    free(out);
    registry_close(r);
    return rc;
}

/* audit --since TIME [--service S] [--caller C]: JSON lines, oldest first. */
static int audit_cmd(const char *data_dir, int argc, char **argv)
{
    const char *since = NULL, *service = NULL, *caller = NULL;
    char err[AUDIT_ERR_MAX];
    int64_t t;
    for (int i = 0; i < argc; i++) {
        if (i + 1 < argc && strcmp(argv[i], "--since") == 0)
            since = argv[++i];
        else if (i + 1 < argc && strcmp(argv[i], "--service") == 0)
            service = argv[++i];
        else if (i + 1 < argc && strcmp(argv[i], "--caller") == 0)
            caller = argv[++i];
        else
            goto usage;
    }
    if (since == NULL)
        goto usage;
    if (hrss_time_parse(since, strlen(since), &t, NULL) != HRSS_OK) {
        fprintf(stderr, "hrss-node: --since '%s' is not a 14-digit time YYYYMMDDHHMMSS (CST)\n",
                since);
        return 2;
    }
    if (audit_query(data_dir, t, service, caller, stdout, err) != 0) {
        fprintf(stderr, "hrss-node: %s\n", err);
        return 1;
    }
    return 0;
usage:
    fputs(usage, stderr);
    return 2;
}

int main(int argc, char **argv)
{
    const char *config = getenv("HRSS_NODE_CONFIG");
    const char *data_dir = NULL;
    int check = 0, i;
    if (config == NULL || config[0] == '\0')
        config = DEFAULT_CONFIG;
    for (i = 1; i < argc && argv[i][0] == '-'; i++) {
        if (strcmp(argv[i], "--config") == 0 && i + 1 < argc) {
            config = argv[++i];
        } else if (strcmp(argv[i], "--data-dir") == 0 && i + 1 < argc) {
            data_dir = argv[++i];
        } else if (strcmp(argv[i], "--check") == 0) {
            check = 1;
        } else if (strcmp(argv[i], "--version") == 0) {
            printf("hrss-node %s\n", HRSS_VERSION);
            return 0;
        } else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            fputs(usage, stdout);
            return 0;
        } else {
            fputs(usage, stderr);
            return 2;
        }
    }
    int is_registry = i < argc && strcmp(argv[i], "registry") == 0;
    int is_audit = i < argc && strcmp(argv[i], "audit") == 0;
    int (*cmd)(const char *, int, char **) = is_audit ? audit_cmd : registry_cmd;
    is_registry |= is_audit;
    if ((i < argc && !is_registry) || (data_dir != NULL && !is_registry)) {
        fputs(usage, stderr);
        return 2;
    }
    node_config c;
    char err[NODE_CONFIG_ERR_MAX];
    int rc = 0;
    node_config_init(&c);
    if (is_registry && data_dir != NULL) {
        rc = cmd(data_dir, argc - i - 1, argv + i + 1);
    } else if (node_config_load(&c, config, err) != 0) {
        fprintf(stderr, "hrss-node: %s\n", err);
        rc = 2;
    } else if (check) {
        printf("%s: ok\n", config);
    } else if (is_registry) {
        rc = cmd(c.data_dir, argc - i - 1, argv + i + 1);
    } else {
        node_config_free(&c);
        return node_daemon_run(config);
    }
    node_config_free(&c);
    return rc;
}
