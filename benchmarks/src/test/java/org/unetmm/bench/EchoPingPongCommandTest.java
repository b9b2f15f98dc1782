package org.unetmm.bench;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@code unetmm echo}, {@code unetmm pingpong} and {@code unetmm pingpong compare} as a user runs
 * them: the echo (and a second client, where one is needed) in a JVM of its own, destroyed at the
 * end, the client under test here.
 */
@Timeout(120)
class EchoPingPongCommandTest {
    private static final int MIB = 1 << 20;

    @TempDir
    Path results;

    /** Starts an echo on a free port and waits for its first line; returns it and its address. */
    private static UnetmmProcess echo(String address, String... options) throws IOException {
        String[] args = Stream.concat(Stream.of("echo", "--listen", address, "--duration", "100"), Stream.of(options))
                .toArray(String[]::new);
        UnetmmProcess echo = UnetmmProcess.start(args);
        assertThat(echo.nextLine()).as("the echo's first line").startsWith("echo: listening on " + address + "/1");
        return echo;
    }

    private static String freeAddress() throws IOException {
        return "udp://127.0.0.1:" + UnetmmProcess.freePort();
    }

    @Test
    void pingpongAgainstAnEchoInAnotherJvmReportsRttOnBothPaths() throws Exception {
        String address = freeAddress();
        try (UnetmmProcess echo = echo(address)) {
            for (String path : new String[] {"pinned", "fixed"}) {
                CommandRun run = CommandRun.of("pingpong", "--to", address, "--size", "1000", "--count", "3000", "--path", path,
                        "--timeout-ms", "5000", "--results", results.toString());
                assertThat(run.exitCode()).as(run.err() + run.out()).isZero();
                assertThat(run.out()).contains("RTT us: p50", "p99.9", "(3000 round trips, 0 lost)", "round trips/s");
            }
            String summary = echo.nextLine();
            assertThat(summary).as("a summary line each second").startsWith("echo " + address + ":").contains("drops:");
        }
    }

    /**
     * Over the shm wire a reply's send completes only when the client has read it (the rendezvous),
     * so the echo's buffer stays the NIC's that long: with one buffer for large messages the next
     * ping found none and every round trip after the first few was lost.
     */
    @Test
    void largeMessagesOverShmEchoWithoutLossWhileRepliesAreStillBeingRead() throws Exception {
        String name = "echo-" + ProcessHandle.current().pid() + "-" + System.nanoTime();
        String address = "shm:" + name;
        try (UnetmmProcess echo = echo(address)) {
            CommandRun run = CommandRun.of("pingpong", "--to", address, "--size", "1000000", "--count", "300",
                    "--timeout-ms", "5000", "--results", results.toString());
            assertThat(run.exitCode()).as(run.err() + run.out()).isZero();
            assertThat(run.out()).contains("(300 round trips, 0 lost)");
        } finally {
            removeShmFiles(name);
        }
    }

    /** The echo is killed, not closed: remove its home and regions under /dev/shm, as a later NIC would. */
    private static void removeShmFiles(String name) throws IOException {
        try (java.util.stream.Stream<Path> files = java.nio.file.Files.list(Path.of("/dev/shm"))) {
            for (Path f : files.filter(f -> f.getFileName().toString().startsWith("unetmm-" + name)).toList()) {
                java.nio.file.Files.deleteIfExists(f);
            }
        }
    }

