/* jit.c: the LLVM side of frost - target selection (host CPU by default),
 * the embedded kernel bitcode, the optimization passes, object code and ORC LLJIT.
 * Only the LLVM C API is used. */
#define _GNU_SOURCE /* dl_iterate_phdr */
#include <elf.h>
#include <link.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <llvm-c/BitReader.h>
#include <llvm-c/Core.h>
#include <llvm-c/Error.h>
#include <llvm-c/LLJIT.h>
#include <llvm-c/Linker.h>
#include <llvm-c/Orc.h>
#include <llvm-c/Target.h>
#include <llvm-c/TargetMachine.h>
#include <llvm-c/Transforms/PassBuilder.h>

#include "llvm.h"

/* The passes, and what else turns a module into machine code besides the
 * module and the target: part of the code cache's key (fr_jit_hash), so
 * that a change here never reuses code made the old way.
 *
 * First, cheaply, the kernel entries are inlined into the graph's function
 * and their dispatch on constants (dtype, op) folded away (sccp reads the
 * constant parameter blocks), so that the kernels no node calls - every
 * dtype's copy of an elementwise kernel, say - are dropped (globaldce)
 * before the costly passes, instead of optimized and then dropped. Then
 * O2 with O3's inlining threshold: code as fast as O3's on the models
 * (the melspectrogram's was 4% slower with O2's threshold), a fifth less
 * time to compile. */
#define PASSES "cgscc(inline),function(sccp,simplifycfg),globaldce,default<O2>"
#define INLINE_THRESHOLD 250
#define SETTINGS PASSES " inline-threshold=250 loop-vectorize slp-vectorize " \
                 "no-unroll; codegen aggressive, PIC, JIT code model"

struct fr_jit {
  LLVMOrcThreadSafeContextRef tsc;
  LLVMContextRef ctx;
  LLVMTargetMachineRef tm;
  char *triple, *cpu, *features, *layout;
  int level; /* x86-64 level of the kernels' bitcode: 1, 3 or 4 */
  bool aot;  /* code for artifacts (fr_jit_new_aot) */
  LLVMOrcLLJITRef lljit;
  char **shared; /* the shared kernel code loaded into lljit (shared.c) */
  int n_shared;
};

/* Converts an LLVM error into a frost status (consuming it). */
static fr_status llvm_err(LLVMErrorRef e, const char *what) {
  char *m = LLVMGetErrorMessage(e);
  fr_status st = fr_err(FR_ERR_INVALID, "LLVM: %s: %s", what, m);
  LLVMDisposeErrorMessage(m);
  return st;
}

/* LLVM accepts any CPU name, warning on stderr ("'x' is not a recognized
 * processor for this target") when it makes the target machine. The
 * warning is caught in a temporary file and turned into an error. */
static LLVMTargetMachineRef make_tm(LLVMTargetRef t, fr_jit *j, bool aot,
                                    bool *unknown) {
  *unknown = false;
  FILE *tmp = tmpfile();
  int saved = -1;
  if (tmp) {
    fflush(stderr);
    saved = dup(2);
    if (saved >= 0) dup2(fileno(tmp), 2);
  }
  LLVMTargetMachineRef tm = LLVMCreateTargetMachine(
      t, j->triple, j->cpu, j->features, LLVMCodeGenLevelAggressive, LLVMRelocPIC,
      aot ? LLVMCodeModelDefault : LLVMCodeModelJITDefault);
  if (saved >= 0) {
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    char buf[512];
    rewind(tmp);
    size_t n = fread(buf, 1, sizeof buf - 1, tmp);
    buf[n] = 0;
    *unknown = strstr(buf, "not a recognized processor") != NULL ||
               strstr(buf, "not a recognized feature") != NULL;
  }
  if (tmp) fclose(tmp);
  return tm;
}

static void set_cpu_attrs(fr_jit *j, LLVMContextRef ctx, LLVMValueRef f) {
  unsigned idx = (unsigned)LLVMAttributeFunctionIndex;
  LLVMAddAttributeAtIndex(
      f, idx,
      LLVMCreateStringAttribute(ctx, "target-cpu", 10, j->cpu, (unsigned)strlen(j->cpu)));
  LLVMAddAttributeAtIndex(
      f, idx,
      LLVMCreateStringAttribute(ctx, "target-features", 15, j->features,
                                (unsigned)strlen(j->features)));
}

