/* cmd.h: the internal header of the frost command: the top of the
 * pipeline, which loads models with the ONNX frontend and runs them
 * through the passes and a back end.
 *
 * Sections follow the files that implement them: conformance.c (the ONNX
 * backend node tests, `frost conformance`), compare.c (tensor comparison,
 * `frost compare`), cli.c (the options of every command, loading a model,
 * input files, errors), then one file per command: dump.c, run.c, bench.c,
 * compile.c, train.c, eval.c; help.c holds the commands' and options'
 * help, and compiler/main.c dispatches.
 */
#ifndef FROST_CMD_H
#define FROST_CMD_H

#include "../../frontends/onnx/onnx.h"
#include "../llvm/llvm.h"

/* ---- conformance.c -------------------------------------------------- */

typedef struct fr_conf_opts {
  const char *dir;     /* folder of test folders */
  const char *engine;  /* "interp" */
  const char *expect;  /* file listing tests that must pass, or NULL */
  const char *filter;  /* substring of test names, or NULL */
  const char *only;    /* file listing the tests to run, or NULL: all */
  const char *write_passing; /* write the passing tests' names here */
  /* jit: file listing tests that must pass compiled to native code (not
   * run by the interpreter the JIT falls back to), or NULL */
  const char *expect_native;
  const char *write_native; /* jit: write those tests' names here */
  bool verbose;
  fr_jit_opts jit; /* jit: specialized or calls, the code cache */
  int timeout_s;
} fr_conf_opts;

/* Runs the tests; returns FR_ERR_INVALID when an expected test fails (or,
 * with expect_native, runs with the interpreter). */
fr_status fr_conformance(const fr_conf_opts *o);

/* ---- compare.c ------------------------------------------------------ */

/* FR_OK when got matches want within rtol/atol (floats; others exact);
 * otherwise FR_ERR_INVALID with the first mismatch described. */
fr_status fr_compare(const fr_tensor *got, const fr_tensor *want, double rtol,
                     double atol);



/* ---- train.c: the graphs of an artifact that trains --------------------- */

/* What `frost compile --train` compiles (train.c builds them as frost
 * train does, from the model's input shape and --head, --batch, --cut,
 * the freeze options and the optimizer): every graph after the pipeline,
 * their trainable parameters at the same offsets of one layout. */
typedef struct fr_train_artifact {
  fr_model *step;     /* [samples or features, frost.targets, frost.weights]
                         -> [loss, logits, one gradient per parameter] */
  fr_model *eval;     /* the same inputs -> [loss, logits], no backward */
  fr_model *features; /* the frozen backbone: the model's input -> the
                         step's first input; NULL when the step starts at
                         the model's input (nothing to cache) */
  fr_model *run;      /* inference with the head: the model's input -> logits */
  fr_model *frontend; /* --frontend: [1, clip samples] -> frames, or NULL */
  int64_t frontend_out, frontend_last; /* its output values, frame width */
  fr_value *stats[64]; /* --bn-train: the statistics, whose new values are */
  int n_stats;         /* the step's outputs 2, 3, ... */
  int64_t batch, classes;
  int slots;          /* the optimizer's state slots */
} fr_train_artifact;

/* ---- cli.c: the command line shared by the commands ----------------- */

enum { FR_CLI_MAX_ARGS = 256 };

/* Every option of every command (one parser, fr_cli_parse). */
typedef struct fr_cli {
  const char *model;
  const char *output_dir;
  const char *engine;
  bool dot;
  fr_shape_override shapes[FR_CLI_MAX_ARGS];
  int n_shapes;
  const char *in_names[FR_CLI_MAX_ARGS], *in_files[FR_CLI_MAX_ARGS];
  int n_inputs;
  fr_conf_opts conf;
  double rtol, atol;
  const char *second; /* compare: the expected file */
  int64_t max_memory; /* --max-memory: cap on model tensors and on the heap */
  fr_freeze_opts freeze; /* the freeze pass's: pipe.freeze points here */
  fr_pipeline_opts pipe;
  const char *stage; /* dump: imported | optimized */
  const char *cpu;   /* --target-cpu */
  int iters, threads;
  fr_jit_opts jit;   /* --no-specialize, --target-cpu, the code cache */
  char cache_dir[4096]; /* jit.cache_dir points here, unless --no-code-cache */
  const char *out;  /* compile: -o */
  const char *emit; /* compile: --emit */
  const char *name; /* compile: --name (C API prefix) */
  bool static_shapes; /* compile: symbolic input dims are errors */
  bool compile_train; /* compile: --train, a train step in the artifact */
  fr_train_opts train; /* train */
} fr_cli;

