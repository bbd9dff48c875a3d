/* passes.h: the internal header of frost's middle end: the pass pipeline
 * over the IR, between the frontend and a back end.
 *
 * Sections follow the files that implement them: freeze.c (the freeze
 * boundary, the first pass), pipeline.c (the pass list and its options),
 * then one file per pass, in pipeline order: infer.c, fold.c, fold_bn.c,
 * fold_affine.c, simplify.c, cse.c, autodiff.c (with grad.h and the rules
 * of grad.c), fuse.c, plan_memory.c, layout_params.c.
 *
 * The passes use the IR and, to evaluate constant nodes, the runtime's
 * interpreter; nothing of LLVM or of a frontend.
 */
#ifndef FROST_PASSES_H
#define FROST_PASSES_H

#include "../../runtime/runtime.h"

/* ---- freeze.c: the freeze boundary ----------------------------------- */

enum { FR_MAX_FREEZE = 64 };
typedef struct fr_freeze_rule {
  bool trainable;    /* --trainable (else --frozen) */
  const char *regex; /* POSIX extended, over parameter names */
} fr_freeze_rule;
typedef struct fr_freeze_opts {
  const char *train_from[FR_MAX_FREEZE]; /* value or node names */
  int n_train_from;
  fr_freeze_rule rules[FR_MAX_FREEZE];   /* applied in order */
  int n_rules;
  /* --bn-train: the running statistics of a BatchNormalization whose scale
   * or bias trains are updated by training (FR_V_STATE) */
  bool bn_train;
  /* frost adapt-bn: the statistics of every BatchNormalization are
   * FR_V_STATE, whether or not anything trains */
  bool bn_adapt;
  int matched[FR_MAX_FREEZE]; /* set by fr_freeze_apply: the parameters
                                 each rule named */
} fr_freeze_opts;
/* Prints "frost: warning: ..." for each rule that named no parameter. */
void fr_freeze_warn(const fr_freeze_opts *o, FILE *f);

/* Marks parameters, values and nodes of the main graph frozen or
 * trainable. Default: all frozen. */
fr_status fr_freeze_apply(fr_model *m, fr_freeze_opts *o);

typedef struct fr_param_count {
  int64_t frozen, frozen_bytes, trainable, trainable_bytes;
} fr_param_count;
void fr_freeze_count(const fr_model *m, fr_param_count *c);

/* ---- train_graph.c: a model made a training graph --------------------- */

typedef struct fr_train_spec {
  const char *cut;    /* --cut: the value the graph keeps up to, or NULL */
  const char *head;   /* --head linear:N | mlp:H1,...,N, or NULL */
  /* Multi-task, in place of head: n_heads named heads (NAME:linear:N,
   * NAME:mlp:...), each a classifier of its own task on the same cut value,
   * and each head's share of the loss (NULL: 1 each). */
  const char *const *heads;
  int n_heads;
  const double *task_weights;
  uint64_t seed;      /* the head's initial weights */
  int loss_kind;      /* FR_LOSS_* */
  bool probabilities; /* ce: the output is probabilities, not logits */
  int64_t batch;      /* B: the first dim of every input */
  int64_t n_classes;  /* C: classes (ce), targets (bce, mse) */
  bool infer_only;    /* no loss: the head's output is the only output, and
                         the graph has no frost.targets, frost.weights */
  bool ssl;           /* the contrastive loss (InfoNCE): the batch is two
                         views of batch / 2 samples, n_classes == batch,
                         and --head is a projection head (frost.proj.*) */
  double temperature; /* ssl: the similarities are divided by it */
} fr_train_spec;
/* Head surgery and the loss (see train_graph.c): sets m->graph->train, with
 * outputs [loss, logits] and the inputs frost.targets [B, C] and
 * frost.weights [B] after the model's own. Head parameters are named
 * frost.head.<layer>.weight|bias (frost.proj.* for ssl's projection head,
 * never exported); the caller makes them trainable.
 * Several heads (s->n_heads): outputs [loss, logits of each head, loss of
 * each head] and inputs frost.targets.NAME, frost.weights.NAME per head,
 * parameters frost.head.NAME.<layer>.weight|bias. */
fr_status fr_train_build(fr_model *m, const fr_train_spec *s);
/* A --head: "linear:N", "mlp:H1,...,N", or either after "NAME:" (one of
 * several heads; a name is a letter then letters, digits, '_', '-'). */
