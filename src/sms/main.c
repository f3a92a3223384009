/*
 * sms/main.c - the hrss-sms executable: the daemon (daemon.c) and the
 * management commands of accounts, templates, blacklist and sensitive
 * words (account.c), until the operator console exists.
 *
 *   hrss-sms [--config FILE]            run the SMS platform
 *   hrss-sms [--config FILE] --check    check the configuration, exit
 *   hrss-sms [--config FILE] account|template|blacklist|words ...
 *
 * Exit status: 0 success, 1 refused, 2 bad usage, configuration or
 * environment.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "account.h"
#include "config.h"
#include "daemon.h"
#include "db.h"
#include "hrss/hrss.h"

#define DEFAULT_CONFIG "/etc/hrss-sms/hrss-sms.conf"

static const char usage[] =
    "usage: hrss-sms [--config FILE] [--check]\n"
    "       hrss-sms [--config FILE] account|template|blacklist|words ...\n"
    "\n"
    "Runs the LD/T 6007-2024 12333 SMS platform, or manages its accounts.\n"
    "  --config FILE    configuration (default $HRSS_SMS_CONFIG, else " DEFAULT_CONFIG ")\n"
    "  --check          check the configuration and exit\n"
    "  --version        print the version\n"
    "Commands (hrss-sms account with no more arguments lists them):\n"
    "  account add APP --ips LIST --signature SIG [--callback URL] [--balance N]\n"
    "  account set APP [--ips LIST] [--signature SIG] [--callback URL|none] [--balance N]\n"
    "                  [--topup N] [--password]\n"
    "  account freeze|unfreeze|delete APP;  account list\n"
    "  template add APP ID TEXT;  template del APP ID;  template list APP\n"
    "  blacklist add|del MOBILE...;  blacklist list\n"
    "  words add|del WORD...;  words list\n"
    "Passwords are read from standard input, never from the command line.\n"
    "Signals: SIGTERM drains and exits, SIGHUP reloads the configuration.\n";

int main(int argc, char **argv)
{
    const char *config = getenv("HRSS_SMS_CONFIG");
    int check = 0, i;
    if (config == NULL || config[0] == '\0')
        config = DEFAULT_CONFIG;
    for (i = 1; i < argc && argv[i][0] == '-'; i++) {
        if (strcmp(argv[i], "--config") == 0 && i + 1 < argc) {
            config = argv[++i];
        } else if (strcmp(argv[i], "--check") == 0) {
            check = 1;
        } else if (strcmp(argv[i], "--version") == 0) {
            printf("hrss-sms %s\n", HRSS_VERSION);
            return 0;
        } else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            fputs(usage, stdout);
            return 0;
        } else {
            fputs(usage, stderr);
            return 2;
        }
    }
    sms_config c;
    char err[SMS_CONFIG_ERR_MAX];
    int rc = 0;
    sms_config_init(&c);
    if (sms_config_load(&c, config, err) != 0) {
        fprintf(stderr, "hrss-sms: %s\n", err);
        rc = 2;
    } else if (check) {
        printf("%s: ok\n", config);
    } else if (i < argc) {
        sqlite3 *db = NULL;
        char derr[SMS_DB_ERR_MAX];
        if (db_open(c.data_dir, &db, derr) != 0) {
            fprintf(stderr, "hrss-sms: %s\n", derr);
            rc = 2;
        } else {
            rc = acct_command(db, argc - i, argv + i, stdin, stdout);
        }
        sqlite3_close(db);
    } else {
        sms_config_free(&c);
        return sms_daemon_run(config);
    }
    sms_config_free(&c);
    return rc;
}
