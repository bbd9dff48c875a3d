/* aot.c: `frost compile` - a model compiled ahead of time into a native
 * artifact that needs neither LLVM nor frost.
 *
 * One LLVM module holds everything the artifact runs:
 *   frost_run_     the graph (codegen.c, kernels inlined from their bitcode),
 *                  frozen weights as read-only constants, trainable ones in
 *                  one writable block (the parameter layout, ir/layout.c);
 *   frost_desc_    its descriptor (runtime/rt/abi.h: inputs, outputs,
 *                  parameters, activation size), built here as constants;
 *   PREFIX_*       the C API (runtime/rt/model.c as bitcode, linked in and
 *                  renamed from frost_api_*), the only external symbols.
 * The module is optimized for the target CPU and emitted by LLVM's target
 * machine as an object (obj), assembly (asm) or IR text (llvm); the system
 * C compiler links the object into a shared library (shared) or, with
 * libfrost_rt.a (the artifact's command line), an executable (exe).
 *
 * Files appear all or nothing: each is written under a temporary name next
 * to its final one and renamed once all are complete. */
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <llvm-c/Core.h>
#include <llvm-c/Target.h>

#include "../../runtime/rt/abi.h"
#include "llvm.h"

extern char **environ;

#ifndef FR_RT_LINK_FLAGS
#define FR_RT_LINK_FLAGS ""
#endif
#ifndef FR_RT_IMAGE_LIBS
#define FR_RT_IMAGE_LIBS ""
#endif

static const char *const emit_names[] = {"exe", "shared", "obj", "llvm", "asm"};
static const char *const emit_ext[] = {"", ".so", ".o", ".ll", ".s"};

fr_status fr_aot_parse_emit(const char *s, fr_emit *e) {
  for (int i = 0; i < 5; i++)
    if (!strcmp(s, emit_names[i])) {
      *e = (fr_emit)i;
      return FR_OK;
    }
  return fr_err(FR_ERR_USAGE, "--emit is exe, shared, obj, llvm or asm, not '%s'", s);
}

/* ---- names ------------------------------------------------------------ */

static bool ends_with(const char *s, const char *suffix) {
  size_t n = strlen(s), k = strlen(suffix);
  return n >= k && !strcmp(s + n - k, suffix);
}

/* A C identifier from the file name of path, without its extension. */
static void prefix_from(const char *path, char *out, size_t n) {
  const char *base = strrchr(path, '/');
  base = base ? base + 1 : path;
  size_t k = 0;
  if (!((*base >= 'a' && *base <= 'z') || (*base >= 'A' && *base <= 'Z') ||
        *base == '_'))
    out[k++] = '_';
  for (const char *p = base; *p && *p != '.' && k + 1 < n; p++) {
    char ch = *p;
    bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
              (ch >= '0' && ch <= '9') || ch == '_';
    out[k++] = ok ? ch : '_';
  }
  out[k] = 0;
}

static fr_status check_prefix(const char *p) {
  bool ok = *p && !(*p >= '0' && *p <= '9');
  for (const char *c = p; ok && *c; c++)
    ok = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
         (*c >= '0' && *c <= '9') || *c == '_';
  if (!ok || strlen(p) > 64)
    return fr_err(FR_ERR_USAGE, "--name '%.100s' is not a C identifier", p);
  return FR_OK;
}

/* ---- the descriptor ------------------------------------------------- */

typedef struct desc {
  LLVMContextRef ctx;
  LLVMModuleRef mod;
  LLVMTypeRef ptr, i32, i64, info_t, model_t, train_t;
} desc;

static LLVMValueRef cstring(desc *d, const char *s) {
  LLVMValueRef init = LLVMConstStringInContext2(d->ctx, s, strlen(s), 0);
  LLVMValueRef gv = LLVMAddGlobal(d->mod, LLVMTypeOf(init), "frost.str");
  LLVMSetInitializer(gv, init);
  LLVMSetGlobalConstant(gv, 1);
  LLVMSetLinkage(gv, LLVMPrivateLinkage);
  LLVMSetUnnamedAddress(gv, LLVMGlobalUnnamedAddr);
  return gv;
}

static LLVMValueRef i64c(desc *d, uint64_t v) { return LLVMConstInt(d->i64, v, 0); }
static LLVMValueRef i32c(desc *d, int v) {
  return LLVMConstInt(d->i32, (unsigned long long)(int64_t)v, 1);
}

/* A constant array of frost_tensor_info, or a null pointer when n is 0. */
static LLVMValueRef info_array(desc *d, const fr_value *const *vs, LLVMValueRef *data,
                               int n, const char *name) {
  if (n == 0) return LLVMConstPointerNull(d->ptr);
  LLVMValueRef *elems = fr_calloc((size_t)n, sizeof *elems);
  if (!elems) return NULL;
  for (int i = 0; i < n; i++) {
    const fr_tensor *t = &vs[i]->t;
    LLVMValueRef dims[FR_MAX_RANK + 1];
    for (int k = 0; k < t->rank; k++) dims[k] = i64c(d, (uint64_t)t->dims[k]);
    LLVMValueRef dims_v = LLVMConstPointerNull(d->ptr);
    if (t->rank > 0) {
      LLVMValueRef init = LLVMConstArray2(d->i64, dims, (uint64_t)t->rank);
      dims_v = LLVMAddGlobal(d->mod, LLVMTypeOf(init), "frost.dims");
      LLVMSetInitializer(dims_v, init);
      LLVMSetGlobalConstant(dims_v, 1);
      LLVMSetLinkage(dims_v, LLVMPrivateLinkage);
    }
    int64_t off = vs[i]->param_off > 0 ? vs[i]->param_off : 0;
    LLVMValueRef f[7] = {cstring(d, vs[i]->name), dims_v,
                         data ? data[i] : LLVMConstPointerNull(d->ptr),
                         i64c(d, fr_tensor_nbytes(t)), i32c(d, (int)t->dtype),
                         i32c(d, t->rank), i64c(d, (uint64_t)off)};
    elems[i] = LLVMConstNamedStruct(d->info_t, f, 7);
  }
  LLVMValueRef init = LLVMConstArray2(d->info_t, elems, (uint64_t)n);
  fr_free(elems);
  LLVMValueRef gv = LLVMAddGlobal(d->mod, LLVMTypeOf(init), name);
  LLVMSetInitializer(gv, init);
  LLVMSetGlobalConstant(gv, 1);
  LLVMSetLinkage(gv, LLVMPrivateLinkage);
  return gv;
}

/* The C layout of abi.h must be LLVM's layout of the same fields. */
enum { N_MODEL_FIELDS = 27, N_TRAIN_FIELDS = 21 };

