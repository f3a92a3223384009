/*
 * demo/demo.h - hrss-demo-provider: a provider of four services over a
 * generated SQLite database of fictitious insured persons, built on the
 * SDK's provider API (hrss/provider.h). Used by `make demo` and the tests.
 *
 * fixture.c makes and opens the database; services.c answers the services;
 * main.c reads the command line and the registry, and serves.
 */
#ifndef HRSS_DEMO_H
#define HRSS_DEMO_H

#include <sqlite3.h>
#include <stddef.h>

#include "hrss/hrss.h"
#include "hrss/person.h"

/* The four services, as suffixes of the provider's system code. */
#define DEMO_SVC_CARD "SBKZ"    /* social security card status: object or batch */
#define DEMO_SVC_JOBS "JYJL"    /* employment history: paged */
#define DEMO_SVC_PENSION "YLYE" /* pension account balance: object */
#define DEMO_SVC_LOSS "LSGS"    /* temporary card loss: records a work order */

#define DEMO_PERSONS 40

/* Opens path, creating the schema and the fixture when the file is new.
 * 0 or -1 with a message on stderr. */
int fixture_open(const char *path, sqlite3 **out);

/* 1 when s is a valid social security number (hrss_ssn_check). */
int fixture_id_valid(const char *s);

/* hrss_ssn_mask of id ("110101********0236"); a name with its first
 * character kept ("张*", "欧***"). out must hold 64 bytes. */
void fixture_mask_id(const char *id, char out[64]);
void fixture_mask_name(const char *name, char out[64]);

/* Routes the four services of system_code on p, answering from db. */
int services_register(hrss_provider *p, const char *system_code, sqlite3 *db, hrss_error *err);

#endif
