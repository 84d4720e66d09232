/*
 * ember.h — C API of the Ember runtime (libCEmber.so / libCEmberStatic.a; libCEmberTrainer.so has it
 * too, with the trainer's ember_train.h).
 *
 * Load a verified `.ember` model, encode raw rows, compute per-class energies, anomaly
 * scores and class probabilities, and draw seeded synthetic rows. No Swift type crosses
 * this ABI: handles are opaque pointers, data are plain float / int32 / char arrays.
 *
 * ERRORS
 *   Every fallible function returns an `ember_status` (EMBER_OK == 0). On failure it also
 *   records a one-line message for the *calling thread*, read with ember_last_error();
 *   the message names the function and, where it applies, the file, column, class or
 *   model field (e.g. "ember_encode: temperature: expected a number, found \"hot\"").
 *   A call that returns EMBER_OK clears the calling thread's message. Threads never see
 *   each other's messages (the message lives in thread-local storage). No function traps
 *   or aborts on bad input: NULL pointers, out-of-range indices, sizes that overflow and
 *   bad values all return a status.
 *
 * OWNERSHIP
 *   - ember_model / ember_encoder handles are created by ember_open_* / ember_encoder_new
 *     and released by ember_close / ember_encoder_free (both accept NULL). An encoder keeps
 *     its model alive: closing the model while an encoder exists is allowed; the model is
 *     freed with the last of them.
 *   - Strings returned as `const char *` (labels, feature names, target name) belong to the
 *     model handle and stay valid until it is released. ember_version() and
 *     ember_error_message() return static strings. ember_last_error() returns a
 *     library-owned string valid until the next ember_* call on the same thread.
 *   - Every input buffer is only read during the call; every output buffer is allocated by
 *     the caller with the size documented on the function, and only written during the call.
 *     The library keeps no pointer to caller memory after a call returns.
 *   - ember_open_bytes copies the bytes: the caller may free them as soon as it returns.
 *     ember_open_path memory-maps the file read-only (MAP_PRIVATE) for the model's lifetime.
 *
 * THREAD SAFETY
 *   A model handle is immutable after ember_open_* returns and may be shared by any number
 *   of threads calling any function of this header concurrently. Per-call scratch memory
 *   (network activations, energy buffers) comes from a per-handle pool guarded by a mutex
 *   held only to take or return a scratch object, never during computation: concurrent
 *   calls each get their own scratch, the pool grows to the largest number of calls that
 *   ever ran at once, and steady-state calls allocate nothing for scoring. An encoder is
 *   likewise immutable and shareable. ember_close / ember_encoder_free must not race with
 *   calls that use the same handle.
 *
 * ENCODED ROWS
 *   The networks read rows in the model's encoded space of width d = ember_encoded_width():
 *   numeric and integer features z-scored, categoricals one-hot. Use ember_encode (or an
 *   encoder) to go from raw text to encoded rows, ember_decode_field to go back. Row
 *   batches are row-major n×d float arrays. The encoder clamps encoded values to ±1e6, the box
 *   on which a verified model's energies are certified finite. Energies, scores, percentiles
 *   and probabilities are always finite, whatever the rows: a NaN or infinite energy (from
 *   rows you encoded yourself) is replaced by ±FLT_MAX before anything is derived from it.
 *
 * RAW VALUES (the same rules as `ember score` and `ember train`)
 *   Missing: a NULL value, "", "NA", "N/A", "na", "?", "NaN", "nan" (after trimming spaces) is
 *   imputed with the training value. Numbers are decimal ("1.5", "-2e-3"); hex, words such as
 *   "inf", embedded NUL bytes and magnitudes beyond the 32-bit float range (±3.4e38) are
 *   EMBER_E_BAD_VALUE. A category never seen in training is read as missing and reported in
 *   the row's flags (EMBER_ROW_UNKNOWN_CATEGORY); with EMBER_ENCODE_STRICT_CATEGORIES it is
 *   EMBER_E_UNKNOWN_CATEGORY instead.
 *
 * DETERMINISM
 *   ember_sample output depends only on (model, class_index, count, seed, options): never
 *   on `threads`, batching or the machine's SIMD level beyond float rounding.
 */
