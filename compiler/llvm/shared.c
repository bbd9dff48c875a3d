/* shared.c: shared kernel code - the kernels' generic functions, compiled
 * once per CPU instead of into every model.
 *
 * Specialization inlines each node's kernel entry and folds its constant
 * parameters, but some kernel code is the same in every model: the tasks
 * a kernel's threads run (fr_k_parallel's fn, which reads its shapes from
 * memory) and a few large functions marked FR_K_GENERIC in runtime/kernels
 * (the blocked GEMM, say), which take their shapes as arguments from
 * several callers and are never inlined. Compiled into each model they
 * were most of its compile time: a single MatMul took 1.9 s of LLVM, for
 * the GEMM's threaded copy.
 *
 * fr_shared_split replaces, in a module, each use of such a function by
 * a declaration of SHARED_PREFIX + its name: every use of a generic
 * function, and a task where it is handed to fr_k_parallel (a task's
 * direct calls stay: they are its caller's serial path, inlined and
 * specialized). Each shared function is then compiled on its own - the
 * bitcode's function and what it calls, nothing else external - for the
 * same target and passes as the model (so it computes the same bits as
 * the inlined copies), and kept in the code cache under a key of its name
 * and fr_jit_hash (frost's build, LLVM, CPU, features, settings) and
 * whether it is for the JIT or an artifact. The first model that needs
 * it pays once per machine; later ones load it.
 *
 * What an object needs is read from its symbols (fr_shared_closure), so a
 * model's code from the cache knows it too, and shared code that needs
 * other shared code (a task calling the GEMM) brings it along. The JIT
 * loads the objects before the model's code; an artifact links them
 * beside it, hidden. */
#include <stdio.h>
#include <string.h>

#include <llvm-c/Core.h>
#include <llvm-c/Object.h>

#include "llvm.h"

#define SHARED_PREFIX "frost_k."
/* runtime/kernels/kernels.h: FR_K_GENERIC */
#define GENERIC_SECTION ".text.frost_generic"
#define FORMAT 1u

static bool is_generic(LLVMValueRef f) {
  const char *s = LLVMGetSection(f);
  return s && !strcmp(s, GENERIC_SECTION);
}

static LLVMValueRef shared_decl(LLVMModuleRef m, LLVMValueRef f) {
  char name[300];
  snprintf(name, sizeof name, SHARED_PREFIX "%.280s", LLVMGetValueName(f));
  LLVMValueRef d = LLVMGetNamedFunction(m, name);
  return d ? d : LLVMAddFunction(m, name, LLVMGlobalGetValueType(f));
}

fr_status fr_shared_split(LLVMModuleRef m, const char *self) {
  /* Generic functions first: the tasks they hand out go with them. */
  for (LLVMValueRef f = LLVMGetFirstFunction(m), next; f; f = next) {
    next = LLVMGetNextFunction(f);
    if (LLVMIsDeclaration(f) || !is_generic(f)) continue;
    if (self && !strcmp(LLVMGetValueName(f), self)) continue;
    LLVMReplaceAllUsesWith(f, shared_decl(m, f));
    LLVMDeleteFunction(f);
  }
  LLVMValueRef par = LLVMGetNamedFunction(m, "fr_k_parallel");
  if (!par) return FR_OK;
  int n = 0;
  for (LLVMUseRef u = LLVMGetFirstUse(par); u; u = LLVMGetNextUse(u)) n++;
  LLVMValueRef *calls = fr_malloc((size_t)(n ? n : 1) * sizeof *calls);
  if (!calls) return fr_err_nomem(NULL);
  n = 0;
  for (LLVMUseRef u = LLVMGetFirstUse(par); u; u = LLVMGetNextUse(u)) {
    LLVMValueRef c = LLVMGetUser(u);
    if (LLVMIsACallInst(c) && LLVMGetCalledValue(c) == par) calls[n++] = c;
  }
  for (int i = 0; i < n; i++) {
    LLVMValueRef fn = LLVMGetOperand(calls[i], 1);
    if (!LLVMIsAFunction(fn) || LLVMIsDeclaration(fn)) continue;
    if (self && !strcmp(LLVMGetValueName(fn), self)) continue;
    LLVMSetOperand(calls[i], 1, shared_decl(m, fn));
  }
  fr_free(calls);
  return FR_OK;
}

/* ---- one shared function ------------------------------------------------ */

static void shared_key(fr_jit *j, const char *name, uint8_t key[32]) {
  fr_sha256 h;
  fr_sha256_init(&h);
  char head[400];
  snprintf(head, sizeof head, "frost shared kernel code %u, %s, %.300s\n", FORMAT,
           fr_jit_is_aot(j) ? "artifact" : "jit", name);
  fr_sha256_update(&h, head, strlen(head));
  fr_jit_hash(j, &h);
  fr_sha256_final(&h, key);
}

/* The object of the shared function `name` (SHARED_PREFIX + the bitcode's
 * name): the function external, everything it calls internal to it, and
 * other shared functions declared. */
