package org.unetmm.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@code unetmm reliable-stream} as a user runs it: two network namespaces on a veth pair, the
 * sender and the sink each a JVM of its own, lossless and lossy streams alternating; the JSON it
 * prints and the run record it leaves, and its refusal of bad options before it touches the network.
 */
@Timeout(120)
class ReliableStreamCommandTest {
    @TempDir
    Path results;

    /**
     * {@code --repeats 2 --format json}: lossless lossy lossless lossy, each kind's MB/s the median
     * of its two streams, inside their min and max, and lossy ÷ lossless taken per repeat pair.
     */
    @Test
    void streamsAlternateLosslessAndLossyAndTheRatioIsTakenPerRepeatPair() throws Exception {
        assumeTrue("root".equals(System.getProperty("user.name")), "reliable-stream makes network namespaces: root only");
        assumeTrue(Stream.of("/usr/sbin/nft", "/sbin/nft", "/usr/bin/nft").anyMatch(p -> Files.isExecutable(Path.of(p))),
                "nft (nftables) is not installed");
        CommandRun run = CommandRun.of("reliable-stream", "--total", "64KiB", "--message", "16KiB", "--loss", "5",
                "--repeats", "2", "--stream-timeout", "60", "--format", "json", "--results", results.toString());
        assertThat(run.exitCode()).as(run.err() + run.out()).isZero();
        JsonNode doc = RunRecord.JSON.readTree(run.out());
        assertThat(doc.get("repeats").asInt()).isEqualTo(2);
        JsonNode samples = doc.get("samples");
        assertThat(samples).hasSize(4);
        String[] order = {"lossless", "lossy", "lossless", "lossy"};
        for (int i = 0; i < 4; i++) {
            JsonNode s = samples.get(i);
            assertThat(s.get("kind").asText()).as("stream %d", i).isEqualTo(order[i]);
            assertThat(s.get("repeat").asInt()).isEqualTo(i / 2);
            assertThat(s.get("bytes").asLong()).isEqualTo(64 * 1024);
            assertThat(s.get("mbPerSecond").asDouble()).isPositive();
            if (i > 0) {
                assertThat(Instant.parse(s.get("startedAt").asText()))
                        .isAfter(Instant.parse(samples.get(i - 1).get("startedAt").asText()));
            }
        }
        assertThat(doc.get("kinds")).hasSize(2);
        for (JsonNode kind : doc.get("kinds")) {
            assertThat(kind.get("repeats").asInt()).isEqualTo(2);
            JsonNode mb = kind.get("mbPerSecond");
            assertThat(mb.get("median").asDouble()).as(kind.get("kind").asText())
                    .isBetween(mb.get("min").asDouble(), mb.get("max").asDouble());
            double[] sorted = IntStream.range(0, 4).mapToObj(samples::get).filter(x -> x.get("kind").equals(kind.get("kind")))
                    .mapToDouble(x -> x.get("mbPerSecond").asDouble()).sorted().toArray();
            assertThat(mb.get("min").asDouble()).isEqualTo(sorted[0]);
            assertThat(mb.get("max").asDouble()).isEqualTo(sorted[1]);
            assertThat(kind.get("flags").isArray()).isTrue();
        }
        double r0 = samples.get(1).get("mbPerSecond").asDouble() / samples.get(0).get("mbPerSecond").asDouble();
        double r1 = samples.get(3).get("mbPerSecond").asDouble() / samples.get(2).get("mbPerSecond").asDouble();
        assertThat(doc.at("/lossyToLossless/min").asDouble()).isEqualTo(Math.min(r0, r1));
        assertThat(doc.at("/lossyToLossless/max").asDouble()).isEqualTo(Math.max(r0, r1));
        assertThat(doc.at("/run/configuration/repeats").asInt()).isEqualTo(2);
        Path dir;
        try (Stream<Path> dirs = Files.list(results)) {
            dir = dirs.filter(Files::isDirectory).findFirst().orElseThrow();
        }
        JsonNode record = RunRecord.JSON.readTree(dir.resolve("run.json").toFile());
        assertThat(record.get("repeatsMeasured").asInt()).isEqualTo(4);
        assertThat(record.get("repeatDurations")).hasSize(4);
        assertThat(record.get("endTime").isNull()).isFalse();
        assertThat(Files.exists(dir.resolve("reliable-stream.json"))).isTrue();
    }

    @ParameterizedTest
    @ValueSource(strings = {"--repeats 0", "--format xml"})
    void zeroRepeatsAndAnUnknownFormatAreRefusedInOneLineBeforeAnyNamespaceIsMade(String option) {
        CommandRun run = CommandRun.of(("reliable-stream " + option).split(" "));
        assertThat(run.exitCode()).as(run.err()).isEqualTo(2);
        List<String> lines = run.err().lines().toList();
        assertThat(lines.get(0)).isEqualTo(option.startsWith("--repeats")
                ? "unetmm reliable-stream: --repeats: 0 is out of range: 1..1000"
                : "unetmm reliable-stream: --format must be 'table', 'csv' or 'json', got 'xml'");
        assertThat(run.out()).isEmpty();
    }
}
