/* codegen.c: a compiled graph as one LLVM function, JIT-compiled.
 *
 *   void frost_main(void *const *inputs, void *const *outputs, char *arena,
 *                   void *const *table)
 *
 * For every node, in order, the op's plan (runtime/plan.c) is made at
 * compile time from the node's static shapes (and constant inputs); the
 * function calls the plan's kernel entry with the parameter block as a
 * constant global and the node's buffers:
 *   - frozen weights: a slot of `table`, the pointer table the caller
 *     passes (the weights where the model keeps them); a constant of at
 *     most INLINE_BYTES is a read-only global of the module instead;
 *   - trainable parameters: a slot of `table` too, their place in the
 *     trainable block of the parameter layout (ir/layout.c), so updates
 *     show in the next run;
 *   - graph inputs and outputs: the caller's pointers;
 *   - intermediate values: `arena` + the offset of the static memory plan;
 *   - scratch: one region after the planned activations.
 * The code holds no address of this process, so the code cache can keep
 * it: the table is made anew, in the same order, by the same walk of the
 * graph (slot 0 is fr_jit_fallback, slot 1 the compiled graph).
 *
 * By default the nodes' entries are declared and the kernels' bitcode is
 * linked in (jit.c: only the kernels called), so LLVM inlines each entry
 * and specializes the kernel for its constants before optimizing for the
 * target CPU; with fr_jit_opts.calls, each node calls the entry built into
 * frost instead. Nodes without a plan call back into the interpreter's exec
 * (fr_jit_fallback); ahead of time (aot.c) they are an error. View
 * nodes whose output shares its input's bytes emit nothing. Outputs no node
 * computes (an input or a constant passed through, an output listed twice)
 * are copied at the end.
 *
 * Ahead of time, the function has no table: weights are constants of the
 * module, kernel entries are always the bitcode's (the artifact carries
 * its kernels), and trainable parameters live in one writable global, the
 * trainable block (FR_TRAINABLE_BLOCK), at their layout offsets; the
 * artifact's descriptor lists them. */
#include <stdio.h>
#include <string.h>

#include <llvm-c/Analysis.h>
#include <llvm-c/Core.h>

#include "llvm.h"

/* Constants up to this size are embedded in the code (and so in the code
 * cache's key); larger ones are read through the table. */
#define INLINE_BYTES 64

typedef void (*fr_main_fn)(void *const *, void *const *, char *, void *const *);

struct fr_compiled {
  fr_model *m;         /* the optimized model (borrowed) */
  fr_jit *jit;
  fr_main_fn fn;
  void **table;        /* the pointers frost_main reads: see the top */
  char *arena;         /* activations, then scratch */
  size_t arena_bytes;
  fr_exec exec;        /* state for fallback nodes */
  fr_status fallback_status;
  fr_compile_stats stats;
  /* fr_jit_opts.profile: per node, the milliseconds of all runs (the time
   * since the previous node's tick), and the runs */
  double *prof_ms, prof_last;
  int64_t prof_runs;
};

/* Called from profiled code after node k. */
static void fr_jit_tick(fr_compiled *c, int k) {
  double now = fr_now_ms();
  c->prof_ms[k] += now - c->prof_last;
  c->prof_last = now;
}

/* Called from compiled code for a node without a plan: runs the node's
 * exec on tensors over the compiled buffers. */
static void fr_jit_fallback(fr_compiled *c, int k, void *const *bufs) {
  if (c->fallback_status != FR_OK) return;
  const fr_node *n = c->m->graph->nodes[k];
  fr_tensor tin[64], tout[64], *in[64], *out[64];
  for (int i = 0; i < n->n_in; i++) {
    in[i] = NULL;
    if (!n->in[i]) continue;
    tin[i] = n->in[i]->t;
    tin[i].data = bufs[i];
    in[i] = &tin[i];
  }
  for (int i = 0; i < n->n_out; i++) {
    out[i] = NULL;
    if (!n->out[i]) continue;
    tout[i] = n->out[i]->t;
    tout[i].data = bufs[n->n_in + i];
    /* Outputs start zeroed as in the interpreter - unless computed in
     * place over an input. */
    bool in_place = false;
    for (int j = 0; j < n->n_in; j++) in_place |= bufs[j] == tout[i].data;
    if (!in_place) memset(tout[i].data, 0, fr_tensor_nbytes(&tout[i]));
    out[i] = &tout[i];
  }
  c->fallback_status = fr_rt_ops[n->op].exec(&c->exec, n, in, out);
}