    /**
     * {@code --path both --repeats 2 --format json}: four measurements in one session, pinned fixed
     * pinned fixed; each path's RTT p50 and rate are the median of its two repeats, inside their
     * min and max, the ratio is pinned ÷ fixed per repeat pair, and run.json records the repeats and
     * when each ran. {@code --format csv}: a header and a row per path with the spread beside each figure.
     */
    @Test
    void repeatsAlternateThePathsAndReportEachPathsMedianWithinItsMinAndMax() throws Exception {
        String address = freeAddress();
        try (UnetmmProcess echo = echo(address)) {
            CommandRun run = CommandRun.of("pingpong", "--to", address, "--size", "64", "--count", "200", "--warmup", "20",
                    "--path", "both", "--repeats", "2", "--timeout-ms", "5000", "--format", "json",
                    "--results", results.resolve("json").toString());
            assertThat(run.exitCode()).as(run.err() + run.out()).isZero();
            JsonNode doc = RunRecord.JSON.readTree(run.out());
            assertThat(doc.get("repeats").asInt()).isEqualTo(2);
            JsonNode samples = doc.get("samples");
            assertThat(samples).hasSize(4);
            String[] order = {"pinned", "fixed", "pinned", "fixed"};
            for (int i = 0; i < 4; i++) {
                JsonNode sample = samples.get(i);
                assertThat(sample.get("path").asText()).as("measurement %d", i).isEqualTo(order[i]);
                assertThat(sample.get("repeat").asInt()).isEqualTo(i / 2);
                assertThat(sample.get("roundTrips").asLong()).isEqualTo(200);
                assertThat(sample.get("lost").asLong()).isZero();
                assertThat(sample.at("/rttMicros/p50").asDouble()).isPositive()
                        .isLessThanOrEqualTo(sample.at("/rttMicros/p99").asDouble());
            }
            assertThat(doc.get("paths")).hasSize(2);
            for (JsonNode p : doc.get("paths")) {
                assertThat(p.get("repeats").asInt()).isEqualTo(2);
                assertThat(p.get("roundTrips").asLong()).isEqualTo(400);
                assertThat(p.get("flags").isArray()).isTrue();
                for (String figure : new String[] {"/rttMicros/p50", "/rttMicros/p99", "/roundTripsPerSecond"}) {
                    JsonNode f = p.at(figure);
                    assertThat(f.get("median").asDouble()).as(p.get("path") + figure)
                            .isBetween(f.get("min").asDouble(), f.get("max").asDouble());
                }
                double[] p50s = java.util.stream.IntStream.range(0, 4).mapToObj(samples::get)
                        .filter(x -> x.get("path").equals(p.get("path"))).mapToDouble(x -> x.at("/rttMicros/p50").asDouble())
                        .sorted().toArray();
                assertThat(p.at("/rttMicros/p50/min").asDouble()).isEqualTo(p50s[0]);
                assertThat(p.at("/rttMicros/p50/max").asDouble()).isEqualTo(p50s[1]);
            }
            double r0 = samples.get(0).at("/rttMicros/p50").asDouble() / samples.get(1).at("/rttMicros/p50").asDouble();
            double r1 = samples.get(2).at("/rttMicros/p50").asDouble() / samples.get(3).at("/rttMicros/p50").asDouble();
            assertThat(doc.at("/pinnedToFixedRttP50/min").asDouble()).isEqualTo(Math.min(r0, r1));
            assertThat(doc.at("/pinnedToFixedRttP50/max").asDouble()).isEqualTo(Math.max(r0, r1));
            assertThat(doc.at("/run/configuration/repeats").asInt()).isEqualTo(2);
            assertThat(doc.at("/run/repeatsMeasured").asInt()).isEqualTo(4);
            Path dir;
            try (Stream<Path> dirs = Files.list(results.resolve("json"))) {
                dir = dirs.filter(Files::isDirectory).findFirst().orElseThrow();
            }
            JsonNode record = RunRecord.JSON.readTree(dir.resolve("run.json").toFile());
            assertThat(record.get("repeatDurations")).hasSize(4);
            assertThat(record.at("/repeatDurations/3/seconds").asDouble()).isPositive();
            assertThat(RunRecord.JSON.readTree(dir.resolve("pingpong.json").toFile()).get("samples")).hasSize(4);

            CommandRun csv = CommandRun.of("pingpong", "--to", address, "--count", "100", "--warmup", "10", "--repeats", "2",
                    "--timeout-ms", "5000", "--format", "csv", "--results", results.resolve("csv").toString());
            assertThat(csv.exitCode()).as(csv.err() + csv.out()).isZero();
            List<String> lines = csv.out().lines().toList();
            assertThat(lines).hasSize(2);
            assertThat(lines.get(0)).startsWith("path,size_bytes,repeats,round_trips,lost,p50_us,p50_us_min,p50_us_max,")
                    .endsWith(",spread,flags");
            assertThat(lines.get(1)).startsWith("pinned,64,2,200,0,");
            assertThat(lines.get(1).split(",", -1)).hasSameSizeAs(lines.get(0).split(","));
            assertThat(csv.err()).contains("pingpong: repeat 2/2 pinned RTT us p50");
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"--repeats 0", "--format xml"})
    void pingpongRefusesZeroRepeatsAndAnUnknownFormatInOneLine(String option) {
        String[] args = ("pingpong --to udp://127.0.0.1:7 " + option).split(" ");
        CommandRun run = CommandRun.of(args);
        assertThat(run.exitCode()).as(run.err()).isEqualTo(2);
        assertThat(run.err().lines().findFirst().orElseThrow()).isEqualTo(option.startsWith("--repeats")
                ? "unetmm pingpong: --repeats: 0 is out of range: 1..1000"
                : "unetmm pingpong: --format must be 'table', 'csv' or 'json', got 'xml'");
    }

