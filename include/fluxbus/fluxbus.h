/* fluxbus/fluxbus.h - everything libfluxbus offers, in one include. */
#ifndef FLUXBUS_FLUXBUS_H
#define FLUXBUS_FLUXBUS_H

#include "fluxbus/err.h"
#include "fluxbus/log.h"
#include "fluxbus/keys.h"
#include "fluxbus/codec.h"
#include "fluxbus/envelope.h"
#include "fluxbus/audit_chain.h"
#include "fluxbus/seal.h"
#include "fluxbus/catalog.h"
#include "fluxbus/json.h"
#include "fluxbus/client.h"
#include "fluxbus/delivery_json.h"

#endif
