/* mn-config.h: libminna-config, the configuration machinery that policy/,
 * the controller, the relay and the scenarios share (see mn-config-table.h). */
#pragma once

#include "mn-config-suggest.h"
#include "mn-config-table.h"
#include "mn-config-units.h"
