package org.unetmm.bench;

import static org.assertj.core.api.Assertions.assertThat;

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
                        "--timeout-ms", "5000");
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
                    "--timeout-ms", "5000");
            assertThat(run.exitCode()).as(run.err() + run.out()).isZero();
            assertThat(run.out()).contains("(300 round trips, 0 lost)");
        } finally {
            // the echo is killed, not closed: remove its home and regions under /dev/shm, as a later NIC would
            try (java.util.stream.Stream<Path> files = java.nio.file.Files.list(Path.of("/dev/shm"))) {
                for (Path f : files.filter(f -> f.getFileName().toString().startsWith("unetmm-" + name)).toList()) {
                    java.nio.file.Files.deleteIfExists(f);
                }
            }
        }
    }

    @Test
    void pingpongStopsAfterItsGiveUpCountOfLossesInARowWhenTheEchoDies() throws Exception {
        String address = freeAddress();
        try (UnetmmProcess echo = echo(address);
             UnetmmProcess client = UnetmmProcess.start("pingpong", "--to", address, "--count", "100000000", "--warmup", "0",
                     "--timeout-ms", "200", "--give-up-after", "3")) {
            client.lineStartingWith("pingpong: ");
            echo.kill();
            assertThat(client.exitCode(60)).as(client.output()).isEqualTo(1);
            assertThat(client.output()).contains("RTT us:", "3 round trips in a row were lost (--give-up-after 3",
                    "still running?");
        }
    }

    @Test
    void pingpongRefusesASizeAboveTheEchosMaxMessageBeforeSendingAny() throws Exception {
        String address = freeAddress();
        try (UnetmmProcess echo = echo(address, "--max-message", "4096")) {
            CommandRun run = CommandRun.of("pingpong", "--to", address, "--size", "5000", "--count", "100000000");
            assertThat(run.exitCode()).as(run.err() + run.out()).isEqualTo(2);
            assertThat(run.err()).contains("--size 5000 is larger than the echo's largest message, 4096 B", "--max-message 5000");
            assertThat(run.out()).doesNotContain("RTT us");
        }
    }

    @Test
    void aClientEvictedByTheEchosSessionLimitIsToldAndExitsNonZero() throws Exception {
        String address = freeAddress();
        try (UnetmmProcess echo = echo(address, "--sessions", "1");
             UnetmmProcess first = UnetmmProcess.start("pingpong", "--to", address, "--count", "100000000", "--warmup", "0",
                     "--timeout-ms", "2000")) {
            first.lineStartingWith("pingpong: ");
            CommandRun second = CommandRun.of("pingpong", "--to", address, "--count", "200", "--timeout-ms", "5000");
            assertThat(second.exitCode()).as(second.err() + second.out()).isZero();
            assertThat(first.exitCode(60)).as(first.output()).isEqualTo(1);
            assertThat(first.output()).contains("the echo ended the session: evicted", "--sessions");
        }
    }

    @Test
    void echoTakesA4MiBMessageByDefaultWithoutPinning4MiBPerPostedBuffer() throws Exception {
        String address = freeAddress();
        try (UnetmmProcess echo = echo(address)) {
            try (UnetmmProcess small = UnetmmProcess.start("pingpong", "--to", address, "--count", "100000000", "--size", "64")) {
                small.lineStartingWith("pingpong: ");
                assertThat(echo.lockedBytes()).as("echo's VmLck with one 64 B session (buffers posted)").isLessThan(MIB);
            }
            try (UnetmmProcess large = UnetmmProcess.start("pingpong", "--to", address, "--count", "4", "--warmup", "0",
                    "--size", Integer.toString(4 * MIB), "--timeout-ms", "10000")) {
                large.lineStartingWith("pingpong: ");
                assertThat(echo.lockedBytes()).as("echo's VmLck with a 4 MiB session: one 4 MiB buffer posted, not 16")
                        .isBetween(4L * MIB, 6L * MIB);
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
