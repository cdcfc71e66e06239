package dev.art4j.core.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.ShortBuffer;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * A read-only view of the tensors in a safetensors checkpoint: one {@code .safetensors} file, or a
 * sharded checkpoint described by {@code model.safetensors.index.json}.
 *
 * <p>Layout of a file: an 8-byte little-endian header length {@code N}, {@code N} bytes of JSON
 * ({@code name -> {dtype, shape, data_offsets: [begin, end]}}, plus {@code __metadata__}), then
 * the raw little-endian data; offsets are relative to the end of the header. Opening reads and
 * validates only the headers; {@link #load} reads one tensor's bytes and converts them to the
 * requested dtype. BF16 is widened in Java (a bf16 value is the upper 16 bits of the fp32
 * one) because DJL's PyTorch engine aborts on any BF16 array.
 */
public final class Safetensors {

  static {
    EngineSetup.ensure();
  }

  /** Where one tensor lives. {@code begin}/{@code end} are absolute byte positions in the file. */
  public record TensorInfo(String name, Path file, String dtype, long[] shape, long begin, long end) {

    /** Element count. */
    public long size() {
      long n = 1;
      for (long d : shape) {
        n *= d;
      }
      return n;
    }
  }

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final long MAX_HEADER = 100L << 20;
  private static final long CHUNK_BYTES = 1L << 30;

  private final Map<String, TensorInfo> tensors;
  private final String source;

  private Safetensors(Map<String, TensorInfo> tensors, String source) {
    this.tensors = Collections.unmodifiableMap(tensors);
    this.source = source;
  }

  /**
   * Opens a checkpoint: a {@code .safetensors} file, an index {@code .json}, or a directory that
   * holds {@code model.safetensors.index.json} or {@code model.safetensors}.
   */
  public static Safetensors open(Path path) throws IOException {
    if (Files.isDirectory(path)) {
      Path index = path.resolve("model.safetensors.index.json");
      if (Files.exists(index)) {
        return openIndex(index);
      }
      Path single = path.resolve("model.safetensors");
      if (Files.exists(single)) {
        return openFile(single);
      }
      throw new NoSuchFileException(path.toString(), null,
          "no model.safetensors or model.safetensors.index.json in this directory");
    }
    if (path.getFileName().toString().endsWith(".json")) {
      return openIndex(path);
    }
    return openFile(path);
  }

  private static Safetensors openFile(Path file) throws IOException {
    return new Safetensors(readHeader(file), file.toString());
  }

  private static Safetensors openIndex(Path index) throws IOException {
    JsonNode root;
    try {
      root = JSON.readTree(Files.readString(index));
    } catch (JsonProcessingException e) {
      throw new CheckpointException(index + ": malformed JSON: " + e.getOriginalMessage(), e);
    }
    JsonNode map = root == null ? null : root.get("weight_map");
    if (map == null || !map.isObject()) {
      throw new CheckpointException(index + ": missing field weight_map");
    }
    Map<String, Map<String, TensorInfo>> shards = new LinkedHashMap<>();
    Map<String, TensorInfo> all = new TreeMap<>();
    for (Iterator<Map.Entry<String, JsonNode>> it = map.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      String shardName = e.getValue().asText();
      Path shard = index.resolveSibling(shardName);
      Map<String, TensorInfo> header = shards.get(shardName);
      if (header == null) {
        if (!Files.exists(shard)) {
          throw new NoSuchFileException(shard.toString(), null,
              "shard named by " + index.getFileName() + " for tensor " + e.getKey());
        }
        header = readHeader(shard);
        shards.put(shardName, header);
      }
      TensorInfo info = header.get(e.getKey());
      if (info == null) {
        throw new CheckpointException(shard + ": missing tensor " + e.getKey()
            + " (listed in " + index.getFileName() + ")");
      }
      all.put(e.getKey(), info);
    }
    return new Safetensors(all, index.toString());
  }

  private static Map<String, TensorInfo> readHeader(Path file) throws IOException {
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      long fileSize = ch.size();
      if (fileSize < 8) {
        throw new CheckpointException(file + ": truncated safetensors file (" + fileSize + " bytes)");
      }
      ByteBuffer lenBuf = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
      readFully(ch, lenBuf, 0);
      long headerLen = lenBuf.getLong(0);
      if (headerLen <= 0 || headerLen > MAX_HEADER || 8 + headerLen > fileSize) {
        throw new CheckpointException(file + ": bad safetensors header length " + headerLen
            + " (file has " + fileSize + " bytes)");
      }
      ByteBuffer header = ByteBuffer.allocate((int) headerLen);
      readFully(ch, header, 8);
      JsonNode root;
      try {
        root = JSON.readTree(new String(header.array(), StandardCharsets.UTF_8));
      } catch (JsonProcessingException e) {
        throw new CheckpointException(file + ": bad safetensors header: " + e.getOriginalMessage(), e);
      }
      if (root == null || !root.isObject()) {
        throw new CheckpointException(file + ": bad safetensors header: not a JSON object");
      }
      long dataStart = 8 + headerLen;
      Map<String, TensorInfo> out = new TreeMap<>();
      for (Iterator<Map.Entry<String, JsonNode>> it = root.fields(); it.hasNext(); ) {
        Map.Entry<String, JsonNode> e = it.next();
        if (e.getKey().equals("__metadata__")) {
          continue;
        }
        out.put(e.getKey(), parseEntry(file, e.getKey(), e.getValue(), dataStart, fileSize));
      }
      checkNoOverlap(file, out);
      return out;
    }
  }

  /** Two tensors sharing bytes would each read the other's data: the header is corrupt. */
  private static void checkNoOverlap(Path file, Map<String, TensorInfo> tensors) {
    List<TensorInfo> byBegin = new ArrayList<>(tensors.values());
    byBegin.sort(Comparator.comparingLong(TensorInfo::begin).thenComparingLong(TensorInfo::end));
    TensorInfo previous = null;
    for (TensorInfo t : byBegin) {
      if (t.end() == t.begin()) {
        continue; // an empty tensor occupies no bytes
      }
      if (previous != null && t.begin() < previous.end()) {
        throw new CheckpointException(file + ": tensors " + previous.name() + " and " + t.name()
            + " overlap (data_offsets [" + previous.begin() + ", " + previous.end() + ") and ["
            + t.begin() + ", " + t.end() + ") relative to the file)");
      }
      previous = t;
    }
  }

  private static TensorInfo parseEntry(Path file, String name, JsonNode n, long dataStart, long fileSize) {
    JsonNode dtype = n.get("dtype");
    JsonNode shape = n.get("shape");
    JsonNode offsets = n.get("data_offsets");
    if (dtype == null || shape == null || !shape.isArray() || offsets == null
        || !offsets.isArray() || offsets.size() != 2) {
      throw new CheckpointException(file + ": bad header entry for tensor " + name + ": " + n);
    }
    long[] dims = new long[shape.size()];
    long count = 1;
    for (int i = 0; i < dims.length; i++) {
      JsonNode dim = shape.get(i);
      if (!dim.isIntegralNumber() || dim.asLong() < 0) {
        throw new CheckpointException(file + ": tensor " + name + " has a bad shape " + shape);
      }
      dims[i] = dim.asLong();
      try {
        count = Math.multiplyExact(count, dims[i]);
      } catch (ArithmeticException e) {
        throw new CheckpointException(file + ": tensor " + name + " has an impossible shape " + shape);
      }
    }
    if (!offsets.get(0).isIntegralNumber() || !offsets.get(1).isIntegralNumber()) {
      throw new CheckpointException(file + ": tensor " + name + " has bad data_offsets " + offsets);
    }
    int width = bytesPerElement(dtype.asText());
    long begin = offsets.get(0).asLong();
    long end = offsets.get(1).asLong();
    if (width > 0 && (count > Long.MAX_VALUE / width || end - begin != count * width)) {
      throw new CheckpointException(file + ": tensor " + name + " has " + (end - begin)
          + " bytes of data, expected " + count * width + " for " + dtype.asText() + " "
          + Arrays.toString(dims));
    }
    if (begin < 0 || end < begin || end > fileSize - dataStart) {
      throw new CheckpointException(file + ": truncated: tensor " + name + " ends at byte "
          + (dataStart + end) + " but the file has " + fileSize + " bytes");
    }
    return new TensorInfo(name, file, dtype.asText(), dims, dataStart + begin, dataStart + end);
  }

  private static int bytesPerElement(String dtype) {
    switch (dtype) {
      case "F64": case "I64": case "U64": return 8;
      case "F32": case "I32": case "U32": return 4;
      case "F16": case "BF16": case "I16": case "U16": return 2;
      case "I8": case "U8": case "BOOL": return 1;
      default: return -1;
    }
  }

  private static void readFully(FileChannel ch, ByteBuffer buf, long position) throws IOException {
    long pos = position;
    while (buf.hasRemaining()) {
      int n = ch.read(buf, pos);
      if (n < 0) {
        throw new IOException("unexpected end of file");
      }
      pos += n;
    }
  }

  /** The tensor names, sorted. */
  public Set<String> names() {
    return tensors.keySet();
  }

  /** Whether the checkpoint holds this tensor. */
  public boolean contains(String name) {
    return tensors.containsKey(name);
  }

  /** Where a tensor lives; an error naming the checkpoint when it is missing. */
  public TensorInfo info(String name) {
    TensorInfo info = tensors.get(name);
    if (info == null) {
      throw new CheckpointException(source + ": missing tensor " + name);
    }
    return info;
  }

  /** What this view was opened from (a file or index), for messages. */
  public String source() {
    return source;
  }

  /** Loads a tensor as fp32 into {@code manager}. */
  public NDArray load(String name, NDManager manager) throws IOException {
    return load(name, manager, DataType.FLOAT32);
  }

  /**
   * Loads a tensor into {@code manager} as {@code type} (FLOAT32 or FLOAT16), checking its shape
   * when {@code expected} is given.
   */
  public NDArray load(String name, NDManager manager, DataType type, long... expected) throws IOException {
    TensorInfo info = info(name);
    if (expected.length > 0 && !Arrays.equals(info.shape(), expected)) {
      throw new CheckpointException(info.file() + ": tensor " + name + " has shape "
          + Arrays.toString(info.shape()) + ", expected " + Arrays.toString(expected));
    }
    if (type != DataType.FLOAT32 && type != DataType.FLOAT16) {
      throw new IllegalArgumentException("can only load as FLOAT32 or FLOAT16, not " + type);
    }
    return load(info, manager, type, CHUNK_BYTES);
  }

  /**
   * Tensors above {@code chunkBytes} (a 7B model's embedding is over 2 GB, more than one Java
   * buffer or mapping can hold) are filled block by block of rows into one preallocated array.
   */
  static NDArray load(TensorInfo info, NDManager manager, DataType type, long chunkBytes) throws IOException {
    Shape shape = new Shape(info.shape());
    long count = info.size();
    if (count == 0) {
      return manager.zeros(shape, type);
    }
    long maxElements = Math.max(1, chunkBytes / 4);
    if (count <= maxElements || shape.dimension() == 0) {
      return block(info, 0, count, shape, manager, type);
    }
    long rows = shape.get(0);
    long rowElements = count / rows;
    long rowsPerBlock = Math.max(1, maxElements / rowElements);
    NDArray out = manager.zeros(shape, type);
    for (long r0 = 0; r0 < rows; r0 += rowsPerBlock) {
      long r1 = Math.min(rows, r0 + rowsPerBlock);
      long[] partShape = info.shape().clone();
      partShape[0] = r1 - r0;
      try (NDManager scratch = manager.newSubManager()) {
        NDArray part = block(info, r0 * rowElements, (r1 - r0) * rowElements, new Shape(partShape), scratch, type);
        out.set(new NDIndex("{}:{}", r0, r1), part);
      }
    }
    return out;
  }

  /** Elements {@code [first, first + n)} of a tensor as an array of {@code shape}. */
  private static NDArray block(TensorInfo info, long first, long n, Shape shape, NDManager manager, DataType type)
      throws IOException {
    int width = bytesPerElement(info.dtype());
    if (width < 0 || !(info.dtype().startsWith("F") || info.dtype().equals("BF16"))) {
      throw new CheckpointException(info.file() + ": tensor " + info.name() + " has dtype "
          + info.dtype() + "; only F32, F16, BF16 and F64 can be loaded as floats");
    }
    // Read, never mapped: the pages of a mapping count in the process's resident set until the
    // garbage collector unmaps it, which doubled the memory of loading a model. Our own direct
    // buffer as the destination: the PyTorch engine keeps pointing at the buffer it is given.
    long position = info.begin() + first * width;
    try (FileChannel ch = FileChannel.open(info.file(), StandardOpenOption.READ)) {
      if (type == DataType.FLOAT16 && info.dtype().equals("F16")) {
        ByteBuffer dst = ByteBuffer.allocateDirect(Math.toIntExact(n * 2)).order(ByteOrder.nativeOrder());
        readFully(ch, dst, position);
        return checkFinite(info, first, manager.create(dst.rewind(), shape, DataType.FLOAT16));
      }
      ByteBuffer dst = ByteBuffer.allocateDirect(Math.toIntExact(n * 4)).order(ByteOrder.nativeOrder());
      if (info.dtype().equals("F32")) {
        readFully(ch, dst, position);
      } else {
        convert(ch, position, n, info.dtype(), dst.asFloatBuffer());
      }
      NDArray array = checkFinite(info, first, manager.create(dst.rewind(), shape, DataType.FLOAT32));
      if (type == DataType.FLOAT16) {
        NDArray half = array.toType(DataType.FLOAT16, false);
        array.close();
        return half;
      }
      return array;
    }
  }

  /**
   * A NaN or infinite weight gives NaN logits without a word (scores, samples and gradients all
   * silently wrong), so it is refused at load time, naming the tensor and the first bad element.
   */
  private static NDArray checkFinite(TensorInfo info, long first, NDArray block) {
    long count;
    long at = -1;
    float value = 0;
    try (NDManager scratch = block.getManager().newSubManager()) {
      block.tempAttach(scratch); // the checks' arrays land in scratch; block goes back on close
      NDArray bad = block.isNaN().logicalOr(block.isInfinite()).flatten(); // (n,) boolean
      count = bad.toType(DataType.INT64, false).sum().getLong();
      if (count > 0) {
        at = bad.toType(DataType.INT32, false).argMax().getLong();
        value = block.flatten().toType(DataType.FLOAT32, false).getFloat(at);
      }
    }
    if (count > 0) {
      block.close();
      throw new CheckpointException(info.file() + ": tensor " + info.name() + " has " + count
          + " non-finite value" + (count == 1 ? "" : "s") + " (" + value + " at flat index " + (first + at) + ")");
    }
    return block;
  }

  /** Reads {@code n} BF16, F16 or F64 values at {@code position} as floats, a slice at a time. */
  private static void convert(FileChannel ch, long position, long n, String dtype, FloatBuffer out)
      throws IOException {
    int width = bytesPerElement(dtype);
    ByteBuffer slice = ByteBuffer.allocate(Math.toIntExact(Math.min(n * width, 1 << 22)))
        .order(ByteOrder.LITTLE_ENDIAN);
    for (long done = 0; done < n; ) {
      long count = Math.min(n - done, slice.capacity() / width);
      slice.clear().limit(Math.toIntExact(count * width));
      readFully(ch, slice, position + done * width);
      slice.flip();
      switch (dtype) {
        case "BF16": {
          ShortBuffer in = slice.asShortBuffer();
          while (in.hasRemaining()) {
            out.put(Float.intBitsToFloat((in.get() & 0xffff) << 16));
          }
          break;
        }
        case "F16": {
          ShortBuffer in = slice.asShortBuffer();
          while (in.hasRemaining()) {
            out.put(halfToFloat(in.get()));
          }
          break;
        }
        default: { // F64
          var in = slice.asDoubleBuffer();
          while (in.hasRemaining()) {
            out.put((float) in.get());
          }
        }
      }
      done += count;
    }
  }

  /** IEEE 754 binary16 to binary32 (Java 17 has no Float.float16ToFloat). */
  static float halfToFloat(short h) {
    int bits = h & 0xffff;
    int sign = (bits & 0x8000) << 16;
    int exp = (bits >>> 10) & 0x1f;
    int mant = bits & 0x3ff;
    if (exp == 0x1f) {
      return Float.intBitsToFloat(sign | 0x7f800000 | (mant << 13));
    }
    if (exp == 0) {
      if (mant == 0) {
        return Float.intBitsToFloat(sign);
      }
      float v = mant * 0x1p-24f;
      return sign == 0 ? v : -v;
    }
    return Float.intBitsToFloat(sign | ((exp + 112) << 23) | (mant << 13));
  }

  /**
   * Writes tensors (FLOAT32 or FLOAT16) to one safetensors file, sorted by name (and the metadata
   * by key, so that equal inputs give equal bytes). The file is
   * written beside the target and moved into place, so a crash never leaves a half-written file.
   */
  public static void write(Path file, Map<String, NDArray> arrays, Map<String, String> metadata)
      throws IOException {
    if (ByteOrder.nativeOrder() != ByteOrder.LITTLE_ENDIAN) {
      throw new IllegalStateException("big-endian hosts are not supported");
    }
    java.util.List<SafetensorsWriter.Tensor> tensors = new java.util.ArrayList<>();
    for (Map.Entry<String, NDArray> e : new TreeMap<>(arrays).entrySet()) {
      NDArray a = e.getValue();
      String dtype;
      if (a.getDataType() == DataType.FLOAT32) {
        dtype = "F32";
      } else if (a.getDataType() == DataType.FLOAT16) {
        dtype = "F16";
      } else {
        throw new IllegalArgumentException("tensor " + e.getKey() + ": cannot write " + a.getDataType());
      }
      tensors.add(new SafetensorsWriter.Tensor(e.getKey(), dtype, a.getShape().getShape(),
          sink -> sink.write(a.toByteBuffer().order(ByteOrder.LITTLE_ENDIAN))));
    }
    SafetensorsWriter.write(file, metadata, tensors);
  }
}
