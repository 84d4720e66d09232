/*
 * ember_train.h — C API of the Ember trainer (libCEmberTrainer.so, which also exports every
 * function of ember.h).
 *
 * Trains a model in process, exactly as `ember train` does: the options are CLI-style strings
 * ("--target", "species", "--hidden", "64,64", ...) checked by the CLI's own option table and
 * scanner (so they are accepted, defaulted and refused identically; ember_train_options_json
 * describes the table), the data is a CSV file or CSV text read by the trainer's CSV reader. The result is the
 * model's bytes — open them with ember_open_bytes (ember.h) or write them to a file.
 *
 * ERRORS are reported as in ember.h: a status, and the calling thread's message in
 * ember_last_error(). Option errors are EMBER_E_BAD_OPTION with the scanner's message; data
 * errors (an unreadable CSV file too) and training that diverged EMBER_E_BAD_DATA with
 * "file:line: column \"c\": what" (line 1 is the header); an unreadable --add-to model the format
 * statuses of ember.h.
 *
 * THREADS: training runs on `--threads` worker threads (default: one per core) and returns when
 * done. The progress callback, when given, is called from those worker threads (possibly
 * concurrently) after every step of every class; it must be thread-safe and quick. Training
 * cannot be interrupted.
 */
#ifndef EMBER_TRAIN_H
#define EMBER_TRAIN_H

#include "ember.h"

#ifdef __cplusplus
extern "C" {
#endif

/** A training result: the model's bytes and the run's summary (opaque). */
typedef struct ember_trained ember_trained;

/** Progress after a training step: class `class_index` of `class_count` (label `label`), in phase `phase`
 *  of `phases` (one per cross-fitting fold, then the final fit), step `step` of at most `steps`, its loss. */
typedef void (*ember_train_progress)(void *context, const char *label, int32_t class_index, int32_t class_count,
                                     int32_t phase, int32_t phases, int32_t step, int32_t steps, double loss);

/** Trains on the CSV file `csv_path` with `nargs` option strings `args` (as after `ember train DATA`;
 *  "--target" is required). `progress` may be NULL. On success stores a result in *out (release with
 *  ember_trained_free), else NULL. */
ember_status ember_train_csv(const char *csv_path, const char *const *args, size_t nargs,
                             ember_train_progress progress, void *context, ember_trained **out);

/** As ember_train_csv, from `len` bytes of UTF-8 CSV text (header row first); `source` names the text
 *  in error messages (NULL: "<data>"). */
ember_status ember_train_text(const char *csv_text, size_t len, const char *source, const char *const *args,
                              size_t nargs, ember_train_progress progress, void *context, ember_trained **out);

/** The model file's bytes (owned by `trained`); *len receives their count. NULL for NULL. */
const uint8_t *ember_trained_bytes(const ember_trained *trained, size_t *len);
/** The summary `ember train` prints (warnings, classes, held-out metrics). Owned by `trained`. */
const char *ember_trained_summary(const ember_trained *trained);
/** The same summary as one JSON object. Owned by `trained`. */
const char *ember_trained_summary_json(const ember_trained *trained);
/** Releases a result. NULL is a no-op. */
void ember_trained_free(ember_trained *trained);

/** The training options' declaration (the option table `ember train` uses) as JSON:
 *  {"options": [{"name": "weight-decay", "flag": false, "required": false, "default": "0.001",
 *  "help": "...", "choices": [...]}, ...]} (long names; default null when the trainer picks the value
 *  itself; choices only for options taking one of a list of words). Static string. */
const char *ember_train_options_json(void);

/** The report `ember inspect --json` prints for `model` (its "path" field: `path`, may be NULL), as
 *  NUL-terminated UTF-8 into `buf` (`buflen` bytes). *needed (if not NULL) receives the bytes
 *  required including the NUL; a short buffer gives EMBER_E_BUFFER_TOO_SMALL. */
ember_status ember_inspect_json(const ember_model *model, const char *path, char *buf, size_t buflen, size_t *needed);

#ifdef __cplusplus
}
#endif

#endif /* EMBER_TRAIN_H */
