/*
 * node/daemon.h - the running hrss-node: configuration, registry snapshot
 * kept fresh, HTTP(S) workers, signals (SIGTERM drains, SIGHUP reloads).
 */
#ifndef HRSS_NODE_DAEMON_H
#define HRSS_NODE_DAEMON_H

/* Runs the node with the configuration file at config_path until SIGTERM
 * or SIGINT. Returns the process exit status: 0 after a clean drain, 1 when
 * requests were still unanswered at the drain timeout, 2 when it could not
 * start (the reason is logged). Main thread only; once per process. */
int node_daemon_run(const char *config_path);

#endif
