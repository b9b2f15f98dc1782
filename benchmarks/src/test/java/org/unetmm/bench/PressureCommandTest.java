package org.unetmm.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** {@code unetmm pressure} as a user runs it: options, exit codes, and the CSV it writes. */
@Timeout(180)
class PressureCommandTest {
    @TempDir
    Path results;

    @ParameterizedTest
    @ValueSource(strings = {"--tlb-entries=48", "--tlb-ways=5", "--budget=12", "--budget=lots", "--distribution=pareto",
            "--working-set=0", "--accesses=0", "--policy=MRU", "--format=xml", "--memlock=10",
            "--repeats=0", "--spread-flag=0"})
    void badOptionsExitWithCode2(String option) {
        assertThat(UnetmmCommand.execute("pressure", option)).isEqualTo(2);
    }

    private List<String> sweep(String... extra) throws IOException {
        String[] base = {"pressure", "--tlb-entries", "16,32", "--tlb-ways", "4", "--distribution", "zipf:0.99,uniform,loop",
                "--working-set", "8,64", "--accesses", "1500", "--results", results.toString()};
        String[] args = Stream.concat(Stream.of(base), Stream.of(extra)).toArray(String[]::new);
        assertThat(UnetmmCommand.execute(args)).isZero();
        Path dir;
        try (Stream<Path> dirs = Files.list(results)) {
            dir = dirs.filter(Files::isDirectory).findFirst().orElseThrow();
        }
        assertThat(Files.size(dir.resolve("pressure.png"))).isGreaterThan(1000);
        assertThat(Files.readString(dir.resolve("run.json"))).contains("\"command\": \"pressure\"", "\"seed\": 42");
        return Files.readAllLines(dir.resolve("pressure.csv"));
    }

    @Test
    void trafficSweepHasARowPerPointAndNoPolicyBeatsOpt() throws IOException {
        List<String> csv = sweep();
        checkRows(csv, "traffic");
        assertThat(csv.subList(1, csv.size())).allSatisfy(row -> assertThat(row.split(",", -1)[19]).as("nothing lost on"
                + " loopback: " + row).isEqualTo("0"));
    }

    @Test
    void udpTrafficSweepHasARowPerPointAndNoPolicyBeatsOpt() throws IOException {
        List<String> csv = sweep("--transport", "udp://127.0.0.1:0");
        checkRows(csv, "traffic");
        for (String row : csv.subList(1, csv.size())) {
            assertThat(Long.parseLong(row.split(",", -1)[19])).as("lost messages in " + row).isBetween(0L, 1500L);
        }
    }