typedef struct fr_head_spec {
  char name[64];      /* "" for a head without a name */
  int64_t widths[16]; /* the layers' outputs; the last: the classes */
  int n;              /* layers */
} fr_head_spec;
fr_status fr_head_parse(const char *spec, fr_head_spec *h);
/* After freezing: the one value computed by frozen nodes that trainable
 * nodes read, or NULL when there are several or a trainable node reads the
 * model's input (nothing to cache). */
fr_value *fr_train_boundary(const fr_graph *g);
/* Makes b an input of the graph under its name (the old value becomes
 * NAME.frozen) in place of the model's inputs, and drops the frozen nodes
 * before it: the graph then trains on cached features. */
fr_status fr_train_cut_input(fr_model *m, fr_value *b);
/* --bn-train, after freezing: every BatchNormalization whose statistics
 * are FR_V_STATE runs in training mode (batch statistics) and outputs its
 * updated running mean and variance as graph outputs: stats[i] is to take
 * the value of outs[i] after each step (at most max, *n_stats of them). */
fr_status fr_train_bn_mode(fr_model *m, fr_value **stats, fr_value **outs,
                           int max, int *n_stats);

/* ---- pipeline.c: the pass list ---------------------------------------- */

typedef struct fr_pipeline_opts {
  /* The freeze pass's options (--train-from, --trainable, --frozen); NULL:
   * it leaves the marks as they are (a new model's: all frozen). */
  fr_freeze_opts *freeze;
  const char *stop_after;                 /* the last pass to run; NULL: all */
  const char *print_before, *print_after; /* a pass name or "all" */
  bool time_passes;                       /* a table of pass times */
  bool partial;  /* shapes may stay unknown (dump); else they must be known */
  int state_slots; /* optimizer state slots in the parameter layout */
  FILE *dump;    /* where IR prints go (stdout when NULL) */
  /* Out: the print options printed the IR the pipeline left (its text was
   * the last printed), so a command need not print it again. */
  bool printed_final;
} fr_pipeline_opts;

typedef struct fr_pass {
  const char *name;
  fr_status (*run)(fr_model *m, const fr_pipeline_opts *o);
  const char *what;
} fr_pass;

/* Runs the passes on m's main graph in order (up to o->stop_after), the
 * verifier after each. --print-before/--print-after print the IR only when
 * its text changed since the last print (else one line, "; after PASS:
 * unchanged"); o->printed_final says whether the last print is the final
 * IR. */
fr_status fr_pipeline_run(fr_model *m, fr_pipeline_opts *o);
/* Checks pass names in the options. */
fr_status fr_pipeline_check(const fr_pipeline_opts *o);
const fr_pass *fr_passes(int *n);

/* ---- the passes, one file each, in pipeline order -------------------- */

/* freeze.c: fr_freeze_apply with o->freeze. */
fr_status fr_pass_freeze(fr_model *m, const fr_pipeline_opts *o);
/* infer.c */
fr_status fr_pass_infer(fr_model *m, const fr_pipeline_opts *o);
/* fold.c */
fr_status fr_pass_fold(fr_model *m, const fr_pipeline_opts *o);
/* fold_bn.c */
fr_status fr_pass_fold_bn(fr_model *m, const fr_pipeline_opts *o);
/* fold_affine.c */
fr_status fr_pass_fold_affine(fr_model *m, const fr_pipeline_opts *o);
/* simplify.c */
fr_status fr_pass_simplify(fr_model *m, const fr_pipeline_opts *o);
/* cse.c */
fr_status fr_pass_cse(fr_model *m, const fr_pipeline_opts *o);
/* fuse.c */
fr_status fr_pass_autodiff(fr_model *m, const fr_pipeline_opts *o);
/* Replaces every node of ONNX's Gradient op (ai.onnx.preview.training) by
 * the backward nodes computing it (the autodiff pass does it first; the
 * interpreter's engine too, which runs no pipeline). */
fr_status fr_expand_gradients(fr_model *m);
fr_status fr_pass_fuse(fr_model *m, const fr_pipeline_opts *o);
/* plan_memory.c */
fr_status fr_pass_plan_memory(fr_model *m, const fr_pipeline_opts *o);
/* layout_params.c */
fr_status fr_pass_layout_params(fr_model *m, const fr_pipeline_opts *o);

#endif
