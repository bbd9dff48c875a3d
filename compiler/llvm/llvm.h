/* llvm.h: the internal header of frost's LLVM back end: native code from
 * the optimized IR, run at once (JIT) or written as an artifact (AOT).
 *
 * Sections follow the files that implement them: bitcode.c (the files
 * embedded in frost: kernel and API bitcode, libfrost_rt.a, abi.h), jit.c
 * (the LLVM session: target machine, bitcode, passes, ORC LLJIT, emission),
 * cache.c (the code cache: specialized code kept on disk), codegen.c (a
 * graph as one call per node of its plan's kernel entry), aot.c (frost
 * compile: native artifacts), engine.c (running a model with the JIT or
 * the interpreter).
 *
 * The back end uses the passes (the pipeline runs before code generation),
 * the runtime and the IR, and LLVM; no frontend.
 */
#ifndef FROST_LLVM_H
#define FROST_LLVM_H

#include "../passes/passes.h"

/* The version written into artifacts' descriptors and headers. */
#define FR_VERSION "0.1"

/* ---- bitcode.c ------------------------------------------------------ */

/* The kernels' LLVM bitcode embedded in the binary, built for an x86-64
 * level: 1 (baseline, SSE2), 3 (AVX2, FMA) or 4 (AVX-512). */
const unsigned char *fr_kernels_bitcode(int level, size_t *len);
/* runtime/rt/model.c as bitcode: the C API linked into every artifact. */
const unsigned char *fr_model_api_bitcode(size_t *len);
/* libfrost_rt.a (the artifact's command line), linked into executables. */
const unsigned char *fr_rt_archive(size_t *len);
/* libfrost_rt_image.a (runtime/image.c), linked into executables that
 * take images, with the static image libraries. */
const unsigned char *fr_rt_image_archive(size_t *len);
/* runtime/rt/abi.h, pasted into generated headers. */
const char *fr_abi_header(size_t *len);

/* ---- jit.c: LLVM target, optimization and ORC LLJIT ------------------ */

typedef struct fr_jit fr_jit;
struct LLVMOpaqueModule;

/* The version of the LLVM library frost runs with, "19.1.7" (frost
 * --version). */
const char *fr_llvm_version(void);
struct LLVMOpaqueContext;

/* A JIT for cpu (NULL or "native": the host CPU and its features). An
 * unknown CPU name is an FR_ERR_USAGE error. */
fr_status fr_jit_new(const char *cpu, fr_jit **out);
/* The same for ahead-of-time code (position-independent, default code
 * model): modules are emitted with fr_jit_emit, not run. */
fr_status fr_jit_new_aot(const char *cpu, fr_jit **out);
const char *fr_jit_cpu(const fr_jit *j); /* the CPU name (host's resolved) */
bool fr_jit_is_aot(const fr_jit *j);
/* The x86-64 level of the target CPU (1, 3 or 4; 1 elsewhere), probed by
 * compiling wide vector code for it: picks the kernels' bitcode. */
int fr_jit_level(fr_jit *j);
void fr_jit_free(fr_jit *j);
struct LLVMOpaqueContext *fr_jit_context(fr_jit *j);
/* A fresh module holding the kernels (parsed from the embedded bitcode),
 * retargeted to the JIT's CPU. */
fr_status fr_jit_kernels(fr_jit *j, struct LLVMOpaqueModule **out);
fr_status fr_jit_parse_bitcode(fr_jit *j, const unsigned char *bc, size_t len,
                               const char *name, struct LLVMOpaqueModule **out);
/* Links src into dst (src is consumed). */
fr_status fr_jit_link(struct LLVMOpaqueModule *dst, struct LLVMOpaqueModule *src);
/* Links into m the kernels it declares (entries fr_ke_*) and what they
 * call, from the bitcode of the JIT's level, read lazily: the other
 * kernels' bodies are never parsed. An entry missing from the bitcode is
 * an error. */
fr_status fr_jit_link_kernels(fr_jit *j, struct LLVMOpaqueModule *m);
/* The kernels' bitcode of the JIT's level, read lazily, its external
 * definitions made linkonce_odr: linked into a module, it gives only what
 * that module refers to. */
