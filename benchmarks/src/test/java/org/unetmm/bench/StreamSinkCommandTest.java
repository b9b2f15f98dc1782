package org.unetmm.bench;

import static org.assertj.core.api.Assertions.assertThat;

import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code unetmm sink} and {@code unetmm stream} as a user runs them: the sink in a JVM of its own,
 * the stream here; the stream's lines, summary and exit status, and its failure when no sink answers.
 */
@Timeout(60)
class StreamSinkCommandTest {
    @TempDir
    Path results;

    @Test
    void aStreamToASinkInAnotherProcessReportsRatesAndLossAndSucceeds() throws Exception {
        String address = "udp://127.0.0.1:" + UnetmmProcess.freePort();
        try (UnetmmProcess sink = UnetmmProcess.start("sink", "--listen", address, "--duration", "30", "--buffers", "512")) {
            assertThat(sink.nextLine()).startsWith("sink: listening on " + address + "/1");
            for (String path : new String[] {"pinned", "fixed"}) {
                CommandRun run = CommandRun.of("stream", "--to", address, "--size", "1000", "--duration", "1.5", "--path", path,
                        "--inflight", "32", "--results", results.toString());
                assertThat(run.exitCode()).as(run.out() + run.err()).isZero();
                assertThat(run.out()).as(run.out()).contains("stream:    1 s  sent").contains("delivered")
                        .containsPattern("stream: summary  [0-9,]+ msgs of 1000 B in [0-9.]+ s: sent [0-9,]+ msgs/s [0-9.]+ MB/s,"
                                + " delivered [0-9,]+ msgs/s [0-9.]+ MB/s, lost [0-9,]+ \\([0-9.]+%\\)\n")
                        .contains("sendmmsg calls");
            }
        }
    }

    /**
     * {@code --path both --repeats 2}: four streams, pinned fixed pinned fixed, to one sink in another
     * process; each path's median, min and max are its streams' and the ratio is pinned ÷ fixed per
     * repeat pair, in the JSON, and in the table the single-run lines come first, then the summary.
     */
    @Test
    void bothPathsAlternateAndReportEachPathsSpreadAndTheRatioPerRepeatPair() throws Exception {
        String address = "udp://127.0.0.1:" + UnetmmProcess.freePort();
        try (UnetmmProcess sink = UnetmmProcess.start("sink", "--listen", address, "--duration", "40", "--buffers", "512")) {
            assertThat(sink.nextLine()).startsWith("sink: listening on " + address + "/1");
            CommandRun run = CommandRun.of("stream", "--to", address, "--size", "1000", "--duration", "0.4", "--path", "both",
                    "--repeats", "2", "--inflight", "32", "--format", "json", "--results", results.resolve("json").toString());
            assertThat(run.exitCode()).as(run.out() + run.err()).isZero();
            JsonNode doc = RunRecord.JSON.readTree(run.out());
            JsonNode samples = doc.get("samples");
            assertThat(samples).hasSize(4);
            String[] order = {"pinned", "fixed", "pinned", "fixed"};
            for (int i = 0; i < 4; i++) {
                assertThat(samples.get(i).get("path").asText()).as("stream %d", i).isEqualTo(order[i]);
                assertThat(samples.get(i).get("repeat").asInt()).isEqualTo(i / 2);
                assertThat(samples.get(i).get("sizeBytes").asInt()).isEqualTo(1000);
                assertThat(samples.get(i).get("delivered").asLong()).as("delivered in " + samples.get(i)).isPositive();
                if (i > 0) {
                    assertThat(Instant.parse(samples.get(i).get("startedAt").asText()))
                            .isAfter(Instant.parse(samples.get(i - 1).get("startedAt").asText()));
                }
            }
            assertThat(doc.get("paths")).hasSize(2);
            for (JsonNode p : doc.get("paths")) {
                double[] sorted = java.util.stream.IntStream.range(0, 4).mapToObj(samples::get)
                        .filter(x -> x.get("path").equals(p.get("path")))
                        .mapToDouble(x -> x.get("deliveredMsgsPerSecond").asDouble()).sorted().toArray();
                assertThat(sorted).hasSize(2);
                assertThat(p.at("/deliveredMsgsPerSecond/min").asDouble()).isEqualTo(sorted[0]);
                assertThat(p.at("/deliveredMsgsPerSecond/max").asDouble()).isEqualTo(sorted[1]);
                assertThat(p.at("/deliveredMsgsPerSecond/median").asDouble()).isCloseTo((sorted[0] + sorted[1]) / 2, within(1e-6));
                assertThat(p.get("flags").isArray()).isTrue();
            }
            double r0 = samples.get(0).get("deliveredMsgsPerSecond").asDouble() / samples.get(1).get("deliveredMsgsPerSecond").asDouble();
            double r1 = samples.get(2).get("deliveredMsgsPerSecond").asDouble() / samples.get(3).get("deliveredMsgsPerSecond").asDouble();
            assertThat(doc.at("/pinnedToFixed/min").asDouble()).isEqualTo(Math.min(r0, r1));
            assertThat(doc.at("/pinnedToFixed/max").asDouble()).isEqualTo(Math.max(r0, r1));
            assertThat(doc.at("/run/configuration/repeats").asInt()).isEqualTo(2);
            assertThat(doc.at("/run/kernelFeatures/sendmmsg").asText()).isEqualTo("used");
            Path dir;
            try (Stream<Path> dirs = Files.list(results.resolve("json"))) {
                dir = dirs.filter(Files::isDirectory).findFirst().orElseThrow();
            }
            assertThat(RunRecord.JSON.readTree(dir.resolve("run.json").toFile()).at("/kernelFeatures/recvmmsg").asText())
                    .isEqualTo("used");

            CommandRun table = CommandRun.of("stream", "--to", address, "--size", "1000", "--duration", "0.3", "--path", "both",
                    "--repeats", "2", "--inflight", "32", "--results", results.resolve("table").toString());
            assertThat(table.exitCode()).as(table.out() + table.err()).isZero();
            assertThat(table.out()).as(table.out()).containsPattern("path pinned.*\\n(.*\\n)*.*path fixed.*\\n(.*\\n)*.*path pinned")
                    .containsPattern("stream: pinned +delivered [0-9,]+ msgs/s \\[[0-9,]+–[0-9,]+\\]")
                    .containsPattern("stream: fixed +delivered [0-9,]+ msgs/s \\[[0-9,]+–[0-9,]+\\]")
                    .containsPattern("stream: pinned ÷ fixed \\(delivered msgs/s, per repeat pair\\) [0-9.]+ \\[[0-9.]+–[0-9.]+\\]");
        }
    }