/* Why g cannot be compiled, or FR_OK. */
static fr_status compilable(const fr_graph *g) {
  for (int k = 0; k < g->n_nodes; k++) {
    const fr_node *n = g->nodes[k];
    if (n->n_in > 64 || n->n_out > 64)
      return fr_err_node(FR_ERR_UNSUPPORTED, n, "too many operands to compile");
    for (int i = 0; i < n->n_attr; i++)
      if (n->attrs[i].type == FR_ATTR_GRAPH || n->attrs[i].type == FR_ATTR_GRAPHS)
        return fr_err_node(FR_ERR_UNSUPPORTED, n,
                           "control flow is run by the interpreter");
    /* Shapes must follow from the static ones, not from declarations. */
    fr_status st = fr_node_infer(n);
    if (st != FR_OK) return st;
    for (int i = 0; i < n->n_out; i++) {
      const fr_value *v = n->out[i];
      if (!v) continue;
      if (v->t.kind != FR_KIND_TENSOR || v->t.dtype == FR_STRING ||
          v->t.rank < 0)
        return fr_err_node(FR_ERR_UNSUPPORTED, n,
                           "'%s' is not a tensor of static shape", v->name);
    }
    for (int i = 0; i < n->n_in; i++)
      if (n->in[i] && (n->in[i]->t.kind != FR_KIND_TENSOR ||
                       n->in[i]->t.dtype == FR_STRING))
        return fr_err_node(FR_ERR_UNSUPPORTED, n, "operand is not a numeric tensor");
  }
  for (int i = 0; i < g->n_inputs; i++)
    if (g->inputs[i]->t.kind != FR_KIND_TENSOR || g->inputs[i]->t.rank < 0 ||
        g->inputs[i]->t.dtype == FR_STRING)
      return fr_err(FR_ERR_UNSUPPORTED, "input '%s' is not a tensor of static shape",
                    g->inputs[i]->name);
  return FR_OK;
}

typedef struct cg {
  LLVMContextRef ctx;
  LLVMModuleRef mod;
  LLVMBuilderRef b;
  LLVMTypeRef ptr, i8, i32, i64;
  LLVMValueRef fn, in, out, arena, tab;
  LLVMValueRef *ptrs; /* by value id: the value's pointer, once made */
  void **table;       /* JIT: the table's pointers (slots 0 and 1 set by the
                         caller) */
  int n_table, cap_table;
  fr_status table_st;
  const fr_graph *g;
  int64_t scratch_off;
  bool specialize; /* inline the kernels' bitcode (else call frost's own) */
  bool aot;        /* for an artifact: no fallback, trainable globals */
  bool profile;    /* JIT: call table slot 2 (fr_jit_tick) after each node */
  LLVMModuleRef into; /* aot: add the function to this module (its
                         kernels and trainable block), or NULL */
  int n_native, n_fallback, n_skipped;
} cg;

static LLVMValueRef const_bytes(cg *c, const void *data, size_t n,
                                const char *name) {
  LLVMValueRef init = LLVMConstStringInContext2(c->ctx, data, n, 1);
  LLVMValueRef gv = LLVMAddGlobal(c->mod, LLVMTypeOf(init), name);
  LLVMSetInitializer(gv, init);
  LLVMSetGlobalConstant(gv, 1);
  LLVMSetLinkage(gv, LLVMPrivateLinkage);
  LLVMSetUnnamedAddress(gv, LLVMGlobalUnnamedAddr);
  LLVMSetAlignment(gv, 64);
  return gv;
}

static LLVMValueRef arena_at(cg *c, int64_t off) {
  LLVMValueRef idx = LLVMConstInt(c->i64, (unsigned long long)off, 0);
  return LLVMBuildGEP2(c->b, c->i8, c->arena, &idx, 1, "");
}

static LLVMValueRef load_arg(cg *c, LLVMValueRef arr, int k) {
  LLVMValueRef idx = LLVMConstInt(c->i64, (unsigned long long)k, 0);
  LLVMValueRef p = LLVMBuildGEP2(c->b, c->ptr, arr, &idx, 1, "");
  return LLVMBuildLoad2(c->b, c->ptr, p, "");
}