fr_status fr_jit_lazy_kernels(fr_jit *j, struct LLVMOpaqueModule **out);
/* Feeds h with everything besides a module that decides the machine code
 * made from it: frost's version and build ID (which covers the kernel
 * bitcode; the bitcode itself when there is no build ID), LLVM's version,
 * target triple, CPU, features, data layout (which decide the kernel
 * level), the passes and code generation settings. */
void fr_jit_hash(fr_jit *j, fr_sha256 *h);
/* m as an object file (or assembly text) for the target, in *buf
 * (fr_malloc'd, *len bytes). */
fr_status fr_jit_emit(fr_jit *j, struct LLVMOpaqueModule *m, bool assembly,
                      uint8_t **buf, size_t *len);
/* Sets the JIT's target on m's functions, makes every definition but the
 * function `keep` internal (keep NULL: linkage untouched), and runs the
 * passes (jit.c: PASSES, the same for the JIT and artifacts). */
fr_status fr_jit_optimize(fr_jit *j, struct LLVMOpaqueModule *m,
                          const char *keep);
/* Hands m to the JIT (which takes ownership) and looks up a symbol. */
fr_status fr_jit_add(fr_jit *j, struct LLVMOpaqueModule *m);
/* Adds an object file (fr_jit_emit's, or the code cache's: copied) to the
 * JIT; its undefined symbols resolve in the process (libm, libc). */
fr_status fr_jit_add_object(fr_jit *j, const uint8_t *obj, size_t len);
/* Drops the JIT's code (after an object that failed to load). */
void fr_jit_reset(fr_jit *j);
/* Shared kernel code (shared.c) in the JIT: whether `name` is loaded, and
 * adding its object. */
bool fr_jit_has_shared(const fr_jit *j, const char *name);
fr_status fr_jit_add_shared(fr_jit *j, const char *name, const uint8_t *obj,
                            size_t len);
fr_status fr_jit_lookup(fr_jit *j, const char *name, void **addr);
/* Text of m's LLVM IR (free with fr_jit_free_text). */
char *fr_jit_ir_text(struct LLVMOpaqueModule *m);
void fr_jit_free_text(char *s);

/* ---- codegen.c: a graph compiled to native code ---------------------- */

typedef struct fr_compiled fr_compiled;
/* What the code cache did for a compile. */
typedef enum fr_cache_use {
  FR_CACHE_OFF,  /* no cache folder, or code that is not cached (calls) */
  FR_CACHE_MISS, /* compiled, then stored */
  FR_CACHE_HIT,  /* loaded from the cache: nothing compiled */
} fr_cache_use;
typedef struct fr_compile_stats {
  int n_native, n_fallback, n_skipped; /* nodes: kernel calls, interpreter
                                          calls, views with nothing to do */
  size_t arena_bytes;                  /* activations + scratch */
  double ms_target;   /* the target machine */
  double ms_codegen;  /* the graph's LLVM IR */
  double ms_cache;    /* the cache's key, lookup and load (or store) */
  double ms_kernels;  /* linking the kernels' bitcode */
  double ms_optimize; /* LLVM passes */
  double ms_emit;     /* machine code */
  double ms_jit;      /* the object loaded and linked into the process */
  double ms_shared;   /* shared kernel code: from the cache or compiled */
  int n_shared, n_shared_built; /* shared functions needed; compiled */
  fr_cache_use cache;
  size_t object_bytes;
  char cache_file[4096]; /* the entry, when there is a cache folder */
} fr_compile_stats;

/* How the JIT compiles: frost's --no-specialize, --target-cpu and
 * --no-code-cache. All zero: specialized code for the host, no cache. */
typedef struct fr_jit_opts {
  const char *cpu;       /* NULL or "native": the host CPU */
  bool calls;            /* each node calls the kernel built into frost: fast
                            to compile, slower to run, never cached; else
                            each node's kernel is inlined from the bitcode
                            and specialized for its constants */
  const char *cache_dir; /* the code cache's folder, NULL: no cache */
  bool profile;          /* time every node (a clock read after each; the
                            code cache is not used): fr_compiled_profile */
} fr_jit_opts;

