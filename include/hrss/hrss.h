/*
 * hrss/hrss.h - umbrella header of libhrss, the SDK of LD/T 6008-2024 and
 * LD/T 6007-2024. Include this one; the others are its parts.
 */
#ifndef HRSS_HRSS_H
#define HRSS_HRSS_H

#include "errors.h"
#include "codes.h"
#include "crypto.h"
#include "envelope.h"
#include "sign.h"
#include "replay.h"
#include "person.h"
#include "client.h"
#include "provider.h"

#define HRSS_VERSION "0.1.0"

#endif
