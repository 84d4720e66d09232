/*
 * ember_stream.c — streaming anomaly scores with the Ember C API in constant memory.
 *
 *   ./ember_stream MODEL.ember < rows.csv > scores.csv
 *
 * Reads a CSV with a header row from stdin (plain fields: no quoting, no embedded commas),
 * matches the header once with an ember_encoder, scores rows in batches of 256 and writes
 * "score,anomaly" per row (anomaly empty when the model has no calibration). Memory is
 * O(batch · width), independent of the number of rows. Exits 1 with a message naming the
 * line on any error. Used for the memory and start-up budgets in docs/DEPLOYMENT.md.
 */
#include <ember.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { BATCH = 256, MAX_COLS = 4096 };

/* Splits `line` in place at commas (trailing newline removed); returns the field count. */
static size_t split(char *line, const char **fields) {
  size_t n = 0;
  line[strcspn(line, "\r\n")] = '\0';
  char *p = line;
  while (n < MAX_COLS) {
    fields[n++] = p;
    char *comma = strchr(p, ',');
    if (!comma) break;
    *comma = '\0';
    p = comma + 1;
  }
  return n;
}

static void fail(const char *what, long line) {
  fprintf(stderr, "error: %s (stdin line %ld): %s\n", what, line, ember_last_error());
  exit(1);
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: ember_stream MODEL.ember < rows.csv > scores.csv\n");
    return 2;
  }
  ember_model *model = NULL;
  if (ember_open_path(argv[1], &model) != EMBER_OK) fail("cannot open the model", 0);
  size_t d = ember_encoded_width(model);
  float threshold = 0;
  int calibrated = ember_score_threshold(model, &threshold) == EMBER_OK;

  static char line[1 << 16];
  static const char *fields[MAX_COLS];
  long lineno = 1;
  if (!fgets(line, sizeof line, stdin)) {
    fprintf(stderr, "error: stdin is empty (a header row is required)\n");
    return 1;
  }
  size_t ncols = split(line, fields);
  /* Header names must outlive the encoder call only; ember_encoder_new copies them. */
  ember_encoder *enc = NULL;
  if (ember_encoder_new(model, fields, ncols, 0, &enc) != EMBER_OK) fail("header", lineno);

  float *rows = malloc(BATCH * d * sizeof(float));
  float *scores = malloc(BATCH * sizeof(float));
  uint8_t *flags = malloc(BATCH);
  uint32_t *row_flags = malloc(BATCH * sizeof(uint32_t));
  if (!rows || !scores || !flags || !row_flags) {
    fprintf(stderr, "error: out of memory\n");
    return 1;
  }
  printf("score,anomaly\n");
  size_t n = 0;
  int more = 1;
  while (more) {
    more = fgets(line, sizeof line, stdin) != NULL;
    if (more) {
      lineno++;
      size_t got = split(line, fields);
      if (got < ncols) {
        fprintf(stderr, "error: stdin line %ld has %zu fields, the header %zu\n", lineno, got, ncols);
        return 1;
      }
      /* Row flags mark categories never seen in training (read as missing): such a row is
       * anomalous whatever its score, as in `ember score`. */
      if (ember_encoder_encode_row(enc, fields, rows + n * d, &row_flags[n]) != EMBER_OK) fail("bad row", lineno);
      n++;
    }
    if (n == BATCH || (!more && n > 0)) {
      if (ember_score_flagged(model, rows, row_flags, n, scores, NULL, calibrated ? flags : NULL) != EMBER_OK)
        fail("score", lineno);
      for (size_t i = 0; i < n; i++) {
        if (calibrated)
          printf("%.6g,%d\n", scores[i], flags[i]);
        else
          printf("%.6g,\n", scores[i]);
      }
      n = 0;
    }
  }
  free(rows);
  free(row_flags);
  free(scores);
  free(flags);
  ember_encoder_free(enc);
  ember_close(model);
  return 0;
}
