/* jit.c: the LLVM side of frost - target selection (host CPU by default),
 * the embedded kernel bitcode, the O3 pipeline and ORC LLJIT. Only the LLVM
 * C API is used. */
#include <string.h>

#include <llvm-c/BitReader.h>
#include <llvm-c/Core.h>
#include <llvm-c/Error.h>
#include <llvm-c/LLJIT.h>
#include <llvm-c/Orc.h>
#include <llvm-c/Target.h>
#include <llvm-c/TargetMachine.h>
#include <llvm-c/Transforms/PassBuilder.h>

#include "compiler.h"

struct fr_jit {
  LLVMOrcThreadSafeContextRef tsc;
  LLVMContextRef ctx;
  LLVMTargetMachineRef tm;
  char *triple, *cpu, *features, *layout;
  LLVMOrcLLJITRef lljit;
};

/* Converts an LLVM error into a frost status (consuming it). */
static fr_status llvm_err(LLVMErrorRef e, const char *what) {
  char *m = LLVMGetErrorMessage(e);
  fr_status st = fr_err(FR_ERR_INVALID, "LLVM: %s: %s", what, m);
  LLVMDisposeErrorMessage(m);
  return st;
}

fr_status fr_jit_new(const char *cpu, fr_jit **out) {
  static bool init;
  if (!init) {
    LLVMInitializeNativeTarget();
    LLVMInitializeNativeAsmPrinter();
    init = true;
  }
  *out = NULL;
  fr_jit *j = fr_calloc(1, sizeof *j);
  if (!j) return fr_err(FR_ERR_NOMEM, "out of memory");
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
  j->tm = LLVMCreateTargetMachine(t, j->triple, j->cpu, j->features,
                                  LLVMCodeGenLevelAggressive, LLVMRelocPIC,
                                  LLVMCodeModelJITDefault);
  if (!j->tm) {
    fr_jit_free(j);
    return fr_err(FR_ERR_UNSUPPORTED, "LLVM: no target machine for %s",
                  cpu ? cpu : "the host");
  }
  LLVMTargetDataRef td = LLVMCreateTargetDataLayout(j->tm);
  j->layout = LLVMCopyStringRepOfTargetData(td);
  LLVMDisposeTargetData(td);
  j->tsc = LLVMOrcCreateNewThreadSafeContext();
  j->ctx = LLVMOrcThreadSafeContextGetContext(j->tsc);
  *out = j;
  return FR_OK;
}

void fr_jit_free(fr_jit *j) {
  if (!j) return;
  if (j->lljit) LLVMConsumeError(LLVMOrcDisposeLLJIT(j->lljit));
  if (j->tsc) LLVMOrcDisposeThreadSafeContext(j->tsc);
  if (j->tm) LLVMDisposeTargetMachine(j->tm);
  LLVMDisposeMessage(j->triple);
  LLVMDisposeMessage(j->cpu);
  LLVMDisposeMessage(j->features);
  LLVMDisposeMessage(j->layout);
  fr_free(j);
}

LLVMContextRef fr_jit_context(fr_jit *j) { return j->ctx; }

fr_status fr_jit_kernels(fr_jit *j, LLVMModuleRef *out) {
  size_t len;
  const unsigned char *bc = fr_kernels_bitcode(&len);
  LLVMMemoryBufferRef buf = LLVMCreateMemoryBufferWithMemoryRange(
      (const char *)bc, len, "kernels.bc", 0);
  LLVMModuleRef m;
  if (LLVMParseBitcodeInContext2(j->ctx, buf, &m)) {
    LLVMDisposeMemoryBuffer(buf);
    return fr_err(FR_ERR_INVALID, "LLVM: cannot parse the kernel bitcode");
  }
  LLVMDisposeMemoryBuffer(buf);
  *out = m;
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
    LLVMAddAttributeAtIndex(
        f, idx,
        LLVMCreateStringAttribute(j->ctx, "target-cpu", 10, j->cpu,
                                  (unsigned)strlen(j->cpu)));
    LLVMAddAttributeAtIndex(
        f, idx,
        LLVMCreateStringAttribute(j->ctx, "target-features", 15, j->features,
                                  (unsigned)strlen(j->features)));
  }
}

fr_status fr_jit_optimize(fr_jit *j, LLVMModuleRef m, const char *keep) {
  retarget(j, m);
  /* Only `keep` is visible: unused kernels are dropped before the costly
   * passes, and the used ones can be inlined and specialized. */
  for (LLVMValueRef f = LLVMGetFirstFunction(m); f; f = LLVMGetNextFunction(f))
    if (!LLVMIsDeclaration(f) && strcmp(LLVMGetValueName(f), keep))
      LLVMSetLinkage(f, LLVMInternalLinkage);
  for (LLVMValueRef g = LLVMGetFirstGlobal(m); g; g = LLVMGetNextGlobal(g))
    if (!LLVMIsDeclaration(g)) LLVMSetLinkage(g, LLVMInternalLinkage);
  LLVMPassBuilderOptionsRef po = LLVMCreatePassBuilderOptions();
  LLVMPassBuilderOptionsSetLoopVectorization(po, 1);
  LLVMPassBuilderOptionsSetSLPVectorization(po, 1);
  /* No unrolling: constant trip counts after specialization would be
   * unrolled in full, for long compiles and large code; the kernels'
   * micro-kernels are unrolled by hand. */
  LLVMPassBuilderOptionsSetLoopUnrolling(po, 0);
  LLVMErrorRef e = LLVMRunPasses(m, "default<O3>", j->tm, po);
  LLVMDisposePassBuilderOptions(po);
  if (e) return llvm_err(e, "optimization");
  return FR_OK;
}

fr_status fr_jit_add(fr_jit *j, LLVMModuleRef m) {
  LLVMErrorRef e;
  if (!j->lljit) {
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
  }
  LLVMOrcThreadSafeModuleRef tsm = LLVMOrcCreateNewThreadSafeModule(m, j->tsc);
  e = LLVMOrcLLJITAddLLVMIRModule(j->lljit, LLVMOrcLLJITGetMainJITDylib(j->lljit),
                                  tsm);
  if (e) {
    LLVMOrcDisposeThreadSafeModule(tsm);
    return llvm_err(e, "adding a module");
  }
  return FR_OK;
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