/* train.c: --frontend MODEL (c->train's front-end options): every clip of
 * each set through the front end into windows of the model's sample shape
 * (rank, dims, numel); groups[k][i] is window i's clip in set k (fr_free
 * it), clips[k] the clips of set k. */
fr_status fr_frontend_apply(fr_cli *c, int rank, const int64_t *dims, int64_t numel,
                            fr_dataset *const *sets, int n_sets, int **groups,
                            int *clips);
/* train.c: builds the graphs of `frost compile --train`. */
fr_status fr_train_artifact_build(fr_cli *c, fr_train_artifact *a);
void fr_train_artifact_free(fr_train_artifact *a);

/* Parses argv[2..] (argv[1] is the command) into c. */
fr_status fr_cli_parse(int argc, char **argv, fr_cli *c, bool want_model);
/* The code cache's folder: $FROST_CACHE_DIR, else $XDG_CACHE_HOME/frost,
 * else ~/.cache/frost; false when none is set (or it does not fit). */
bool fr_cli_cache_dir(char *buf, size_t n);
/* Prints "frost: error: MESSAGE" and returns 1, the exit status. */
int fr_cli_fail(void);
/* Loads c->model: the imported stage (the pipeline's freeze and infer),
 * or with optimize the whole pipeline (partial: shapes may stay unknown).
 * Errors are prefixed with the model's path. */
fr_status fr_cli_load_stage(fr_cli *c, fr_model **m, bool quiet, bool optimize,
                            bool partial);
/* The imported stage. */
fr_status fr_cli_load(fr_cli *c, fr_model **m, bool quiet);
/* A tensor from a .npy or .pb file. */
fr_status fr_cli_read_input(const char *path, fr_tensor *t);
/* m's one input fed with samples of shape (rank, dims) from data, batch B
 * at a time: [B, dims...]; an error names model and data when m takes
 * several inputs or one of another rank. */
fr_status fr_cli_feed(fr_model *m, const char *model, const char *data, int64_t B,
                      int rank, const int64_t *dims);
/* The progress line of long work, on stderr and only when stderr is a
 * terminal (never in logs or tests): "WHAT DONE/TOTAL [=====>   ]  DETAIL
 * 3.1 s" (no bar when total <= 0). Redrawn at most 10 times a second, or
 * when detail changes; the clock starts when what changes. One line at a
 * time: fr_progress_clear erases it (before printing a line of output; the
 * next call draws it again), fr_progress_done ends the work (fr_cli_fail
 * does). */
void fr_progress(const char *what, int64_t done, int64_t total,
                 const char *detail);
void fr_progress_clear(void);
void fr_progress_done(void);
/* frost dump's text: m's IR (or, when the print options just printed it,
 * a line saying so), the summary, and what the marks mean. */
void fr_cli_print_ir(const fr_cli *c, const fr_model *m);
/* --profile: the JIT's time per node of m (e compiled it) on stdout, or a
 * note that the interpreter ran (what: "the model", "the train step"). */
void fr_cli_print_profile(const fr_engine *e, const fr_model *m, const char *what);

/* ---- help.c: the commands and options, the help and --version ------- */

/* The index of command name, or -1. */
int fr_cli_command(const char *name);
/* "frost run MODEL --input NAME=FILE... [options]". */
const char *fr_cli_usage(const char *cmd);
/* Prints the help of cmd (NULL: the general help); 1 for an unknown
 * command (after the error line), else 0. */
int fr_cli_help(FILE *f, const char *cmd);
void fr_cli_version(FILE *f);
bool fr_cli_is_help(const char *arg); /* -h or --help */
/* The errors, with the closest command or option when one is close. */
fr_status fr_cli_unknown_command(const char *name);
fr_status fr_cli_unknown_option(const char *arg, const char *cmd);

/* ---- dist.c: several processes under mpirun ------------------------- */

/* Launched by mpirun (and built with FROST_MPI): MPI_Init, this process's
 * rank and the job's size; the ranks other than 0 write nothing (stdout
 * and stderr to /dev/null). Otherwise nothing: rank 0 of 1. */
fr_status fr_dist_init(int *argc, char ***argv);
/* The exit status of the job: the ranks agree on rc (1 when any rank
 * failed), rank 0 prints the error line, MPI_Finalize. */