/* JIT: a new slot of the table holding addr, and its load. */
static LLVMValueRef table_slot(cg *c, void *addr) {
  if (c->n_table == c->cap_table) {
    int cap = c->cap_table ? 2 * c->cap_table : 64;
    void **t = fr_realloc(c->table, (size_t)cap * sizeof *t);
    if (!t) {
      c->table_st = fr_err_nomem(NULL);
      return LLVMConstPointerNull(c->ptr);
    }
    c->table = t;
    c->cap_table = cap;
  }
  c->table[c->n_table] = addr;
  return load_arg(c, c->tab, c->n_table++);
}

/* The pointer to v's data. Inputs and constants first: a value that is
 * also a graph output is copied there at the end (emit_passthrough). */
static LLVMValueRef value_ptr(cg *c, const fr_value *v) {
  if (!v) return LLVMConstPointerNull(c->ptr);
  if (c->ptrs[v->id]) return c->ptrs[v->id];
  LLVMValueRef p = NULL;
  const fr_graph *g = c->g;
  for (int i = 0; !p && i < g->n_inputs; i++)
    if (g->inputs[i] == v) p = load_arg(c, c->in, i);
  if (!p && (v->flags & FR_V_CONST)) {
    size_t n = fr_tensor_nbytes(&v->t);
    if (c->aot && (v->flags & FR_V_WRITABLE)) {
      /* The artifact's trainable block: one writable array holding every
       * trainable parameter at its layout offset. */
      const fr_param_layout *L = c->g->layout;
      FR_ASSERT(L && v->param_off >= 0);
      LLVMValueRef block = LLVMGetNamedGlobal(c->mod, FR_TRAINABLE_BLOCK);
      if (!block) {
        block = const_bytes(c, L->block[FR_PB_TRAINABLE],
                            (size_t)L->bytes[FR_PB_TRAINABLE],
                            FR_TRAINABLE_BLOCK);
        LLVMSetGlobalConstant(block, 0);
        LLVMSetLinkage(block, LLVMInternalLinkage);
        LLVMSetUnnamedAddress(block, LLVMNoUnnamedAddr);
      }
      LLVMValueRef idx = LLVMConstInt(c->i64, (unsigned long long)v->param_off, 0);
      p = LLVMConstInBoundsGEP2(c->i8, block, &idx, 1);
    } else if (v->flags & FR_V_WRITABLE) {
      /* The JIT reads a trainable parameter where the parameter layout
       * keeps it (ir/layout.c), never as a constant LLVM could fold: a
       * training step's update shows in the next run. */
      FR_ASSERT(c->g->layout && v->param_off >= 0);
      p = table_slot(c, v->t.data);
    } else if (!c->aot && n > INLINE_BYTES) {
      p = table_slot(c, v->t.data);
    } else {
      p = const_bytes(c, v->t.data, n ? n : 1, "w");
    }
  }
  for (int i = 0; !p && i < g->n_outputs; i++)
    if (g->outputs[i] == v) p = load_arg(c, c->out, i);
  if (!p) {
    FR_ASSERT(v->offset >= 0);
    p = arena_at(c, v->offset);
  }
  c->ptrs[v->id] = p;
  return p;
}

/* Graph outputs no node wrote: copies of inputs, constants, or of an
 * earlier output holding the same value. */
static void emit_passthrough(cg *c) {
  const fr_graph *g = c->g;
  for (int i = 0; i < g->n_outputs; i++) {
    const fr_value *v = g->outputs[i];
    size_t n = fr_tensor_nbytes(&v->t);
    LLVMValueRef dst = load_arg(c, c->out, i);
    LLVMValueRef src = value_ptr(c, v);
    bool first = true;
    for (int j = 0; j < i; j++) first &= g->outputs[j] != v;
    bool computed = !(v->flags & FR_V_CONST);
    for (int k = 0; k < g->n_inputs; k++) computed &= g->inputs[k] != v;
    if (n == 0 || (first && computed)) continue;
    LLVMBuildMemCpy(c->b, dst, 1, src, 1, LLVMConstInt(c->i64, n, 0));
  }
}

