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

/** The {@code unetmm compare} command as a user runs it: options, exit codes, the files it writes. */
@Timeout(120)
class CompareCommandTest {
    @TempDir
    Path results;

    @ParameterizedTest
    @ValueSource(strings = {"--sizes=-1", "--sizes=abc", "--buffers=0", "--format=xml", "--tlb-sets=3", "--tlb-ways=0",
            "--repeats=0", "--policy=FIFO", "--transport=tcp://127.0.0.1:1", "--no-such-option"})
    void badOptionsExitWithCode2AndSayWhatWasWrong(String option) {
        CommandRun run = CommandRun.of("compare", option);
        assertThat(run.exitCode()).as(run.err()).isEqualTo(2);
        assertThat(run.err()).isNotBlank();
    }

    @ParameterizedTest
    @ValueSource(strings = {"udp://bad|udp://host:port", "udp://127.0.0.1|udp://host:port", "udp://127.0.0.1:70000|0..65535",
            "udp://127.0.0.1:0?window=3|known keys", "udp://0.0.0.0:0|udp://127.0.0.1:0",
            "udp://192.0.2.1:0|not an address of this host", "udp://no-such-host.invalid:0|127.0.0.1"})
    void aBadUdpTransportExitsWithCode2AndNamesTheFix(String uriAndFix) {
        String[] parts = uriAndFix.split("\\|");
        CommandRun run = CommandRun.of("compare", "--transport", parts[0]);
        assertThat(run.exitCode()).as(run.err()).isEqualTo(2);
        assertThat(run.err()).contains("--transport", parts[1]);
    }

    /** The loopback compare writes the NIC TLB's page stream: every send buffer's pages are in it, readable back. */
    @Test
    void recordTraceWritesThePagesTheTlbLookedUp() {
        Path trace = results.resolve("compare.trace");
        CommandRun run = CommandRun.of("compare", "--sizes", "4096", "--buffers", "8", "--warmup-ms", "5", "--measure-ms", "20",
                "--repeats", "1", "--no-aeron", "--record-trace", trace.toString(), "--record-limit", "100000",
                "--results", results.toString());
        assertThat(run.exitCode()).as(run.err()).isZero();
        assertThat(run.out()).contains("note: recorded the first");
        org.unetmm.tlb.trace.PageTrace recorded = org.unetmm.tlb.trace.TraceFile.read(trace);
        assertThat(recorded.length()).isPositive();
        assertThat(recorded.distinctPages()).as("8 page-sized send buffers, and the receive buffer").isGreaterThanOrEqualTo(8);
        CommandRun udp = CommandRun.of("compare", "--transport", "udp://127.0.0.1:0", "--record-trace", trace.toString());
        assertThat(udp.exitCode()).isEqualTo(2);
        assertThat(udp.err()).contains("--record-trace records the loopback compare only");
    }

    @Test
    void udpSizesMustBeOneByteToFourMiB() {
        for (String size : new String[] {"0", "4194305"}) {
            CommandRun run = CommandRun.of("compare", "--transport", "udp://127.0.0.1:0", "--sizes", size);
            assertThat(run.exitCode()).as(run.err()).isEqualTo(2);
            assertThat(run.err()).contains("1..4194304");
        }
    }

    @Test
    void quickUdpSweepMeasuresEveryPeerThatFitsAndHalvesTheRoundTrip() throws IOException {
        CommandRun run = CommandRun.of("compare", "--transport", "udp://127.0.0.1:0", "--sizes", "64,4096,65536", "--warmup-ms", "10",
                "--measure-ms", "30", "--repeats", "1", "--results", results.toString(), "--format", "csv");
        assertThat(run.exitCode()).as(run.err()).isZero();
        // NIO sends a message as one datagram: not at 64 KiB (65,536 > 65,467), and a note says so
        assertThat(run.err()).contains("[1/16]", "[16/16]", "note: NIO_DIRECT, NIO_HEAP left out at 64 KiB");
        Path dir;
        try (Stream<Path> dirs = Files.list(results)) {
            dir = dirs.findFirst().orElseThrow();
        }
        List<String> csv = Files.readAllLines(dir.resolve("compare.csv"));
        assertThat(run.out().strip().lines().toList()).isEqualTo(csv);
        assertThat(csv.get(0)).isEqualTo(ComparePoint.csvHeader()).endsWith(",latency");
        int columns = csv.get(0).split(",", -1).length;
        List<String> paths = List.of("MEMCPY", "PINNED", "FIXED_SEGMENT", "NIO_DIRECT", "NIO_HEAP", "AERON_UDP");
        long delivered = 0;
        for (String row : csv.subList(1, csv.size())) {
            String[] cells = row.split(",", -1);
            assertThat(cells).as(row).hasSize(columns);
            assertThat(cells[0]).isEqualTo("udp://127.0.0.1:0");
            assertThat(cells[1]).isIn(paths);
            assertThat(cells[12]).as("latency in " + row).isEqualTo(cells[1].equals("MEMCPY") ? "one-way" : "rtt/2");
            assertThat(Long.parseLong(cells[3])).as("messages in " + row).isNotNegative();
            assertThat(Double.parseDouble(cells[4])).as("seconds in " + row).isPositive();
            assertThat(Long.parseLong(cells[7])).as("p50 in " + row).isNotNegative();
            if (cells[1].equals("PINNED") || cells[1].equals("FIXED_SEGMENT")) {
                assertThat(Double.parseDouble(cells[9])).as("TLB hit rate in " + row).isBetween(0.0, 1.0);
            } else {
                assertThat(cells[9]).as("no TLB in " + row).isEmpty();
            }
            delivered += cells[1].equals("MEMCPY") ? 0 : Long.parseLong(cells[3]);
        }
        assertThat(delivered).as("messages delivered over udp").isPositive();
        List<String> expected = List.of("64:MEMCPY", "64:PINNED", "64:FIXED_SEGMENT", "64:NIO_DIRECT", "64:NIO_HEAP",
                "64:AERON_UDP", "4096:MEMCPY", "4096:PINNED", "4096:FIXED_SEGMENT", "4096:NIO_DIRECT", "4096:NIO_HEAP",
                "4096:AERON_UDP", "65536:MEMCPY", "65536:PINNED", "65536:FIXED_SEGMENT", "65536:AERON_UDP");
        assertThat(csv.subList(1, csv.size()).stream().map(r -> r.split(",")[2] + ":" + r.split(",")[1]).toList())
                .isEqualTo(expected);
        assertThat(Files.size(dir.resolve("compare.png"))).isGreaterThan(1000);
        assertThat(Files.readString(dir.resolve("run.json"))).contains("\"transport\": \"udp://127.0.0.1:0\"",
                "\"latency\": \"rtt/2", "left out at 64 KiB");
    }

    @Test
    void quickSweepWritesWellFormedCsvPlotAndRunRecord() throws IOException {
        CommandRun run = CommandRun.of("compare", "--sizes", "64,4096,65536", "--warmup-ms", "10", "--measure-ms", "30", "--repeats", "1",
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
            assertThat(cells[12]).as("loopback latency is one-way in " + row).isEqualTo("one-way");
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