    /**
     * Three repeats of every traffic point, interleaved across the points: a point's msgs/s median,
     * min and max are its repeats' sorted, every repeat 1 ran before any repeat 2, and with a
     * threshold no two measurements meet every point that spread is flagged, in the JSON and the CSV.
     */
    @Test
    void trafficRepeatsAreInterleavedAndSummarisedAsMedianMinMaxWithFlags() throws IOException {
        CommandRun run = CommandRun.of("pressure", "--tlb-entries", "16", "--tlb-ways", "4", "--policy", "LRU,SIEVE",
                "--distribution", "zipf:0.99", "--working-set", "8,64", "--accesses", "400", "--repeats", "3",
                "--spread-flag", "1e-9", "--format", "json", "--results", results.toString());
        assertThat(run.exitCode()).as(run.err()).isZero();
        com.fasterxml.jackson.databind.JsonNode doc = RunRecord.JSON.readTree(run.out());
        assertThat(doc.at("/run/configuration/repeats").asInt()).isEqualTo(3);
        assertThat(doc.at("/run/kernelFeatures").isObject()).as("kernelFeatures in " + doc.get("run")).isTrue();
        com.fasterxml.jackson.databind.JsonNode points = doc.at("/run/points");
        com.fasterxml.jackson.databind.JsonNode samples = doc.get("samples");
        assertThat(points).hasSize(4);
        assertThat(samples).hasSize(4 * 3);
        for (int i = 0; i < samples.size(); i++) {
            assertThat(samples.get(i).get("repeat").asInt()).as("sample %d: repeat 1 of every point, then 2, …", i)
                    .isEqualTo(i / 4);
            if (i > 0) {
                assertThat(java.time.Instant.parse(samples.get(i).get("startedAt").asText())).as("sample %d ran after %d", i, i - 1)
                        .isAfterOrEqualTo(java.time.Instant.parse(samples.get(i - 1).get("startedAt").asText()));
            }
        }
        for (com.fasterxml.jackson.databind.JsonNode p : points) {
            double[] sorted = java.util.stream.StreamSupport.stream(samples.spliterator(), false)
                    .filter(s -> s.get("policy").equals(p.get("policy")) && s.get("workingSetPages").equals(p.get("workingSetPages")))
                    .mapToDouble(s -> s.get("msgsPerSecond").asDouble()).sorted().toArray();
            assertThat(sorted).as("repeats of " + p).hasSize(3);
            assertThat(p.get("repeats").asInt()).isEqualTo(3);
            assertThat(p.at("/msgsPerSecond/median").asDouble()).isEqualTo(sorted[1]);
            assertThat(p.at("/msgsPerSecond/min").asDouble()).isEqualTo(sorted[0]);
            assertThat(p.at("/msgsPerSecond/max").asDouble()).isEqualTo(sorted[2]);
            assertThat(p.get("spread").asDouble()).isEqualTo((sorted[2] - sorted[0]) / sorted[1]);
            List<String> flags = new java.util.ArrayList<>();
            p.get("flags").forEach(f -> flags.add(f.asText()));
            assertThat(flags.contains(ComparePoint.SPREAD)).as("flags of " + p).isEqualTo(sorted[2] > sorted[0]);
            assertThat(flags).doesNotContain(ComparePoint.ABOVE_LIMIT, ComparePoint.LOSS);
            assertThat(p.get("topCHitRate").isNumber()).as("zipf has a static bound").isTrue();
        }
        Path dir;
        try (Stream<Path> dirs = Files.list(results)) {
            dir = dirs.filter(Files::isDirectory).findFirst().orElseThrow();
        }
        assertThat(RunRecord.JSON.readTree(dir.resolve("pressure.json").toFile()).get("samples")).hasSize(12);
        List<String> csv = Files.readAllLines(dir.resolve("pressure.csv"));
        assertThat(csv.get(0)).startsWith("mode,tlb_entries,tlb_ways,policy,budget_bytes,distribution,working_set_pages,"
                + "accesses,tlb_hit_rate,opt_hit_rate,top_c_hit_rate,pin_cache_hit_rate,pins_per_msg,unpins_per_msg,miss_p50_ns,"
                + "miss_p99_ns,msgs_per_s,pinned_peak_bytes,vmlck_peak_bytes,lost_msgs,").endsWith(",spread,flags");
        List<String> header = List.of(csv.get(0).split(","));
        for (String row : csv.subList(1, csv.size())) {
            String[] cells = row.split(",", -1);
            assertThat(cells[header.indexOf("repeats")]).isEqualTo("3");
            double min = Double.parseDouble(cells[header.indexOf("msgs_per_s_min")]);
            double max = Double.parseDouble(cells[header.indexOf("msgs_per_s_max")]);
            assertThat(Double.parseDouble(cells[header.indexOf("msgs_per_s")])).as(row).isBetween(min, max);
            assertThat(cells[header.indexOf("flags")].contains(ComparePoint.SPREAD)).as(row).isEqualTo(max > min);
        }
    }

    @Test
    void repeatsOfADeterministicTraceReplayAreRefusedNamingTrafficMode() {
        CommandRun run = CommandRun.of("pressure", "--trace-only", "--repeats", "3");
        assertThat(run.exitCode()).isEqualTo(2);
        assertThat(run.err()).contains("runs once", "traffic mode");
        CommandRun help = CommandRun.of("pressure", "--help");
        assertThat(help.out()).contains("--repeats", "deterministic and runs once");
    }

    @Test
    void aBadTransportExitsWithCode2() {
        assertThat(UnetmmCommand.execute("pressure", "--transport", "udp://bad")).isEqualTo(2);
        assertThat(UnetmmCommand.execute("pressure", "--transport", "tcp://127.0.0.1:0")).isEqualTo(2);
    }

    @Test
    void traceOnlySweepHasARowPerPointAndNoPolicyBeatsOpt() throws IOException {
        List<String> csv = sweep("--trace-only");
        checkRows(csv, "trace");
        int topC = csv.get(0).indexOf("top_c_hit_rate") < 0 ? -1 : List.of(csv.get(0).split(",")).indexOf("top_c_hit_rate");
        assertThat(topC).as("top_c_hit_rate column").isEqualTo(10);
        for (String row : csv.subList(1, csv.size())) {
            String cell = row.split(",", -1)[topC];
            if (row.contains(",loop,")) {
                assertThat(cell).as("a loop has no static bound: " + row).isEmpty();
            } else {
                assertThat(Double.parseDouble(cell)).as("top-C of an independent trace: " + row).isBetween(0.0, 1.0);
            }
        }
    }