/* A function p(ptr) that loads a vector of n floats, computes x*x+x (an
 * fma) and stores it back. */
static void probe_fn(fr_jit *j, LLVMModuleRef m, unsigned n, const char *name) {
  LLVMContextRef ctx = LLVMGetModuleContext(m);
  LLVMTypeRef ptr = LLVMPointerTypeInContext(ctx, 0);
  LLVMTypeRef vt = LLVMVectorType(LLVMFloatTypeInContext(ctx), n);
  LLVMTypeRef ft = LLVMFunctionType(LLVMVoidTypeInContext(ctx), &ptr, 1, 0);
  LLVMValueRef f = LLVMAddFunction(m, name, ft);
  set_cpu_attrs(j, ctx, f);
  LLVMBuilderRef b = LLVMCreateBuilderInContext(ctx);
  LLVMPositionBuilderAtEnd(b, LLVMAppendBasicBlockInContext(ctx, f, "entry"));
  LLVMValueRef x = LLVMBuildLoad2(b, vt, LLVMGetParam(f, 0), "");
  unsigned id = LLVMLookupIntrinsicID("llvm.fma", 8);
  LLVMValueRef fma = LLVMGetIntrinsicDeclaration(m, id, &vt, 1);
  LLVMValueRef args[3] = {x, x, x};
  LLVMValueRef y = LLVMBuildCall2(b, LLVMGlobalGetValueType(fma), fma, args, 3, "");
  LLVMBuildStore(b, y, LLVMGetParam(f, 0));
  LLVMBuildRetVoid(b);
  LLVMDisposeBuilder(b);
}

/* The x86-64 level of j's CPU, from the assembly LLVM writes for 16- and
 * 8-wide float fmas: zmm registers mean AVX-512 (level 4), ymm registers
 * and vfmadd AVX2 with FMA (level 3). */
static int probe_level(fr_jit *j) {
  if (strncmp(j->triple, "x86_64", 6)) return 1;
  LLVMContextRef ctx = LLVMContextCreate();
  LLVMModuleRef m = LLVMModuleCreateWithNameInContext("probe", ctx);
  LLVMSetTarget(m, j->triple);
  LLVMSetDataLayout(m, j->layout);
  probe_fn(j, m, 16, "p16");
  probe_fn(j, m, 8, "p8");
  int level = 1;
  LLVMMemoryBufferRef mb;
  char *msg = NULL;
  if (!LLVMTargetMachineEmitToMemoryBuffer(j->tm, m, LLVMAssemblyFile, &msg, &mb)) {
    size_t n = LLVMGetBufferSize(mb);
    char *text = fr_malloc(n + 1);
    if (text) {
      memcpy(text, LLVMGetBufferStart(mb), n);
      text[n] = 0;
      if (strstr(text, "zmm")) level = 4;
      else if (strstr(text, "ymm") && strstr(text, "vfmadd")) level = 3;
      fr_free(text);
    }
    LLVMDisposeMemoryBuffer(mb);
  }
  LLVMDisposeMessage(msg);
  LLVMDisposeModule(m);
  LLVMContextDispose(ctx);
  return level;
}