/* Emits node k: a planned entry call, a fallback call, or nothing. */
static fr_status emit_node(cg *c, int k, fr_kplan *p) {
  const fr_node *n = c->g->nodes[k];
  if ((fr_ops[n->op].flags & FR_OPF_VIEW) && n->in[0] && n->out[0] && n->out[0]->offset >= 0 &&
      n->out[0]->offset == n->in[0]->offset) {
    c->n_skipped++;
    return FR_OK;
  }
  fr_tensor *in[65], *out[65];
  for (int i = 0; i < n->n_in; i++) in[i] = n->in[i] ? &n->in[i]->t : NULL;
  for (int i = 0; i < n->n_out; i++) out[i] = n->out[i] ? &n->out[i]->t : NULL;
  memset(p, 0, offsetof(fr_kplan, params));
  fr_status st = fr_rt_ops[n->op].plan(n, in, out, p);
  LLVMValueRef entry = NULL;
  LLVMTypeRef entry_t = LLVMFunctionType(LLVMVoidTypeInContext(c->ctx),
                                         (LLVMTypeRef[]){c->ptr, c->ptr}, 2, 0);
  if (st == FR_OK && c->specialize) {
    /* The bitcode's entry: ahead of time in the module already; in the
     * JIT a declaration, which fr_jit_link_kernels defines. */
    entry = LLVMGetNamedFunction(c->mod, p->entry);
    if (!entry && !c->aot) entry = LLVMAddFunction(c->mod, p->entry, entry_t);
    if (!entry)
      return fr_err_node(FR_ERR_INVALID, n, "kernel entry %s is not in the bitcode",
                         p->entry);
  } else if (st == FR_OK) {
    /* The same entry, as built into frost: a call through its address. */
    entry = LLVMConstIntToPtr(
        LLVMConstInt(c->i64, (unsigned long long)(uintptr_t)p->fn, 0), c->ptr);
  } else if (st != FR_ERR_UNSUPPORTED) {
    return st;
  } else if (c->aot) {
    return fr_err_node(FR_ERR_UNSUPPORTED, n,
                       "has no native kernel, so it cannot go into an "
                       "artifact (%s)", fr_err_msg());
  }
  int slots = entry ? fr_kplan_in_slots(n) : n->n_in;
  int max_out = entry ? fr_kplan_out_slots(n) : n->n_out;
  int nb = slots + max_out + 1;
  LLVMTypeRef arr_t = LLVMArrayType2(c->ptr, (uint64_t)nb);
  LLVMValueRef bufs = LLVMBuildAlloca(c->b, arr_t, "bufs");
  for (int i = 0; i < nb; i++) {
    LLVMValueRef v;
    if (i < slots) v = value_ptr(c, i < n->n_in ? n->in[i] : NULL);
    else if (i < slots + max_out)
      v = value_ptr(c, i - slots < n->n_out ? n->out[i - slots] : NULL);
    else
      v = entry && p->scratch ? arena_at(c, c->scratch_off)
                              : LLVMConstPointerNull(c->ptr);
    LLVMValueRef idx[2] = {LLVMConstInt(c->i64, 0, 0),
                           LLVMConstInt(c->i64, (unsigned long long)i, 0)};
    LLVMBuildStore(c->b, v, LLVMBuildGEP2(c->b, arr_t, bufs, idx, 2, ""));
  }
  if (entry) {
    char name[64];
    snprintf(name, sizeof name, "params.%d", k);
    LLVMValueRef args[2] = {const_bytes(c, p->params, p->size ? p->size : 1, name),
                            bufs};
    LLVMBuildCall2(c->b, entry_t, entry, args, 2, "");
    c->n_native++;
    return FR_OK;
  }
  /* No plan: back into the interpreter. */
  LLVMTypeRef ft = LLVMFunctionType(LLVMVoidTypeInContext(c->ctx),
                                    (LLVMTypeRef[]){c->ptr, c->i32, c->ptr}, 3, 0);
  LLVMValueRef fp = load_arg(c, c->tab, 0), self = load_arg(c, c->tab, 1);
  LLVMValueRef args[3] = {self, LLVMConstInt(c->i32, (unsigned long long)k, 0), bufs};
  LLVMBuildCall2(c->b, ft, fp, args, 3, "");
  c->n_fallback++;
  return FR_OK;
}

/* Profiling: fr_jit_tick(compiled, k), both from the table. */
static void emit_tick(cg *c, int k) {
  LLVMTypeRef ft = LLVMFunctionType(LLVMVoidTypeInContext(c->ctx),
                                    (LLVMTypeRef[]){c->ptr, c->i32}, 2, 0);
  LLVMValueRef fp = load_arg(c, c->tab, 2), self = load_arg(c, c->tab, 1);
  LLVMValueRef args[2] = {self, LLVMConstInt(c->i32, (unsigned long long)k, 0)};
  LLVMBuildCall2(c->b, ft, fp, args, 2, "");
}