#ifndef EMBER_H
#define EMBER_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Status of a call. Values are stable across versions. */
typedef int32_t ember_status;
enum {
  EMBER_OK = 0,
  EMBER_E_INVALID_ARGUMENT = 1,   /**< NULL where a pointer is required, index out of range, size overflow. */
  EMBER_E_IO = 2,                 /**< The file could not be opened, stat'ed or mapped. */
  EMBER_E_TRUNCATED = 3,          /**< Too short to be a model (or empty). */
  EMBER_E_NOT_A_MODEL = 4,        /**< Missing the EMBR file identifier. */
  EMBER_E_MALFORMED = 5,          /**< The FlatBuffers verifier rejected the bytes. */
  EMBER_E_UNSUPPORTED_VERSION = 6,/**< Format major version / minimum reader version too new. */
  EMBER_E_CHECKSUM = 7,           /**< Payload CRC-32 mismatch: modified or corrupted file. */
  EMBER_E_INVALID_MODEL = 8,      /**< Semantic validation failed (shapes, finiteness, enums). */
  EMBER_E_UNUSABLE_MODEL = 9,     /**< Valid file the runtime cannot prepare (e.g. precision not PD). */
  EMBER_E_MISSING_COLUMNS = 10,   /**< Columns the model needs are not among the names given. */
  EMBER_E_BAD_VALUE = 11,         /**< A value is not a finite number where one is required. */
  EMBER_E_UNKNOWN_CATEGORY = 12,  /**< A categorical value the model does not know. */
  EMBER_E_UNKNOWN_CLASS = 13,     /**< No class with that label / index. */
  EMBER_E_BAD_REQUEST = 14,       /**< E.g. sampling a class with no starting rows and no base. */
  EMBER_E_BUFFER_TOO_SMALL = 15,  /**< An output text buffer is too small (see `needed`). */
  EMBER_E_NO_CALIBRATION = 16,    /**< Percentiles / anomaly flags asked of an uncalibrated model. */
  EMBER_E_BAD_OPTION = 17,        /**< A training option is unknown or has a bad value (ember_train.h). */
  EMBER_E_BAD_DATA = 18,          /**< The training data cannot be used (ember_train.h). */
  EMBER_E_INTERNAL = 99           /**< A bug: please report with ember_last_error(). */
};

#ifndef EMBER_TYPES_ONLY
/** A loaded, verified model (opaque). */
typedef struct ember_model ember_model;
/** A column header matched against a model's features (opaque). */
typedef struct ember_encoder ember_encoder;

/** Library version, e.g. "0.1.0". Static string. */
const char *ember_version(void);
/** Fixed English description of a status code. Static string; never NULL. */
const char *ember_error_message(ember_status status);
/** The calling thread's message for its last failed call, or "" after a successful call.
 *  Owned by the library; valid until the next ember_* call on this thread. Never NULL. */
const char *ember_last_error(void);

/* ---- Loading ------------------------------------------------------------------------- */

/** Maps, verifies (FlatBuffers verifier, version, CRC-32, semantic validation) and prepares
 *  the model at `path`. On success stores a new handle in *out_model (release with
 *  ember_close); on failure stores NULL. Cost: O(file size) + O(parameters) to pack weights. */
ember_status ember_open_path(const char *path, ember_model **out_model);
/** As ember_open_path, from `len` bytes in memory (copied; the caller keeps ownership). */
ember_status ember_open_bytes(const void *bytes, size_t len, ember_model **out_model);
/** Releases a handle. NULL is a no-op. */
void ember_close(ember_model *model);

/* ---- Describing ---------------------------------------------------------------------- */