static void check_layout(desc *d) {
  LLVMTargetDataRef td = LLVMGetModuleDataLayout(d->mod);
  FR_ASSERT(LLVMABISizeOfType(td, d->info_t) == sizeof(frost_tensor_info));
  FR_ASSERT(LLVMOffsetOfElement(td, d->info_t, 3) ==
            offsetof(frost_tensor_info, bytes));
  FR_ASSERT(LLVMOffsetOfElement(td, d->info_t, 6) ==
            offsetof(frost_tensor_info, offset));
  FR_ASSERT(LLVMABISizeOfType(td, d->model_t) == sizeof(frost_model_info));
  FR_ASSERT(LLVMOffsetOfElement(td, d->model_t, 6) == offsetof(frost_model_info, run));
  FR_ASSERT(LLVMOffsetOfElement(td, d->model_t, 7) ==
            offsetof(frost_model_info, trainable_block));
  FR_ASSERT(LLVMOffsetOfElement(td, d->model_t, 17) ==
            offsetof(frost_model_info, state_block_bytes));
  FR_ASSERT(LLVMOffsetOfElement(td, d->model_t, 18) ==
            offsetof(frost_model_info, abi_version));
  FR_ASSERT(LLVMOffsetOfElement(td, d->model_t, 22) ==
            offsetof(frost_model_info, n_nodes));
  FR_ASSERT(LLVMOffsetOfElement(td, d->model_t, 24) ==
            offsetof(frost_model_info, state_slots));
  FR_ASSERT(LLVMOffsetOfElement(td, d->model_t, 26) ==
            offsetof(frost_model_info, train));
  FR_ASSERT(LLVMABISizeOfType(td, d->train_t) == sizeof(frost_train_info));
  FR_ASSERT(LLVMOffsetOfElement(td, d->train_t, 10) ==
            offsetof(frost_train_info, onnx_bytes));
  FR_ASSERT(LLVMOffsetOfElement(td, d->train_t, 15) ==
            offsetof(frost_train_info, n_grads));
  FR_ASSERT(LLVMOffsetOfElement(td, d->train_t, 17) ==
            offsetof(frost_train_info, frontend));
  FR_ASSERT(LLVMOffsetOfElement(td, d->train_t, 18) ==
            offsetof(frost_train_info, frontend_bytes));
  FR_ASSERT(LLVMOffsetOfElement(td, d->train_t, 19) ==
            offsetof(frost_train_info, class_weights));
  FR_ASSERT(LLVMOffsetOfElement(td, d->train_t, 20) ==
            offsetof(frost_train_info, stats));
}

static LLVMValueRef const_global(desc *d, LLVMValueRef init, const char *name) {
  LLVMValueRef gv = LLVMAddGlobal(d->mod, LLVMTypeOf(init), name);
  LLVMSetInitializer(gv, init);
  LLVMSetGlobalConstant(gv, 1);
  LLVMSetLinkage(gv, LLVMPrivateLinkage);
  return gv;
}

static LLVMValueRef fn_or_null(desc *d, const char *name) {
  LLVMValueRef f = LLVMGetNamedFunction(d->mod, name);
  return f ? f : LLVMConstPointerNull(d->ptr);
}

/* frost_train_info (abi.h) for the artifact's training: tr[0..n_tr) are
 * the trainable parameters as the descriptor lists them. */
static LLVMValueRef train_desc(desc *d, const fr_aot_train *t,
                               const fr_compile_stats *ts, const fr_value **tr,
                               int n_tr) {
  const fr_graph *sg = t->step->graph;
  const fr_train_graph *tg = sg->train;
  LLVMValueRef ins = info_array(d, (const fr_value *const *)sg->inputs, NULL,
                                sg->n_inputs, "frost.step_inputs");
  LLVMValueRef grads = info_array(d, (const fr_value *const *)tg->params, NULL,
                                  tg->n_params, "frost.grads");
  if (!ins || !grads) return NULL;
  LLVMValueRef hv[FROST_H_COUNT], iv[FROST_I_COUNT];
  for (int i = 0; i < FROST_H_COUNT; i++)
    hv[i] = LLVMConstReal(LLVMDoubleTypeInContext(d->ctx), t->hyper[i]);
  for (int i = 0; i < FROST_I_COUNT; i++) iv[i] = i64c(d, (uint64_t)t->ints[i]);
  LLVMValueRef hyper = const_global(
      d, LLVMConstArray2(LLVMDoubleTypeInContext(d->ctx), hv, FROST_H_COUNT),
      "frost.hyper");
  LLVMValueRef ints =
      const_global(d, LLVMConstArray2(d->i64, iv, FROST_I_COUNT), "frost.ints");
  LLVMValueRef onnx = LLVMConstPointerNull(d->ptr), offs = onnx;
  if (t->onnx) {
    onnx = const_global(d, LLVMConstStringInContext2(d->ctx, (const char *)t->onnx,
                                                     t->onnx_bytes, 1),
                        "frost.onnx");
    LLVMValueRef *ov = fr_calloc((size_t)n_tr + 1, sizeof *ov);
    if (!ov) return NULL;
    for (int i = 0; i < n_tr; i++) {
      uint64_t at = UINT64_MAX;
      for (int k = 0; k < t->n_onnx; k++)
        if (!strcmp(t->onnx_names[k], tr[i]->name)) at = (uint64_t)t->onnx_offsets[k];
      ov[i] = i64c(d, at);
    }
    offs = n_tr ? const_global(d, LLVMConstArray2(d->i64, ov, (uint64_t)n_tr),
                               "frost.onnx_offsets")
                : LLVMConstPointerNull(d->ptr);
    fr_free(ov);
  }
  LLVMValueRef stats = info_array(d, (const fr_value *const *)t->stats, NULL,
                                  t->n_stats, "frost.stats");
  if (!stats) return NULL;
  LLVMValueRef cw = LLVMConstPointerNull(d->ptr);
  int ncw = (int)t->ints[FROST_I_N_CLASS_WEIGHTS];
  if (t->class_weights && ncw > 0) {
    LLVMValueRef v[256];
    for (int i = 0; i < ncw && i < 256; i++)
      v[i] = LLVMConstReal(LLVMFloatTypeInContext(d->ctx), t->class_weights[i]);
    cw = const_global(d, LLVMConstArray2(LLVMFloatTypeInContext(d->ctx), v,
                                         (uint64_t)(ncw < 256 ? ncw : 256)),
                      "frost.class_weights");
  }
  int64_t fnumel = 0;
  if (t->features) {
    const fr_tensor *fo = &t->features->graph->outputs[0]->t;
    fnumel = fr_tensor_numel(fo) / (fo->rank > 0 && fo->dims[0] > 0 ? fo->dims[0] : 1);
  }
  LLVMValueRef f[N_TRAIN_FIELDS] = {
      fn_or_null(d, "frost_step_"),
      fn_or_null(d, "frost_eval_"),
      fn_or_null(d, "frost_features_"),
      ins,
      grads,
      onnx,
      offs,
      cstring(d, t->model_sha256),
      hyper,
      ints,
      i64c(d, t->onnx ? t->onnx_bytes : 0),
      i64c(d, ts[0].arena_bytes),
      i64c(d, t->eval ? ts[1].arena_bytes : 0),
      i64c(d, t->features ? ts[2].arena_bytes : 0),
      i64c(d, (uint64_t)fnumel),
      i32c(d, tg->n_params),
      i32c(d, 0),
      fn_or_null(d, "frost_frontend_"),
      i64c(d, t->frontend ? ts[3].arena_bytes : 0),
      cw,
      stats};
  LLVMValueRef gv = LLVMAddGlobal(d->mod, d->train_t, "frost.train");
  LLVMSetInitializer(gv, LLVMConstNamedStruct(d->train_t, f, N_TRAIN_FIELDS));
  LLVMSetGlobalConstant(gv, 1);
  LLVMSetLinkage(gv, LLVMPrivateLinkage);
  return gv;
}