/* JIT-compiles m's main graph (after the pipeline: static shapes and a
 * memory plan). m must outlive the result: frozen weights larger than a
 * few values and trainable parameters are read where m keeps them (a
 * table of pointers passed at each call), not copied into the code, so
 * the code depends only on the graph and its small constants - which is
 * what the code cache's key hashes (cache.c). */
fr_status fr_compile_jit(fr_model *m, const fr_jit_opts *o, fr_compiled **out);
/* Runs it: in[i] for each graph input; out[i] receives freshly allocated
 * outputs (release with fr_tensor_release). */
fr_status fr_compiled_run(fr_compiled *c, fr_tensor *const *in, fr_tensor *out);
/* The module of m's main graph for an artifact: the function `name` (as
 * frost_main), kernels inlined from the bitcode, trainable parameters in
 * the writable global FR_TRAINABLE_BLOCK; a node without a native kernel
 * is an error. Not optimized yet. *out NULL: a new module; otherwise the
 * function is added to *out, whose trainable block it shares (the graphs
 * of one artifact have one parameter layout). */
fr_status fr_codegen_aot(fr_model *m, fr_jit *j, const char *name,
                         struct LLVMOpaqueModule **out, fr_compile_stats *s);
void fr_compiled_stats(const fr_compiled *c, fr_compile_stats *s);
/* With fr_jit_opts.profile: the milliseconds spent in each node of the
 * graph (indexed as its nodes), summed over *runs runs; else NULL. */
const double *fr_compiled_profile(const fr_compiled *c, int64_t *runs);
void fr_compiled_free(fr_compiled *c);

/* ---- aot.c: frost compile ------------------------------------------- */

typedef enum fr_emit { FR_EMIT_EXE, FR_EMIT_SHARED, FR_EMIT_OBJ, FR_EMIT_LLVM,
                       FR_EMIT_ASM } fr_emit;
fr_status fr_aot_parse_emit(const char *s, fr_emit *e);

/* What an artifact that trains adds (frost compile --train): the graphs
 * besides the inference one (fr_aot_compile's m), sharing its layout, and
 * the training options as numbers (abi.h: FROST_H_*, FROST_I_*). */
typedef struct fr_aot_train {
  fr_model *step, *eval, *features, *frontend; /* all but step may be NULL */
  bool images;        /* the executable decodes PNG and JPEG */
  const float *class_weights; /* ints[FROST_I_N_CLASS_WEIGHTS] of them */
  fr_value *const *stats;     /* --bn-train's statistics (step outputs 2...) */
  int n_stats;
  double hyper[32];
  int64_t ints[32];
  char model_sha256[65];
  /* The exported ONNX model and where each parameter's raw bytes are in
   * it (by name); onnx NULL: the artifact cannot export. */
  const uint8_t *onnx;
  size_t onnx_bytes;
  const char *const *onnx_names;
  const int64_t *onnx_offsets;
  int n_onnx;
} fr_aot_train;

typedef struct fr_aot_opts {
  const char *out;        /* -o: the artifact (an extension is added) */
  fr_emit emit;
  const char *cpu;        /* NULL or "native": the host */
  const char *prefix;     /* C API prefix (shared, obj); NULL: from out */
  const char *model_name; /* the ONNX file, for the descriptor */
  fr_param_count params;  /* counted before folding */
  const fr_aot_train *train; /* NULL: an artifact that only runs */
  const char *cache_dir;  /* the code cache (shared kernel code), or NULL */
  /* Called as each stage begins (codegen, optimizing, machine code,
   * linking): step of steps (0-based), or NULL. */
  void (*progress)(int step, int steps, const char *stage);
} fr_aot_opts;

