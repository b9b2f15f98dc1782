package org.unetmm.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@code unetmm echo}, {@code unetmm pingpong} and {@code unetmm pingpong compare} as a user runs
 * them: the echo in a JVM of its own (destroyed at the end), the client here.
 */
@Timeout(120)
class EchoPingPongCommandTest {
    @TempDir
    Path results;

    private static int freePort() throws IOException {
        try (DatagramSocket probe = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))) {
            return probe.getLocalPort();
        }
    }

    @Test
    void pingpongAgainstAnEchoInAnotherJvmReportsRttOnBothPaths() throws Exception {
        String address = "udp://127.0.0.1:" + freePort();
        Process echo = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-XX:+UseSerialGC", "-cp", System.getProperty("java.class.path"), UnetmmCommand.class.getName(),
                "echo", "--listen", address, "--duration", "60").redirectErrorStream(true).start();
        try {
            BufferedReader lines = new BufferedReader(new InputStreamReader(echo.getInputStream(), StandardCharsets.UTF_8));
            String first = lines.readLine();
            assertThat(first).as("the echo's first line").startsWith("echo: listening on " + address + "/1");
            for (String path : new String[] {"pinned", "fixed"}) {
                CommandRun run = CommandRun.of("pingpong", "--to", address, "--size", "1000", "--count", "3000", "--path", path);
                assertThat(run.exitCode()).as(run.err() + run.out()).isZero();
                assertThat(run.out()).contains("RTT us: p50", "p99.9", "(3000 round trips, 0 lost)", "round trips/s");
            }
            String summary = lines.readLine();
            assertThat(summary).as("a summary line each second").startsWith("echo " + address + ":").contains("drops:");
        } finally {
            echo.destroyForcibly();
            echo.waitFor(10, TimeUnit.SECONDS);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"pingpong", "pingpong --to udp://127.0.0.1:7 --path slow", "pingpong --to udp://127.0.0.1:7 --count 0",
            "echo", "echo --listen udp://127.0.0.1:0 --buffers 0", "pingpong compare --stream-size 70000",
            "pingpong compare --aeron-idle nap"})
    void badOptionsExitWithCode2AndSayWhatWasWrong(String command) {
        CommandRun run = CommandRun.of(command.split(" "));
        assertThat(run.exitCode()).as(run.err()).isEqualTo(2);
        assertThat(run.err()).isNotBlank();
    }

    @Test
    void compareRunsEveryPeerSideBySideAndWritesItsCsv() throws IOException {
        CommandRun run = CommandRun.of("pingpong", "compare", "--rounds", "1", "--count", "300", "--warmup", "100", "--stream-ms", "50",
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
