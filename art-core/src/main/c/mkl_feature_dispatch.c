/*
 * Lets oneMKL choose its kernels by the CPU's features alone.
 *
 * oneMKL (linked into PyTorch's libtorch_cpu.so) asks mkl_serv_intel_cpu_true() whether the
 * CPU is Intel's before it takes its AVX-512 code paths; on AMD's AVX-512 CPUs (Zen 4, Zen 5)
 * the answer is no, and sgemm runs its AVX2 kernels at half the rate. libtorch_cpu.so calls the
 * function through its symbol table, so a library loaded into the global scope first (dlopen
 * RTLD_GLOBAL, or LD_PRELOAD) answers instead. oneMKL still reads CPUID for every instruction
 * set it uses, so a CPU without AVX-512 keeps the AVX2 kernels.
 *
 * Built by art-core's pom (profile mkl-feature-dispatch), loaded by dev.art4j.core.model.MklFeatureDispatch.
 */
int mkl_serv_intel_cpu_true(void) {
  return 1;
}