/* Defines frost_desc_ (declared by model.c) for m. */
static fr_status build_desc(fr_jit *j, LLVMModuleRef mod, fr_model *m,
                            const fr_aot_opts *o, const fr_compile_stats *s,
                            const fr_compile_stats *ts, LLVMValueRef run) {
  desc d = {.ctx = LLVMGetModuleContext(mod), .mod = mod};
  d.ptr = LLVMPointerTypeInContext(d.ctx, 0);
  d.i32 = LLVMInt32TypeInContext(d.ctx);
  d.i64 = LLVMInt64TypeInContext(d.ctx);
  d.info_t = LLVMStructCreateNamed(d.ctx, "frost.tensor_info");
  LLVMStructSetBody(d.info_t,
                    (LLVMTypeRef[]){d.ptr, d.ptr, d.ptr, d.i64, d.i32, d.i32, d.i64},
                    7, 0);
  /* frost_model_info: 8 pointers, 10 uint64_t, 8 int32_t, 1 pointer
   * (abi.h) */
  LLVMTypeRef mf[N_MODEL_FIELDS];
  for (int i = 0; i < 8; i++) mf[i] = d.ptr;
  for (int i = 8; i < 18; i++) mf[i] = d.i64;
  for (int i = 18; i < 26; i++) mf[i] = d.i32;
  mf[26] = d.ptr;
  d.model_t = LLVMStructCreateNamed(d.ctx, "frost.model_info");
  LLVMStructSetBody(d.model_t, mf, N_MODEL_FIELDS, 0);
  /* frost_train_info: 10 pointers, 5 uint64_t, 2 int32_t, a pointer, a
   * uint64_t */
  LLVMTypeRef tf[N_TRAIN_FIELDS];
  for (int i = 0; i < 10; i++) tf[i] = d.ptr;
  for (int i = 10; i < 15; i++) tf[i] = d.i64;
  for (int i = 15; i < 17; i++) tf[i] = d.i32;
  tf[17] = d.ptr;
  tf[18] = d.i64;
  tf[19] = d.ptr;
  tf[20] = d.ptr;
  d.train_t = LLVMStructCreateNamed(d.ctx, "frost.train_info");
  LLVMStructSetBody(d.train_t, tf, N_TRAIN_FIELDS, 0);
  check_layout(&d);

  const fr_graph *g = m->graph;
  /* Trainable parameters that the code uses (codegen made their globals). */
  int n_tr = 0;
  const fr_value **tr = fr_calloc((size_t)g->n_values + 1, sizeof *tr);
  LLVMValueRef *tr_data = fr_calloc((size_t)g->n_values + 1, sizeof *tr_data);
  if (!tr || !tr_data) {
    fr_free(tr);
    fr_free(tr_data);
    return fr_err_nomem(NULL);
  }
  /* Trainable parameters, in layout order, in the trainable block (codegen
   * made it when the code uses one). */
  const fr_param_layout *L = g->layout;
  FR_ASSERT(L);
  LLVMValueRef block = LLVMGetNamedGlobal(mod, FR_TRAINABLE_BLOCK);
  for (int i = 0; block && i < g->n_inits; i++) {
    const fr_value *v = g->inits[i];
    if (!(v->flags & FR_V_WRITABLE) || v->param_off < 0) continue;
    LLVMValueRef idx = i64c(&d, (uint64_t)v->param_off);
    tr[n_tr] = v;
    tr_data[n_tr++] =
        LLVMConstInBoundsGEP2(LLVMInt8TypeInContext(d.ctx), block, &idx, 1);
  }
  LLVMValueRef ins = info_array(&d, (const fr_value *const *)g->inputs, NULL,
                                g->n_inputs, "frost.inputs");
  LLVMValueRef outs = info_array(&d, (const fr_value *const *)g->outputs, NULL,
                                 g->n_outputs, "frost.outputs");
  LLVMValueRef trs = info_array(&d, tr, tr_data, n_tr, "frost.trainable");
  LLVMValueRef train = o->train ? train_desc(&d, o->train, ts, tr, n_tr)
                                : LLVMConstPointerNull(d.ptr);
  fr_free(tr);
  fr_free(tr_data);
  if (!ins || !outs || !trs || !train) return fr_err_nomem(NULL);
  const char *base = strrchr(o->model_name, '/');
  LLVMValueRef f[N_MODEL_FIELDS] = {
      cstring(&d, base ? base + 1 : o->model_name),
      cstring(&d, fr_jit_cpu(j)),
      cstring(&d, FR_VERSION),
      ins,
      outs,
      trs,
      run,
      block ? block : LLVMConstPointerNull(d.ptr),
      i64c(&d, s->arena_bytes),
      i64c(&d, 64),
      i64c(&d, (uint64_t)L->params[0]),
      i64c(&d, (uint64_t)o->params.frozen_bytes),
      i64c(&d, (uint64_t)L->params[1]),
      i64c(&d, (uint64_t)o->params.trainable_bytes),
      i64c(&d, (uint64_t)L->bytes[FR_PB_FROZEN]),
      i64c(&d, (uint64_t)L->bytes[FR_PB_TRAINABLE]),
      i64c(&d, (uint64_t)L->bytes[FR_PB_GRAD]),
      i64c(&d, (uint64_t)L->bytes[FR_PB_STATE]),
      i32c(&d, FROST_ABI_VERSION),
      i32c(&d, g->n_inputs),
      i32c(&d, g->n_outputs),
      i32c(&d, n_tr),
      i32c(&d, s->n_native),
      i32c(&d, L->tensors[0]),
      i32c(&d, L->state_slots),
      i32c(&d, 0),
      train};
  LLVMValueRef init = LLVMConstNamedStruct(d.model_t, f, N_MODEL_FIELDS);
  /* model.c declared frost_desc_ with its own type: a new global takes its
   * place. */
  LLVMValueRef old = LLVMGetNamedGlobal(mod, "frost_desc_");
  LLVMValueRef gv = LLVMAddGlobal(mod, d.model_t, "frost.desc");
  LLVMSetInitializer(gv, init);
  LLVMSetGlobalConstant(gv, 1);
  LLVMSetAlignment(gv, 16);
  if (old) {
    LLVMReplaceAllUsesWith(old, gv);
    LLVMDeleteGlobal(old);
  }
  LLVMSetValueName2(gv, "frost_desc_", strlen("frost_desc_"));
  return FR_OK;
}

