package org.unetmm.bench;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code unetmm pingpong compare} and {@code unetmm compare} as a researcher reads them: repeats
 * interleaved across the peers, median [min–max] per point, ratios per repeat pair, and the
 * machine's warnings printed before the run and kept in run.json.
 */
@Timeout(180)
class PingPongCompareTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path results;

    @Test
    void pingpongCompareReportsMedianMinMaxOfInterleavedRepeatsAndRatiosPerRepeatPair() throws IOException {
        int repeats = 3;
        CommandRun run = CommandRun.of("pingpong", "compare", "--repeats", "" + repeats, "--count", "300", "--warmup", "100",
                "--stream-ms", "30", "--no-aeron", "--results", results.toString());
        assertThat(run.exitCode()).as(run.err()).isZero();
        assertThat(run.out()).contains("64 B RTT p50 us [min–max]", "÷NIO-dir [min–max]", "3 repeats interleaved");
        Path dir = onlyRun();
        JsonNode doc = JSON.readTree(dir.resolve("udp-compare.json").toFile());

        // interleaved: every peer's repeat r of a measure before any peer's repeat r+1 of it
        List<String> peers = List.of("unetmm pinned", "unetmm fixed", "NIO direct", "NIO heap");
        JsonNode samples = doc.get("samples");
        assertThat(samples).hasSize(repeats * 3 * peers.size());
        for (int i = 0; i < samples.size(); i++) {
            assertThat(samples.get(i).get("repeat").asInt()).as("sample " + i).isEqualTo(i / (3 * peers.size()));
        }
        Map<String, double[]> values = new HashMap<>();
        for (JsonNode s : samples) {
            values.computeIfAbsent(s.get("peer").asText() + "/" + s.get("measure").asText(), k -> new double[repeats])
                    [s.get("repeat").asInt()] = s.get("value").asDouble();
        }

        JsonNode points = doc.get("points");
        assertThat(points).hasSize(3 * peers.size());
        for (JsonNode p : points) {
            String key = p.get("peer").asText() + "/" + p.get("measure").asText();
            double[] v = values.get(key).clone();
            Arrays.sort(v);
            JsonNode value = p.get("value");
            assertThat(value.get("median").asDouble()).as(key).isEqualTo(v[1]);
            assertThat(value.get("min").asDouble()).as(key).isEqualTo(v[0]);
            assertThat(value.get("max").asDouble()).as(key).isEqualTo(v[2]);
            String baseline = (p.get("measure").asText().equals("stream") ? "NIO heap/" : "NIO direct/") + p.get("measure").asText();
            double[] mine = values.get(key);
            double[] base = values.get(baseline);
            double[] ratios = new double[repeats];
            for (int r = 0; r < repeats; r++) {
                ratios[r] = mine[r] / base[r];
            }
            Arrays.sort(ratios);
            assertThat(p.get("ratio").get("median").asDouble()).as(key + ": the median of the per-repeat ratios")
                    .isEqualTo(ratios[1]);
            assertThat(p.get("ratio").get("min").asDouble()).as(key).isEqualTo(ratios[0]);
            assertThat(p.get("ratio").get("max").asDouble()).as(key).isEqualTo(ratios[2]);
            assertThat(p.get("repeats").asInt()).isEqualTo(repeats);
        }
        List<String> csv = Files.readAllLines(dir.resolve("udp-compare.csv"));
        assertThat(csv.get(0)).startsWith("peer,rtt64_p50_us,").contains("rtt64_p50_us_min,rtt64_p50_us_max",
                "rtt64_vs_nio_direct_min", "flags");
        assertThat(csv).hasSize(1 + peers.size());

        JsonNode record = JSON.readTree(dir.resolve("run.json").toFile());
        assertThat(record.get("configuration").get("repeats").asInt()).isEqualTo(repeats);
        assertWarningsPrintedAndRecorded(run, record);
        assertThat(doc.get("run").get("warnings")).isEqualTo(record.get("warnings"));
    }

    @Test
    void compareRecordsTheWarningsItPrintedBeforeStarting() throws IOException {
        CommandRun run = CommandRun.of("compare", "--sizes", "4KiB", "--warmup-ms", "5", "--measure-ms", "10", "--repeats", "1",
                "--no-aeron", "--results", results.toString());
        assertThat(run.exitCode()).as(run.err()).isZero();
        assertWarningsPrintedAndRecorded(run, JSON.readTree(onlyRun().resolve("run.json").toFile()));
    }

    /** run.json's "warnings" are exactly the "warning: " lines on stderr, and those came before the first measurement. */
    private static void assertWarningsPrintedAndRecorded(CommandRun run, JsonNode record) {
        JsonNode recorded = record.get("warnings");
        assertThat(recorded).as("run.json warnings").isNotNull();
        assertThat(recorded.isArray()).isTrue();
        List<String> printed = new ArrayList<>();
        List<String> lines = run.err().lines().toList();
        for (int i = 0; i < lines.size() && lines.get(i).startsWith("warning: "); i++) {
            printed.add(lines.get(i).substring("warning: ".length()));
        }
        List<String> kept = new ArrayList<>();
        recorded.forEach(w -> kept.add(w.asText()));
        assertThat(kept).as("warnings in run.json = the warning lines at the top of stderr").isEqualTo(printed);
        assertThat(run.err().lines().filter(l -> l.startsWith("warning: ")).count()).isEqualTo(printed.size());
    }

    private Path onlyRun() throws IOException {
        try (Stream<Path> dirs = Files.list(results)) {
            return dirs.findFirst().orElseThrow();
        }
    }
}