    @Test
    void pingpongStopsAfterItsGiveUpCountOfLossesInARowWhenTheEchoDies() throws Exception {
        String address = freeAddress();
        try (UnetmmProcess echo = echo(address);
             UnetmmProcess client = UnetmmProcess.start("pingpong", "--results", results.toString(),
                     "--to", address, "--count", "100000000", "--warmup", "0",
                     "--timeout-ms", "200", "--give-up-after", "3")) {
            client.lineStartingWith("pingpong: ");
            echo.kill();
            assertThat(client.exitCode(60)).as(client.output()).isEqualTo(1);
            assertThat(client.output()).contains("RTT us:", "3 round trips in a row were lost (--give-up-after 3",
                    "still running?");
        }
    }

    @Test
    void pingpongOverShmStopsWhenTheWireGivesAKilledEchoUpNotAfterItsLossCount() throws Exception {
        String name = "echo-" + ProcessHandle.current().pid() + "-" + System.nanoTime();
        String address = "shm:" + name;
        try (UnetmmProcess echo = echo(address);
             UnetmmProcess client = UnetmmProcess.start("pingpong", "--results", results.toString(),
                     "--to", address, "--count", "100000000", "--warmup", "0",
                     "--timeout-ms", "1000", "--give-up-after", "120")) {
            client.lineStartingWith("pingpong: ");
            echo.kill(); // SIGKILL: its heartbeat stops; the wire gives it up after its timeout (5 s)
            assertThat(client.exitCode(60)).as(client.output()).isEqualTo(1);
            assertThat(client.output()).contains("RTT us:", "is unreachable", "PEER_UNREACHABLE")
                    .doesNotContain("round trips in a row were lost");
        } finally {
            removeShmFiles(name);
        }
    }

    @Test
    void pingpongRefusesASizeAboveTheEchosMaxMessageBeforeSendingAny() throws Exception {
        String address = freeAddress();
        try (UnetmmProcess echo = echo(address, "--max-message", "4096")) {
            CommandRun run = CommandRun.of("pingpong", "--to", address, "--size", "5000", "--count", "100000000",
                    "--results", results.toString());
            assertThat(run.exitCode()).as(run.err() + run.out()).isEqualTo(2);
            assertThat(run.err()).contains("--size 5000 is larger than the echo's largest message, 4096 B", "--max-message 5000");
            assertThat(run.out()).doesNotContain("RTT us");
        }
    }