/* The API's functions frost_api_NAME become PREFIX_NAME, the only external
 * definitions; everything else is internal. */
/* The C API's functions get the artifact's prefix and stay external; the
 * kernels' thread pool (pool: from the API's bitcode), which shared
 * kernel code calls (shared.c), stays external but hidden; everything
 * else is internal. */
typedef struct pool_names {
  char v[16][64];
  int n;
} pool_names;

/* The thread pool's functions, defined by the API's bitcode. */
static void find_pool(LLVMModuleRef api, pool_names *p) {
  p->n = 0;
  for (LLVMValueRef f = LLVMGetFirstFunction(api); f; f = LLVMGetNextFunction(f)) {
    const char *name = LLVMGetValueName(f);
    if (!LLVMIsDeclaration(f) && !strncmp(name, "fr_k_", 5) && p->n < 16)
      snprintf(p->v[p->n++], sizeof p->v[0], "%s", name);
  }
}

static bool in_pool(const pool_names *p, const char *name) {
  for (int i = 0; p && i < p->n; i++)
    if (!strcmp(p->v[i], name)) return true;
  return false;
}

static void set_linkage(LLVMModuleRef mod, const char *prefix, const pool_names *pool) {
  static const char api[] = "frost_api_";
  for (LLVMValueRef f = LLVMGetFirstFunction(mod); f; f = LLVMGetNextFunction(f)) {
    if (LLVMIsDeclaration(f)) continue;
    size_t n;
    const char *name = LLVMGetValueName2(f, &n);
    if (in_pool(pool, name)) {
      LLVMSetLinkage(f, LLVMExternalLinkage);
      LLVMSetVisibility(f, LLVMHiddenVisibility);
    } else if (!strncmp(name, api, sizeof api - 1)) {
      char buf[256];
      snprintf(buf, sizeof buf, "%s_%s", prefix, name + sizeof api - 1);
      LLVMSetValueName2(f, buf, strlen(buf));
      LLVMSetLinkage(f, LLVMExternalLinkage);
      LLVMSetVisibility(f, LLVMDefaultVisibility);
    } else {
      LLVMSetLinkage(f, LLVMInternalLinkage);
    }
  }
  for (LLVMValueRef g = LLVMGetFirstGlobal(mod); g; g = LLVMGetNextGlobal(g))
    if (!LLVMIsDeclaration(g)) LLVMSetLinkage(g, LLVMInternalLinkage);
}

/* ---- the header ------------------------------------------------------ */

static const char *dtype_c_name(fr_dtype t) {
  switch (t) {
  case FR_F32: return "float32";
  case FR_F64: return "float64";
  case FR_F16: return "float16";
  case FR_BF16: return "bfloat16";
  case FR_I8: return "int8";
  case FR_U8: return "uint8";
  case FR_I16: return "int16";
  case FR_U16: return "uint16";
  case FR_I32: return "int32";
  case FR_U32: return "uint32";
  case FR_I64: return "int64";
  case FR_U64: return "uint64";
  case FR_BOOL: return "bool (1 byte)";
  default: return fr_dtype_name(t);
  }
}

static void header_io(FILE *f, const char *up, const char *what,
                      fr_value *const *vs, int n) {
  fprintf(f, "#define %s_NUM_%sS %d\n", up, what, n);
  for (int i = 0; i < n; i++) {
    const fr_tensor *t = &vs[i]->t;
    char dims[512];
    size_t k = 0;
    dims[0] = 0;
    for (int r = 0; r < t->rank && k < sizeof dims - 24; r++)
      k += (size_t)snprintf(dims + k, sizeof dims - k, "%s%lld", r ? ", " : "",
                            (long long)t->dims[r]);
    /* Names go into a C string: only printable ASCII without quotes and
     * backslashes is kept, as in the descriptor's comment. */
    char name[256];
    size_t m = 0;
    for (const char *p = vs[i]->name; *p && m + 1 < sizeof name; p++)
      name[m++] = (*p >= 32 && *p < 127 && *p != '"' && *p != '\\') ? *p : '_';
    name[m] = 0;
    fprintf(f, "/* %s %d: %s [%s] */\n", what, i, dtype_c_name(t->dtype), dims);
    fprintf(f, "#define %s_%s_%d_NAME \"%s\"%s\n", up, what, i, name,
            strcmp(name, vs[i]->name) ? " /* (characters replaced) */" : "");
    fprintf(f, "#define %s_%s_%d_BYTES %zuu\n", up, what, i, fr_tensor_nbytes(t));
  }
}

#define ALIGN64(n) (((n) + 63) / 64 * 64)

/* A context's bytes: runtime/rt/model.c's frost_api_ctx_bytes, the same
 * sum from the compiler's numbers (the C example checks they agree). */