static fr_status compile_shared(fr_jit *j, const char *name, uint8_t **obj,
                                size_t *len) {
  const char *orig = name + strlen(SHARED_PREFIX);
  LLVMModuleRef k;
  FR_TRY(fr_jit_lazy_kernels(j, &k));
  LLVMValueRef f = LLVMGetNamedFunction(k, orig);
  if (!f || LLVMIsDeclaration(f)) {
    LLVMDisposeModule(k);
    return fr_err(FR_ERR_INVALID, "shared kernel code %s is not in the kernels' "
                  "bitcode", orig);
  }
  LLVMSetValueName2(f, name, strlen(name));
  LLVMSetLinkage(f, LLVMExternalLinkage);
  LLVMSetVisibility(f, fr_jit_is_aot(j) ? LLVMHiddenVisibility : LLVMDefaultVisibility);
  LLVMSetSection(f, "");
  LLVMModuleRef m = LLVMModuleCreateWithNameInContext(name, fr_jit_context(j));
  fr_status st = fr_jit_link(m, k);
  if (st == FR_OK) st = fr_shared_split(m, name);
  if (st == FR_OK) st = fr_jit_optimize(j, m, name);
  if (st == FR_OK) st = fr_jit_emit(j, m, false, obj, len);
  LLVMDisposeModule(m);
  return st;
}

/* From the code cache (its folder shared/) when it holds it, else
 * compiled (and stored). */
static fr_status shared_object(fr_jit *j, const char *name, const char *cache_dir,
                               fr_shared_set *s, uint8_t **obj, size_t *len) {
  uint8_t key[32];
  shared_key(j, name, key);
  char dir[4200];
  if (cache_dir) snprintf(dir, sizeof dir, "%s/shared", cache_dir);
  if (cache_dir && fr_cache_load(dir, key, obj, len)) return FR_OK;
  FR_TRY(compile_shared(j, name, obj, len));
  s->n_built++;
  if (cache_dir) fr_cache_store(dir, key, *obj, *len);
  return FR_OK;
}

/* ---- what objects need ---------------------------------------------------- */

static bool in_set(const fr_shared_set *s, const char *name) {
  for (int i = 0; i < s->n; i++)
    if (!strcmp(s->v[i].name, name)) return true;
  return false;
}

/* Appends to s the shared functions obj refers to and s lacks. */
static fr_status needs(fr_jit *j, const uint8_t *obj, size_t len, fr_shared_set *s) {
  LLVMMemoryBufferRef mb =
      LLVMCreateMemoryBufferWithMemoryRange((const char *)obj, len, "object", 0);
  char *msg = NULL;
  LLVMBinaryRef b = LLVMCreateBinary(mb, fr_jit_context(j), &msg);
  if (!b) {
    fr_status st = fr_err(FR_ERR_INVALID, "LLVM: reading an object: %.300s",
                          msg ? msg : "?");
    LLVMDisposeMessage(msg);
    LLVMDisposeMemoryBuffer(mb);
    return st;
  }
  fr_status st = FR_OK;
  LLVMSymbolIteratorRef it = LLVMObjectFileCopySymbolIterator(b);
  for (; st == FR_OK && !LLVMObjectFileIsSymbolIteratorAtEnd(b, it);
       LLVMMoveToNextSymbol(it)) {
    const char *name = LLVMGetSymbolName(it);
    size_t n = strlen(name);
    if (strncmp(name, SHARED_PREFIX, sizeof SHARED_PREFIX - 1) || in_set(s, name))
      continue;
    if (n >= sizeof s->v[0].name) {
      st = fr_err(FR_ERR_INVALID, "shared kernel name too long: %.100s", name);
      break;
    }
    fr_shared_obj *v = fr_realloc(s->v, (size_t)(s->n + 1) * sizeof *v);
    if (!v) {
      st = fr_err_nomem(NULL);
      break;
    }
    s->v = v;
    v[s->n] = (fr_shared_obj){.obj = NULL};
    memcpy(v[s->n].name, name, n + 1);
    s->n++;
  }
  LLVMDisposeSymbolIterator(it);
  LLVMDisposeBinary(b);
  LLVMDisposeMemoryBuffer(mb);
  return st;
}

fr_status fr_shared_closure(fr_jit *j, const uint8_t *obj, size_t len,
                            const char *cache_dir, fr_shared_set *s) {
  double t0 = fr_now_ms();
  int i = s->n;
  fr_status st = needs(j, obj, len, s);
  /* each new entry's object, which may need more */
  for (; st == FR_OK && i < s->n; i++) {
    fr_shared_obj *v = &s->v[i];
    if (fr_jit_is_aot(j) || !fr_jit_has_shared(j, v->name))
      st = shared_object(j, v->name, cache_dir, s, &v->obj, &v->len);
    if (st == FR_OK && v->obj) st = needs(j, v->obj, v->len, s);
  }
  s->ms += fr_now_ms() - t0;
  return st;
}

fr_status fr_shared_load(fr_jit *j, const uint8_t *obj, size_t len,
                         const char *cache_dir, fr_shared_set *s) {
  FR_TRY(fr_shared_closure(j, obj, len, cache_dir, s));
  for (int i = 0; i < s->n; i++)
    if (s->v[i].obj && !fr_jit_has_shared(j, s->v[i].name))
      FR_TRY(fr_jit_add_shared(j, s->v[i].name, s->v[i].obj, s->v[i].len));
  return FR_OK;
}

void fr_shared_free(fr_shared_set *s) {
  for (int i = 0; i < s->n; i++) fr_free(s->v[i].obj);
  fr_free(s->v);
  *s = (fr_shared_set){.v = NULL};
}
