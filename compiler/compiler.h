/* compiler.h: the internal header of frost's compiler and command.
 * Sections: main.c (the frost command), conformance.c (the ONNX backend
 * node tests), compare.c (tensor comparison). */
#ifndef FROST_COMPILER_H
#define FROST_COMPILER_H

#include "../frontends/onnx/onnx.h"
#include "../runtime/runtime.h"

#define FR_VERSION "0.1"

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
} fr_freeze_opts;

/* Marks parameters, values and nodes of the main graph frozen or
 * trainable. Default: all frozen. */
fr_status fr_freeze_apply(fr_model *m, const fr_freeze_opts *o);

typedef struct fr_param_count {
  int64_t frozen, frozen_bytes, trainable, trainable_bytes;
} fr_param_count;
void fr_freeze_count(const fr_model *m, fr_param_count *c);

/* ---- pipeline.c: the pass list ---------------------------------------- */

typedef struct fr_pipeline_opts {
  const char *print_before, *print_after; /* a pass name or "all" */
  bool time_passes;                       /* a table of pass times */
  bool partial;  /* shapes may stay unknown (dump); else they must be known */
  FILE *dump;    /* where IR prints go (stdout when NULL) */
} fr_pipeline_opts;

typedef struct fr_pass {
  const char *name;
  fr_status (*run)(fr_model *m, const fr_pipeline_opts *o);
  const char *what;
} fr_pass;

/* Runs every pass on m's main graph, the verifier after each. */
fr_status fr_pipeline_run(fr_model *m, const fr_pipeline_opts *o);
/* Checks pass names in the options. */
fr_status fr_pipeline_check(const fr_pipeline_opts *o);
const fr_pass *fr_passes(int *n);

/* The passes, one file each (compiler/pass_*.c, compiler/memplan.c). */
fr_status fr_pass_infer(fr_model *m, const fr_pipeline_opts *o);
fr_status fr_pass_fold(fr_model *m, const fr_pipeline_opts *o);
fr_status fr_pass_fold_bn(fr_model *m, const fr_pipeline_opts *o);
fr_status fr_pass_fold_affine(fr_model *m, const fr_pipeline_opts *o);
fr_status fr_pass_simplify(fr_model *m, const fr_pipeline_opts *o);
fr_status fr_pass_cse(fr_model *m, const fr_pipeline_opts *o);
fr_status fr_pass_fuse(fr_model *m, const fr_pipeline_opts *o);
fr_status fr_pass_plan_memory(fr_model *m, const fr_pipeline_opts *o);

/* ---- compare.c ------------------------------------------------------ */

/* FR_OK when got matches want within rtol/atol (floats; others exact);
 * otherwise FR_ERR_INVALID with the first mismatch described. */
fr_status fr_compare(const fr_tensor *got, const fr_tensor *want, double rtol,
                     double atol);

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
  bool specialize; /* jit: kernels inlined from their bitcode */
  int timeout_s;
} fr_conf_opts;

/* Runs the tests; returns FR_ERR_INVALID when an expected test fails (or,
 * with expect_native, runs with the interpreter). */
fr_status fr_conformance(const fr_conf_opts *o);

/* ---- bitcode.c ------------------------------------------------------ */

/* The kernels' LLVM bitcode embedded in the binary, built for an x86-64
 * level: 1 (baseline, SSE2), 3 (AVX2, FMA) or 4 (AVX-512). */
const unsigned char *fr_kernels_bitcode(int level, size_t *len);
/* runtime/rt/model.c as bitcode: the C API linked into every artifact. */
const unsigned char *fr_model_api_bitcode(size_t *len);
/* libfrost_rt.a (the artifact's command line), linked into executables. */
const unsigned char *fr_rt_archive(size_t *len);
/* runtime/rt/abi.h, pasted into generated headers. */
const char *fr_abi_header(size_t *len);

/* ---- jit.c: LLVM target, optimization and ORC LLJIT ------------------ */

typedef struct fr_jit fr_jit;
struct LLVMOpaqueModule;
struct LLVMOpaqueContext;

/* A JIT for cpu (NULL or "native": the host CPU and its features). An
 * unknown CPU name is an FR_ERR_USAGE error. */
fr_status fr_jit_new(const char *cpu, fr_jit **out);
/* The same for ahead-of-time code (position-independent, default code
 * model): modules are emitted with fr_jit_emit, not run. */
fr_status fr_jit_new_aot(const char *cpu, fr_jit **out);
const char *fr_jit_cpu(const fr_jit *j); /* the CPU name (host's resolved) */
/* The x86-64 level of the target CPU (1, 3 or 4; 1 elsewhere), probed by
 * compiling wide vector code for it: picks the kernels' bitcode. */
int fr_jit_level(const fr_jit *j);
void fr_jit_free(fr_jit *j);
struct LLVMOpaqueContext *fr_jit_context(fr_jit *j);
/* A fresh module holding the kernels (parsed from the embedded bitcode),
 * retargeted to the JIT's CPU. */
fr_status fr_jit_kernels(fr_jit *j, struct LLVMOpaqueModule **out);
fr_status fr_jit_parse_bitcode(fr_jit *j, const unsigned char *bc, size_t len,
                               const char *name, struct LLVMOpaqueModule **out);
