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
            "--working-set=0", "--accesses=0", "--policy=MRU", "--format=json", "--memlock=10"})
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
        assertThat(csv.subList(1, csv.size())).allSatisfy(row -> assertThat(row).as("nothing lost on loopback").endsWith(",0"));
    }

    @Test
    void udpTrafficSweepHasARowPerPointAndNoPolicyBeatsOpt() throws IOException {
        List<String> csv = sweep("--transport", "udp://127.0.0.1:0");
        checkRows(csv, "traffic");
        for (String row : csv.subList(1, csv.size())) {
            assertThat(Long.parseLong(row.split(",", -1)[19])).as("lost messages in " + row).isBetween(0L, 1500L);
        }
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