static uint64_t ctx_bytes(const fr_model *m, const fr_aot_opts *o,
                          const fr_compile_stats *s, const fr_compile_stats *ts) {
  /* struct frost_ctx: 8 pointers, 2 floats, an int64_t, an int */
  uint64_t n = ALIGN64(8 * sizeof(void *) + 2 * sizeof(float) + sizeof(int64_t) + 8);
  uint64_t act = s->arena_bytes;
  const fr_aot_train *t = o->train;
  if (!t) return n + ALIGN64(act ? act : 1);
  for (int i = 0; i < 3; i++)
    if (ts[i].arena_bytes > act) act = ts[i].arena_bytes;
  const fr_param_layout *L = m->graph->layout;
  const fr_graph *sg = t->step->graph;
  uint64_t B = (uint64_t)t->ints[FROST_I_BATCH], C = (uint64_t)t->ints[FROST_I_CLASSES];
  uint64_t ins = 0, stats = 0;
  for (int i = 0; i < sg->n_inputs; i++) ins += fr_tensor_nbytes(&sg->inputs[i]->t);
  for (int i = 0; i < t->n_stats; i++) stats += fr_tensor_nbytes(&t->stats[i]->t);
  n += ALIGN64(act) + ALIGN64((uint64_t)L->bytes[FR_PB_GRAD]) +
       ALIGN64((uint64_t)L->bytes[FR_PB_STATE]) + ALIGN64(ins) + ALIGN64(stats);
  return n + 2 * ALIGN64(B * C * 4) + ALIGN64(B * 4);
}

static fr_status write_header(FILE *f, const char *prefix, const char *lib,
                              fr_model *m, const fr_aot_opts *o,
                              const fr_compile_stats *s,
                              const fr_compile_stats *ts, const char *cpu) {
  char up[80];
  size_t k = 0;
  for (; prefix[k] && k + 1 < sizeof up; k++)
    up[k] = (prefix[k] >= 'a' && prefix[k] <= 'z') ? (char)(prefix[k] - 32) : prefix[k];
  up[k] = 0;
  const char *base = strrchr(o->model_name, '/');
  base = base ? base + 1 : o->model_name;
  char model[256];
  size_t n = 0;
  for (const char *p = base; *p && n + 1 < sizeof model; p++)
    model[n++] = (*p >= 32 && *p < 127 && *p != '*' && *p != '/') ? *p : '_';
  model[n] = 0;
  size_t abi_len;
  const char *abi = fr_abi_header(&abi_len);
  /* abi.h without its leading comment (which is about frost's sources). */
  const char *end = strstr(abi, "*/\n");
  if (!strncmp(abi, "/*", 2) && end) {
    abi_len -= (size_t)(end + 3 - abi);
    abi = end + 3;
  }
  fprintf(f,
          "/* %s.h: the C API of the model %s,\n"
          " * compiled by frost %s for the CPU %s.\n"
          " * Generated by `frost compile`; do not edit.\n"
          " *\n"
          " * Link with %s and -lm (-pthread too before glibc 2.34). Tensors are\n"
          " * dense, C order, of the dtype and size given below (also by\n"
          " * %s_input() and %s_output() at run time). A run allocates nothing\n"
          " * but, once, the worker threads' scratch: activations live in one\n"
          " * buffer, owned by a context or brought by the caller. Contexts are\n"
          " * independent (one per thread); a context runs one call at a time.\n"
          " *\n"
          " *   %s_ctx *c = %s_create();          NULL when out of memory\n"
          " *   const void *in[%s_NUM_INPUTS] = {...};   caller's buffers\n"
          " *   void *out[%s_NUM_OUTPUTS] = {...};\n"
          " *   int rc = %s_run(c, in, out);      0, or -1 for a bad argument\n"
          " *   %s_destroy(c);\n"
          " */\n",
          prefix, model, FR_VERSION, cpu, lib, prefix, prefix, prefix, prefix, up, up,
          prefix, prefix);
  fputs("\n/* Types shared by every frost artifact. */\n", f);
  fwrite(abi, 1, abi_len, f);
  fprintf(f, "\n#ifndef %s_H\n#define %s_H\n\n#ifdef __cplusplus\nextern \"C\" {\n#endif\n\n",
          up, up);
  header_io(f, up, "INPUT", m->graph->inputs, m->graph->n_inputs);
  header_io(f, up, "OUTPUT", m->graph->outputs, m->graph->n_outputs);
  fprintf(f,
          "/* Activation memory a run needs (%s_run_in), and its alignment. */\n"
          "#define %s_ACTIVATION_BYTES %zuu\n"
          "#define %s_ACTIVATION_ALIGN 64u\n"
          "/* Parameters: frozen ones are read-only data of the library. */\n"
          "#define %s_FROZEN_PARAMS %lldu\n"
          "#define %s_TRAINABLE_PARAMS %lldu\n\n",
          prefix, up, s->arena_bytes, up, up, (long long)o->params.frozen, up,
          (long long)o->params.trainable);
  fprintf(f,
          "typedef struct %s_ctx %s_ctx;\n\n"
          "/* A context: the activation buffer. NULL when out of memory. */\n"
          "%s_ctx *%s_create(void);\n"
          "void %s_destroy(%s_ctx *c); /* NULL is allowed */\n"
          "/* Runs the model: inputs[i] and outputs[i] point at the caller's\n"
          " * buffers (INPUT i, OUTPUT i above). 0, or -1 when a pointer is\n"
          " * NULL. */\n"
          "int %s_run(%s_ctx *c, const void *const *inputs, void *const *outputs);\n"
          "/* The same on the caller's activation memory: at least\n"
          " * %s_ACTIVATION_BYTES bytes, aligned to %s_ACTIVATION_ALIGN; -1 when\n"
          " * it is not. No context, no allocation. */\n"
          "int %s_run_in(void *activations, size_t bytes, const void *const *inputs,\n"
          "              void *const *outputs);\n"
          "size_t %s_activation_bytes(void);\n\n"
          "/* Descriptors: names, dtypes (ONNX numbering), shapes, sizes. */\n"
          "int %s_num_inputs(void);\n"
          "int %s_num_outputs(void);\n"
          "const frost_tensor_info *%s_input(int i);  /* NULL out of range */\n"
          "const frost_tensor_info *%s_output(int i);\n"
          "const frost_model_info *%s_info(void);\n\n",
          prefix, prefix, prefix, prefix, prefix, prefix, prefix, prefix, up, up,
          prefix, prefix, prefix, prefix, prefix, prefix, prefix);
  fprintf(f,
          "/* A context on the caller's memory: at least %s_CTX_BYTES bytes,\n"
          " * 64-byte aligned (NULL otherwise); %s_destroy then frees nothing. */\n"
          "#define %s_CTX_BYTES %lluu\n"
          "%s_ctx *%s_create_in(void *mem, size_t bytes);\n"
          "size_t %s_ctx_bytes(void);\n\n",
          up, prefix, up, (unsigned long long)ctx_bytes(m, o, s, ts), prefix, prefix,
          prefix);
  fprintf(f,
          "/* The threads the kernels run on, for every context: the caller's\n"
          " * and n - 1 workers of this library's own, started by the first run\n"
          " * that uses them and joined at exit. Default: $FROST_THREADS, else\n"
          " * the processors it may run on; n < 1 restores it. Outputs are the same\n"
          " * bits at any count. Runs of other contexts at the same time run on\n"
          " * their caller's thread alone. Not while a run is going on. Returns\n"
          " * the count now in use. */\n"
          "int %s_set_threads(int n);\n"
          "int %s_threads(void);\n\n",
          prefix, prefix);
  if (o->train) {
    const fr_aot_train *t = o->train;
    const fr_param_layout *L = m->graph->layout;
    fprintf(f,
            "/* Training, compiled in by frost compile --train. A step takes a\n"
            " * batch of %s_TRAIN_BATCH samples (input 0 as above, its first dim\n"
            " * the batch) and their labels (class indices; < 0: no sample, so a\n"
            " * short batch is masked), runs forward, loss and backward and updates\n"
            " * the trainable weights with the compiled optimizer. The weights are\n"
            " * the library's (one copy per process): train from one context at a\n"
            " * time; %s_run and %s_run_in then use them. A training context is\n"
            " * %s_TRAIN_BYTES bytes (activations, gradients, optimizer state,\n"
            " * the batch); a step allocates nothing. Calls return 0, or -1 for a\n"
            " * bad argument (a label out of range, a non-finite loss). */\n"
            "#define %s_TRAIN_BATCH %lld\n"
            "#define %s_TRAIN_CLASSES %lld\n"
            "#define %s_TRAIN_BYTES %s_CTX_BYTES\n"
            "#define %s_TRAINABLE_BYTES %lluu /* the weights */\n"
            "#define %s_OPTIMIZER_BYTES %lluu /* the optimizer's state */\n"
            "#define %s_SAVE_BYTES (%lluu + %s_TRAINABLE_BYTES + %s_OPTIMIZER_BYTES)\n"
            "int %s_train_step(%s_ctx *c, const void *const *inputs,\n"
            "                  const int32_t *labels, float *loss);\n"
            "/* With number targets (--loss mse or bce): TRAIN_BATCH x TRAIN_CLASSES. */\n"
            "int %s_train_step_targets(%s_ctx *c, const void *const *inputs,\n"
            "                          const float *targets, float *loss);\n"
            "/* Loss and logits (TRAIN_BATCH x TRAIN_CLASSES, or NULL), no update. */\n"
            "int %s_eval(%s_ctx *c, const void *const *inputs, const int32_t *labels,\n"
            "            float *loss, float *logits);\n"
            "int %s_set_lr(%s_ctx *c, float lr); /* a schedule is the caller's */\n"
            "/* The weights and the optimizer's state to and from a buffer of\n"
            " * %s_SAVE_BYTES (load: -1, nothing changed, for another model). */\n"
            "int %s_save(const %s_ctx *c, void *buf, size_t bytes);\n"
            "int %s_load(%s_ctx *c, const void *buf, size_t bytes);\n"
            "size_t %s_save_bytes(void);\n\n",
            up, prefix, prefix, up, up, (long long)t->ints[FROST_I_BATCH], up,
            (long long)t->ints[FROST_I_CLASSES], up, up, up,
            (unsigned long long)L->bytes[FR_PB_TRAINABLE], up,
            (unsigned long long)L->bytes[FR_PB_STATE], up,
            (unsigned long long)(sizeof(uint64_t) * 3 + 72), up, up, prefix, prefix,
            prefix, prefix, prefix, prefix, prefix, prefix, up, prefix, prefix, prefix,
            prefix, prefix);
  }
  fputs("#ifdef __cplusplus\n}\n#endif\n#endif\n", f);
  return ferror(f) ? fr_err(FR_ERR_IO, "cannot write the header") : FR_OK;
}