static fr_status jit_new(const char *cpu, bool aot, fr_jit **out) {
  static bool init;
  if (!init) {
    LLVMInitializeNativeTarget();
    LLVMInitializeNativeAsmPrinter();
    init = true;
  }
  *out = NULL;
  fr_jit *j = fr_calloc(1, sizeof *j);
  if (!j) return fr_err_nomem(NULL);
  j->triple = LLVMGetDefaultTargetTriple();
  bool host = !cpu || !strcmp(cpu, "native");
  j->cpu = host ? LLVMGetHostCPUName() : LLVMCreateMessage(cpu);
  j->features = host ? LLVMGetHostCPUFeatures() : LLVMCreateMessage("");
  LLVMTargetRef t;
  char *msg = NULL;
  if (LLVMGetTargetFromTriple(j->triple, &t, &msg)) {
    fr_status st = fr_err(FR_ERR_UNSUPPORTED, "LLVM target %s: %s", j->triple,
                          msg ? msg : "?");
    LLVMDisposeMessage(msg);
    fr_jit_free(j);
    return st;
  }
  bool unknown;
  j->tm = make_tm(t, j, aot, &unknown);
  if (!j->tm || unknown) {
    fr_status st =
        unknown ? fr_err(FR_ERR_USAGE,
                         "unknown target CPU '%s' (for %s: e.g. native, "
                         "x86-64, x86-64-v2, x86-64-v3, x86-64-v4, skylake)",
                         j->cpu, j->triple)
                : fr_err(FR_ERR_UNSUPPORTED, "LLVM: no target machine for %s",
                         cpu ? cpu : "the host");
    fr_jit_free(j);
    return st;
  }
  LLVMTargetDataRef td = LLVMCreateTargetDataLayout(j->tm);
  j->layout = LLVMCopyStringRepOfTargetData(td);
  LLVMDisposeTargetData(td);
  j->tsc = LLVMOrcCreateNewThreadSafeContext();
  j->ctx = LLVMOrcThreadSafeContextGetContext(j->tsc);
  j->aot = aot;
  *out = j;
  return FR_OK;
}

fr_status fr_jit_new(const char *cpu, fr_jit **out) { return jit_new(cpu, false, out); }
fr_status fr_jit_new_aot(const char *cpu, fr_jit **out) { return jit_new(cpu, true, out); }

const char *fr_jit_cpu(const fr_jit *j) { return j->cpu; }
bool fr_jit_is_aot(const fr_jit *j) { return j->aot; }
/* Probed on first use: a few milliseconds that a code cache hit, whose key
 * holds what decides the level (CPU, features, LLVM), does without. */
int fr_jit_level(fr_jit *j) {
  if (!j->level) j->level = probe_level(j);
  return j->level;
}

const char *fr_llvm_version(void) {
  static char buf[32];
  unsigned major, minor, patch;
  LLVMGetVersion(&major, &minor, &patch);
  snprintf(buf, sizeof buf, "%u.%u.%u", major, minor, patch);
  return buf;
}

void fr_jit_free(fr_jit *j) {
  if (!j) return;
  fr_jit_reset(j); /* the LLJIT first: it holds the context */
  if (j->tsc) LLVMOrcDisposeThreadSafeContext(j->tsc);
  if (j->tm) LLVMDisposeTargetMachine(j->tm);
  LLVMDisposeMessage(j->triple);
  LLVMDisposeMessage(j->cpu);
  LLVMDisposeMessage(j->features);
  LLVMDisposeMessage(j->layout);
  fr_free(j);
}

LLVMContextRef fr_jit_context(fr_jit *j) { return j->ctx; }

fr_status fr_jit_parse_bitcode(fr_jit *j, const unsigned char *bc, size_t len,
                               const char *name, LLVMModuleRef *out) {
  LLVMMemoryBufferRef buf =
      LLVMCreateMemoryBufferWithMemoryRange((const char *)bc, len, name, 0);
  LLVMModuleRef m;
  if (LLVMParseBitcodeInContext2(j->ctx, buf, &m)) {
    LLVMDisposeMemoryBuffer(buf);
    return fr_err(FR_ERR_INVALID, "LLVM: cannot parse the bitcode %s", name);
  }
  LLVMDisposeMemoryBuffer(buf);
  *out = m;
  return FR_OK;
}

fr_status fr_jit_kernels(fr_jit *j, LLVMModuleRef *out) {
  size_t len;
  const unsigned char *bc = fr_kernels_bitcode(fr_jit_level(j), &len);
  return fr_jit_parse_bitcode(j, bc, len, "kernels.bc", out);
}