/* Links src into dst (src is consumed). */
fr_status fr_jit_link(struct LLVMOpaqueModule *dst, struct LLVMOpaqueModule *src);
/* m as an object file (or assembly text) for the target, in *buf
 * (fr_malloc'd, *len bytes). */
fr_status fr_jit_emit(fr_jit *j, struct LLVMOpaqueModule *m, bool assembly,
                      uint8_t **buf, size_t *len);
/* Sets the JIT's target on m's functions, makes every definition but the
 * function `keep` internal (keep NULL: linkage untouched), and runs LLVM's
 * default<O3>. */
fr_status fr_jit_optimize(fr_jit *j, struct LLVMOpaqueModule *m,
                          const char *keep);
/* Hands m to the JIT (which takes ownership) and looks up a symbol. */
fr_status fr_jit_add(fr_jit *j, struct LLVMOpaqueModule *m);
fr_status fr_jit_lookup(fr_jit *j, const char *name, void **addr);
/* Text of m's LLVM IR (free with fr_jit_free_text). */
char *fr_jit_ir_text(struct LLVMOpaqueModule *m);
void fr_jit_free_text(char *s);

/* ---- codegen.c: a graph compiled to native code ---------------------- */

typedef struct fr_compiled fr_compiled;
typedef struct fr_compile_stats {
  int n_native, n_fallback, n_skipped; /* nodes: kernel calls, interpreter
                                          calls, views with nothing to do */
  size_t arena_bytes;                  /* activations + scratch */
  double ms_codegen, ms_optimize, ms_jit;
} fr_compile_stats;

/* JIT-compiles m's main graph (after the pipeline: static shapes and a
 * memory plan) for cpu (NULL: the host). m must outlive the result.
 * specialize: the kernels' bitcode is linked in and each node's kernel
 * inlined and specialized for its constants (slow to compile for large
 * graphs for now); otherwise nodes call the kernels built into frost. */
fr_status fr_compile_jit(fr_model *m, const char *cpu, bool specialize,
                         fr_compiled **out);
/* Runs it: in[i] for each graph input; out[i] receives freshly allocated
 * outputs (release with fr_tensor_release). */
fr_status fr_compiled_run(fr_compiled *c, fr_tensor *const *in, fr_tensor *out);
/* The module of m's main graph for an artifact: the function `name` (as
 * frost_main), kernels inlined from the bitcode, trainable parameters as
 * writable globals frost.param.ID; a node without a native kernel is an
 * error. Not optimized yet. */
fr_status fr_codegen_aot(fr_model *m, fr_jit *j, const char *name,
                         struct LLVMOpaqueModule **out, fr_compile_stats *s);
void fr_compiled_stats(const fr_compiled *c, fr_compile_stats *s);
void fr_compiled_free(fr_compiled *c);

/* ---- aot.c: frost compile ------------------------------------------- */

typedef enum fr_emit { FR_EMIT_EXE, FR_EMIT_SHARED, FR_EMIT_OBJ, FR_EMIT_LLVM,
                       FR_EMIT_ASM } fr_emit;
fr_status fr_aot_parse_emit(const char *s, fr_emit *e);

typedef struct fr_aot_opts {
  const char *out;        /* -o: the artifact (an extension is added) */
  fr_emit emit;
  const char *cpu;        /* NULL or "native": the host */
  const char *prefix;     /* C API prefix (shared, obj); NULL: from out */
  const char *model_name; /* the ONNX file, for the descriptor */
  fr_param_count params;  /* counted before folding */
} fr_aot_opts;

typedef struct fr_aot_result {
  char files[2][4096]; /* the artifact, and its header (shared, obj) */
  size_t sizes[2];
  int n_files;
  char prefix[80];
  fr_compile_stats stats;
} fr_aot_result;

/* Compiles m (after the pipeline) into the artifact o->out. Files are
 * written all or nothing. */
fr_status fr_aot_compile(fr_model *m, const fr_aot_opts *o, fr_aot_result *r);

/* ---- main.c --------------------------------------------------------- */

/* Binds inputs to g's inputs and runs the model with the interpreter. */
fr_status fr_run_model(fr_model *m, fr_tensor *const *inputs, fr_tensor *out);
/* Checks inputs against the model's declared input types and shapes. */
fr_status fr_check_inputs(const fr_model *m, fr_tensor *const *inputs);

/* ---- engine.c: running with the interpreter or the JIT --------------- */

typedef struct fr_engine {
  const char *name;      /* "jit" (default) or "interp" */
  const char *cpu;       /* JIT target CPU, NULL: host */
  bool specialize;       /* see fr_compile_jit */
  fr_pipeline_opts *pipe;
  /* results */
  bool interpreted;      /* jit asked, but the graph needed the interpreter */
  char why[512];         /* ... because of this */
  fr_compiled *compiled; /* kept for reuse (bench); freed by fr_engine_free */
  fr_compile_stats stats;
  double ms_pipeline;
} fr_engine;

/* Prepares m (loaded, frozen, inferred) for the engine: for jit, runs the
 * pass pipeline and compiles; falls back to the interpreter (noting why)
 * when the graph has run-time shapes or control flow. */
fr_status fr_engine_prepare(fr_engine *e, fr_model *m);
fr_status fr_engine_run(fr_engine *e, fr_model *m, fr_tensor *const *in,
                        fr_tensor *out);
void fr_engine_free(fr_engine *e);

#endif
