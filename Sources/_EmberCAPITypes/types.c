/* The target holds the C API's types only (include/ember_capi_types.h); this file gives the
 * C target something to compile. */
#include "ember_capi_types.h"