fr_status fr_jit_lazy_kernels(fr_jit *j, LLVMModuleRef *out) {
  size_t len;
  const unsigned char *bc = fr_kernels_bitcode(fr_jit_level(j), &len);
  /* Lazily: a function's body is read when the linker moves it. The
   * module owns the buffer from here on. */
  LLVMMemoryBufferRef buf =
      LLVMCreateMemoryBufferWithMemoryRange((const char *)bc, len, "kernels.bc", 0);
  LLVMModuleRef k;
  if (LLVMGetBitcodeModuleInContext2(j->ctx, buf, &k))
    return fr_err(FR_ERR_INVALID, "LLVM: cannot parse the bitcode kernels.bc");
  /* linkonce_odr definitions are linked only when the module linked into
   * refers to them (the linker takes every external one): it gets what
   * it declares and what that calls, and the bodies of all other kernels
   * are never read. */
  for (LLVMValueRef f = LLVMGetFirstFunction(k); f; f = LLVMGetNextFunction(f))
    if (!LLVMIsDeclaration(f) && LLVMGetLinkage(f) == LLVMExternalLinkage)
      LLVMSetLinkage(f, LLVMLinkOnceODRLinkage);
  for (LLVMValueRef g = LLVMGetFirstGlobal(k); g; g = LLVMGetNextGlobal(g))
    if (!LLVMIsDeclaration(g) && LLVMGetLinkage(g) == LLVMExternalLinkage)
      LLVMSetLinkage(g, LLVMLinkOnceODRLinkage);
  *out = k;
  return FR_OK;
}

fr_status fr_jit_link_kernels(fr_jit *j, LLVMModuleRef m) {
  LLVMModuleRef k;
  FR_TRY(fr_jit_lazy_kernels(j, &k));
  FR_TRY(fr_jit_link(m, k));
  /* An entry the graph calls and the bitcode lacks stays a declaration. */
  for (LLVMValueRef f = LLVMGetFirstFunction(m); f; f = LLVMGetNextFunction(f)) {
    const char *name = LLVMGetValueName(f);
    if (LLVMIsDeclaration(f) && !strncmp(name, "fr_ke_", 6))
      return fr_err(FR_ERR_INVALID, "kernel entry %s is not in the bitcode", name);
  }
  return FR_OK;
}

/* The build ID of the running program (a hash the linker computes over
 * all of it: frost's code and the kernel bitcode it embeds). */
static int build_id_cb(struct dl_phdr_info *info, size_t size, void *data) {
  (void)size;
  fr_sha256 *h = data;
  for (int i = 0; i < info->dlpi_phnum; i++) {
    const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
    if (ph->p_type != PT_NOTE) continue;
    const uint8_t *p = (const uint8_t *)(info->dlpi_addr + ph->p_vaddr);
    const uint8_t *end = p + ph->p_memsz;
    while (p + sizeof(ElfW(Nhdr)) <= end) {
      const ElfW(Nhdr) *n = (const ElfW(Nhdr) *)p;
      const uint8_t *name = p + sizeof *n;
      const uint8_t *desc = name + ((n->n_namesz + 3) & ~3u);
      if (desc + n->n_descsz > end) break;
      if (n->n_type == NT_GNU_BUILD_ID && n->n_namesz == 4 &&
          !memcmp(name, "GNU", 4)) {
        fr_sha256_update(h, "build-id ", 9);
        fr_sha256_update(h, desc, n->n_descsz);
        return 1;
      }
      p = desc + ((n->n_descsz + 3) & ~3u);
    }
  }
  return 1; /* the first object is the program */
}

void fr_jit_hash(fr_jit *j, fr_sha256 *h) {
  /* The kernels' level follows from the CPU, its features and LLVM: it is
   * left out, so that a hit needs no probe. */
  char buf[256];
  snprintf(buf, sizeof buf, "frost %s, LLVM %s, %s\n", FR_VERSION,
           fr_llvm_version(), SETTINGS);
  fr_sha256_update(h, buf, strlen(buf));
  const char *parts[] = {j->triple, j->cpu, j->features, j->layout};
  for (int i = 0; i < 4; i++) fr_sha256_update(h, parts[i], strlen(parts[i]) + 1);
  /* Without a build ID, the kernels' bitcode itself. */
  fr_sha256 id;
  fr_sha256_init(&id);
  dl_iterate_phdr(build_id_cb, &id);
  if (!id.len) {
    size_t len;
    const unsigned char *bc = fr_kernels_bitcode(fr_jit_level(j), &len);
    fr_sha256_update(&id, bc, len);
  }
  uint8_t d[32];
  fr_sha256_final(&id, d);
  fr_sha256_update(h, d, sizeof d);
}

