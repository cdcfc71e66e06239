package dev.art4j.examples.dataset;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.art4j.core.hub.HubClient;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Reads question/answer scenarios from a local JSONL, JSON (an array of objects) or CSV file, or
 * from a Hugging Face dataset already in the local cache ({@code datasets--Org--Name}, found with
 * {@link HubClient}).
 *
 * <p>Columns are found by name: the question in the first of {@value #QUESTION_NAMES}, the answer
 * in the first of {@value #ANSWER_NAMES}, the id in {@code id} (else the row number), unless
 * {@link Fields} names them. An answer in GSM8K style (reasoning, then {@code #### 72}) keeps only
 * what follows the last {@code ####}. A row without a question or an answer is an error that names
 * the file and the line.
 */
public final class DatasetReader {

  static final String QUESTION_NAMES = "question, prompt, problem, query, input, instruction, task";
  static final String ANSWER_NAMES = "answer, reference, expected, solution, output, target, label";

  private static final ObjectMapper JSON = new ObjectMapper();

  /**
   * Which columns to read; a null name means "find it by the usual names".
   *
   * @param question the question column
   * @param answer   the reference-answer column
   * @param id       the id column
   */
  public record Fields(String question, String answer, String id) {
    /** Every column found by name. */
    public static Fields auto() {
      return new Fields(null, null, null);
    }
  }

  private DatasetReader() {}

  /** The tasks of a {@code .jsonl}, {@code .json} or {@code .csv} file. */
  public static List<DatasetTask> read(Path file, Fields fields) {
    String name = file.getFileName().toString().toLowerCase(Locale.ROOT);
    String text;
    try {
      text = Files.readString(file, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read dataset " + file, e);
    }
    List<Map<String, String>> rows;
    if (name.endsWith(".csv")) {
      rows = csvRows(text, file);
    } else if (name.endsWith(".jsonl") || name.endsWith(".ndjson") || name.endsWith(".json")) {
      rows = jsonRows(text, file);
    } else if (name.endsWith(".parquet") || name.endsWith(".arrow")) {
      throw new IllegalArgumentException(file + ": " + name.substring(name.lastIndexOf('.') + 1)
          + " is not supported; convert it to JSONL or CSV (e.g. datasets' to_json(..., lines=True))");
    } else {
      throw new IllegalArgumentException(file + ": unknown dataset format (expected .jsonl, .json or .csv)");
    }
    return toTasks(rows, fields, file);
  }

  /**
   * The tasks of a Hugging Face dataset in the local cache: its JSONL/JSON/CSV files whose path
   * contains {@code split} (e.g. {@code train}, {@code test}; null or empty for every file).
   */
  public static List<DatasetTask> fromHubCache(HubClient hub, String repoId, String split, Fields fields) {
    Path snapshot = hub.resolveDataset(repoId);
    List<Path> files;
    List<Path> unsupported;
    try (Stream<Path> s = Files.walk(snapshot)) {
      List<Path> all = s.filter(Files::isRegularFile)
          .filter(p -> split == null || split.isEmpty() || snapshot.relativize(p).toString().contains(split))
          .sorted().toList();
      files = all.stream().filter(p -> p.toString().matches("(?i).*\\.(jsonl|ndjson|json|csv)$"))
          .filter(p -> !p.getFileName().toString().startsWith("dataset_info")).toList();
      unsupported = all.stream().filter(p -> p.toString().matches("(?i).*\\.(parquet|arrow)$")).toList();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot list " + snapshot, e);
    }
    if (files.isEmpty()) {
      throw new IllegalArgumentException("dataset " + repoId + " (" + snapshot + ") has no JSONL, JSON or CSV file"
          + (split == null || split.isEmpty() ? "" : " for split '" + split + "'")
          + (unsupported.isEmpty() ? "" : "; it has " + unsupported.size()
              + " parquet/arrow files, which this reader does not decode: convert them to JSONL first"));
    }
    List<DatasetTask> out = new ArrayList<>();
    for (Path f : files) {
      out.addAll(read(f, fields));
    }
    return out;
  }

  private static List<Map<String, String>> jsonRows(String text, Path file) {
    List<Map<String, String>> rows = new ArrayList<>();
    String trimmed = text.strip();
    if (trimmed.startsWith("[")) {
      try {
        JsonNode array = JSON.readTree(trimmed);
        int i = 0;
        for (JsonNode n : array) {
          rows.add(flat(n, file, "element " + i++));
        }
      } catch (IOException e) {
        throw new IllegalArgumentException(file + ": not a JSON array of objects: " + e.getMessage(), e);
      }
      return rows;
    }
    String[] lines = text.split("\r?\n");
    for (int i = 0; i < lines.length; i++) {
      if (lines[i].isBlank()) {
        continue;
      }
      try {
        rows.add(flat(JSON.readTree(lines[i]), file, "line " + (i + 1)));
      } catch (IOException e) {
        throw new IllegalArgumentException(file + " line " + (i + 1) + ": not a JSON object: " + e.getMessage(), e);
      }
    }
    return rows;
  }

  private static Map<String, String> flat(JsonNode n, Path file, String where) {
    if (n == null || !n.isObject()) {
      throw new IllegalArgumentException(file + " " + where + ": expected a JSON object");
    }
    Map<String, String> row = new LinkedHashMap<>();
    n.fields().forEachRemaining(e -> row.put(e.getKey(),
        e.getValue().isValueNode() ? e.getValue().asText() : e.getValue().toString()));
    row.put("\0where", where);
    return row;
  }

  private static List<Map<String, String>> csvRows(String text, Path file) {
    List<List<String>> records = Csv.parse(text, file.toString());
    if (records.isEmpty()) {
      return List.of();
    }
    List<String> header = records.get(0);
    List<Map<String, String>> rows = new ArrayList<>();
    for (int r = 1; r < records.size(); r++) {
      List<String> rec = records.get(r);
      if (rec.size() != header.size()) {
        throw new IllegalArgumentException(file + " record " + (r + 1) + ": " + rec.size() + " fields, the header has "
            + header.size());
      }
      Map<String, String> row = new LinkedHashMap<>();
      for (int c = 0; c < header.size(); c++) {
        row.put(header.get(c).strip(), rec.get(c));
      }
      row.put("\0where", "record " + (r + 1));
      rows.add(row);
    }
    return rows;
  }

  private static List<DatasetTask> toTasks(List<Map<String, String>> rows, Fields fields, Path file) {
    if (rows.isEmpty()) {
      throw new IllegalArgumentException(file + ": no rows");
    }
    Map<String, String> first = rows.get(0);
    String q = column(fields.question(), QUESTION_NAMES, first, file, "question");
    String a = column(fields.answer(), ANSWER_NAMES, first, file, "answer");
    String id = fields.id() != null ? fields.id() : first.containsKey("id") ? "id" : null;
    List<DatasetTask> out = new ArrayList<>(rows.size());
    for (int i = 0; i < rows.size(); i++) {
      Map<String, String> row = rows.get(i);
      String where = file + " " + row.get("\0where");
      String question = row.get(q);
      String answer = row.get(a);
      if (question == null || question.isBlank()) {
        throw new IllegalArgumentException(where + ": empty or missing '" + q + "'");
      }
      if (answer == null || answer.isBlank()) {
        throw new IllegalArgumentException(where + ": empty or missing '" + a + "'");
      }
      String rowId = id != null && row.get(id) != null ? row.get(id) : "row-" + i;
      out.add(new DatasetTask(rowId, question.strip(), referenceAnswer(answer)));
    }
    return out;
  }

  /** GSM8K style {@code "...reasoning...\n#### 1,234"} becomes {@code "1,234"}; anything else is trimmed. */
  static String referenceAnswer(String raw) {
    int mark = raw.lastIndexOf("####");
    return (mark >= 0 ? raw.substring(mark + 4) : raw).strip();
  }

  private static String column(String given, String candidates, Map<String, String> row, Path file, String what) {
    if (given != null) {
      if (!row.containsKey(given)) {
        throw new IllegalArgumentException(file + ": no column '" + given + "' (columns: " + columns(row) + ")");
      }
      return given;
    }
    for (String c : candidates.split(", ")) {
      for (String k : row.keySet()) {
        if (k.equalsIgnoreCase(c)) {
          return k;
        }
      }
    }
    throw new IllegalArgumentException(file + ": cannot find the " + what + " column among " + columns(row)
        + " (looked for " + candidates + "; name it with --" + what + "-field)");
  }

  private static String columns(Map<String, String> row) {
    return row.keySet().stream().filter(k -> !k.startsWith("\0")).toList().toString();
  }
}
