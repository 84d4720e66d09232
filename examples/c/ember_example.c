/*
 * ember_example.c — using the Ember C API: open a model, encode a few raw rows, score and
 * classify them, draw 5 synthetic rows with a seed and print them as CSV.
 *
 *   make -C examples/c run            # builds libCEmber.so first if needed
 *   ./ember_example [MODEL.ember]     # default: examples/c/demo.ember
 *
 * Every call's status is checked; on failure the program prints ember_last_error() and
 * exits with status 1. The rows below match the demo model's columns (temperature,
 * vibration, load, mode); for another model, pass rows that match its feature names.
 */
#include <ember.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Prints the failing call, its status and the thread's error message, then exits. */
#define CHECK(call)                                                                       \
  do {                                                                                    \
    ember_status status_ = (call);                                                        \
    if (status_ != EMBER_OK) {                                                            \
      fprintf(stderr, "error: %s failed with status %d (%s)\n  %s\n", #call, (int)status_, \
              ember_error_message(status_), ember_last_error());                          \
      exit(1);                                                                            \
    }                                                                                     \
  } while (0)

/* Allocates or exits. */
static void *xcalloc(size_t n, size_t size) {
  void *p = calloc(n ? n : 1, size ? size : 1);
  if (!p) {
    fprintf(stderr, "error: out of memory\n");
    exit(1);
  }
  return p;
}

int main(int argc, char **argv) {
  const char *path = argc > 1 ? argv[1] : "examples/c/demo.ember";
  printf("ember %s\n", ember_version());

  ember_model *model = NULL;
  CHECK(ember_open_path(path, &model));

  size_t nclass = ember_class_count(model);
  size_t nfeat = ember_feature_count(model);
  size_t d = ember_encoded_width(model);
  printf("model: classes=%zu features=%zu width=%zu target=%s\n", nclass, nfeat, d, ember_target_name(model));
  for (size_t c = 0; c < nclass; c++)
    printf("class %zu: %s prior=%.3f\n", c, ember_class_label(model, c), ember_class_prior(model, c));

  /* Three raw rows by column name: a typical normal reading, a typical fault, an outlier.
   * The extra "site" column is ignored; a NULL value would be imputed. */
  const char *names[] = {"site", "temperature", "vibration", "load", "mode"};
  const char *raw[3][5] = {
      {"A", "60", "0.5", "50", "run"},
      {"B", "85", "1.1", "70", "boost"},
      {"C", "99", "0.01", "0", "idle"},
  };
  const size_t nrows = 3, ncols = 5;
  float *rows = xcalloc(nrows * d, sizeof(float));
  for (size_t r = 0; r < nrows; r++) CHECK(ember_encode(model, names, raw[r], ncols, 0, rows + r * d));

  float *scores = xcalloc(nrows, sizeof(float));
  float *percentiles = xcalloc(nrows, sizeof(float));
  uint8_t *anomalies = xcalloc(nrows, sizeof(uint8_t));
  float threshold = 0;
  int calibrated = ember_score_threshold(model, &threshold) == EMBER_OK;
  CHECK(ember_score(model, rows, nrows, scores, calibrated ? percentiles : NULL, calibrated ? anomalies : NULL));

  int32_t *labels = xcalloc(nrows, sizeof(int32_t));
  float *probs = xcalloc(nrows * nclass, sizeof(float));
  CHECK(ember_classify(model, rows, nrows, labels, probs));

  if (calibrated) printf("threshold=%.4f\n", threshold);
  for (size_t r = 0; r < nrows; r++) {
    int32_t k = labels[r];
    printf("row %zu: score=%.4f percentile=%.3f anomaly=%d label=%s p=%.3f\n", r, scores[r],
           calibrated ? percentiles[r] : -1.0f, calibrated ? anomalies[r] : -1, ember_class_label(model, (size_t)k),
           probs[r * nclass + (size_t)k]);
  }

  /* Five synthetic rows, classes in proportion to the priors, seed 42, file defaults. */
  const size_t count = 5;
  const uint64_t seed = 42;
  float *samples = xcalloc(count * d, sizeof(float));
  int32_t *classes = xcalloc(count, sizeof(int32_t));
  ember_sample_stats stats;
  CHECK(ember_sample(model, -1, count, seed, NULL, samples, classes, &stats));

  printf("sample: seed=%llu count=%zu\n", (unsigned long long)seed, count);
  for (size_t f = 0; f < nfeat; f++) printf("%s,", ember_feature_name(model, f));
  printf("%s\n", ember_target_name(model));
  char text[256];
  for (size_t r = 0; r < count; r++) {
    for (size_t f = 0; f < nfeat; f++) {
      CHECK(ember_decode_field(model, samples + r * d, f, text, sizeof text, NULL));
      printf("%s,", text);
    }
    printf("%s\n", ember_class_label(model, (size_t)classes[r]));
  }
  printf("stats chains=%llu restarts=%llu proposals=%llu accepted=%llu\n", (unsigned long long)stats.chains,
         (unsigned long long)stats.restarts, (unsigned long long)stats.proposals, (unsigned long long)stats.accepted);

  free(rows);
  free(scores);
  free(percentiles);
  free(anomalies);
  free(labels);
  free(probs);
  free(samples);
  free(classes);
  ember_close(model);
  return 0;
}
