package dev.art4j.examples.dataset;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.art4j.core.hub.HubClient;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** JSONL, JSON and CSV files and a cached Hugging Face dataset become tasks with reference answers. */
class DatasetReaderTest {

  @TempDir Path dir;

  @Test
  void jsonlWithAutoDetectedColumnsAndGsm8kAnswers() throws IOException {
    Path f = dir.resolve("tasks.jsonl");
    Files.writeString(f, """
        {"id": "a1", "question": "What is 6 times 7?", "answer": "42"}

        {"id": "a2", "question": "Natalia sold 48 clips...", "answer": "She sold 48/2 = 24.\\n#### 72"}
        """);
    List<DatasetTask> tasks = DatasetReader.read(f, DatasetReader.Fields.auto());
    assertEquals(List.of(new DatasetTask("a1", "What is 6 times 7?", "42"),
        new DatasetTask("a2", "Natalia sold 48 clips...", "72")), tasks);
  }

  @Test
  void csvWithQuotesCommasAndLineBreaksAndNamedColumns() throws IOException {
    Path f = dir.resolve("tasks.csv");
    Files.writeString(f, "prompt,expected,notes\r\n\"Add 1,000 and 2, please\",\"1,002\",x\r\n"
        + "\"He said \"\"hi\"\"\nthen left\",7,\r\n");
    List<DatasetTask> tasks = DatasetReader.read(f, DatasetReader.Fields.auto());
    assertEquals(2, tasks.size());
    assertEquals("Add 1,000 and 2, please", tasks.get(0).question());
    assertEquals("1,002", tasks.get(0).answer());
    assertEquals("He said \"hi\"\nthen left", tasks.get(1).question());
    assertEquals("row-1", tasks.get(1).id());

    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> DatasetReader.read(f, new DatasetReader.Fields("notes", "expected", null)));
    assertTrue(e.getMessage().contains("tasks.csv record 3: empty or missing 'notes'"), e.getMessage());
  }

  @Test
  void badInputNamesTheFileAndTheRow() throws IOException {
    Path noAnswer = dir.resolve("a.jsonl");
    Files.writeString(noAnswer, "{\"question\": \"q\", \"answer\": \"1\"}\n{\"question\": \"q2\"}\n");
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> DatasetReader.read(noAnswer, DatasetReader.Fields.auto()));
    assertTrue(e.getMessage().contains("a.jsonl line 2") && e.getMessage().contains("'answer'"), e.getMessage());

    Path unknown = dir.resolve("b.jsonl");
    Files.writeString(unknown, "{\"text\": \"q\", \"gold\": \"1\"}\n");
    e = assertThrows(IllegalArgumentException.class, () -> DatasetReader.read(unknown, DatasetReader.Fields.auto()));
    assertTrue(e.getMessage().contains("[text, gold]") && e.getMessage().contains("--question-field"), e.getMessage());
    assertEquals("1", DatasetReader.read(unknown, new DatasetReader.Fields("text", "gold", null)).get(0).answer());

    Path ragged = dir.resolve("c.csv");
    Files.writeString(ragged, "question,answer\nq,1,extra\n");
    e = assertThrows(IllegalArgumentException.class, () -> DatasetReader.read(ragged, DatasetReader.Fields.auto()));
    assertTrue(e.getMessage().contains("record 2"), e.getMessage());
  }

  @Test
  void readsADatasetFromTheHubCacheBySplit() throws IOException {
    Path snap = dir.resolve("hub/datasets--org--arith/snapshots/" + "a".repeat(40));
    Files.createDirectories(snap.resolve("data"));
    Files.writeString(snap.resolve("data/train.jsonl"), "{\"question\": \"1+1?\", \"answer\": \"2\"}\n");
    Files.writeString(snap.resolve("data/test.jsonl"), "{\"question\": \"2+2?\", \"answer\": \"4\"}\n"
        + "{\"question\": \"3+3?\", \"answer\": \"6\"}\n");
    Files.writeString(snap.resolve("README.md"), "# arith");
    HubClient hub = HubClient.builder().cacheDir(dir.resolve("hub")).progress(null).build();
    assertEquals(2, DatasetReader.fromHubCache(hub, "org/arith", "test", DatasetReader.Fields.auto()).size());
    assertEquals("2", DatasetReader.fromHubCache(hub, "org/arith", "train", DatasetReader.Fields.auto()).get(0).answer());
    assertEquals(3, DatasetReader.fromHubCache(hub, "org/arith", null, DatasetReader.Fields.auto()).size());

    Path pq = dir.resolve("hub/datasets--org--pq/snapshots/" + "b".repeat(40));
    Files.createDirectories(pq);
    Files.write(pq.resolve("train-00000-of-00001.parquet"), new byte[] {'P', 'A', 'R', '1'});
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> DatasetReader.fromHubCache(hub, "org/pq", "train", DatasetReader.Fields.auto()));
    assertTrue(e.getMessage().contains("parquet"), e.getMessage());
  }
}
