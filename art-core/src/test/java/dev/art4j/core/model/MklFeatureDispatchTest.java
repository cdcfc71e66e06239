package dev.art4j.core.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Which kernels oneMKL chose, read in a fresh JVM (oneMKL decides once per process, at PyTorch's
 * first multiply, so the JVM running the other tests cannot tell): {@code mkl_cbwr_get_auto_branch}
 * names the instruction set of the code path, {@code MKL_CBWR_AVX2} (10) or {@code MKL_CBWR_AVX512}
 * (12) and above. On AMD's AVX-512 CPUs it is below AVX2 without {@link MklFeatureDispatch}.
 */
class MklFeatureDispatchTest {

  private static final int MKL_CBWR_AVX2 = 10;
  private static final int MKL_CBWR_AVX512 = 12;

  @Test
  void oneMklTakesTheWidestInstructionSetTheCpuHas() throws Exception {
    assumeTrue(MklFeatureDispatch.class.getResource(MklFeatureDispatch.RESOURCE) != null,
        "built without gcc or not on Linux x86-64: no library to load");
    String flags = cpuFlags();
    int branch = branchInFreshJvm(true);
    if (flags.contains(" avx512f ")) {
      assertTrue(branch >= MKL_CBWR_AVX512, "oneMKL took code branch " + branch + " on an AVX-512 CPU");
    } else {
      assumeTrue(flags.contains(" avx2 "), "a CPU without AVX2");
      assertTrue(branch >= MKL_CBWR_AVX2, "oneMKL took code branch " + branch + " on an AVX2 CPU");
    }
  }

  @Test
  void thePropertyTurnsItOff() throws Exception {
    assumeTrue(MklFeatureDispatch.class.getResource(MklFeatureDispatch.RESOURCE) != null, "no library to load");
    String flags = cpuFlags();
    assumeTrue(flags.contains(" avx512f ") && !cpuVendor().equals("GenuineIntel"),
        "only a non-Intel AVX-512 CPU tells the two apart");
    assertTrue(branchInFreshJvm(false) < MKL_CBWR_AVX512, "oneMKL took AVX-512 with the dispatch turned off");
  }

  /** Child JVM entry: loads the engine the way the library does, multiplies, prints the branch. */
  public static void main(String[] args) throws Throwable {
    EngineSetup.ensure();
    try (NDManager manager = NDManager.newBaseManager()) {
      NDArray x = manager.ones(new Shape(64, 64));
      assertEquals(64f, x.matMul(x).getFloat(0, 0));
      String maps = Files.readString(Path.of("/proc/self/maps"));
      String torch = maps.lines().filter(l -> l.endsWith("/libtorch_cpu.so")).findFirst().orElseThrow();
      SymbolLookup lib = SymbolLookup.libraryLookup(Path.of(torch.substring(torch.indexOf('/'))), Arena.global());
      // oneMKL's mkl_cbwr_get_auto_branch(), under its internal name in PyTorch's static build.
      MethodHandle autoBranch = Linker.nativeLinker().downcallHandle(
          lib.find("mkl_serv_cbwr_get_auto_branch").orElseThrow(), FunctionDescriptor.of(ValueLayout.JAVA_INT));
      System.out.println("branch=" + (int) autoBranch.invokeExact());
    }
  }

  private static int branchInFreshJvm(boolean dispatch) throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>(List.of(
        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "--enable-native-access=ALL-UNNAMED", "-Dai.djl.offline=true",
        "-D" + MklFeatureDispatch.PROPERTY + "=" + dispatch,
        "-cp", System.getProperty("java.class.path"), MklFeatureDispatchTest.class.getName()));
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(120, TimeUnit.SECONDS), "child JVM did not finish");
    assertEquals(0, p.exitValue(), out);
    String line = out.lines().filter(l -> l.startsWith("branch=")).findFirst()
        .orElseThrow(() -> new AssertionError("no branch line in: " + out));
    return Integer.parseInt(line.substring("branch=".length()));
  }

  private static String cpuFlags() throws IOException {
    return " " + cpuinfoField("flags") + " ";
  }

  private static String cpuVendor() throws IOException {
    return cpuinfoField("vendor_id");
  }

  private static String cpuinfoField(String name) throws IOException {
    Path cpuinfo = Path.of("/proc/cpuinfo");
    assumeTrue(Files.isReadable(cpuinfo), "no /proc/cpuinfo");
    return Files.readAllLines(cpuinfo).stream().filter(l -> l.startsWith(name))
        .map(l -> l.substring(l.indexOf(':') + 1).trim()).findFirst().orElse("");
  }
}
