// C view over the flatc-generated C++ code for schema/ember.fbs. Keeps C++ out of every Swift
// module: Swift imports `ember_fb.h` as a plain C module.
#include "ember_fb.h"
#include "../generated/ember_generated.h"

#include <new>

#if defined(__x86_64__)
#include <immintrin.h>

#include "ember_system.h"
#endif

using namespace ember::fb;
using flatbuffers::Offset;
using flatbuffers::String;
using flatbuffers::Vector;

namespace {

template <typename T> embr_span span(const Vector<T> *v) {
  if (!v) return embr_span{nullptr, 0};
  return embr_span{v->data(), v->size()};
}

embr_string str(const String *s) {
  if (!s) return embr_string{nullptr, 0};
  return embr_string{s->c_str(), s->size()};
}

const Model *model(const uint8_t *payload) { return flatbuffers::GetRoot<Model>(payload); }

embr_calibration calibration(const Calibration *c) {
  embr_calibration out{};
  if (!c) return out;
  out.present = 1;
  out.levels = span(c->levels());
  out.quantiles = span(c->quantiles());
  out.threshold = c->threshold();
  out.rows = c->rows();
  return out;
}

uint32_t crc_table[8][256];
bool crc_ready = [] {
  for (uint32_t i = 0; i < 256; i++) {
    uint32_t c = i;
    for (int k = 0; k < 8; k++) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    crc_table[0][i] = c;
  }
  for (uint32_t i = 0; i < 256; i++)
    for (int t = 1; t < 8; t++)
      crc_table[t][i] = (crc_table[t - 1][i] >> 8) ^ crc_table[0][crc_table[t - 1][i] & 0xFF];
  return true;
}();

#if defined(__x86_64__)
// CRC-32 by carry-less multiplication, after Intel's "Fast CRC Computation for Generic
// Polynomials Using PCLMULQDQ Instruction" (2009): four 128-bit lanes are folded forward 512
// bits at a time, folded into one lane, reduced to 64 and then 32 bits (Barrett). The
// constants are x^k mod P(x) for the reflected polynomial, and μ = ⌊x^64 / P(x)⌋.
#define EMBR_CLMUL __attribute__((target("pclmul,sse4.1")))

EMBR_CLMUL inline __m128i fold(__m128i x, __m128i k, __m128i data) {
  return _mm_xor_si128(_mm_xor_si128(_mm_clmulepi64_si128(x, k, 0x00), _mm_clmulepi64_si128(x, k, 0x11)), data);
}

// The inverted running CRC after `n` more bytes (n ≥ 64, a multiple of 16).
EMBR_CLMUL uint32_t crc32_folded(uint32_t state, const uint8_t *p, size_t n) {
  const __m128i k512 = _mm_set_epi64x(0x1c6e41596, 0x154442bd4);
  const __m128i k128 = _mm_set_epi64x(0x0ccaa009e, 0x1751997d0);
  const __m128i k64 = _mm_set_epi64x(0, 0x163cd6124);
  const __m128i barrett = _mm_set_epi64x(0x1f7011641, 0x1db710641);  // μ, P
  const __m128i low32 = _mm_setr_epi32(-1, 0, -1, 0);
  __m128i lane[4];
  for (int i = 0; i < 4; i++) lane[i] = _mm_loadu_si128((const __m128i *)(p + 16 * i));
  lane[0] = _mm_xor_si128(lane[0], _mm_cvtsi32_si128((int)state));
  size_t at = 64;
  for (; at + 64 <= n; at += 64)
    for (int i = 0; i < 4; i++) lane[i] = fold(lane[i], k512, _mm_loadu_si128((const __m128i *)(p + at + 16 * i)));
  __m128i x = lane[0];
  for (int i = 1; i < 4; i++) x = fold(x, k128, lane[i]);
  for (; at + 16 <= n; at += 16) x = fold(x, k128, _mm_loadu_si128((const __m128i *)(p + at)));
  x = _mm_xor_si128(_mm_srli_si128(x, 8), _mm_clmulepi64_si128(x, k128, 0x10));
  x = _mm_xor_si128(_mm_srli_si128(x, 4), _mm_clmulepi64_si128(_mm_and_si128(x, low32), k64, 0x00));
  __m128i t = _mm_clmulepi64_si128(_mm_and_si128(x, low32), barrett, 0x10);
  t = _mm_clmulepi64_si128(_mm_and_si128(t, low32), barrett, 0x00);
  return (uint32_t)_mm_extract_epi32(_mm_xor_si128(x, t), 1);
}

const bool has_clmul = (ember_sys_cpu_features() & EMBER_CPU_CLMUL) != 0;
#endif

}  // namespace

