/* The types and constants of the C API (ember.h) for the Swift code that implements it:
 * one declaration of the status codes, flags and structs, read by the C compiler for both
 * sides (no byte offsets kept by hand). The function prototypes are left out: the Swift
 * module defines those symbols itself (@_cdecl). */
#ifndef EMBER_CAPI_TYPES_H
#define EMBER_CAPI_TYPES_H
#define EMBER_TYPES_ONLY 1
#include "../../EmberC/include/ember.h"
#undef EMBER_TYPES_ONLY
#endif