    @Test
    void aSecondStreamWhileOneStreamsIsRefusedAsBusyAndTheFirstCountsOnlyItsOwn() throws Exception {
        String address = "udp://127.0.0.1:" + UnetmmProcess.freePort();
        try (UnetmmProcess sink = UnetmmProcess.start("sink", "--listen", address, "--duration", "40");
             UnetmmProcess first = startStream(sink, address)) {
            first.lineStartingWith("stream:    1 s"); // it streams
            CommandRun second = CommandRun.of("stream", "--to", address, "--size", "256", "--duration", "1", "--warmup", "0",
                    "--results", results.resolve("second").toString());
            assertThat(second.exitCode()).as(second.out() + second.err()).isEqualTo(1);
            assertThat(second.out() + second.err()).contains("is busy with another stream", "start another sink");
            assertThat(first.exitCode(30)).as(first.output()).isZero();
            // the two streams' sequence numbers once met in one tally: the first saw the second's as its own,
            // "late", and reported a loss below zero
            assertThat(first.output()).containsPattern("stream: summary .* lost [0-9,]+ \\([0-9.]+%\\)\n")
                    .doesNotContain("lost -");
            assertThat(sink.lineStartingWith("sink: refused stream from")).contains("busy with the stream from");
        }
    }

    private UnetmmProcess startStream(UnetmmProcess sink, String address) throws Exception {
        assertThat(sink.nextLine()).startsWith("sink: listening on " + address + "/1");
        return UnetmmProcess.start("stream", "--to", address, "--size", "256", "--duration", "4", "--warmup", "0",
                "--results", results.resolve("first").toString());
    }

    @Test
    void aStreamWhoseShmSinkStopsStopsTooAndFailsSayingSo() throws Exception {
        String name = "gone-" + ProcessHandle.current().pid();
        try (UnetmmProcess sink = UnetmmProcess.start("sink", "--listen", "shm:" + name, "--duration", "3")) {
            assertThat(sink.nextLine()).startsWith("sink: listening on shm:" + name);
            long started = System.nanoTime();
            CommandRun run = CommandRun.of("stream", "--to", "shm:" + name, "--size", "64", "--duration", "40", "--warmup", "0",
                    "--results", results.toString());
            assertThat(run.exitCode()).as(run.out() + run.err()).isEqualTo(1);
            assertThat(run.out()).contains("stream: the sink is gone after").contains("shm:" + name + " closed")
                    .contains("stream: summary").contains("(the sink is gone: delivered is its last report)");
            assertThat(System.nanoTime() - started).as("it stopped when the sink did, not at the end of its 40 s")
                    .isLessThan(30_000_000_000L);
        }
    }

    @Test
    void aStreamWithNoSinkFailsSayingHowToStartOne() throws IOException {
        String address = "udp://127.0.0.1:" + UnetmmProcess.freePort();
        CommandRun run = CommandRun.of("stream", "--to", address, "--duration", "1", "--results", results.toString());
        assertThat(run.exitCode()).isEqualTo(1);
        assertThat(run.out()).contains("no sink answered").contains("unetmm sink --listen " + address);
    }

    @Test
    void helpShowsExamplesAndBadSizesNameTheLimit() {
        CommandRun help = CommandRun.of("stream", "--help");
        assertThat(help.exitCode()).isZero();
        assertThat(help.out()).contains("Examples:").contains("unetmm stream --to udp://127.0.0.1:7100 --size 64");
        assertThat(CommandRun.of("sink", "--help").out()).contains("Examples:").contains("unetmm sink --listen");
        CommandRun bad = CommandRun.of("stream", "--to", "udp://127.0.0.1:9", "--size", "4");
        assertThat(bad.exitCode()).isEqualTo(2);
        assertThat(bad.err()).contains("--size: 4 B is out of range: 8..");
    }
}
