/*
 * ember_check.c — contract checks of the Ember C API, run by the test suite
 * (Tests/EmberCLITests/CAPITests.swift) on the demo model (examples/c/demo.ember).
 *
 *   ./ember_check MODEL.ember   → prints one line per failed check, then
 *                                 "all checks passed" (exit 0) or "N checks failed" (exit 1)
 *
 * Covers: argument checking and error messages, thread-local errors, open_bytes vs
 * open_path, encoding rules, encoder lifetime, score/classify consistency with the energies,
 * calibration outputs, decode round trips, explanations, sampler determinism (seed, threads),
 * option validation, and concurrent use of one model handle from several threads.
 */
#include <ember.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures = 0;
#define EXPECT(cond, ...)                           \
  do {                                              \
    if (!(cond)) {                                  \
      failures++;                                   \
      printf("FAIL line %d: %s: ", __LINE__, #cond); \
      printf(__VA_ARGS__);                          \
      printf(" [last error: %s]\n", ember_last_error()); \
    }                                               \
  } while (0)

static const char *NAMES[] = {"temperature", "vibration", "load", "mode"};

/* Reads a whole file into memory. */
static unsigned char *slurp(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  unsigned char *p = malloc((size_t)n);
  if (p && fread(p, 1, (size_t)n, f) != (size_t)n) {
    free(p);
    p = NULL;
  }
  fclose(f);
  *len = (size_t)n;
  return p;
}

/* A deterministic batch of encoded rows spread around the data. */
static void make_rows(float *rows, size_t n, size_t d) {
  uint32_t s = 12345u;
  for (size_t i = 0; i < n * d; i++) {
    s = s * 1664525u + 1013904223u;
    rows[i] = ((float)(s >> 8) / 16777216.0f) * 6.0f - 3.0f;
  }
}

struct worker {
  const ember_model *model;
  const float *rows;
  size_t n;
  float *scores;
  int32_t *labels;
  int error_seen;
};

static void *score_worker(void *arg) {
  struct worker *w = arg;
  for (int rep = 0; rep < 20; rep++) {
    if (ember_score(w->model, w->rows, w->n, w->scores, NULL, NULL) != EMBER_OK) w->error_seen = 1;
    if (ember_classify(w->model, w->rows, w->n, w->labels, NULL) != EMBER_OK) w->error_seen = 1;
  }
  /* This thread never failed, so its last error must be empty even though main failed. */
  if (ember_last_error()[0] != '\0') w->error_seen = 2;
  return NULL;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: ember_check MODEL.ember\n");
    return 2;
  }
  const char *path = argv[1];

  /* ---- Opening and errors ---- */
  ember_model *bad = (ember_model *)1;
  EXPECT(ember_open_path(NULL, &bad) == EMBER_E_INVALID_ARGUMENT, "NULL path");
  EXPECT(bad == NULL, "out_model reset to NULL on failure");
  EXPECT(strstr(ember_last_error(), "path is NULL") != NULL, "message names the argument");
  EXPECT(strcmp(ember_error_message(EMBER_E_CHECKSUM), ember_error_message(EMBER_OK)) != 0, "distinct messages");
  EXPECT(ember_error_message(12345) != NULL, "unknown status has a message");
  EXPECT(ember_open_bytes("nonsense", 8, &bad) == EMBER_E_TRUNCATED || ember_open_bytes("nonsense", 8, &bad) == EMBER_E_NOT_A_MODEL,
         "garbage bytes");

  ember_model *model = NULL;
  EXPECT(ember_open_path(path, &model) == EMBER_OK, "open %s", path);
  if (!model) return 1;
  EXPECT(ember_last_error()[0] == '\0', "success clears the message");
  size_t len = 0;
  unsigned char *bytes = slurp(path, &len);
  ember_model *copy = NULL;
  EXPECT(bytes && ember_open_bytes(bytes, len, &copy) == EMBER_OK, "open_bytes");
  free(bytes); /* the library copied them */

  /* ---- Describing ---- */
  size_t d = ember_encoded_width(model), C = ember_class_count(model);
  EXPECT(d == 6 && C == 2 && ember_feature_count(model) == 4, "shape d=%zu C=%zu", d, C);
  EXPECT(ember_class_label(model, 2) == NULL && ember_feature_name(model, 4) == NULL, "out of range gives NULL");
  EXPECT(ember_class_count(NULL) == 0 && ember_encoded_width(NULL) == 0, "NULL model gives 0");
  EXPECT(ember_feature_kind(model, 2) == EMBER_FEATURE_INTEGER && ember_feature_kind(model, 3) == EMBER_FEATURE_CATEGORICAL,
         "kinds");
  int32_t idx = -1;
  EXPECT(ember_class_index(model, "fault", &idx) == EMBER_OK && idx == 1, "class_index fault = %d", idx);
  EXPECT(ember_class_index(model, "nope", &idx) == EMBER_E_UNKNOWN_CLASS, "unknown label");
  EXPECT(strstr(ember_last_error(), "normal") != NULL, "message lists the classes");
  EXPECT(fabs(ember_class_prior(model, 0) - 0.7) < 1e-9, "prior");

  /* ---- Encoding ---- */
  float row[6], row2[6];
  const char *v1[] = {"70", "0.5", " 50 ", "boost"};
  EXPECT(ember_encode(model, NAMES, v1, 4, 0, row) == EMBER_OK, "encode");
  EXPECT(fabsf(row[0] - 1.0f) < 1e-6f && fabsf(row[1]) < 1e-6f && fabsf(row[2]) < 1e-6f, "z-scores %g %g %g", row[0], row[1],
         row[2]);
  EXPECT(row[3] == 0 && row[4] == 0 && row[5] == 1, "one-hot boost");
  const char *vmissing[] = {NULL, "NA", "", "?"};
  EXPECT(ember_encode(model, NAMES, vmissing, 4, 0, row2) == EMBER_OK, "missing cells are imputed");
  EXPECT(row2[0] == 0 && row2[1] == 0 && row2[2] == 0 && row2[4] == 1, "imputed to the training values");
  const char *vbad[] = {"hot", "0.5", "50", "run"};
  EXPECT(ember_encode(model, NAMES, vbad, 4, 0, row2) == EMBER_E_BAD_VALUE, "bad number");
  EXPECT(strstr(ember_last_error(), "temperature") && strstr(ember_last_error(), "hot"), "message names column and value");
  const char *vunk[] = {"60", "0.5", "50", "turbo"};
  EXPECT(ember_encode(model, NAMES, vunk, 4, 0, row2) == EMBER_OK && row2[4] == 1, "unknown category read as missing");
  EXPECT(ember_encode(model, NAMES, vunk, 4, EMBER_ENCODE_STRICT_CATEGORIES, row2) == EMBER_E_UNKNOWN_CATEGORY,
         "strict categories refuse an unknown one");
  EXPECT(ember_encode(model, NAMES, vunk, 4, EMBER_ENCODE_UNKNOWN_AS_MISSING, row2) == EMBER_OK && row2[4] == 1,
         "deprecated flag still accepted");
  const char *vnan[] = {"NaN", "nan", "50", "run"};
  EXPECT(ember_encode(model, NAMES, vnan, 4, 0, row2) == EMBER_OK && row2[0] == 0 && row2[1] == 0, "NaN is missing");
  /* Defect 6: numbers beyond the float range, hex and words are refused, never read as inf. */
  const char *bad_numbers[] = {"1e39", "-1e308", "0x10", "inf", "5.1garbage", "1e", "--1"};
  for (size_t i = 0; i < sizeof bad_numbers / sizeof *bad_numbers; i++) {
    const char *vb[] = {bad_numbers[i], "0.5", "50", "run"};
    EXPECT(ember_encode(model, NAMES, vb, 4, 0, row2) == EMBER_E_BAD_VALUE, "\"%s\" refused", bad_numbers[i]);
  }
  const char *vbig[] = {"3e38", "0.5", "50", "run"};
  EXPECT(ember_encode(model, NAMES, vbig, 4, 0, row2) == EMBER_OK && row2[0] == 1e6f, "encoded values clamp to 1e6: %g", row2[0]);
  /* Unknown categories are flagged and make the row anomalous in ember_score_flagged. */
  {
    ember_encoder *enc = NULL;
    EXPECT(ember_encoder_new(model, NAMES, 4, 0, &enc) == EMBER_OK, "encoder");
    uint32_t flags[2] = {7, 7};
    float two[12];
    const char *normal[] = {"60", "0.5", "50", "run"};
    EXPECT(ember_encoder_encode_row(enc, normal, two, &flags[0]) == EMBER_OK && flags[0] == 0, "known row: no flags");
    EXPECT(ember_encoder_encode_row(enc, vunk, two + 6, &flags[1]) == EMBER_OK && flags[1] == EMBER_ROW_UNKNOWN_CATEGORY,
           "unknown category flagged");
    float sc[2], pc[2];
    uint8_t an[2];
    EXPECT(ember_score_flagged(model, two, flags, 2, sc, pc, an) == EMBER_OK && an[0] == 0 && an[1] == 1,
           "flagged row is anomalous (%d %d)", an[0], an[1]);
    EXPECT(pc[0] >= 0 && pc[0] <= 100 && pc[1] >= 0 && pc[1] <= 100, "percentiles in 0..100");
    ember_encoder_free(enc);
  }
  /* Rows encoded by hand at the float limits still give finite answers. */
  {
    float far[12] = {3.4e38f, -3.4e38f, 3.4e38f, 1, 0, 0, NAN, INFINITY, -INFINITY, 0, 0, 1};
    float fe[4], fs[2], fp[4];
    int32_t fl[2];
    EXPECT(ember_energies(model, far, 2, fe) == EMBER_OK && isfinite(fe[0]) && isfinite(fe[1]) && isfinite(fe[2]) &&
               isfinite(fe[3]), "energies finite at the float limits");
    EXPECT(ember_score(model, far, 2, fs, NULL, NULL) == EMBER_OK && isfinite(fs[0]) && isfinite(fs[1]), "scores finite");
    EXPECT(ember_classify(model, far, 2, fl, fp) == EMBER_OK && isfinite(fp[0]) && isfinite(fp[3]), "probabilities finite");
  }
  EXPECT(ember_encode(model, NAMES, v1, 3, 0, row2) == EMBER_E_MISSING_COLUMNS, "missing column");
  EXPECT(strstr(ember_last_error(), "mode") != NULL, "message names the missing column");
  {
    const char *dup_names[] = {"temperature", "vibration", "load", "mode", "temperature"};
    const char *dup_values[] = {"60", "0.5", "50", "run", "61"};
    EXPECT(ember_encode(model, dup_names, dup_values, 5, 0, row2) == EMBER_E_MISSING_COLUMNS &&
               strstr(ember_last_error(), "twice"),
           "a feature column named twice is refused [%s]", ember_last_error());
  }

  /* An encoder with a reordered header and an extra column outlives its model handle. */
  const char *hdr[] = {"mode", "extra", "load", "vibration", "temperature"};
  const char *vals[] = {"boost", "x", "50", "0.5", "70"};
  ember_encoder *enc = NULL;
  EXPECT(ember_encoder_new(copy, hdr, 5, 0, &enc) == EMBER_OK, "encoder_new");
  ember_close(copy);
  EXPECT(ember_encoder_encode(enc, vals, row2) == EMBER_OK && memcmp(row, row2, sizeof row) == 0, "encoder = encode");
  ember_encoder_free(enc);
  ember_encoder_free(NULL);
  ember_close(NULL);

  /* ---- Decoding ---- */
  char text[64];
  size_t needed = 0;
  EXPECT(ember_decode_field(model, row, 0, text, sizeof text, &needed) == EMBER_OK && strcmp(text, "70") == 0,
         "decode temperature '%s'", text);
  EXPECT(needed == 3, "needed %zu", needed);
  EXPECT(ember_decode_field(model, row, 3, text, sizeof text, NULL) == EMBER_OK && strcmp(text, "boost") == 0, "decode mode");
  EXPECT(ember_decode_field(model, row, 3, text, 3, &needed) == EMBER_E_BUFFER_TOO_SMALL && needed == 6, "short buffer");
  EXPECT(ember_decode_field(model, row, 9, text, sizeof text, NULL) == EMBER_E_INVALID_ARGUMENT, "feature range");
  row2[0] = 100.0f; /* far above the training max */
  EXPECT(ember_decode_field(model, row2, 0, text, sizeof text, NULL) == EMBER_OK && strcmp(text, "100") == 0,
         "clipped to max: '%s'", text);

  /* ---- Energies, scores, classification ---- */
  enum { N = 300 };
  float *rows = malloc(N * d * sizeof(float)), *E = malloc(N * C * sizeof(float)), *s = malloc(N * sizeof(float));
  float *pct = malloc(N * sizeof(float)), *probs = malloc(N * C * sizeof(float));
  uint8_t *anom = malloc(N);
  int32_t *lab = malloc(N * sizeof(int32_t));
  make_rows(rows, N, d);
  EXPECT(ember_energies(model, rows, N, E) == EMBER_OK, "energies");
  EXPECT(ember_score(model, rows, N, s, pct, anom) == EMBER_OK, "score");
  EXPECT(ember_classify(model, rows, N, lab, probs) == EMBER_OK, "classify");
  float threshold = 0;
  EXPECT(ember_score_threshold(model, &threshold) == EMBER_OK && threshold == 8.5f, "threshold");
  double lp0 = log(ember_class_prior(model, 0)), lp1 = log(ember_class_prior(model, 1));
  int bad_score = 0, bad_prob = 0, bad_flag = 0, bad_pct = 0;
  for (size_t i = 0; i < N; i++) {
    double a = lp0 - E[i * C], b = lp1 - E[i * C + 1], m = a > b ? a : b;
    double ref = -(m + log(exp(a - m) + exp(b - m)));
    if (fabs(ref - s[i]) > 1e-4 * (1 + fabs(ref))) bad_score++;
    double psum = probs[i * C] + probs[i * C + 1];
    int arg = probs[i * C + 1] > probs[i * C] ? 1 : 0;
    if (fabs(psum - 1) > 1e-5 || arg != lab[i]) bad_prob++;
    if (anom[i] != (s[i] > threshold)) bad_flag++;
    if (pct[i] < 0 || pct[i] > 100) bad_pct++;
    for (size_t j = 0; j < N; j++)
      if (s[j] > s[i] && pct[j] < pct[i]) bad_pct++;
  }
  EXPECT(bad_score == 0, "%d scores differ from -log sum pi exp(-E)", bad_score);
  EXPECT(bad_prob == 0, "%d rows with probabilities not summing to 1 or label != argmax", bad_prob);
  EXPECT(bad_flag == 0 && bad_pct == 0, "anomaly flags %d / percentiles %d inconsistent", bad_flag, bad_pct);
  EXPECT(ember_energies(model, NULL, 0, NULL) == EMBER_OK, "n = 0 is a no-op");
  EXPECT(ember_energies(model, rows, (size_t)-1, E) == EMBER_E_INVALID_ARGUMENT, "huge n rejected");
  EXPECT(ember_score(model, NULL, 3, s, NULL, NULL) == EMBER_E_INVALID_ARGUMENT, "NULL rows");
  /* Batch size never changes results: row-by-row equals one call. */
  int bad_batch = 0;
  for (size_t i = 0; i < N; i += 37) {
    float one[2];
    ember_energies(model, rows + i * d, 1, one);
    if (one[0] != E[i * C] || one[1] != E[i * C + 1]) bad_batch++;
  }
  EXPECT(bad_batch == 0, "%d rows differ between batched and single calls", bad_batch);

  /* ---- Explanations: one moved column per row is named first; shares are consistent ---- */
  {
    const char *moved[3][4] = {{"140", "0.5", "50", "run"}, {"60", "6", "50", "run"}, {"60", "0.5", "160", "run"}};
    enum { F = 4, K = 2 };
    float *mx = malloc(3 * d * sizeof(float)), attr[3 * F], attr1[F], sh[3 * K];
    int32_t top[3 * K], top1[K];
    for (int i = 0; i < 3; i++) EXPECT(ember_encode(model, NAMES, moved[i], 4, 0, mx + i * d) == EMBER_OK, "encode moved");
    EXPECT(ember_explain(model, mx, 3, K, attr, top, sh) == EMBER_OK, "explain");
    for (int i = 0; i < 3; i++) {
      EXPECT(strcmp(ember_feature_name(model, (size_t)top[i * K]), NAMES[i]) == 0, "row %d: moved %s named first, got %s", i,
             NAMES[i], ember_feature_name(model, (size_t)top[i * K]));
      double pos = 0;
      int arg = 0;
      for (int f = 0; f < F; f++) {
        pos += attr[i * F + f] > 0 ? attr[i * F + f] : 0;
        if (attr[i * F + f] > attr[i * F + arg]) arg = f;
        EXPECT(isfinite(attr[i * F + f]), "finite attribution");
      }
      EXPECT(arg == top[i * K], "top = argmax of the attributions");
      for (int j = 0; j < K; j++) {
        float a = attr[i * F + top[i * K + j]];
        EXPECT(fabs(sh[i * K + j] - (a > 0 ? a / pos : 0)) < 1e-5, "share = max(a, 0) / sum max(a, 0)");
      }
      EXPECT(sh[i * K] >= sh[i * K + 1] && sh[i * K] <= 1 && sh[i * K + 1] >= 0, "shares ordered, in [0, 1]");
    }
    EXPECT(ember_explain(model, mx + 2 * d, 1, K, attr1, top1, NULL) == EMBER_OK &&
               memcmp(attr1, attr + 2 * F, sizeof attr1) == 0 && memcmp(top1, top + 2 * K, sizeof top1) == 0,
           "one row alone = the same row in a batch");
    int32_t top3[3 * K];
    EXPECT(ember_explain(model, mx, 3, K, NULL, top3, NULL) == EMBER_OK && memcmp(top3, top, sizeof top3) == 0,
           "top without attributions = top with them");
    EXPECT(ember_explain(model, NULL, 0, K, NULL, NULL, NULL) == EMBER_OK, "n = 0 is a no-op");
    EXPECT(ember_explain(model, mx, 3, F + 1, attr, top, sh) == EMBER_E_INVALID_ARGUMENT &&
               strstr(ember_last_error(), "more columns") != NULL,
           "k > features refused");
    EXPECT(ember_explain(model, mx, 3, K, NULL, NULL, NULL) == EMBER_E_INVALID_ARGUMENT, "nothing to compute");
    EXPECT(ember_explain(model, NULL, 3, K, attr, top, sh) == EMBER_E_INVALID_ARGUMENT, "NULL rows");
    EXPECT(ember_explain(NULL, mx, 3, K, attr, top, sh) == EMBER_E_INVALID_ARGUMENT, "NULL model");
    free(mx);
  }

  /* ---- Concurrency: 4 threads share the handle while this thread fails calls ---- */
  enum { T = 4 };
  pthread_t th[T];
  struct worker w[T];
  for (int t = 0; t < T; t++) {
    w[t] = (struct worker){model, rows, N, malloc(N * sizeof(float)), malloc(N * sizeof(int32_t)), 0};
    pthread_create(&th[t], NULL, score_worker, &w[t]);
  }
  for (int k = 0; k < 50; k++) ember_class_index(model, "nope", &idx);
  for (int t = 0; t < T; t++) {
    pthread_join(th[t], NULL);
    EXPECT(w[t].error_seen == 0, "thread %d error %d", t, w[t].error_seen);
    EXPECT(memcmp(w[t].scores, s, N * sizeof(float)) == 0 && memcmp(w[t].labels, lab, N * sizeof(int32_t)) == 0,
           "thread %d results differ", t);
    free(w[t].scores);
    free(w[t].labels);
  }
  EXPECT(strstr(ember_last_error(), "nope") != NULL, "main thread keeps its own message");

  /* ---- Sampling ---- */
  EXPECT(ember_sampler_options_size() == sizeof(ember_sampler_options), "options layout %zu vs %zu",
         ember_sampler_options_size(), sizeof(ember_sampler_options));
  enum { S = 600 };
  float *a = malloc(S * d * sizeof(float)), *b = malloc(S * d * sizeof(float));
  int32_t *ca = malloc(S * sizeof(int32_t));
  ember_sample_stats st;
  EXPECT(ember_sample(model, -1, S, 7, NULL, a, ca, &st) == EMBER_OK, "sample");
  EXPECT(st.chains == S, "chains %llu", (unsigned long long)st.chains);
  int n0 = 0;
  for (size_t i = 0; i < S; i++) n0 += ca[i] == 0;
  EXPECT(n0 == 420, "proportional split gives %d normal rows, expected 420", n0);
  EXPECT(ca[0] == 0 && ca[S - 1] == 1, "rows grouped by class");
  ember_sampler_options opts;
  ember_sampler_options_init(&opts);
  opts.threads = 2;
  EXPECT(ember_sample(model, -1, S, 7, &opts, b, NULL, NULL) == EMBER_OK && memcmp(a, b, S * d * sizeof(float)) == 0,
         "threads do not change samples");
  EXPECT(ember_sample(model, -1, S, 8, NULL, b, NULL, NULL) == EMBER_OK && memcmp(a, b, S * d * sizeof(float)) != 0,
         "another seed gives other samples");
  int finite = 1;
  for (size_t i = 0; i < S * d; i++) finite &= isfinite(a[i]) != 0;
  EXPECT(finite, "samples are finite");
  /* Zero steps, no init noise, starting rows: every sample is a stored starting row. */
  ember_sampler_options_init(&opts);
  opts.steps = 0;
  opts.init_noise = 0;
  opts.init = EMBER_INIT_STARTING_ROWS;
  EXPECT(ember_sample(model, 0, 50, 3, &opts, b, NULL, NULL) == EMBER_OK, "zero-step sample");
  int off = 0;
  for (size_t i = 0; i < 50; i++) {
    float *x = b + i * d;
    if (x[1] != -x[0] || x[3] != 0 || x[4] != 1 || x[5] != 0) off++;
  }
  EXPECT(off == 0, "%d zero-step samples are not starting rows", off);
  EXPECT(ember_sample(model, 2, 5, 1, NULL, b, NULL, NULL) == EMBER_E_UNKNOWN_CLASS, "class out of range");
  EXPECT(ember_sample(model, -2, 5, 1, NULL, b, NULL, NULL) == EMBER_E_INVALID_ARGUMENT, "class -2");
  EXPECT(ember_sample(model, 0, 5, 1, NULL, NULL, NULL, NULL) == EMBER_E_INVALID_ARGUMENT, "NULL output");
  /* The class filter: -1 (the default) is READOUT; OFF keeps every chain's first run, so a
     row the filter accepted at its first run is the same row in both. */
  float *c = malloc(S * d * sizeof(float));
  ember_sampler_options_init(&opts);
  EXPECT(opts.class_filter == -1, "class_filter starts at the default");
  opts.class_filter = EMBER_CLASS_FILTER_READOUT;
  EXPECT(ember_sample(model, -1, S, 7, &opts, b, NULL, NULL) == EMBER_OK && memcmp(a, b, S * d * sizeof(float)) == 0,
         "READOUT is the default filter");
  opts.class_filter = EMBER_CLASS_FILTER_BALANCED;
  EXPECT(ember_sample(model, -1, S, 7, &opts, b, NULL, NULL) == EMBER_OK, "BALANCED filter");
  opts.class_filter = EMBER_CLASS_FILTER_OFF;
  EXPECT(ember_sample(model, -1, S, 7, &opts, c, NULL, NULL) == EMBER_OK, "unfiltered sample");
  int same = 0;
  for (size_t i = 0; i < S; i++) same += memcmp(a + i * d, c + i * d, d * sizeof(float)) == 0;
  EXPECT(same > S / 2, "%d of %d rows kept at their first run", same, S);
  free(c);
  opts.class_filter = 7;
  EXPECT(ember_sample(model, 0, 5, 1, &opts, b, NULL, NULL) == EMBER_E_INVALID_ARGUMENT && strstr(ember_last_error(), "class_filter"),
         "class_filter 7 refused [%s]", ember_last_error());
  ember_sampler_options_init(&opts);
  opts.struct_size = 0;
  EXPECT(ember_sample(model, 0, 5, 1, &opts, b, NULL, NULL) == EMBER_E_INVALID_ARGUMENT, "uninitialised options");
  ember_sampler_options_init(&opts);
  opts.kind = 9;
  EXPECT(ember_sample(model, 0, 5, 1, &opts, b, NULL, NULL) == EMBER_E_INVALID_ARGUMENT, "bad kind");
  ember_sampler_options_init(&opts);
  opts.step_size = -1;
  EXPECT(ember_sample(model, 0, 5, 1, &opts, b, NULL, NULL) == EMBER_E_INVALID_ARGUMENT, "bad step size");
  /* Defects 3 and 10: steps, threads and noise are bounded like the CLI's options. */
  ember_sampler_options_init(&opts);
  opts.steps = 1000001;
  EXPECT(ember_sample(model, 0, 5, 1, &opts, b, NULL, NULL) == EMBER_E_INVALID_ARGUMENT && strstr(ember_last_error(), "steps"),
         "steps above 1000000 refused [%s]", ember_last_error());
  ember_sampler_options_init(&opts);
  opts.threads = 20000;
  EXPECT(ember_sample(model, 0, 5, 1, &opts, b, NULL, NULL) == EMBER_E_INVALID_ARGUMENT && strstr(ember_last_error(), "threads"),
         "20000 threads refused [%s]", ember_last_error());
  ember_sampler_options_init(&opts);
  opts.init_noise = 1e30f;
  EXPECT(ember_sample(model, 0, 5, 1, &opts, b, NULL, NULL) == EMBER_E_INVALID_ARGUMENT, "init noise 1e30 refused");
  ember_sampler_options_init(&opts);
  opts.divergence_limit = INFINITY;
  EXPECT(ember_sample(model, 0, 5, 1, &opts, b, NULL, NULL) == EMBER_E_INVALID_ARGUMENT, "infinite divergence limit refused");
  ember_sampler_options_init(&opts);
  opts.threads = 1024;
  EXPECT(ember_sample(model, 0, 5, 1, &opts, b, NULL, NULL) == EMBER_OK, "1024 threads accepted (at most the cores are used)");
  ember_sampler_options_init(&opts);
  opts.kind = EMBER_SAMPLER_MALA;
  opts.steps = 10;
  EXPECT(ember_sample(model, 0, 20, 1, &opts, b, NULL, &st) == EMBER_OK && st.proposals == 200 && st.accepted <= 200,
         "MALA stats %llu/%llu", (unsigned long long)st.accepted, (unsigned long long)st.proposals);

  free(rows);
  free(E);
  free(s);
  free(pct);
  free(probs);
  free(anom);
  free(lab);
  free(a);
  free(b);
  free(ca);
  ember_close(model);
  if (failures) {
    printf("%d checks failed\n", failures);
    return 1;
  }
  printf("all checks passed\n");
  return 0;
}