/* ---- files ----------------------------------------------------------- */

/* A temporary path next to path (same folder, so rename is atomic). */
static void tmp_path(const char *path, char *out, size_t n) {
  snprintf(out, n, "%s.tmp.%ld", path, (long)getpid());
}

static fr_status write_file(const char *path, const void *data, size_t n) {
  int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) return fr_err(FR_ERR_IO, "%s: cannot write (%s)", path, strerror(errno));
  const char *p = data;
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) {
      int e = errno;
      close(fd);
      unlink(path);
      return fr_err(FR_ERR_IO, "%s: cannot write (%s)", path, strerror(e));
    }
    p += w;
    n -= (size_t)w;
  }
  if (close(fd) != 0) {
    unlink(path);
    return fr_err(FR_ERR_IO, "%s: cannot write (%s)", path, strerror(errno));
  }
  return FR_OK;
}

/* The system C compiler, used as the linker: $FROST_CC or cc. */
static const char *linker(void) {
  const char *cc = getenv("FROST_CC");
  return cc && *cc ? cc : "cc";
}

static bool in_path(const char *prog) {
  if (strchr(prog, '/')) return access(prog, X_OK) == 0;
  const char *path = getenv("PATH");
  if (!path) path = "/usr/bin:/bin";
  char buf[4096];
  for (const char *p = path;;) {
    const char *colon = strchr(p, ':');
    size_t n = colon ? (size_t)(colon - p) : strlen(p);
    snprintf(buf, sizeof buf, "%.*s/%s", (int)n, n ? p : ".", prog);
    if (access(buf, X_OK) == 0) return true;
    if (!colon) return false;
    p = colon + 1;
  }
}

/* Runs argv, stderr to errfile; the first line of it in the error. */
static fr_status run_linker(char **argv, const char *errfile) {
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 2, errfile, O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
  pid_t pid;
  int rc = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0)
    return fr_err(FR_ERR_IO, "cannot run the system linker '%s' (%s)", argv[0],
                  strerror(rc));
  int status;
  while (waitpid(pid, &status, 0) < 0)
    if (errno != EINTR)
      return fr_err(FR_ERR_IO, "waiting for the linker: %s", strerror(errno));
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return FR_OK;
  char line[400] = "";
  FILE *f = fopen(errfile, "r");
  if (f) {
    if (!fgets(line, sizeof line, f)) line[0] = 0;
    fclose(f);
  }
  line[strcspn(line, "\n")] = 0;
  return fr_err(FR_ERR_IO, "the system linker '%s' failed%s%s", argv[0],
                *line ? ": " : "", line);
}

/* Links obj and the shared kernel code sh (written into dir) into out: an
 * executable with libfrost_rt, or a shared library. */