    @Test
    void aClientEvictedByTheEchosSessionLimitIsToldAndExitsNonZero() throws Exception {
        String address = freeAddress();
        try (UnetmmProcess echo = echo(address, "--sessions", "1");
             UnetmmProcess first = UnetmmProcess.start("pingpong", "--results", results.toString(),
                     "--to", address, "--count", "100000000", "--warmup", "0",
                     "--timeout-ms", "2000")) {
            first.lineStartingWith("pingpong: ");
            CommandRun second = CommandRun.of("pingpong", "--to", address, "--count", "200", "--timeout-ms", "5000",
                    "--results", results.toString());
            assertThat(second.exitCode()).as(second.err() + second.out()).isZero();
            assertThat(first.exitCode(60)).as(first.output()).isEqualTo(1);
            assertThat(first.output()).contains("the echo ended the session: evicted", "--sessions");
        }
    }

    @Test
    void echoTakesA4MiBMessageByDefaultWithoutPinning4MiBPerPostedBuffer() throws Exception {
        String address = freeAddress();
        try (UnetmmProcess echo = echo(address)) {
            try (UnetmmProcess small = UnetmmProcess.start("pingpong", "--results", results.toString(),
                    "--to", address, "--count", "100000000", "--size", "64")) {
                small.lineStartingWith("pingpong: ");
                assertThat(echo.lockedBytes()).as("echo's VmLck with one 64 B session (buffers posted)").isLessThan(MIB);
            }
            try (UnetmmProcess large = UnetmmProcess.start("pingpong", "--results", results.toString(),
                    "--to", address, "--count", "4", "--warmup", "0", "--size", Integer.toString(4 * MIB),
                    "--timeout-ms", "10000")) {
                large.lineStartingWith("pingpong: ");
                // posting translates (pins) only each buffer's share of the TLB ahead; the rest is pinned as a
                // message arrives: never 16 posted 4 MiB buffers' worth
                assertThat(echo.lockedBytes()).as("echo's VmLck with a 4 MiB session: at most one 4 MiB buffer's pages")
                        .isLessThanOrEqualTo(6L * MIB);
                large.exitCode(100);
                Matcher done = Pattern.compile("\\((\\d+) round trips, (\\d+) lost\\)").matcher(large.output());
                assertThat(done.find()).as(large.output()).isTrue();
                // UDP may drop a datagram of 4 MiB's 65 under load, and the run says so; but messages do come back whole
                assertThat(Integer.parseInt(done.group(1))).as(large.output()).isPositive();
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"pingpong", "pingpong --to udp://127.0.0.1:7 --path slow", "pingpong --to udp://127.0.0.1:7 --count 0",
            "pingpong --to udp://127.0.0.1:7 --give-up-after 0", "echo", "echo --listen udp://127.0.0.1:0 --buffers 0",
            "pingpong compare --stream-size 70000", "pingpong compare --aeron-idle nap"})
    void badOptionsExitWithCode2AndSayWhatWasWrong(String command) {
        CommandRun run = CommandRun.of(command.split(" "));
        assertThat(run.exitCode()).as(run.err()).isEqualTo(2);
        assertThat(run.err()).isNotBlank();
    }

    @Test
    void compareRunsEveryPeerSideBySideAndWritesItsCsv() throws IOException {
        CommandRun run = CommandRun.of("pingpong", "compare", "--repeats", "1", "--count", "300", "--warmup", "100", "--stream-ms", "50",
                "--results", results.toString());
        assertThat(run.exitCode()).as(run.err()).isZero();
        assertThat(run.out()).contains("unetmm pinned", "unetmm fixed", "NIO direct", "NIO heap", "Aeron UDP", "÷NIO-heap");
        Path dir;
        try (Stream<Path> dirs = Files.list(results)) {
            dir = dirs.findFirst().orElseThrow();
        }
        List<String> csv = Files.readAllLines(dir.resolve("udp-compare.csv"));
        assertThat(csv).hasSize(6);
        assertThat(csv.get(0)).startsWith("peer,rtt64_p50_us");
        assertThat(Files.readString(dir.resolve("run.json"))).contains("pingpong compare");
    }
}
