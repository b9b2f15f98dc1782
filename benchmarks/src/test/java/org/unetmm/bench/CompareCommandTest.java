package org.unetmm.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.time.Instant;
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
            "--repeats=0", "--spread-flag=0", "--spread-flag=-1", "--policy=FIFO", "--transport=tcp://127.0.0.1:1", "--no-such-option"})
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
                "--measure-ms", "30", "--repeats", "2", "--results", results.toString(), "--format", "csv");
        assertThat(run.exitCode()).as(run.err()).isZero();
        // NIO sends a message as one datagram: not at 64 KiB (65,536 > 65,467), and a note says so
        assertThat(run.err()).contains("[1/32]", "[32/32]", "note: NIO_DIRECT, NIO_HEAP left out at 64 KiB");
        Path dir;
        try (Stream<Path> dirs = Files.list(results)) {
            dir = dirs.findFirst().orElseThrow();
        }
        List<String> csv = Files.readAllLines(dir.resolve("compare.csv"));
        assertThat(run.out().strip().lines().toList()).isEqualTo(csv);
        assertThat(csv.get(0)).isEqualTo(ComparePoint.csvHeader()).contains(",latency,").endsWith(",flags");
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
        // the repeats interleave across the peers: every peer's first repeat before any second one
        JsonNode samples = new ObjectMapper().readTree(dir.resolve("compare.json").toFile()).get("samples");
        List<String> order = new java.util.ArrayList<>();
        samples.forEach(r -> {
            if (r.get("sizeBytes").asInt() == 64) {
                order.add(r.get("path").asText() + "#" + r.get("repeat").asInt());
            }
        });
        assertThat(order).containsExactly("MEMCPY#0", "PINNED#0", "FIXED_SEGMENT#0", "NIO_DIRECT#0", "NIO_HEAP#0", "AERON_UDP#0",
                "MEMCPY#1", "PINNED#1", "FIXED_SEGMENT#1", "NIO_DIRECT#1", "NIO_HEAP#1", "AERON_UDP#1");
        for (String row : csv.subList(1, csv.size())) {
            String[] cells = row.split(",", -1);
            assertThat(cells[13]).as("repeats in " + row).isEqualTo("2");
            String flags = cells[columns - 1];
            if (!flags.isEmpty()) {
                assertThat(flags.split(";")).as(row).isSubsetOf("above-limit", "spread", "loss", "stall");
            }
        }
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

    /**
     * Three repeats, interleaved: the record's measured points alternate MEMCPY, PINNED, FIXED_SEGMENT
     * per repeat (not three of one path, then three of the next); each point reports its median within
     * its min and max, its spread, and its flags; the JSON on stdout is compare.json, parsed by Jackson.
     */
    @Test
    void repeatsInterleaveAcrossThePathsAndEachPointReportsMedianMinAndMax() throws IOException {
        CommandRun run = CommandRun.of("compare", "--sizes", "64,4096", "--warmup-ms", "5", "--measure-ms", "20", "--repeats", "3",
                "--no-aeron", "--results", results.toString(), "--format", "json");
        assertThat(run.exitCode()).as(run.err()).isZero();
        JsonNode doc = new ObjectMapper().readTree(run.out());
        Path dir = onlyRunDirectory();
        assertThat(new ObjectMapper().readTree(dir.resolve("compare.json").toFile())).isEqualTo(doc);
        List<String> order = new java.util.ArrayList<>();
        doc.get("samples").forEach(r -> order.add(r.get("sizeBytes").asInt() + ":" + r.get("path").asText() + "#"
                + r.get("repeat").asInt()));
        assertThat(order).containsExactly(
                "64:MEMCPY#0", "64:PINNED#0", "64:FIXED_SEGMENT#0", "64:MEMCPY#1", "64:PINNED#1", "64:FIXED_SEGMENT#1",
                "64:MEMCPY#2", "64:PINNED#2", "64:FIXED_SEGMENT#2",
                "4096:MEMCPY#0", "4096:PINNED#0", "4096:FIXED_SEGMENT#0", "4096:MEMCPY#1", "4096:PINNED#1",
                "4096:FIXED_SEGMENT#1", "4096:MEMCPY#2", "4096:PINNED#2", "4096:FIXED_SEGMENT#2");
        Instant previous = Instant.MIN;
        for (JsonNode r : doc.get("samples")) {
            Instant at = Instant.parse(r.get("startedAt").asText());
            assertThat(at).as("samples in the order measured").isAfter(previous);
            previous = at;
        }
        JsonNode points = doc.get("points");
        assertThat(points).hasSize(6);
        for (JsonNode p : points) {
            assertThat(p.get("repeats").asInt()).isEqualTo(3);
            for (String spread : new String[] {"gbPerSecond", "ratioToMemcpy"}) {
                JsonNode s = p.get(spread);
                assertThat(s.get("min").asDouble()).as(spread + " of " + p).isPositive()
                        .isLessThanOrEqualTo(s.get("median").asDouble());
                assertThat(s.get("median").asDouble()).as(spread + " of " + p).isLessThanOrEqualTo(s.get("max").asDouble());
            }
            JsonNode gb = p.get("gbPerSecond");
            assertThat(p.get("spread").asDouble()).as("spread of " + p).isCloseTo(
                    (gb.get("max").asDouble() - gb.get("min").asDouble()) / gb.get("median").asDouble(),
                    org.assertj.core.data.Offset.offset(1e-9));
            assertThat(p.get("flags").isArray()).isTrue();
            if (p.get("path").asText().equals("MEMCPY")) {
                assertThat(p.get("tlbHitRate").isNull()).as("NaN is written as null").isTrue();
                assertThat(p.get("tlbHitRateWhyNull").asText()).contains("no TLB");
            }
        }
    }

    /** The CSV keeps today's columns in their places and adds the spread and a flags column after them. */
    @Test
    void csvKeepsTodaysColumnsAndAddsTheSpreadAndFlags() throws IOException {
        CommandRun run = CommandRun.of("compare", "--sizes", "4096", "--warmup-ms", "5", "--measure-ms", "20", "--repeats", "2",
                "--no-aeron", "--results", results.toString(), "--format", "csv", "--spread-flag", "1e-9");
        assertThat(run.exitCode()).as(run.err()).isZero();
        List<String> csv = Files.readAllLines(onlyRunDirectory().resolve("compare.csv"));
        assertThat(csv.get(0)).startsWith("transport,path,size_bytes,messages,seconds,msgs_per_s,gb_per_s,p50_ns,p99_ns,"
                + "tlb_hit_rate,pins_per_msg,ratio_to_memcpy,latency,").endsWith(",spread,flags");
        List<String> header = List.of(csv.get(0).split(","));
        for (String row : csv.subList(1, csv.size())) {
            String[] cells = row.split(",", -1);
            double median = Double.parseDouble(cells[header.indexOf("gb_per_s")]);
            assertThat(Double.parseDouble(cells[header.indexOf("gb_per_s_min")])).as(row).isLessThanOrEqualTo(median);
            assertThat(Double.parseDouble(cells[header.indexOf("gb_per_s_max")])).as(row).isGreaterThanOrEqualTo(median);
            // two timed repeats never agree to a billionth: every point is flagged at this threshold
            assertThat(cells[header.indexOf("flags")]).as(row).contains("spread");
        }
    }

    /** run.json is opened at the start: its startTime is before the first repeat, and it says who ran with what limits. */
    @Test
    void runRecordIsOpenedBeforeTheFirstPointAndSaysWhatLimitsTheProcessRanUnder() throws IOException {
        CommandRun run = CommandRun.of("compare", "--sizes", "64", "--warmup-ms", "5", "--measure-ms", "10", "--repeats", "2",
                "--no-aeron", "--results", results.toString(), "--format", "csv");
        assertThat(run.exitCode()).as(run.err()).isZero();
        Path dir = onlyRunDirectory();
        JsonNode record = new ObjectMapper().readTree(dir.resolve("run.json").toFile());
        JsonNode samples = new ObjectMapper().readTree(dir.resolve("compare.json").toFile()).get("samples");
        Instant start = Instant.parse(record.get("startTime").asText());
        assertThat(start).isBefore(Instant.parse(samples.get(0).get("startedAt").asText()));
        assertThat(Instant.parse(record.get("endTime").asText())).isAfter(
                Instant.parse(samples.get(samples.size() - 1).get("startedAt").asText()));
        JsonNode process = record.get("process");
        assertThat(process.get("uid").isIntegralNumber()).isTrue();
        assertThat(process.has("rlimitMemlockSoft") && process.has("rlimitMemlockHard")).isTrue();
        assertThat(process.get("capIpcLock").isBoolean()).isTrue();
        assertThat(record.get("loadAverageStart").asText()).matches("[0-9.]+ [0-9.]+ [0-9.]+ .*");
        assertThat(record.get("loadAverageEnd").asText()).matches("[0-9.]+ [0-9.]+ [0-9.]+ .*");
        assertThat(record.get("configuration").get("repeats").asInt()).isEqualTo(2);
        assertThat(record.get("repeatDurations")).as("3 paths × 2 repeats").hasSize(6);
        assertThat(record.get("gitCommit").asText()).matches("[0-9a-f]{40}(-dirty)?|" + java.util.regex.Pattern.quote(RunRecord.UNKNOWN_COMMIT));
    }

    @Test
    void anUnknownFormatIsRefusedNamingTableCsvAndJson() {
        for (String[] args : new String[][] {{"pressure", "--format", "xml"}, {"stream", "--to", "udp://127.0.0.1:9",
                "--format", "xml"}}) {
            CommandRun run = CommandRun.of(args);
            assertThat(run.exitCode()).as(args[0] + ": " + run.err()).isEqualTo(2);
            assertThat(run.err()).as(args[0]).contains("--format must be 'table', 'csv' or 'json', got 'xml'");
        }
    }

    private Path onlyRunDirectory() throws IOException {
        try (Stream<Path> dirs = Files.list(results)) {
            List<Path> all = dirs.toList();
            assertThat(all).hasSize(1);
            return all.get(0);
        }
    }
}