    /**
     * The page stream the sending NIC's TLB saw in traffic, written with --record-trace and
     * replayed with --trace-file, gives every policy the hit rate its traffic run measured.
     */
    @Test
    void recordedTrafficReplaysToTheSameHitRateForEveryPolicy() throws IOException {
        Path trace = results.resolve("recorded.csv");
        String[] shape = {"--tlb-entries", "16", "--tlb-ways", "4", "--seed", "7"};
        String[] record = Stream.concat(Stream.of("pressure", "--distribution", "zipf:0.99", "--working-set", "64",
                "--accesses", "3000", "--record-trace", trace.toString(), "--results", results.resolve("traffic").toString()),
                Stream.of(shape)).toArray(String[]::new);
        assertThat(UnetmmCommand.execute(record)).isZero();
        assertThat(Files.readAllLines(trace)).hasSize(1 + 3000);
        String[] replay = Stream.concat(Stream.of("pressure", "--trace-file", trace.toString(), "--results",
                results.resolve("replay").toString()), Stream.of(shape)).toArray(String[]::new);
        assertThat(UnetmmCommand.execute(replay)).isZero();
        java.util.Map<String, String> traffic = hitRates(results.resolve("traffic"), "traffic");
        java.util.Map<String, String> replayed = hitRates(results.resolve("replay"), "replay");
        assertThat(traffic).hasSize(org.unetmm.tlb.ReplacementPolicy.values().length);
        assertThat(replayed).as("replayed vs recorded traffic, per policy").isEqualTo(traffic);
    }

    private static java.util.Map<String, String> hitRates(Path root, String mode) throws IOException {
        Path dir;
        try (Stream<Path> dirs = Files.list(root)) {
            dir = dirs.filter(Files::isDirectory).findFirst().orElseThrow();
        }
        java.util.Map<String, String> rates = new java.util.TreeMap<>();
        List<String> csv = Files.readAllLines(dir.resolve("pressure.csv"));
        for (String row : csv.subList(1, csv.size())) {
            String[] cells = row.split(",", -1);
            assertThat(cells[0]).isEqualTo(mode);
            rates.put(cells[3], cells[8]);
        }
        assertThat(Files.readString(dir.resolve("run.json"))).contains("\"topC\"", "\"points\"");
        return rates;
    }

    @Test
    void aMissingOrMalformedTraceFileExitsWithCode2() throws IOException {
        assertThat(UnetmmCommand.execute("pressure", "--trace-file", results.resolve("absent.txt").toString())).isEqualTo(2);
        Path bad = results.resolve("bad.txt");
        Files.writeString(bad, "12\nnot-a-page\n");
        assertThat(UnetmmCommand.execute("pressure", "--trace-file", bad.toString())).isEqualTo(2);
        Path good = results.resolve("good.txt");
        Files.writeString(good, "12\n13\n");
        assertThat(UnetmmCommand.execute("pressure", "--trace-file", good.toString(), "--working-set", "8"))
                .as("a replay takes no generator options").isEqualTo(2);
        assertThat(UnetmmCommand.execute("pressure", "--record-trace", good.toString(), "--working-set", "8,16"))
                .as("a recording has one trace").isEqualTo(2);
    }

    private static void checkRows(List<String> csv, String mode) {
        assertThat(csv.get(0)).isEqualTo(PressurePoint.csvHeader());
        assertThat(csv).hasSize(1 + 2 * org.unetmm.tlb.ReplacementPolicy.values().length * 3 * 2); // entries × policies × distributions × working sets
        int columns = csv.get(0).split(",", -1).length;
        for (String row : csv.subList(1, csv.size())) {
            String[] cells = row.split(",", -1);
            assertThat(cells).as(row).hasSize(columns);
            assertThat(cells[0]).isEqualTo(mode);
            double hit = Double.parseDouble(cells[8]);
            double opt = Double.parseDouble(cells[9]);
            assertThat(hit).as("policy hit rate ≤ OPT in " + row).isLessThanOrEqualTo(opt + 1e-9);
            assertThat(hit).isBetween(0.0, 1.0);
            assertThat(Long.parseLong(cells[17])).as("pinned peak in " + row).isPositive();
            assertThat(Long.parseLong(cells[18])).as("VmLck peak ≥ library's pinned peak in " + row)
                    .isGreaterThanOrEqualTo(Long.parseLong(cells[17]));
        }
    }
}
