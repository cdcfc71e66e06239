package dev.art4j.core.model;

import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Locale;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Lets oneMKL, PyTorch's CPU BLAS, pick its kernels by the CPU's features rather than its vendor.
 *
 * <p>oneMKL takes its AVX-512 sgemm only on Intel CPUs; on AMD's AVX-512 CPUs (Zen 4 and 5) it
 * runs the AVX2 kernels. On our 2-core Zen 5 machine a (1024, 896) x (896, 4864) projection runs at
 * 150 GFLOP/s that way and 324 with the AVX-512 kernels, and a GRPO step of {@code bench train}
 * takes 42 s instead of 77. The fix is a one-function library ({@code src/main/c/}, built into
 * this jar on Linux x86-64 where the build machine has gcc) whose {@code mkl_serv_intel_cpu_true}
 * answers yes; loaded into the process's global symbol scope before PyTorch first multiplies, it
 * answers oneMKL's question in place of oneMKL's own. oneMKL still reads CPUID for each
 * instruction set, so a CPU without AVX-512 keeps AVX2; on Intel CPUs nothing changes.
 *
 * <p>Turned off by {@code -Dart4j.mkl.featureDispatch=false}; absent (a debug line, nothing else)
 * on other platforms or when the jar was built without gcc. {@code LD_PRELOAD} of the same library
 * does the same for a process started some other way.
 */
final class MklFeatureDispatch {

  static final String PROPERTY = "art4j.mkl.featureDispatch";
  static final String RESOURCE = "linux-x86_64/libart4j_mkl_feature_dispatch.so";

  private static final Logger LOG = LoggerFactory.getLogger(MklFeatureDispatch.class);
  private static final int RTLD_NOW = 0x2;
  private static final int RTLD_GLOBAL = 0x100;

  static {
    load();
  }

  private MklFeatureDispatch() {}

  /** Runs the static initialiser, which loads the library once (idempotent). */
  static void ensure() {}

  private static void load() {
    if ("false".equalsIgnoreCase(System.getProperty(PROPERTY))) {
      return;
    }
    String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
    String arch = System.getProperty("os.arch", "");
    if (!os.contains("linux") || !(arch.equals("amd64") || arch.equals("x86_64"))) {
      return;
    }
    try (InputStream in = MklFeatureDispatch.class.getResourceAsStream(RESOURCE)) {
      if (in == null) {
        LOG.debug("{} is not in this jar (built without gcc): oneMKL dispatches by CPU vendor", RESOURCE);
        return;
      }
      Path file = Files.createTempFile("art4j-mkl-feature-dispatch", ".so");
      try {
        Files.copy(in, file, StandardCopyOption.REPLACE_EXISTING);
        dlopenGlobal(file);
      } finally {
        // The mapping outlives the file.
        Files.deleteIfExists(file);
      }
      LOG.debug("oneMKL dispatches by CPU features ({}=false turns it off)", PROPERTY);
    } catch (IOException | RuntimeException e) {
      LOG.warn("could not load {} ({}); oneMKL dispatches by CPU vendor, which on AMD CPUs halves PyTorch's "
          + "matmul rate", RESOURCE, e.getMessage());
    }
  }

  /** {@code dlopen(file, RTLD_NOW | RTLD_GLOBAL)}: Java's own loading keeps symbols local. */
  private static void dlopenGlobal(Path file) throws IOException {
    Linker linker = Linker.nativeLinker();
    MethodHandle dlopen = linker.downcallHandle(linker.defaultLookup().find("dlopen").orElseThrow(),
        FunctionDescriptor.of(ValueLayout.ADDRESS, ValueLayout.ADDRESS, ValueLayout.JAVA_INT));
    MethodHandle dlerror = linker.downcallHandle(linker.defaultLookup().find("dlerror").orElseThrow(),
        FunctionDescriptor.of(ValueLayout.ADDRESS));
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment handle = (MemorySegment) dlopen.invokeExact(arena.allocateFrom(file.toString()),
          RTLD_NOW | RTLD_GLOBAL);
      if (handle.address() == 0) {
        MemorySegment message = (MemorySegment) dlerror.invokeExact();
        throw new IOException("dlopen " + file + ": "
            + (message.address() == 0 ? "unknown error" : message.reinterpret(4096).getString(0)));
      }
    } catch (IOException e) {
      throw e;
    } catch (Throwable t) {
      throw new IOException("dlopen " + file + ": " + t, t);
    }
  }
}
