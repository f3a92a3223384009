/*
 * sms/daemon.h - runs the hrss-sms daemon until SIGTERM (daemon.c).
 */
#ifndef HRSS_SMS_DAEMON_H
#define HRSS_SMS_DAEMON_H

/* Returns the exit status: 0 after a clean drain, 1 when requests were
 * left unanswered, 2 for configuration or environment errors. */
int sms_daemon_run(const char *config_path);

#endif