typedef struct fr_aot_result {
  char files[2][4096]; /* the artifact, and its header (shared, obj) */
  size_t sizes[2];
  int n_files;
  char prefix[80];
  fr_compile_stats stats;
  fr_compile_stats train_stats[4]; /* step, eval, features, frontend */
  /* Wall-clock ms of the stages (frost compile --time-passes): the
   * module (the graphs' code, kernels, C API, descriptor), LLVM
   * optimization, machine code, shared kernel code, linking and writing
   * the files. */
  double ms_module, ms_optimize, ms_emit, ms_shared, ms_link;
} fr_aot_result;

/* Compiles m (after the pipeline) into the artifact o->out. Files are
 * written all or nothing. */
fr_status fr_aot_compile(fr_model *m, const fr_aot_opts *o, fr_aot_result *r);

/* The artifact's global holding the trainable block of the parameter
 * layout (codegen.c makes it, aot.c describes it). */
#define FR_TRAINABLE_BLOCK "frost.trainable_block"

/* ---- cache.c: the code cache ----------------------------------------- */

/* The key of the code made from m (the graph's module before the kernels
 * are linked in) by j: SHA-256 of the cache format, fr_jit_hash and m's
 * IR text. */
void fr_cache_key(fr_jit *j, struct LLVMOpaqueModule *m, uint8_t key[32]);
/* DIR/KEY.o, the entry's file. */
void fr_cache_path(const char *dir, const uint8_t key[32], char *buf, size_t n);
/* The object file stored under key (fr_malloc'd), or false: none, or one
 * that is corrupt or truncated (a note on stderr; it will be rebuilt). */
bool fr_cache_load(const char *dir, const uint8_t key[32], uint8_t **obj,
                   size_t *len);
/* Stores obj under key: a temporary file renamed into place, so a reader
 * sees a whole entry or none. A folder that cannot be written is a note
 * on stderr (once), not an error. */
void fr_cache_store(const char *dir, const uint8_t key[32], const uint8_t *obj,
                    size_t len);

/* ---- shared.c: shared kernel code, compiled once per CPU ------------- */

/* Shared functions an object needs, with their objects (NULL for those
 * the JIT has loaded already). */
typedef struct fr_shared_obj {
  char name[128];
  uint8_t *obj;
  size_t len;
} fr_shared_obj;
typedef struct fr_shared_set {
  fr_shared_obj *v;
  int n;
  int n_built; /* compiled (not in the cache) */
  double ms;   /* finding, loading and compiling them */
} fr_shared_set;
/* In m, the uses of the kernels' generic functions (FR_K_GENERIC) and of
 * the tasks handed to fr_k_parallel become calls of shared code
 * (declarations); self (a shared function being compiled) is left. */
fr_status fr_shared_split(struct LLVMOpaqueModule *m, const char *self);
/* Adds to s the shared code obj needs, and what that needs: from the code
 * cache at cache_dir (NULL: none), else compiled for j's target. */
fr_status fr_shared_closure(fr_jit *j, const uint8_t *obj, size_t len,
                            const char *cache_dir, fr_shared_set *s);
/* fr_shared_closure, then the objects the JIT lacks added to it. */
fr_status fr_shared_load(fr_jit *j, const uint8_t *obj, size_t len,
                         const char *cache_dir, fr_shared_set *s);
void fr_shared_free(fr_shared_set *s);

/* ---- engine.c: running with the interpreter or the JIT --------------- */

typedef struct fr_engine {
  const char *name;      /* "jit" (default) or "interp" */
  fr_jit_opts jit;       /* see fr_compile_jit */
  fr_pipeline_opts *pipe; /* with time_passes, the JIT's times are printed
                             after the passes' */
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
/* The JIT's stage times (--time-passes) and what the code cache did:
 * "code cache: hit (FILE, N bytes)", "miss (...)" or "off". */
void fr_engine_print_times(FILE *f, const fr_compile_stats *s);
/* A table of stage times and their total, "===- TITLE -===" first (the
 * JIT's above, frost compile's artifact stages). */
typedef struct fr_stage_time {
  double ms;
  const char *what;
} fr_stage_time;
void fr_print_stage_times(FILE *f, const char *title, const fr_stage_time *rows,
                          int n);
void fr_engine_free(fr_engine *e);

#endif