/* Builds the module of m's main graph in j's context: the function `name`
 * (see the top of the file), the kernels' bitcode when c->specialize. */
static fr_status build_module(cg *c, fr_model *m, fr_jit *j, const char *name,
                              LLVMModuleRef *out, size_t *arena_bytes) {
  *out = NULL;
  const fr_graph *g = m->graph;
  FR_TRY(compilable(g));
  if (g->peak < 0)
    return fr_err(FR_ERR_INVALID, "the graph has no memory plan (run the pipeline)");
  fr_kplan *p = fr_malloc(sizeof *p);
  if (!p) return fr_err_nomem(NULL);
  fr_status st = FR_OK;
  /* Scratch: the largest any planned node wants, after the activations. */
  int64_t scratch = 0;
  for (int k = 0; st == FR_OK && k < g->n_nodes; k++) {
    const fr_node *n = g->nodes[k];
    fr_tensor *in[65], *o[65];
    for (int i = 0; i < n->n_in; i++) in[i] = n->in[i] ? &n->in[i]->t : NULL;
    for (int i = 0; i < n->n_out; i++) o[i] = n->out[i] ? &n->out[i]->t : NULL;
    memset(p, 0, offsetof(fr_kplan, params));
    fr_status ps = fr_rt_ops[n->op].plan(n, in, o, p);
    if (ps == FR_OK && (int64_t)p->scratch > scratch) scratch = (int64_t)p->scratch;
    else if (ps != FR_OK && ps != FR_ERR_UNSUPPORTED) st = ps;
  }
  LLVMModuleRef kern = NULL;
  if (st == FR_OK && c->into) kern = c->into;
  else if (st == FR_OK && c->aot) st = fr_jit_kernels(j, &kern);
  else if (st == FR_OK)
    kern = LLVMModuleCreateWithNameInContext("frost", fr_jit_context(j));
  if (st == FR_OK) {
    c->g = g;
    c->ctx = fr_jit_context(j);
    c->mod = kern;
    c->b = LLVMCreateBuilderInContext(c->ctx);
    c->ptr = LLVMPointerTypeInContext(c->ctx, 0);
    c->i8 = LLVMInt8TypeInContext(c->ctx);
    c->i32 = LLVMInt32TypeInContext(c->ctx);
    c->i64 = LLVMInt64TypeInContext(c->ctx);
    c->ptrs = fr_calloc((size_t)m->n_ids + 1, sizeof(LLVMValueRef));
    c->scratch_off = (g->peak + 63) / 64 * 64;
    *arena_bytes = (size_t)(c->scratch_off + scratch);
    if (!c->ptrs) st = fr_err_nomem(NULL);
  }
  if (st == FR_OK) {
    LLVMTypeRef ft = LLVMFunctionType(LLVMVoidTypeInContext(c->ctx),
                                      (LLVMTypeRef[]){c->ptr, c->ptr, c->ptr, c->ptr},
                                      c->aot ? 3 : 4, 0);
    c->fn = LLVMAddFunction(c->mod, name, ft);
    c->in = LLVMGetParam(c->fn, 0);
    c->out = LLVMGetParam(c->fn, 1);
    c->arena = LLVMGetParam(c->fn, 2);
    c->tab = c->aot ? NULL : LLVMGetParam(c->fn, 3);
    if (!c->aot) { /* slots 0 and 1: fr_jit_fallback and the compiled graph,
                      2: fr_jit_tick when profiling */
      c->cap_table = 64;
      c->n_table = c->profile ? 3 : 2;
      c->table = fr_calloc((size_t)c->cap_table, sizeof *c->table);
      if (!c->table) st = fr_err_nomem(NULL);
    }
    LLVMPositionBuilderAtEnd(c->b,
                             LLVMAppendBasicBlockInContext(c->ctx, c->fn, "entry"));
    for (int k = 0; st == FR_OK && k < g->n_nodes; k++) {
      st = emit_node(c, k, p);
      if (st == FR_OK && c->profile) emit_tick(c, k);
    }
    if (st == FR_OK) {
      emit_passthrough(c);
      LLVMBuildRetVoid(c->b);
    }
    if (st == FR_OK) st = c->table_st;
    char *msg = NULL;
    if (st == FR_OK && LLVMVerifyModule(c->mod, LLVMReturnStatusAction, &msg))
      st = fr_err(FR_ERR_INVALID, "LLVM: invalid module: %.300s", msg ? msg : "?");
    LLVMDisposeMessage(msg);
  }
  if (c->b) LLVMDisposeBuilder(c->b);
  c->b = NULL;
  fr_free(c->ptrs);
  c->ptrs = NULL;
  fr_free(p);
  if (st != FR_OK) {
    if (kern && kern != c->into) LLVMDisposeModule(kern);
    return st;
  }
  *out = kern;
  return FR_OK;
}