static fr_status link_artifact(fr_emit emit, const char *dir, const char *obj,
                               const fr_shared_set *sh, const char *out,
                               const char *final, bool images) {
  char rt[4200], rti[4200], errfile[4200];
  snprintf(rt, sizeof rt, "%s/libfrost_rt.a", dir);
  snprintf(rti, sizeof rti, "%s/libfrost_rt_image.a", dir);
  snprintf(errfile, sizeof errfile, "%s/link.err", dir);
  images = images && emit == FR_EMIT_EXE;
  if (images && !*FR_RT_IMAGE_LIBS)
    return fr_err(FR_ERR_UNSUPPORTED, "an executable that decodes images links "
                  "the static libpng, zlib and libjpeg, which this frost was "
                  "built without (apt-get install libpng-dev zlib1g-dev "
                  "libjpeg-dev, then rebuild)");
  if (emit == FR_EMIT_EXE) {
    size_t len;
    const unsigned char *a = fr_rt_archive(&len);
    FR_TRY(write_file(rt, a, len));
  }
  if (images) {
    size_t len;
    const unsigned char *a = fr_rt_image_archive(&len);
    FR_TRY(write_file(rti, a, len));
  }
  char flags[] = FR_RT_LINK_FLAGS;
  char ilibs[] = FR_RT_IMAGE_LIBS;
  char **argv = fr_calloc((size_t)sh->n + 48, sizeof *argv);
  char(*objs)[4200] = fr_calloc((size_t)sh->n + 1, sizeof *objs);
  if (!argv || !objs) {
    fr_free(argv);
    fr_free(objs);
    return fr_err_nomem(NULL);
  }
  fr_status st = FR_OK;
  for (int i = 0; st == FR_OK && i < sh->n; i++) {
    snprintf(objs[i], sizeof objs[i], "%s/shared%d.o", dir, i);
    st = write_file(objs[i], sh->v[i].obj, sh->v[i].len);
  }
  int n = 0;
  argv[n++] = (char *)linker();
  char soname[600];
  if (emit == FR_EMIT_SHARED) {
    const char *base = strrchr(final, '/');
    snprintf(soname, sizeof soname, "-Wl,-soname,%.500s", base ? base + 1 : final);
    argv[n++] = "-shared";
    argv[n++] = soname;
  }
  argv[n++] = "-o";
  argv[n++] = (char *)out;
  argv[n++] = (char *)obj;
  for (int i = 0; i < sh->n; i++) argv[n++] = objs[i];
  if (images) {
    /* main.c refers to the decoder weakly: pull it in */
    argv[n++] = "-Wl,-u,fr_image_decode";
    argv[n++] = rti;
  }
  if (emit == FR_EMIT_EXE) {
    argv[n++] = rt;
    char *save = NULL;
    for (char *t = strtok_r(flags, " ", &save); t && n < sh->n + 30; t = strtok_r(NULL, " ", &save))
      argv[n++] = t;
  }
  if (images) {
    char *save = NULL;
    for (char *t = strtok_r(ilibs, " ", &save); t && n < sh->n + 40; t = strtok_r(NULL, " ", &save))
      argv[n++] = t;
  }
  argv[n++] = "-lm";
  argv[n++] = "-Wl,-z,noexecstack";
  argv[n] = NULL;
  if (st == FR_OK) st = run_linker(argv, errfile);
  fr_free(argv);
  fr_free(objs);
  return st;
}

static void remove_dir(const char *dir, int n_shared) {
  static const char *const files[] = {"model.o", "libfrost_rt.a",
                                      "libfrost_rt_image.a", "link.err"};
  char p[4200];
  for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
    snprintf(p, sizeof p, "%s/%s", dir, files[i]);
    unlink(p);
  }
  for (int i = 0; i < n_shared; i++) {
    snprintf(p, sizeof p, "%s/shared%d.o", dir, i);
    unlink(p);
  }
  rmdir(dir);
}

/* ---- frost compile ------------------------------------------------------ */

fr_status fr_aot_compile(fr_model *m, const fr_aot_opts *o, fr_aot_result *r) {
  memset(r, 0, sizeof *r);
  /* Files: the artifact, and a header next to a library or an object. */
  const char *ext = emit_ext[o->emit];
  snprintf(r->files[0], sizeof r->files[0], "%s%s", o->out,
           *ext && !ends_with(o->out, ext) ? ext : "");
  r->n_files = 1;
  if (o->emit == FR_EMIT_SHARED || o->emit == FR_EMIT_OBJ) {
    size_t n = strlen(r->files[0]) - strlen(ext);
    snprintf(r->files[1], sizeof r->files[1], "%.*s.h", (int)n, r->files[0]);
    r->n_files = 2;
  }
  /* The folder must exist and be writable before any work is done. */
  for (int i = 0; i < r->n_files; i++) {
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", r->files[i]);
    char *slash = strrchr(dir, '/');
    if (!slash) snprintf(dir, sizeof dir, ".");
    else if (slash == dir) dir[1] = 0;
    else *slash = 0;
    struct stat sb;
    if (stat(r->files[i], &sb) == 0 && S_ISDIR(sb.st_mode))
      return fr_err(FR_ERR_IO, "%s: cannot write (a folder is there)", r->files[i]);
    FR_TRY(fr_file_check_target(r->files[i])); /* a FIFO, a device, a socket */
    if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode))
      return fr_err(FR_ERR_IO, "%s: cannot write (no folder %s)", r->files[i], dir);
    if (access(dir, W_OK) != 0)
      return fr_err(FR_ERR_IO, "%s: cannot write (%s)", r->files[i], strerror(errno));
  }
  char prefix[80];
  if (o->emit == FR_EMIT_EXE) snprintf(prefix, sizeof prefix, "frost_artifact");
  else if (o->prefix) snprintf(prefix, sizeof prefix, "%s", o->prefix);
  else prefix_from(r->files[0], prefix, sizeof prefix);
  FR_TRY(check_prefix(prefix));
  snprintf(r->prefix, sizeof r->prefix, "%s", prefix);
  if ((o->emit == FR_EMIT_EXE || o->emit == FR_EMIT_SHARED) && !in_path(linker()))
    return fr_err(FR_ERR_IO,
                  "no system C compiler '%s' to link with (apt-get install gcc, "
                  "or set FROST_CC)",
                  linker());

  /* The stages, for o->progress: codegen, optimizing, then machine code
   * (not for .ll) and linking (executables and libraries). */
  bool linked = o->emit == FR_EMIT_EXE || o->emit == FR_EMIT_SHARED;
  int steps = 2 + (o->emit != FR_EMIT_LLVM) + linked, step = 0;