/** Number of classes C (0 for NULL). */
size_t ember_class_count(const ember_model *model);
/** Label of class i (model order), or NULL when i >= C. Owned by the model. */
const char *ember_class_label(const ember_model *model, size_t i);
/** Prior π_i of class i, or NaN when out of range. */
double ember_class_prior(const ember_model *model, size_t i);
/** Index of the class labelled `label` (EMBER_E_UNKNOWN_CLASS if none). */
ember_status ember_class_index(const ember_model *model, const char *label, int32_t *out_index);
/** Name of the label column the model was trained on. Owned by the model. */
const char *ember_target_name(const ember_model *model);
/** Number of raw input features (0 for NULL). */
size_t ember_feature_count(const ember_model *model);
/** Name of raw feature i (a CSV column name), or NULL when out of range. Owned by the model. */
const char *ember_feature_name(const ember_model *model, size_t i);
/** Feature kinds returned by ember_feature_kind. */
enum { EMBER_FEATURE_NUMERIC = 0, EMBER_FEATURE_INTEGER = 1, EMBER_FEATURE_CATEGORICAL = 2 };
/** Kind of raw feature i (EMBER_FEATURE_*), or -1 when out of range. */
int32_t ember_feature_kind(const ember_model *model, size_t i);
/** Encoded width d (0 for NULL). */
size_t ember_encoded_width(const ember_model *model);
/** The calibrated anomaly threshold on the score scale (EMBER_E_NO_CALIBRATION if none). */
ember_status ember_score_threshold(const ember_model *model, float *out_threshold);

/* ---- Encoding raw rows ----------------------------------------------------------------- */

#endif /* EMBER_TYPES_ONLY */

/** Flags for ember_encode / ember_encoder_new. */
enum {
  EMBER_ENCODE_UNKNOWN_AS_MISSING = 1u, /**< Deprecated, no effect: unknown categories are read as missing by default. */
  EMBER_ENCODE_NAN_AS_MISSING = 2u,     /**< Deprecated, no effect: "NaN" cells are missing by default. */
  EMBER_ENCODE_STRICT_CATEGORIES = 4u   /**< An unknown category is EMBER_E_UNKNOWN_CATEGORY instead of missing. */
};

/** Flags of one encoded row (ember_encoder_encode_row), input of ember_score_flagged. */
enum {
  EMBER_ROW_UNKNOWN_CATEGORY = 1u /**< A category never seen in training was read as missing: the row is anomalous. */
};

#ifndef EMBER_TYPES_ONLY

/** Encodes one raw row given as `ncols` (name, value) pairs into `out` (d floats), by the
 *  rules of RAW VALUES above. Columns are matched by name; extra columns are ignored; a feature
 *  with no column, or named twice, is EMBER_E_MISSING_COLUMNS. Matches the header on every
 *  call: for many rows, use an ember_encoder. */
ember_status ember_encode(const ember_model *model, const char *const *names, const char *const *values,
                          size_t ncols, uint32_t flags, float *out);
/** Matches a header of `ncols` column names once. Release with ember_encoder_free. */
ember_status ember_encoder_new(const ember_model *model, const char *const *names, size_t ncols, uint32_t flags,
                               ember_encoder **out_encoder);
/** Encodes one row of values given in the encoder's header order (`ncols` entries, NULL =
 *  missing) into `out` (d floats). */
ember_status ember_encoder_encode(const ember_encoder *encoder, const char *const *values, float *out);
/** As ember_encoder_encode, and stores the row's flags (EMBER_ROW_*) in *out_flags (may be
 *  NULL); pass them to ember_score_flagged. */
ember_status ember_encoder_encode_row(const ember_encoder *encoder, const char *const *values, float *out,
                                      uint32_t *out_flags);
/** Releases an encoder. NULL is a no-op. */
void ember_encoder_free(ember_encoder *encoder);

/** Writes raw feature `feature` of one encoded row (d floats) as NUL-terminated text into
 *  `buf` (`buflen` bytes): un-standardised, clipped to the training range, integers rounded,
 *  categoricals as the category with the largest slot. *needed (if not NULL) receives the
 *  bytes required including the NUL; a short buffer gives EMBER_E_BUFFER_TOO_SMALL.
 *  64 bytes always suffice for numeric and integer features. */
ember_status ember_decode_field(const ember_model *model, const float *row, size_t feature, char *buf,
                                size_t buflen, size_t *needed);

/* ---- Energies, scores, classification ---------------------------------------------------- */

/** Per-class energies E_c(x) of `n` encoded rows (`rows`: n×d) into `out` (n×C, row-major).
 *  O(n · parameters). n == 0 is a no-op (pointers may then be NULL). */