fr_status fr_jit_link(LLVMModuleRef dst, LLVMModuleRef src) {
  if (LLVMLinkModules2(dst, src))
    return fr_err(FR_ERR_INVALID, "LLVM: cannot link the modules");
  return FR_OK;
}

/* Every function gets the JIT's CPU and features, so kernels built for
 * generic x86-64 are vectorized for the machine they will run on. */
static void retarget(fr_jit *j, LLVMModuleRef m) {
  LLVMSetTarget(m, j->triple);
  LLVMSetDataLayout(m, j->layout);
  unsigned idx = (unsigned)LLVMAttributeFunctionIndex;
  for (LLVMValueRef f = LLVMGetFirstFunction(m); f; f = LLVMGetNextFunction(f)) {
    if (LLVMIsDeclaration(f)) continue;
    LLVMRemoveStringAttributeAtIndex(f, idx, "target-cpu", 10);
    LLVMRemoveStringAttributeAtIndex(f, idx, "target-features", 15);
    LLVMRemoveStringAttributeAtIndex(f, idx, "tune-cpu", 8);
    set_cpu_attrs(j, j->ctx, f);
  }
}

fr_status fr_jit_optimize(fr_jit *j, LLVMModuleRef m, const char *keep) {
  retarget(j, m);
  /* Only `keep` is visible: unused kernels are dropped before the costly
   * passes, and the used ones can be inlined and specialized. (NULL: the
   * caller has set linkages.) */
  for (LLVMValueRef f = LLVMGetFirstFunction(m); keep && f; f = LLVMGetNextFunction(f))
    if (!LLVMIsDeclaration(f) && strcmp(LLVMGetValueName(f), keep))
      LLVMSetLinkage(f, LLVMInternalLinkage);
  for (LLVMValueRef g = LLVMGetFirstGlobal(m); keep && g; g = LLVMGetNextGlobal(g))
    if (!LLVMIsDeclaration(g)) LLVMSetLinkage(g, LLVMInternalLinkage);
  LLVMPassBuilderOptionsRef po = LLVMCreatePassBuilderOptions();
  LLVMPassBuilderOptionsSetLoopVectorization(po, 1);
  LLVMPassBuilderOptionsSetSLPVectorization(po, 1);
  /* No unrolling: constant trip counts after specialization would be
   * unrolled in full, for long compiles and large code; the kernels'
   * micro-kernels are unrolled by hand. */
  LLVMPassBuilderOptionsSetLoopUnrolling(po, 0);
  LLVMPassBuilderOptionsSetInlinerThreshold(po, INLINE_THRESHOLD);
  LLVMErrorRef e = LLVMRunPasses(m, PASSES, j->tm, po);
  LLVMDisposePassBuilderOptions(po);
  if (e) return llvm_err(e, "optimization");
  return FR_OK;
}

/* The LLJIT, made on first use: its symbols resolve in the process too. */
static fr_status lljit(fr_jit *j) {
  if (j->lljit) return FR_OK;
  LLVMErrorRef e;
  LLVMOrcLLJITBuilderRef b = LLVMOrcCreateLLJITBuilder();
  LLVMOrcJITTargetMachineBuilderRef tmb;
  if ((e = LLVMOrcJITTargetMachineBuilderDetectHost(&tmb))) {
    LLVMOrcDisposeLLJITBuilder(b);
    return llvm_err(e, "host detection");
  }
  LLVMOrcLLJITBuilderSetJITTargetMachineBuilder(b, tmb);
  if ((e = LLVMOrcCreateLLJIT(&j->lljit, b))) return llvm_err(e, "LLJIT");
  /* Kernels call libm and libc (expf, memcpy): resolve them in-process. */
  LLVMOrcDefinitionGeneratorRef gen;
  e = LLVMOrcCreateDynamicLibrarySearchGeneratorForProcess(
      &gen, LLVMOrcLLJITGetGlobalPrefix(j->lljit), NULL, NULL);
  if (e) return llvm_err(e, "process symbols");
  LLVMOrcJITDylibAddGenerator(LLVMOrcLLJITGetMainJITDylib(j->lljit), gen);
  return FR_OK;
}

