// Plain C view of the FlatBuffers code generated from schema/ember.fbs.
// Reading functions take a *verified* payload (see embr_verify_model) and return views whose
// pointers point into that buffer: they live exactly as long as the buffer does.
#ifndef EMBER_FB_H
#define EMBER_FB_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Elements of a vector inside the buffer; data is NULL when the field is absent.
typedef struct { const void *data; uint32_t count; } embr_span;
/// UTF-8 bytes inside the buffer (not NUL-terminated for the caller's purposes).
typedef struct { const char *data; uint32_t length; } embr_string;

/// Status codes of the structural checks.
enum {
  EMBR_OK = 0,
  EMBR_TOO_SMALL = 1,
  EMBR_BAD_IDENTIFIER = 2,
  EMBR_BAD_STRUCTURE = 3,
  EMBR_NO_PAYLOAD = 4,
  EMBR_TOO_LARGE = 5
};

typedef struct {
  int has_version;
  uint16_t major, minor;
  int has_min_reader;
  uint16_t min_major, min_minor;
  uint32_t payload_crc32;
  const uint8_t *payload;
  uint32_t payload_size;
} embr_envelope;

/// Verifies the envelope (identifier "EMBR", structure; not the nested payload) and fills `out`.
int embr_read_envelope(const uint8_t *buffer, size_t size, embr_envelope *out);
/// Runs the FlatBuffers verifier over a payload whose root is `Model`.
int embr_verify_model(const uint8_t *payload, size_t size);
/// CRC-32 (IEEE 802.3, reflected, as zlib.crc32). Start with crc = 0.
uint32_t embr_crc32(uint32_t crc, const uint8_t *data, size_t size);

typedef struct {
  int present;
  embr_span levels;     /* float */
  embr_span quantiles;  /* float */
  float threshold;
  uint32_t rows;
} embr_calibration;

typedef struct {
  int present;
  int8_t kind;
  uint32_t steps;
  float step_size, noise_scale, temperature, init_noise, grad_clip;
  int8_t init;
  uint32_t proposals; /* format 1.2 */
} embr_sampler;

typedef struct {
  int present;
  embr_string producer, producer_version, source, objective, command;
  uint64_t source_rows, seed;
  int64_t created;
  double train_seconds, heldout_balanced_accuracy, heldout_ood_auroc;
} embr_provenance;

typedef struct {
  embr_provenance provenance;
  embr_string target;
  uint32_t feature_count, class_count, metadata_count;
  uint32_t encoded_width;
  float temperature;
  embr_calibration score_calibration;
  embr_span readout_weights; /* float, C×C */
  embr_span readout_bias;    /* float, C */
  embr_span readout_input_weights; /* float, C×d (format 1.2) */
} embr_model_info;

typedef struct {
  embr_string name;
  int8_t kind;
  double impute_value, mean, std, min, max;
  uint32_t category_count, slot_offset, slot_count, missing_count;
} embr_feature;

typedef struct {
  embr_string label;
  double prior;
  uint32_t train_rows;
  int has_network;
  int8_t output;
  uint32_t layer_count;
  int has_base;
  embr_span base_means, base_log_weights, base_precision, base_lattice_variance; /* float */
  double base_log_det;
  uint32_t base_components;
  float network_scale;
  embr_calibration calibration;
  embr_sampler sampler;
  embr_span starting_rows; /* float */
  float offset;
} embr_class;

typedef struct {
  uint32_t inputs, outputs;
  int8_t activation, weight_type;
  embr_span weights_f32; /* float */
  embr_span weights_f16; /* uint16_t */
  embr_span bias;        /* float */
} embr_layer;

void embr_model_info_get(const uint8_t *payload, embr_model_info *out);
void embr_feature_get(const uint8_t *payload, uint32_t index, embr_feature *out);
embr_string embr_feature_category(const uint8_t *payload, uint32_t feature, uint32_t category);
void embr_class_get(const uint8_t *payload, uint32_t index, embr_class *out);
void embr_layer_get(const uint8_t *payload, uint32_t cls, uint32_t layer, embr_layer *out);
void embr_metadata_get(const uint8_t *payload, uint32_t index, embr_string *key, embr_string *value);

/* ---- Building ---- */

typedef struct embr_builder embr_builder;
/// Offsets returned by the builder; 0 means "absent".
typedef uint32_t embr_ref;

embr_builder *embr_builder_new(size_t initial_size);
void embr_builder_free(embr_builder *builder);
embr_ref embr_b_string(embr_builder *b, const char *data, size_t length);
/// A float vector aligned to 64 bytes.
embr_ref embr_b_floats(embr_builder *b, const float *data, size_t count);
embr_ref embr_b_u16s(embr_builder *b, const uint16_t *data, size_t count);
/// A vector of tables or strings built earlier (keyed tables must already be sorted).
embr_ref embr_b_refs(embr_builder *b, const embr_ref *refs, size_t count);

typedef struct {
  embr_ref name; int8_t kind; double impute_value, mean, std, min, max;
  embr_ref categories; uint32_t slot_offset, slot_count, missing_count;
} embr_feature_args;
typedef struct {
  uint32_t inputs, outputs; int8_t activation, weight_type;
  embr_ref weights_f32, weights_f16, bias;
} embr_layer_args;
typedef struct { embr_ref levels, quantiles; float threshold; uint32_t rows; } embr_calibration_args;
typedef struct {
  embr_ref means, log_weights, precision; double log_det_covariance; uint32_t components;
  embr_ref lattice_variance;
} embr_base_args;
typedef struct {
  embr_ref label; double prior; uint32_t train_rows; embr_ref network, base; float network_scale;
  embr_ref calibration, sampler, starting_rows; float offset;
} embr_class_args;
typedef struct {
  embr_ref producer, producer_version, source, objective, command;
  uint64_t source_rows, seed; int64_t created;
  double train_seconds, heldout_balanced_accuracy, heldout_ood_auroc;
} embr_provenance_args;
typedef struct {
  embr_ref provenance, target, features; uint32_t encoded_width; embr_ref classes;
  float temperature; embr_ref score_calibration, metadata;
  embr_ref readout_weights, readout_bias, readout_input_weights;
} embr_model_args;

embr_ref embr_b_feature(embr_builder *b, const embr_feature_args *a);
embr_ref embr_b_layer(embr_builder *b, const embr_layer_args *a);
embr_ref embr_b_network(embr_builder *b, embr_ref layers, int8_t output);
embr_ref embr_b_base(embr_builder *b, const embr_base_args *a);
embr_ref embr_b_calibration(embr_builder *b, const embr_calibration_args *a);
embr_ref embr_b_sampler(embr_builder *b, const embr_sampler *a);
embr_ref embr_b_class(embr_builder *b, const embr_class_args *a);
embr_ref embr_b_keyvalue(embr_builder *b, embr_ref key, embr_ref value);
embr_ref embr_b_provenance(embr_builder *b, const embr_provenance_args *a);
embr_ref embr_b_model(embr_builder *b, const embr_model_args *a);
/// Finishes a payload whose root is `model`; embr_b_bytes then returns it.
void embr_b_finish_model(embr_builder *b, embr_ref model);
/// Builds a complete file around `payload` into `b` (which must be fresh).
void embr_b_finish_envelope(embr_builder *b, const uint8_t *payload, size_t size,
                            uint16_t major, uint16_t minor, uint16_t min_major, uint16_t min_minor,
                            uint32_t crc32);
/// The finished bytes (owned by the builder; 64-byte aligned size).
const uint8_t *embr_b_bytes(embr_builder *b, size_t *size);

#ifdef __cplusplus
}
#endif
#endif