ember_status ember_energies(const ember_model *model, const float *rows, size_t n, float *out);

/** Anomaly scores of `n` encoded rows into `scores` (n floats): the free energy
 *  s(x) = −log Σ_c π_c exp(−E_c(x)); higher = more anomalous. Optionally, from the model's
 *  score calibration: `percentiles` (n floats in [0, 100]: the percentage of held-out
 *  in-distribution rows scoring at or below s — the unit of `ember score`'s percentile column)
 *  and `anomalies` (n bytes, 1 when s > the calibrated threshold). Pass NULL to skip either;
 *  asking for them of an uncalibrated model is EMBER_E_NO_CALIBRATION. */
ember_status ember_score(const ember_model *model, const float *rows, size_t n, float *scores, float *percentiles,
                         uint8_t *anomalies);
/** As ember_score, with each row's flags from ember_encoder_encode_row (`row_flags`, n values;
 *  NULL = none): a row with EMBER_ROW_UNKNOWN_CATEGORY is anomalous (anomalies[i] = 1), as in
 *  `ember score`. */
ember_status ember_score_flagged(const ember_model *model, const float *rows, const uint32_t *row_flags, size_t n,
                                 float *scores, float *percentiles, uint8_t *anomalies);

/** Most probable class of `n` encoded rows into `labels` (n class indices) and, when
 *  `probs` is not NULL, p(c | x) into `probs` (n×C, rows sum to 1):
 *  logit_c = −E_c/T + log π_c + offset_c with the file's temperature T and offsets. */
ember_status ember_classify(const ember_model *model, const float *rows, size_t n, int32_t *labels, float *probs);

/** Explanations of the scores of `n` encoded rows (the numbers behind `ember score --explain`):
 *  integrated gradients of the score s(x) along the straight path from the row's typical point
 *  r (the mean of the base component, over every class, the row is nearest to once its most
 *  deviant column is left out) to the row, summed per raw feature (one-hot slots and the base
 *  term fold into their column). They are complete: a row's attributions sum to s(x) − s(r) up
 *  to the quadrature error (32-node Gauss–Legendre). Outputs, each may be NULL:
 *  `attributions` (n×F, feature order), `top` (n×k feature indices, largest attribution first,
 *  ties to the lower index) and `shares` (n×k, max(a, 0) / Σ_f max(a_f, 0) in [0, 1]; all 0
 *  when no attribution is positive). 0 ≤ k ≤ F. n == 0 is a no-op (pointers may then be NULL);
 *  otherwise at least one output must be given. O(32 · n · C · parameters). */
ember_status ember_explain(const ember_model *model, const float *rows, size_t n, size_t k, float *attributions,
                           int32_t *top, float *shares);

/* ---- Sampling ------------------------------------------------------------------------- */
#endif /* EMBER_TYPES_ONLY */

/** Sampler algorithms (ember_sampler_options.kind). */
enum { EMBER_SAMPLER_TABEBM = 0, EMBER_SAMPLER_LANGEVIN = 1, EMBER_SAMPLER_MALA = 2 };
/** Class filters (ember_sampler_options.class_filter). READOUT (the default): a row of class c
 *  is kept only where the file's classification read-out (ember_classify's logits) with the
 *  class priors taken out picks c; rejected chains run again from fresh streams, at most 16 runs
 *  (as `ember sample`). BALANCED: kept only where c has the least energy (the most probable class
 *  with equal priors under the raw energies); re-runs as READOUT. OFF: every chain's row. */
enum { EMBER_CLASS_FILTER_OFF = 0, EMBER_CLASS_FILTER_BALANCED = 1, EMBER_CLASS_FILTER_READOUT = 2 };
/** Chain starts (ember_sampler_options.init). */
/** INTERPOLATE: SMOTE-style, between a stored row and one of its 5 nearest stored rows. */
enum { EMBER_INIT_STARTING_ROWS = 0, EMBER_INIT_BASE = 1, EMBER_INIT_INTERPOLATE = 2 };