int fr_dist_finish(int rc);
int fr_dist_rank(void);
int fr_dist_size(void);
/* Several ranks: fr_cli_fail leaves the error line to fr_dist_finish. */
bool fr_dist_quiet(void);
/* Rank 0 of several, whose mpirun's stderr is a terminal: progress lines
 * are drawn (they reach it through mpirun). */
bool fr_dist_tty(void);
/* Every rank's status in, one out, the same on every rank: the first
 * failing rank's error ("rank R: " before its message, unless every rank
 * failed). Call it before any collective below that a failing rank would
 * otherwise skip. */
fr_status fr_dist_agree(fr_status st);
/* Sums n floats (doubles when f64) at buf over the ranks, rank 0 first:
 * the same bits on every rank. */
fr_status fr_dist_sum(void *buf, int64_t n, bool f64);
/* Rank 0's bytes at buf to every rank. */
fr_status fr_dist_bcast(void *buf, int64_t bytes);
/* x holds n rows of width floats; each rank has filled its block of them
 * (fr_dist_block): afterwards every rank holds them all. */
fr_status fr_dist_gather_rows(float *x, int64_t n, int64_t width);
/* rows: this rank's block (fr_dist_block) of n rows of width floats,
 * fr_malloc'd and taken; st: this rank's status so far. On success *all
 * holds all n rows on every rank (one process: rows itself). */
fr_status fr_dist_share_rows(fr_status st, float *rows, int64_t n, int64_t width,
                             float **all);
/* Rank r's block of n items: [first, first + count), contiguous, in rank
 * order, sizes differing by at most one. */
void fr_dist_block(int64_t n, int rank, int size, int64_t *first, int64_t *count);
/* The train loop's hook (runtime.h), or NULL for one process. */
const fr_tl_dist *fr_dist_loop(void);

/* ---- extract.c: features as shards (frost extract, train --features) -- */

/* What a features folder says besides its samples. */
typedef struct fr_feature_info {
  char cut[512];          /* the value the features are */
  char model_sha256[65];  /* of the model they came from */
  int in_rank;            /* the model input's sample shape */
  int64_t in_dims[FR_MAX_RANK];
} fr_feature_info;
/* The features frost extract wrote to dir as a data set d (samples of
 * rank 1: the features, flat; labels or targets as in the data set
 * extracted). Several ranks each read their block and share them. */
fr_status fr_features_load(const char *dir, fr_feature_info *fi, fr_dataset *d);

/* ---- the commands, one file each: the exit status ------------------- */

int fr_cmd_dump(fr_cli *c);        /* dump.c */
int fr_cmd_run(fr_cli *c);         /* run.c */
int fr_cmd_bench(fr_cli *c);       /* bench.c */
int fr_cmd_compile(fr_cli *c);     /* compile.c */
int fr_cmd_conformance(fr_cli *c); /* conformance.c */
int fr_cmd_compare(fr_cli *c);     /* compare.c */
int fr_cmd_train(fr_cli *c);       /* train.c */
int fr_cmd_eval(fr_cli *c);        /* eval.c */
int fr_cmd_fewshot(fr_cli *c);     /* transfer.c */
int fr_cmd_cluster(fr_cli *c);     /* transfer.c */
int fr_cmd_adapt_bn(fr_cli *c);    /* transfer.c */
int fr_cmd_extract(fr_cli *c);     /* extract.c */
/* transfer.c: AdaBN: model's BatchNormalization statistics re-estimated
 * on the samples of data (c's data options), the model written to out. */
fr_status fr_adapt_bn(fr_cli *c, const char *model, const char *data, const char *out);
/* transfer.c: the model (c->model) up to cut (NULL: its first output),
 * compiled once and run over every sample of each set, batch at a time:
 * each set's samples become their flattened features. */
fr_status fr_extract_features(fr_cli *c, const char *cut, int64_t batch,
                              fr_dataset *const *sets, int n_sets, double *seconds);
/* transfer.c: the samples of d through m (prepared by e; its one input
 * `in` at the batch, one output of F floats a sample), batch at a time, the
 * last batch zero-padded: d's samples become the outputs (numel F; the
 * caller sets rank and dims). Progress: what, *done of all samples. */
fr_status fr_features_run(fr_engine *e, fr_model *m, fr_tensor *in, int64_t batch,
                          int64_t F, fr_dataset *d, const char *what,
                          int64_t *done, int64_t all);

#endif
