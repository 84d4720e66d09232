/*
 * ember_coldstart.c — measures in-process cold start: open (map + verify + CRC + validate +
 * pack weights), then encode and score the first row, with CLOCK_MONOTONIC.
 *
 *   ./ember_coldstart MODEL.ember [REPEATS]
 *
 * Prints one line per repeat: "open_ms=… first_score_ms=… total_ms=…". The first repeat is
 * the cold one (page cache permitting); later repeats show the warm cost of a reopen. The row
 * scored is the model's training imputation (every cell missing), so any model works.
 */
#define _POSIX_C_SOURCE 199309L
#include <ember.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: ember_coldstart MODEL.ember [REPEATS]\n");
    return 2;
  }
  int repeats = argc > 2 ? atoi(argv[2]) : 1;
  for (int r = 0; r < repeats; r++) {
    double t0 = now_ms();
    ember_model *model = NULL;
    if (ember_open_path(argv[1], &model) != EMBER_OK) {
      fprintf(stderr, "error: %s\n", ember_last_error());
      return 1;
    }
    double t1 = now_ms();
    size_t nf = ember_feature_count(model), d = ember_encoded_width(model);
    const char **names = calloc(nf, sizeof *names);
    const char **values = calloc(nf, sizeof *values); /* all NULL: missing → imputed */
    float *row = calloc(d, sizeof(float));
    float score = 0;
    for (size_t i = 0; i < nf; i++) names[i] = ember_feature_name(model, i);
    if (ember_encode(model, names, values, nf, 0, row) != EMBER_OK ||
        ember_score(model, row, 1, &score, NULL, NULL) != EMBER_OK) {
      fprintf(stderr, "error: %s\n", ember_last_error());
      return 1;
    }
    double t2 = now_ms();
    printf("open_ms=%.3f first_score_ms=%.3f total_ms=%.3f score=%.4f\n", t1 - t0, t2 - t1, t2 - t0, score);
    free(names);
    free(values);
    free(row);
    ember_close(model);
  }
  return 0;
}