/** Overrides of a class's sampler defaults. Initialise with ember_sampler_options_init,
 *  which sets every field to "use the file's value", then set what you want to change.
 *  Values outside the ranges below are EMBER_E_INVALID_ARGUMENT (the same ranges as the
 *  `ember sample` options). All fields are 4 bytes wide (48 bytes in this version). */
typedef struct ember_sampler_options {
  uint32_t struct_size;   /**< sizeof(ember_sampler_options), set by ember_sampler_options_init. */
  int32_t kind;           /**< EMBER_SAMPLER_*, or -1 for the file's. */
  int32_t steps;          /**< Update steps per chain, 0…1000000, or -1. */
  float step_size;        /**< Gradient step ε in (0, 100], or NaN. */
  float noise_scale;      /**< Per-step noise σ in [0, 100]; negative = √(2εT); NaN = the file's. */
  float temperature;      /**< T in (0, 1e6], or NaN: Langevin/MALA and base starts (covariance × T). */
  float init_noise;       /**< σ of noise added to starting rows, [0, 100], or NaN. */
  float grad_clip;        /**< Gradient-norm clip, [0, 1e6] (0 = none), or NaN. */
  int32_t init;           /**< EMBER_INIT_*, or -1. */
  int32_t threads;        /**< Worker threads, ≤ 1024 (≤ 0 means 1; at most the cores are used).
                               Output never depends on it. */
  float divergence_limit; /**< Chains leaving |x_i| ≤ limit (encoded units) restart; (0, 1e6]; NaN = 100. */
  int32_t class_filter;   /**< EMBER_CLASS_FILTER_*, or -1 for the default (READOUT). */
} ember_sampler_options;

/** What a sampling call did (summed over classes). */
typedef struct ember_sample_stats {
  uint64_t chains;    /**< Chains run (== rows produced). */
  uint64_t restarts;  /**< Chains restarted after diverging. */
  uint64_t proposals; /**< MALA proposals (0 for other samplers). */
  uint64_t accepted;  /**< MALA acceptances. */
} ember_sample_stats;

#ifndef EMBER_TYPES_ONLY
/** Sets every field of *opts to "use the file's value" (threads = 1). */
void ember_sampler_options_init(ember_sampler_options *opts);
/** sizeof(ember_sampler_options) this library was built with (for binding self-checks). */
size_t ember_sampler_options_size(void);

/** Draws `count` synthetic rows into `out_encoded` (count×d, encoded space; decode with
 *  ember_decode_field). `class_index` ≥ 0 samples that class; -1 draws from every class in
 *  proportion to the priors (largest-remainder rounding of count·π_c, ties to the lower
 *  index), rows grouped by class in model order. `out_classes` (count int32, may be NULL)
 *  receives each row's class. `opts` NULL = the file's defaults. `stats` may be NULL.
 *  Chain g of class c uses the random stream (seed, c, g): the same arguments give the
 *  same bytes. Memory: O(threads · 256 · widest layer), independent of `count`. */
ember_status ember_sample(const ember_model *model, int32_t class_index, size_t count, uint64_t seed,
                          const ember_sampler_options *opts, float *out_encoded, int32_t *out_classes,
                          ember_sample_stats *stats);
#endif /* EMBER_TYPES_ONLY */

/* ==== COLUMNS (CAPI+Columns.swift) ========================================================
 * Columnar input for data-frame hosts (the Python package): raw columns go to answers in one
 * call, encoded by the runtime's row encoder with the rules of RAW VALUES (each distinct text
 * value is read once).
 *
 * A column is either NUMBERS — float64 values, NaN = missing — or CODES — int32 codes, -1 =
 * missing, otherwise an index into the column's LEVELS, its distinct raw values as text (e.g.
 * pandas.factorize). A categorical feature needs a CODES column; a numeric or integer feature
 * takes either (levels are read as CSV cells: "", "NA", "N/A", "na", "?", "NaN", "nan" are
 * missing). Columns are matched to features by name; extra columns are ignored; a feature
 * column named twice is EMBER_E_MISSING_COLUMNS. A category never seen in training is read as
 * missing and flags its row (EMBER_ROW_UNKNOWN_CATEGORY: anomalous in ember_columns_score), or
 * with EMBER_ENCODE_STRICT_CATEGORIES is EMBER_E_UNKNOWN_CATEGORY naming the row (0-based).
 * Numbers that are ±inf or outside the 32-bit float range are EMBER_E_BAD_VALUE naming the row.
 */
