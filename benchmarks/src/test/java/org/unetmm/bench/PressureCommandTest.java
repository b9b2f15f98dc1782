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
            assertThat(Long.parseLong(row.split(",", -1)[18])).as("lost messages in " + row).isBetween(0L, 1500L);
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
    }

    private static void checkRows(List<String> csv, String mode) {
        assertThat(csv.get(0)).isEqualTo(PressurePoint.csvHeader());
        assertThat(csv).hasSize(1 + 2 * 3 * 3 * 2); // entries × policies × distributions × working sets
        int columns = csv.get(0).split(",", -1).length;
        for (String row : csv.subList(1, csv.size())) {
            String[] cells = row.split(",", -1);
            assertThat(cells).as(row).hasSize(columns);
            assertThat(cells[0]).isEqualTo(mode);
            double hit = Double.parseDouble(cells[8]);
            double opt = Double.parseDouble(cells[9]);
            assertThat(hit).as("policy hit rate ≤ OPT in " + row).isLessThanOrEqualTo(opt + 1e-9);
            assertThat(hit).isBetween(0.0, 1.0);
            assertThat(Long.parseLong(cells[16])).as("pinned peak in " + row).isPositive();
            assertThat(Long.parseLong(cells[17])).as("VmLck peak ≥ library's pinned peak in " + row)
                    .isGreaterThanOrEqualTo(Long.parseLong(cells[16]));
        }
    }
}