#define STAGE(name)                                                          \
  do {                                                                       \
    if (o->progress) o->progress(step, steps, name);                         \
    step++;                                                                  \
  } while (0)
  STAGE("codegen");
  double t0 = fr_now_ms(), t1 = t0, t2 = t0, t3 = t0;
  fr_jit *j = NULL;
  FR_TRY(fr_jit_new_aot(o->cpu, &j));
  LLVMModuleRef mod = NULL, api = NULL;
  fr_status st = fr_codegen_aot(m, j, "frost_run_", &mod, &r->stats);
  /* An artifact that trains: its other graphs in the same module. */
  const fr_aot_train *tr = o->train;
  if (st == FR_OK && tr) st = fr_codegen_aot(tr->step, j, "frost_step_", &mod, &r->train_stats[0]);
  if (st == FR_OK && tr && tr->eval)
    st = fr_codegen_aot(tr->eval, j, "frost_eval_", &mod, &r->train_stats[1]);
  if (st == FR_OK && tr && tr->features)
    st = fr_codegen_aot(tr->features, j, "frost_features_", &mod, &r->train_stats[2]);
  if (st == FR_OK && tr && tr->frontend)
    st = fr_codegen_aot(tr->frontend, j, "frost_frontend_", &mod, &r->train_stats[3]);
  size_t len;
  const unsigned char *bc = fr_model_api_bitcode(&len);
  if (st == FR_OK) st = fr_jit_parse_bitcode(j, bc, len, "model_api.bc", &api);
  /* Executables and libraries link the kernels' generic code as shared
   * objects (shared.c: compiled once per CPU, kept in the code cache);
   * without the cache, and in an object file, IR or assembly, everything
   * is in one module. */
  const bool split = linked && o->cache_dir;
  pool_names pool = {.n = 0};
  if (st == FR_OK && split) find_pool(api, &pool);
  if (st == FR_OK) {
    st = fr_jit_link(mod, api);
    api = NULL;
  }
  if (st == FR_OK)
    st = build_desc(j, mod, m, o, &r->stats, r->train_stats,
                    LLVMGetNamedFunction(mod, "frost_run_"));
  if (st == FR_OK && split) st = fr_shared_split(mod, NULL);
  if (st == FR_OK) {
    set_linkage(mod, prefix, split ? &pool : NULL);
    STAGE("optimizing (LLVM)");
    t1 = fr_now_ms();
    st = fr_jit_optimize(j, mod, NULL);
  }
  t2 = fr_now_ms();
  /* The artifact's bytes, or the object to link. */
  uint8_t *buf = NULL;
  size_t nbuf = 0;
  char *text = NULL;
  if (st == FR_OK && o->emit == FR_EMIT_LLVM) {
    text = LLVMPrintModuleToString(mod);
    buf = (uint8_t *)text;
    nbuf = strlen(text);
  } else if (st == FR_OK) {
    STAGE("machine code");
    st = fr_jit_emit(j, mod, o->emit == FR_EMIT_ASM, &buf, &nbuf);
  }
  t3 = fr_now_ms();
  fr_shared_set sh = {.v = NULL};
  if (st == FR_OK && split) st = fr_shared_closure(j, buf, nbuf, o->cache_dir, &sh);
  r->stats.ms_shared = sh.ms;
  r->stats.n_shared = sh.n;
  r->stats.n_shared_built = sh.n_built;
  double t4 = fr_now_ms();
  r->ms_module = t1 - t0;
  r->ms_optimize = t2 - t1;
  r->ms_emit = t3 - t2;
  r->ms_shared = t4 - t3;
  char cpu[128];
  snprintf(cpu, sizeof cpu, "%s", fr_jit_cpu(j));
  if (mod) LLVMDisposeModule(mod);
  if (api) LLVMDisposeModule(api);

  char tmp[2][4200];
  for (int i = 0; i < r->n_files; i++) tmp_path(r->files[i], tmp[i], sizeof tmp[i]);
  bool made[2] = {false, false};
  if (st == FR_OK && (o->emit == FR_EMIT_EXE || o->emit == FR_EMIT_SHARED)) {
    char dir[] = "/tmp/frost-link-XXXXXX";
    const char *tdir = getenv("TMPDIR");
    char dirbuf[4200];
    snprintf(dirbuf, sizeof dirbuf, "%s/frost-link-XXXXXX", tdir && *tdir ? tdir : "/tmp");
    char *d = mkdtemp(dirbuf);
    if (!d) d = mkdtemp(dir);
    if (!d) {
      st = fr_err(FR_ERR_IO, "cannot make a temporary folder (%s)", strerror(errno));
    } else {
      char obj[4200];
      snprintf(obj, sizeof obj, "%s/model.o", d);
      st = write_file(obj, buf, nbuf);
      if (st == FR_OK) {
        /* The linker must not follow an existing link at the temporary
         * name: it is ours alone. */
        unlink(tmp[0]);
        made[0] = true;
        STAGE("linking");
        st = link_artifact(o->emit, d, obj, &sh, tmp[0], r->files[0],
                           o->train && o->train->images);
      }
      remove_dir(d, sh.n);
    }
  } else if (st == FR_OK) {
    made[0] = true;
    st = write_file(tmp[0], buf, nbuf);
    if (st != FR_OK) made[0] = false;
  }
  if (text) LLVMDisposeMessage(text);
  else fr_free(buf);
  if (st == FR_OK && r->n_files == 2) {
    char *hbuf = NULL;
    size_t hlen = 0;
    FILE *f = open_memstream(&hbuf, &hlen);
    if (!f) {
      st = fr_err_nomem(NULL);
    } else {
      const char *lib = strrchr(r->files[0], '/');
      st = write_header(f, prefix, lib ? lib + 1 : r->files[0], m, o, &r->stats,
                        r->train_stats, cpu);
      fclose(f);
      if (st == FR_OK) {
        made[1] = true;
        st = write_file(tmp[1], hbuf, hlen);
        if (st != FR_OK) made[1] = false;
      }
      free(hbuf);
    }
  }
  /* All or nothing: rename only once every file is complete. */
  int renamed = 0;
  for (int i = 0; st == FR_OK && i < r->n_files; i++) {
    if (rename(tmp[i], r->files[i]) != 0)
      st = fr_err(FR_ERR_IO, "%s: cannot write (%s)", r->files[i], strerror(errno));
    else
      renamed++;
  }
  if (st != FR_OK) {
    for (int i = 0; i < renamed; i++) unlink(r->files[i]);
    for (int i = renamed; i < r->n_files; i++)
      if (made[i]) unlink(tmp[i]);
  }
  for (int i = 0; st == FR_OK && i < r->n_files; i++) {
    struct stat sb;
    r->sizes[i] = stat(r->files[i], &sb) == 0 ? (size_t)sb.st_size : 0;
  }
  fr_shared_free(&sh);
  fr_jit_free(j);
  r->ms_link = fr_now_ms() - t4;
  return st;
}
#undef STAGE
