package org.unetmm.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The {@code unetmm compare} command as a user runs it: options, exit codes, the files it writes. */
@Timeout(120)
class CompareCommandTest {
    @TempDir
    Path results;

    private record Run(int exitCode, String out, String err) {
    }

    private static Run run(String... args) {
        PrintStream out = System.out;
        PrintStream err = System.err;
        ByteArrayOutputStream outBytes = new ByteArrayOutputStream();
        ByteArrayOutputStream errBytes = new ByteArrayOutputStream();
        try {
            System.setOut(new PrintStream(outBytes, true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(errBytes, true, StandardCharsets.UTF_8));
            int code = UnetmmCommand.execute(args);
            return new Run(code, outBytes.toString(StandardCharsets.UTF_8), errBytes.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(out);
            System.setErr(err);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"--sizes=-1", "--sizes=abc", "--buffers=0", "--format=xml", "--tlb-sets=3", "--tlb-ways=0",
            "--repeats=0", "--policy=FIFO", "--transport=udp://127.0.0.1:1", "--no-such-option"})
    void badOptionsExitWithCode2AndSayWhatWasWrong(String option) {
        Run run = run("compare", option);
        assertThat(run.exitCode()).as(run.err()).isEqualTo(2);
        assertThat(run.err()).isNotBlank();
    }

    @Test
    void quickSweepWritesWellFormedCsvPlotAndRunRecord() throws IOException {
        Run run = run("compare", "--sizes", "64,4096,65536", "--warmup-ms", "10", "--measure-ms", "30", "--repeats", "1",
                "--buffers", "4", "--results", results.toString(), "--format", "csv");
        assertThat(run.exitCode()).as(run.err()).isZero();
        assertThat(run.err()).contains("[1/12]", "[12/12]");
        Path dir;
        try (Stream<Path> dirs = Files.list(results)) {
            dir = dirs.findFirst().orElseThrow();
        }
        List<String> csv = Files.readAllLines(dir.resolve("compare.csv"));
        assertThat(csv.get(0)).isEqualTo(ComparePoint.csvHeader());
        assertThat(csv).hasSize(1 + 3 * 4); // memcpy, pinned, fixed, Aeron IPC per size
        assertThat(run.out().strip().lines().toList()).isEqualTo(csv);
        int columns = csv.get(0).split(",", -1).length;
        for (String row : csv.subList(1, csv.size())) {
            String[] cells = row.split(",", -1);
            assertThat(cells).as(row).hasSize(columns);
            assertThat(cells[1]).isIn("MEMCPY", "PINNED", "FIXED_SEGMENT", "AERON_IPC");
            assertThat(Long.parseLong(cells[3])).as("messages in " + row).isPositive();
            assertThat(Double.parseDouble(cells[6])).as("GB/s in " + row).isPositive();
        }
        assertThat(csv.stream().filter(r -> r.contains(",PINNED,"))).hasSize(3);
        assertThat(csv.stream().filter(r -> r.contains(",AERON_IPC,"))).hasSize(3);
        assertThat(Files.size(dir.resolve("compare.png"))).isGreaterThan(1000);
        String json = Files.readString(dir.resolve("run.json"));
        assertThat(json).contains("\"command\": \"compare\"", "\"sizes\": [64, 4096, 65536]", "\"gitCommit\"", "\"kernel\"");
    }
}