fr_status fr_jit_add(fr_jit *j, LLVMModuleRef m) {
  fr_status st = lljit(j);
  if (st != FR_OK) {
    LLVMDisposeModule(m);
    return st;
  }
  LLVMOrcThreadSafeModuleRef tsm = LLVMOrcCreateNewThreadSafeModule(m, j->tsc);
  LLVMErrorRef e = LLVMOrcLLJITAddLLVMIRModule(
      j->lljit, LLVMOrcLLJITGetMainJITDylib(j->lljit), tsm);
  if (e) {
    LLVMOrcDisposeThreadSafeModule(tsm);
    return llvm_err(e, "adding a module");
  }
  return FR_OK;
}

fr_status fr_jit_add_object(fr_jit *j, const uint8_t *obj, size_t len) {
  FR_TRY(lljit(j));
  LLVMMemoryBufferRef mb =
      LLVMCreateMemoryBufferWithMemoryRangeCopy((const char *)obj, len, "frost.o");
  LLVMErrorRef e = LLVMOrcLLJITAddObjectFile(
      j->lljit, LLVMOrcLLJITGetMainJITDylib(j->lljit), mb);
  if (e) return llvm_err(e, "adding object code");
  return FR_OK;
}

void fr_jit_reset(fr_jit *j) {
  if (j->lljit) LLVMConsumeError(LLVMOrcDisposeLLJIT(j->lljit));
  j->lljit = NULL;
  for (int i = 0; i < j->n_shared; i++) fr_free(j->shared[i]);
  fr_free(j->shared);
  j->shared = NULL;
  j->n_shared = 0;
}

bool fr_jit_has_shared(const fr_jit *j, const char *name) {
  for (int i = 0; i < j->n_shared; i++)
    if (!strcmp(j->shared[i], name)) return true;
  return false;
}

fr_status fr_jit_add_shared(fr_jit *j, const char *name, const uint8_t *obj,
                            size_t len) {
  char **s = fr_realloc(j->shared, (size_t)(j->n_shared + 1) * sizeof *s);
  if (!s) return fr_err_nomem(NULL);
  j->shared = s;
  size_t n = strlen(name) + 1;
  if (!(s[j->n_shared] = fr_malloc(n))) return fr_err_nomem(NULL);
  memcpy(s[j->n_shared++], name, n);
  return fr_jit_add_object(j, obj, len);
}

fr_status fr_jit_lookup(fr_jit *j, const char *name, void **addr) {
  LLVMOrcExecutorAddress a;
  LLVMErrorRef e = LLVMOrcLLJITLookup(j->lljit, &a, name);
  if (e) return llvm_err(e, "symbol lookup");
  *addr = (void *)(uintptr_t)a;
  return FR_OK;
}

char *fr_jit_ir_text(LLVMModuleRef m) { return LLVMPrintModuleToString(m); }
void fr_jit_free_text(char *s) { LLVMDisposeMessage(s); }

fr_status fr_jit_emit(fr_jit *j, LLVMModuleRef m, bool assembly, uint8_t **buf,
                      size_t *len) {
  LLVMMemoryBufferRef mb;
  char *msg = NULL;
  if (LLVMTargetMachineEmitToMemoryBuffer(j->tm, m,
                                          assembly ? LLVMAssemblyFile : LLVMObjectFile,
                                          &msg, &mb)) {
    fr_status st = fr_err(FR_ERR_INVALID, "LLVM: code generation: %.300s",
                          msg ? msg : "?");
    LLVMDisposeMessage(msg);
    return st;
  }
  *len = LLVMGetBufferSize(mb);
  *buf = fr_malloc(*len ? *len : 1);
  if (*buf) memcpy(*buf, LLVMGetBufferStart(mb), *len);
  LLVMDisposeMemoryBuffer(mb);
  return *buf ? FR_OK : fr_err_nomem(NULL);
}