fr_status fr_codegen_aot(fr_model *m, fr_jit *j, const char *name,
                         LLVMModuleRef *out, fr_compile_stats *s) {
  cg c = {.specialize = true, .aot = true, .into = *out};
  memset(s, 0, sizeof *s);
  double t0 = fr_now_ms();
  FR_TRY(build_module(&c, m, j, name, out, &s->arena_bytes));
  s->n_native = c.n_native;
  s->n_skipped = c.n_skipped;
  s->ms_codegen = fr_now_ms() - t0;
  return FR_OK;
}

static void shared_stats(fr_compile_stats *s, const fr_shared_set *sh) {
  s->ms_shared = sh->ms;
  s->n_shared = sh->n;
  s->n_shared_built = sh->n_built;
}

/* Loads obj into j and finds frost_main (JIT linking happens then). */
static fr_status load(fr_jit *j, const uint8_t *obj, size_t len, void **addr) {
  FR_TRY(fr_jit_add_object(j, obj, len));
  return fr_jit_lookup(j, "frost_main", addr);
}

/* The machine code of the graph's module mod (consumed), loaded into j,
 * and its frost_main: from the code cache when it holds mod's key, else
 * compiled - the kernels linked in unless o->calls, optimized, emitted as
 * an object - and stored there. */
static fr_status machine_code(fr_jit *j, LLVMModuleRef mod, const fr_jit_opts *o,
                              fr_compile_stats *s, void **addr) {
  double t0 = fr_now_ms();
  uint8_t key[32];
  uint8_t *obj = NULL;
  size_t len = 0;
  /* profiled code has its own module (calls after each node): not kept,
   * but it uses the shared kernel code the cache keeps */
  bool split = !o->calls && o->cache_dir, cached = split && !o->profile;
  s->cache = cached ? FR_CACHE_MISS : FR_CACHE_OFF;
  if (cached) {
    fr_cache_key(j, mod, key);
    fr_cache_path(o->cache_dir, key, s->cache_file, sizeof s->cache_file);
    if (fr_cache_load(o->cache_dir, key, &obj, &len)) {
      double t1 = fr_now_ms();
      fr_shared_set sh = {.v = NULL};
      fr_status st = fr_shared_load(j, obj, len, o->cache_dir, &sh);
      shared_stats(s, &sh);
      if (st == FR_OK) st = load(j, obj, len, addr);
      s->ms_cache = t1 - t0;
      s->ms_jit = fr_now_ms() - t1 - sh.ms;
      fr_shared_free(&sh);
      if (st == FR_OK) {
        LLVMDisposeModule(mod);
        fr_free(obj);
        s->cache = FR_CACHE_HIT;
        s->object_bytes = len;
        return FR_OK;
      }
      fprintf(stderr, "frost: note: code cache: %s: %s; compiling again\n",
              s->cache_file, fr_err_msg());
      fr_jit_reset(j);
      fr_free(obj);
    }
  }
  double t1 = fr_now_ms();
  fr_status st = o->calls ? FR_OK : fr_jit_link_kernels(j, mod);
  /* Shared kernel code pays only when the code cache keeps it. */
  if (st == FR_OK && split) st = fr_shared_split(mod, NULL);
  double t2 = fr_now_ms();
  if (st == FR_OK) st = fr_jit_optimize(j, mod, "frost_main");
  double t3 = fr_now_ms();
  if (st == FR_OK) st = fr_jit_emit(j, mod, false, &obj, &len);
  LLVMDisposeModule(mod);
  double t4 = fr_now_ms();
  if (st == FR_OK && cached) fr_cache_store(o->cache_dir, key, obj, len);
  double t5 = fr_now_ms();
  fr_shared_set sh = {.v = NULL};
  if (st == FR_OK) st = fr_shared_load(j, obj, len, o->cache_dir, &sh);
  if (st == FR_OK) st = load(j, obj, len, addr);
  fr_free(obj);
  shared_stats(s, &sh);
  s->ms_cache = (t1 - t0) + (t5 - t4);
  s->ms_kernels = t2 - t1;
  s->ms_optimize = t3 - t2;
  s->ms_emit = t4 - t3;
  s->ms_jit = fr_now_ms() - t5 - sh.ms;
  fr_shared_free(&sh);
  s->object_bytes = len;
  return st;
}

