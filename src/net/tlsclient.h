/*
 * net/tlsclient.h - the TLS client settings both daemons use for the
 * servers they call (a provider's https:// upstream, a business system's
 * https:// callback): TLS 1.2 or later, the server's certificate verified
 * against a CA file or the system's store, and it must name the host (or
 * IP address) of the URL.
 */
#ifndef HRSS_NET_TLSCLIENT_H
#define HRSS_NET_TLSCLIENT_H

#include <stddef.h>

#include <openssl/ssl.h>

/* A client SSL_CTX verifying servers against ca_file (PEM, one or more
 * certificates) or, when ca_file is NULL, the system's store. NULL with a
 * message in err[0..errlen) when ca_file cannot be used. */
SSL_CTX *tls_client_ctx_new(const char *ca_file, char *err, size_t errlen);

/* Makes ssl require a certificate that names host: an IP address is
 * checked against the certificate's IP addresses, a DNS name against its
 * names (no partial wildcards) and sent as SNI. */
void tls_client_expect_host(SSL *ssl, const char *host);

#endif