struct embr_builder {
  flatbuffers::FlatBufferBuilder fbb;
  explicit embr_builder(size_t initial) : fbb(initial) {}
};

extern "C" {

uint32_t embr_crc32(uint32_t crc, const uint8_t *p, size_t n) {
  (void)crc_ready;
  crc = ~crc;
#if defined(__x86_64__)
  if (has_clmul && n >= 64) {
    size_t folded = n & ~(size_t)15;
    crc = crc32_folded(crc, p, folded);
    p += folded;
    n -= folded;
  }
#endif
  while (n >= 8) {
    uint32_t lo = (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
    lo ^= crc;
    crc = crc_table[7][lo & 0xFF] ^ crc_table[6][(lo >> 8) & 0xFF] ^ crc_table[5][(lo >> 16) & 0xFF] ^
          crc_table[4][lo >> 24] ^ crc_table[3][p[4]] ^ crc_table[2][p[5]] ^ crc_table[1][p[6]] ^
          crc_table[0][p[7]];
    p += 8;
    n -= 8;
  }
  while (n--) crc = crc_table[0][(crc ^ *p++) & 0xFF] ^ (crc >> 8);
  return ~crc;
}

int embr_read_envelope(const uint8_t *buffer, size_t size, embr_envelope *out) {
  *out = embr_envelope{};
  if (size < 16) return EMBR_TOO_SMALL;
  if (size >= FLATBUFFERS_MAX_BUFFER_SIZE) return EMBR_TOO_LARGE;
  if (!flatbuffers::BufferHasIdentifier(buffer, ModelFileIdentifier())) return EMBR_BAD_IDENTIFIER;
  flatbuffers::Verifier::Options opts;
  opts.check_nested_flatbuffers = false;  // the payload is verified after its checksum
  flatbuffers::Verifier verifier(buffer, size, opts);
  if (!verifier.VerifyBuffer<ModelFile>(ModelFileIdentifier())) return EMBR_BAD_STRUCTURE;
  const ModelFile *file = GetModelFile(buffer);
  if (const Version *v = file->format_version()) {
    out->has_version = 1;
    out->major = v->major();
    out->minor = v->minor();
  }
  if (const Version *v = file->min_reader_version()) {
    out->has_min_reader = 1;
    out->min_major = v->major();
    out->min_minor = v->minor();
  }
  out->payload_crc32 = file->payload_crc32();
  const Vector<uint8_t> *payload = file->payload();
  if (!payload || payload->size() < 16) return EMBR_NO_PAYLOAD;
  out->payload = payload->data();
  out->payload_size = payload->size();
  return EMBR_OK;
}

int embr_verify_model(const uint8_t *payload, size_t size) {
  if (size < 16) return EMBR_TOO_SMALL;
  if (size >= FLATBUFFERS_MAX_BUFFER_SIZE) return EMBR_TOO_LARGE;
  flatbuffers::Verifier verifier(payload, size);
  return verifier.VerifyBuffer<Model>(nullptr) ? EMBR_OK : EMBR_BAD_STRUCTURE;
}

void embr_model_info_get(const uint8_t *payload, embr_model_info *out) {
  *out = embr_model_info{};
  const Model *m = model(payload);
  if (const Provenance *p = m->provenance()) {
    embr_provenance &o = out->provenance;
    o.present = 1;
    o.producer = str(p->producer());
    o.producer_version = str(p->producer_version());
    o.source = str(p->source());
    o.objective = str(p->objective());
    o.command = str(p->command());
    o.source_rows = p->source_rows();
    o.seed = p->seed();
    o.created = p->created();
    o.train_seconds = p->train_seconds();
    o.heldout_balanced_accuracy = p->heldout_balanced_accuracy();
    o.heldout_ood_auroc = p->heldout_ood_auroc();
  }
  out->target = str(m->target());
  out->feature_count = m->features() ? m->features()->size() : 0;
  out->class_count = m->classes() ? m->classes()->size() : 0;
  out->metadata_count = m->metadata() ? m->metadata()->size() : 0;
  out->encoded_width = m->encoded_width();
  out->temperature = m->temperature();
  out->score_calibration = calibration(m->score_calibration());
  out->readout_weights = span(m->readout_weights());
  out->readout_bias = span(m->readout_bias());
  out->readout_input_weights = span(m->readout_input_weights());
}

void embr_feature_get(const uint8_t *payload, uint32_t index, embr_feature *out) {
  const Feature *f = model(payload)->features()->Get(index);
  out->name = str(f->name());
  out->kind = static_cast<int8_t>(f->kind());
  out->impute_value = f->impute_value();
  out->mean = f->mean();
  out->std = f->std();
  out->min = f->min();
  out->max = f->max();
  out->category_count = f->categories() ? f->categories()->size() : 0;
  out->slot_offset = f->slot_offset();
  out->slot_count = f->slot_count();
  out->missing_count = f->missing_count();
}

embr_string embr_feature_category(const uint8_t *payload, uint32_t feature, uint32_t category) {
  return str(model(payload)->features()->Get(feature)->categories()->Get(category));
}

void embr_class_get(const uint8_t *payload, uint32_t index, embr_class *out) {
  *out = embr_class{};
  const ClassModel *c = model(payload)->classes()->Get(index);
  out->label = str(c->label());
  out->prior = c->prior();
  out->train_rows = c->train_rows();
  if (const EnergyNetwork *n = c->network()) {
    out->has_network = 1;
    out->output = static_cast<int8_t>(n->output());
    out->layer_count = n->layers() ? n->layers()->size() : 0;
  }
  if (const GaussianBase *b = c->base()) {
    out->has_base = 1;
    out->base_means = span(b->means());
    out->base_log_weights = span(b->log_weights());
    out->base_precision = span(b->precision());
    out->base_lattice_variance = span(b->lattice_variance());
    out->base_log_det = b->log_det_covariance();
    out->base_components = b->components();
  }
  out->network_scale = c->network_scale();
  out->calibration = calibration(c->calibration());
  if (const SamplerDefaults *s = c->sampler()) {
    embr_sampler &o = out->sampler;
    o.present = 1;
    o.kind = static_cast<int8_t>(s->kind());
    o.steps = s->steps();
    o.step_size = s->step_size();
    o.noise_scale = s->noise_scale();
    o.temperature = s->temperature();
    o.init_noise = s->init_noise();
    o.grad_clip = s->grad_clip();
    o.init = static_cast<int8_t>(s->chain_init());
    o.proposals = s->proposals();
  }
  out->starting_rows = span(c->starting_rows());
  out->offset = c->offset();
}

void embr_layer_get(const uint8_t *payload, uint32_t cls, uint32_t layer, embr_layer *out) {
  const DenseLayer *l = model(payload)->classes()->Get(cls)->network()->layers()->Get(layer);
  out->inputs = l->inputs();
  out->outputs = l->outputs();
  out->activation = static_cast<int8_t>(l->activation());
  out->weight_type = static_cast<int8_t>(l->weight_type());
  out->weights_f32 = span(l->weights_f32());
  out->weights_f16 = span(l->weights_f16());
  out->bias = span(l->bias());
}

void embr_metadata_get(const uint8_t *payload, uint32_t index, embr_string *key, embr_string *value) {
  const KeyValue *kv = model(payload)->metadata()->Get(index);
  *key = str(kv->key());
  *value = str(kv->value());
}

/* ---- Building ---- */

embr_builder *embr_builder_new(size_t initial_size) {
  return new (std::nothrow) embr_builder(initial_size ? initial_size : 4096);
}

void embr_builder_free(embr_builder *b) { delete b; }

embr_ref embr_b_string(embr_builder *b, const char *data, size_t length) {
  return b->fbb.CreateString(data, length).o;
}

embr_ref embr_b_floats(embr_builder *b, const float *data, size_t count) {
  b->fbb.ForceVectorAlignment(count, sizeof(float), 64);
  return b->fbb.CreateVector(data, count).o;
}

embr_ref embr_b_u16s(embr_builder *b, const uint16_t *data, size_t count) {
  b->fbb.ForceVectorAlignment(count, sizeof(uint16_t), 64);
  return b->fbb.CreateVector(data, count).o;
}

embr_ref embr_b_refs(embr_builder *b, const embr_ref *refs, size_t count) {
  b->fbb.StartVector(count, sizeof(flatbuffers::uoffset_t));
  for (size_t i = count; i > 0; i--) b->fbb.PushElement(Offset<void>(refs[i - 1]));
  return b->fbb.EndVector(count);
}

embr_ref embr_b_feature(embr_builder *b, const embr_feature_args *a) {
  FeatureBuilder fb(b->fbb);
  fb.add_name(Offset<String>(a->name));
  fb.add_kind(static_cast<FeatureKind>(a->kind));
  fb.add_impute_value(a->impute_value);
  fb.add_mean(a->mean);
  fb.add_std(a->std);
  fb.add_min(a->min);
  fb.add_max(a->max);
  if (a->categories) fb.add_categories(Offset<Vector<Offset<String>>>(a->categories));
  fb.add_slot_offset(a->slot_offset);
  fb.add_slot_count(a->slot_count);
  fb.add_missing_count(a->missing_count);
  return fb.Finish().o;
}

embr_ref embr_b_layer(embr_builder *b, const embr_layer_args *a) {
  DenseLayerBuilder lb(b->fbb);
  lb.add_inputs(a->inputs);
  lb.add_outputs(a->outputs);
  lb.add_activation(static_cast<Activation>(a->activation));
  lb.add_weight_type(static_cast<WeightType>(a->weight_type));
  if (a->weights_f32) lb.add_weights_f32(Offset<Vector<float>>(a->weights_f32));
  if (a->weights_f16) lb.add_weights_f16(Offset<Vector<uint16_t>>(a->weights_f16));
  if (a->bias) lb.add_bias(Offset<Vector<float>>(a->bias));
  return lb.Finish().o;
}

embr_ref embr_b_network(embr_builder *b, embr_ref layers, int8_t output) {
  EnergyNetworkBuilder nb(b->fbb);
  if (layers) nb.add_layers(Offset<Vector<Offset<DenseLayer>>>(layers));
  nb.add_output(static_cast<OutputMode>(output));
  return nb.Finish().o;
}

embr_ref embr_b_base(embr_builder *b, const embr_base_args *a) {
  GaussianBaseBuilder gb(b->fbb);
  if (a->means) gb.add_means(Offset<Vector<float>>(a->means));
  if (a->log_weights) gb.add_log_weights(Offset<Vector<float>>(a->log_weights));
  if (a->precision) gb.add_precision(Offset<Vector<float>>(a->precision));
  gb.add_log_det_covariance(a->log_det_covariance);
  gb.add_components(a->components);
  if (a->lattice_variance) gb.add_lattice_variance(Offset<Vector<float>>(a->lattice_variance));
  return gb.Finish().o;
}

embr_ref embr_b_calibration(embr_builder *b, const embr_calibration_args *a) {
  CalibrationBuilder cb(b->fbb);
  if (a->levels) cb.add_levels(Offset<Vector<float>>(a->levels));
  if (a->quantiles) cb.add_quantiles(Offset<Vector<float>>(a->quantiles));
  cb.add_threshold(a->threshold);
  cb.add_rows(a->rows);
  return cb.Finish().o;
}

embr_ref embr_b_sampler(embr_builder *b, const embr_sampler *a) {
  SamplerDefaultsBuilder sb(b->fbb);
  sb.add_kind(static_cast<SamplerKind>(a->kind));
  sb.add_steps(a->steps);
  sb.add_step_size(a->step_size);
  sb.add_noise_scale(a->noise_scale);
  sb.add_temperature(a->temperature);
  sb.add_init_noise(a->init_noise);
  sb.add_grad_clip(a->grad_clip);
  sb.add_chain_init(static_cast<ChainInit>(a->init));
  sb.add_proposals(a->proposals);
  return sb.Finish().o;
}

embr_ref embr_b_class(embr_builder *b, const embr_class_args *a) {
  ClassModelBuilder cb(b->fbb);
  cb.add_label(Offset<String>(a->label));
  cb.add_prior(a->prior);
  cb.add_train_rows(a->train_rows);
  if (a->network) cb.add_network(Offset<EnergyNetwork>(a->network));
  if (a->base) cb.add_base(Offset<GaussianBase>(a->base));
  cb.add_network_scale(a->network_scale);
  if (a->calibration) cb.add_calibration(Offset<Calibration>(a->calibration));
  if (a->sampler) cb.add_sampler(Offset<SamplerDefaults>(a->sampler));
  if (a->starting_rows) cb.add_starting_rows(Offset<Vector<float>>(a->starting_rows));
  cb.add_offset(a->offset);
  return cb.Finish().o;
}

embr_ref embr_b_keyvalue(embr_builder *b, embr_ref key, embr_ref value) {
  KeyValueBuilder kb(b->fbb);
  kb.add_key(Offset<String>(key));
  if (value) kb.add_value(Offset<String>(value));
  return kb.Finish().o;
}

embr_ref embr_b_provenance(embr_builder *b, const embr_provenance_args *a) {
  ProvenanceBuilder pb(b->fbb);
  if (a->producer) pb.add_producer(Offset<String>(a->producer));
  if (a->producer_version) pb.add_producer_version(Offset<String>(a->producer_version));
  if (a->source) pb.add_source(Offset<String>(a->source));
  pb.add_source_rows(a->source_rows);
  pb.add_seed(a->seed);
  if (a->objective) pb.add_objective(Offset<String>(a->objective));
  if (a->command) pb.add_command(Offset<String>(a->command));
  pb.add_created(a->created);
  pb.add_train_seconds(a->train_seconds);
  pb.add_heldout_balanced_accuracy(a->heldout_balanced_accuracy);
  pb.add_heldout_ood_auroc(a->heldout_ood_auroc);
  return pb.Finish().o;
}

embr_ref embr_b_model(embr_builder *b, const embr_model_args *a) {
  ModelBuilder mb(b->fbb);
  if (a->provenance) mb.add_provenance(Offset<Provenance>(a->provenance));
  if (a->target) mb.add_target(Offset<String>(a->target));
  if (a->features) mb.add_features(Offset<Vector<Offset<Feature>>>(a->features));
  mb.add_encoded_width(a->encoded_width);
  if (a->classes) mb.add_classes(Offset<Vector<Offset<ClassModel>>>(a->classes));
  mb.add_temperature(a->temperature);
  if (a->score_calibration) mb.add_score_calibration(Offset<Calibration>(a->score_calibration));
  if (a->metadata) mb.add_metadata(Offset<Vector<Offset<KeyValue>>>(a->metadata));
  if (a->readout_weights) mb.add_readout_weights(Offset<Vector<float>>(a->readout_weights));
  if (a->readout_bias) mb.add_readout_bias(Offset<Vector<float>>(a->readout_bias));
  if (a->readout_input_weights) mb.add_readout_input_weights(Offset<Vector<float>>(a->readout_input_weights));
  return mb.Finish().o;
}

void embr_b_finish_model(embr_builder *b, embr_ref model) {
  b->fbb.Finish(Offset<Model>(model));
}

void embr_b_finish_envelope(embr_builder *b, const uint8_t *payload, size_t size, uint16_t major,
                            uint16_t minor, uint16_t min_major, uint16_t min_minor, uint32_t crc32) {
  auto &fbb = b->fbb;
  fbb.ForceVectorAlignment(size, 1, 64);
  auto bytes = fbb.CreateVector(payload, size);
  Version version(major, minor), min_version(min_major, min_minor);
  ModelFileBuilder fb(fbb);
  fb.add_format_version(&version);
  fb.add_min_reader_version(&min_version);
  fb.add_payload_crc32(crc32);
  fb.add_payload(bytes);
  fbb.Finish(fb.Finish(), ModelFileIdentifier());
}

const uint8_t *embr_b_bytes(embr_builder *b, size_t *size) {
  *size = b->fbb.GetSize();
  return b->fbb.GetBufferPointer();
}

}  // extern "C"