fr_status fr_compile_jit(fr_model *m, const fr_jit_opts *o, fr_compiled **out) {
  *out = NULL;
  fr_compiled *comp = fr_calloc(1, sizeof *comp);
  if (!comp) return fr_err_nomem(NULL);
  comp->m = m;
  fr_compile_stats *s = &comp->stats;
  fr_status st = fr_interp_init(&comp->exec, m);
  double t0 = fr_now_ms();
  if (st == FR_OK) st = fr_jit_new(o->cpu, &comp->jit);
  s->ms_target = fr_now_ms() - t0;
  cg c = {.specialize = !o->calls, .profile = o->profile};
  LLVMModuleRef mod = NULL;
  t0 = fr_now_ms();
  if (st == FR_OK)
    st = build_module(&c, m, comp->jit, "frost_main", &mod, &comp->arena_bytes);
  comp->table = c.table;
  s->n_native = c.n_native;
  s->n_fallback = c.n_fallback;
  s->n_skipped = c.n_skipped;
  s->arena_bytes = comp->arena_bytes;
  s->ms_codegen = fr_now_ms() - t0;
  void *addr = NULL;
  if (st == FR_OK) st = machine_code(comp->jit, mod, o, s, &addr);
  if (st == FR_OK) {
    comp->fn = (fr_main_fn)addr;
    comp->table[0] = (void *)(uintptr_t)fr_jit_fallback;
    comp->table[1] = comp;
    if (o->profile) {
      comp->table[2] = (void *)(uintptr_t)fr_jit_tick;
      comp->prof_ms = fr_calloc((size_t)m->graph->n_nodes + 1, sizeof(double));
      if (!comp->prof_ms) st = fr_err_nomem(NULL);
    }
    comp->arena = fr_aligned_alloc(comp->arena_bytes ? comp->arena_bytes : 64);
    if (!comp->arena) st = fr_err(FR_ERR_NOMEM, "out of memory (activations)");
  }
  if (st != FR_OK) {
    fr_compiled_free(comp);
    return st;
  }
  *out = comp;
  return FR_OK;
}

void fr_compiled_free(fr_compiled *c) {
  if (!c) return;
  fr_jit_free(c->jit);
  fr_interp_free(&c->exec);
  fr_aligned_free(c->arena);
  fr_free(c->table);
  fr_free(c->prof_ms);
  fr_free(c);
}

const double *fr_compiled_profile(const fr_compiled *c, int64_t *runs) {
  *runs = c->prof_runs;
  return c->prof_ms;
}

void fr_compiled_stats(const fr_compiled *c, fr_compile_stats *s) { *s = c->stats; }

fr_status fr_compiled_run(fr_compiled *c, fr_tensor *const *in, fr_tensor *out) {
  const fr_graph *g = c->m->graph;
  enum { MAX = 256 };
  void *ins[MAX], *outs[MAX];
  if (g->n_inputs > MAX || g->n_outputs > MAX)
    return fr_err(FR_ERR_UNSUPPORTED, "too many graph inputs or outputs");
  for (int i = 0; i < g->n_inputs; i++) ins[i] = in[i]->data;
  fr_status st = FR_OK;
  for (int i = 0; i < g->n_outputs && st == FR_OK; i++) {
    memset(&out[i], 0, sizeof out[i]);
    out[i] = g->outputs[i]->t;
    out[i].data = NULL;
    st = fr_tensor_alloc(&out[i]);
    outs[i] = out[i].data;
  }
  if (st == FR_OK) {
    c->fallback_status = FR_OK;
    if (c->prof_ms) { /* --profile: the first node's time starts here */
      c->prof_last = fr_now_ms();
      c->prof_runs++;
    }
    c->fn(ins, outs, c->arena, (void *const *)c->table);
    st = c->fallback_status;
  }
  if (st != FR_OK)
    for (int i = 0; i < g->n_outputs; i++) fr_tensor_release(&out[i]);
  return st;
}