enum { EMBER_COLUMN_NUMBERS = 0, EMBER_COLUMN_CODES = 1 };

#ifndef EMBER_TYPES_ONLY
/** A column layout matched against a model's features (opaque; immutable, shareable). */
typedef struct ember_columns ember_columns;

/** Matches `ncols` columns against the model: names[j], kinds[j] (EMBER_COLUMN_*), strides[j]
 *  (bytes between consecutive rows' values: 8 for a contiguous float64 column, 4 for int32
 *  codes, the row pitch for a column of a 2-D array) and, for CODES columns, levels[j] (an array
 *  of nlevels[j] UTF-8 strings; levels/nlevels may be NULL when no column has codes). Levels are
 *  read here, once. `flags`: EMBER_ENCODE_*. Keeps the model alive. Release with
 *  ember_columns_free. */
ember_status ember_columns_new(const ember_model *model, size_t ncols, const char *const *names, const int32_t *kinds,
                               const int64_t *strides, const char *const *const *levels, const size_t *nlevels,
                               uint32_t flags, ember_columns **out_columns);
/** Releases a column layout. NULL is a no-op. */
void ember_columns_free(ember_columns *columns);

/* In the four calls below, data[j] points at row 0 of column j (in ember_columns_new order);
 * row i of it is at data[j] + i * strides[j]. Outputs are as for the encoded-row functions.
 * They run on the calling thread. */

/** Encoded rows (n×d) of `n` rows and, when `row_flags` is not NULL, their flags (n values,
 *  EMBER_ROW_*; see ember_score_flagged). */
ember_status ember_columns_encode(const ember_columns *columns, const void *const *data, size_t n, float *out,
                                  uint32_t *row_flags);
/** Per-class energies (n×C) of `n` rows. */
ember_status ember_columns_energies(const ember_columns *columns, const void *const *data, size_t n, float *out);
/** Scores and optionally percentiles (0–100) and anomaly flags of `n` rows, as
 *  ember_score_flagged with the rows' own flags: a row with an unseen category is anomalous. */
ember_status ember_columns_score(const ember_columns *columns, const void *const *data, size_t n, float *scores,
                                 float *percentiles, uint8_t *anomalies);
/** Most probable classes (and optionally p(c|x), n×C) of `n` rows, as ember_classify. */
ember_status ember_columns_classify(const ember_columns *columns, const void *const *data, size_t n, int32_t *labels,
                                    float *probs);

/** Decodes raw feature `feature` of `n` encoded rows (n×d) column-wise, as ember_decode_field does
 *  per cell: numeric and integer features into out_numbers (n doubles: un-standardised, clipped to
 *  the training range, integers rounded, numeric values at float precision); categorical features
 *  into out_categories (n indices into the feature's categories, as listed by inspect). The other
 *  output may be NULL. */
ember_status ember_decode_column(const ember_model *model, const float *rows, size_t n, size_t feature,
                                 double *out_numbers, int32_t *out_categories);

/** Rows per class (C values into out_counts) that ember_sample with class_index -1 draws for `count`. */
ember_status ember_sample_counts(const ember_model *model, size_t count, size_t *out_counts);

/** Chains first_chain ..< first_chain + count of class `class_index` (≥ 0) into out_encoded
 *  (count×d). Chain g uses the stream (seed, class, g), so the rows equal rows first_chain ... of
 *  ember_sample(model, class_index, first_chain + count, seed, ...) for the same options: a run
 *  can be split into chain ranges across threads, processes or machines. */
ember_status ember_sample_chains(const ember_model *model, int32_t class_index, uint64_t first_chain, size_t count,
                                 uint64_t seed, const ember_sampler_options *opts, float *out_encoded,
                                 ember_sample_stats *stats);
#endif /* EMBER_TYPES_ONLY */
/* ==== end COLUMNS ======================================================================== */

#ifdef __cplusplus
}
#endif

#endif /* EMBER_H */
