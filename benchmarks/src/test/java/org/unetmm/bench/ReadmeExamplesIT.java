package org.unetmm.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * DESIGN invariant 7: every example in the README, and the key-value RPC example, runs with its
 * defaults for an ordinary user: uid 65534, CAP_IPC_LOCK dropped from every set, under the 8 MiB
 * RLIMIT_MEMLOCK of a default Linux account (prlimit, so the kernel enforces it). Each runs from
 * the packaged {@code unetmm.jar} (copied to a world-readable folder: uid 65534 cannot read the
 * build tree), as the README starts it, and must exit 0. Runs in the verify phase, after the jar
 * is packaged; needs root to drop to uid 65534, and is skipped, saying so, without it.
 */
@Timeout(900)
class ReadmeExamplesIT {
    private static final long MEMLOCK = 8L << 20;
    private static final int NOBODY = 65534;
    private static Path work;
    private static Path jar;

    @BeforeAll
    static void copyTheJarWhereAnOrdinaryUserCanReadIt() throws IOException {
        assumeTrue(uid() == 0, "running the examples as uid " + NOBODY + " needs root to drop to it; running as uid " + uid());
        assumeTrue(onPath("prlimit") != null && onPath("setpriv") != null, "prlimit and setpriv (util-linux) are not on the PATH");
        Path built = Path.of(System.getProperty("unetmm.jar", "target/unetmm.jar")).toAbsolutePath();
        assertThat(built).as("the shaded jar, packaged before the verify phase").isRegularFile();
        work = Files.createTempDirectory(Path.of("/tmp"), "unetmm-readme-");
        Files.setPosixFilePermissions(work, PosixFilePermissions.fromString("rwxrwxrwx")); // compare writes results/ here
        jar = Files.copy(built, work.resolve("unetmm.jar"), StandardCopyOption.REPLACE_EXISTING);
        Files.setPosixFilePermissions(jar, PosixFilePermissions.fromString("rw-r--r--"));
    }

    @AfterAll
    static void removeTheCopy() throws IOException {
        if (work != null) {
            try (Stream<Path> paths = Files.walk(work)) {
                for (Path path : paths.sorted(Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(path);
                }
            }
        }
    }

    @Test
    void theUsingItExampleRuns() throws Exception {
        String output = exitsZero(120, "-cp", jar.toString(), "org.unetmm.bench.examples.UsingIt");
        assertThat(output).contains("OK OK 4096");
    }

    @Test
    void theKeyValueDemoRunsOnTheLoopbackWire() throws Exception {
        String output = exitsZero(180, "-cp", jar.toString(), "org.unetmm.rpc.example.KeyValueExample", "demo", "--wire", "loopback");
        assertThat(output).contains("all values intact");
    }

    @Test
    void theKeyValueServerAndClientRunOverUdp() throws Exception {
        try (UnetmmProcess server = start(command("-cp", jar.toString(), "org.unetmm.rpc.example.KeyValueExample", "server",
                "--bind", "udp://127.0.0.1:0", "--duration", "300"))) {
            Matcher address = Pattern.compile("listening at (udp://\\S+/\\d+)").matcher(server.nextLine());
            assertThat(address.find()).as(server.output()).isTrue();
            String output = exitsZero(180, "-cp", jar.toString(), "org.unetmm.rpc.example.KeyValueExample", "client",
                    "--bind", "udp://127.0.0.1:0", "--server", address.group(1));
            assertThat(output).contains("all values intact");
            assertThat(server.isAlive()).as("the server still serving; its output:%n%s", server.output()).isTrue();
        }
    }

    @Test
    void compareQuickRunsBothPaths() throws Exception {
        String output = exitsZero(300, "-jar", jar.toString(), "compare", "--quick", "--no-aeron", "--format", "csv");
        assertThat(output).contains(",PINNED,", ",FIXED_SEGMENT,");
    }

    @Test
    void pressureQuickRuns() throws Exception {
        exitsZero(300, "-jar", jar.toString(), "pressure", "--quick");
    }

    @Test
    void echoAndPingpongRunOverUdp() throws Exception {
        String address = "udp://127.0.0.1:" + UnetmmProcess.freePort();
        try (UnetmmProcess echo = start(command("-jar", jar.toString(), "echo", "--listen", address, "--duration", "300"))) {
            assertThat(echo.nextLine()).as(echo.output()).startsWith("echo: listening on " + address);
            String output = exitsZero(180, "-jar", jar.toString(), "pingpong", "--to", address, "--count", "2000",
                    "--timeout-ms", "5000");
            assertThat(output).contains("(2000 round trips, 0 lost)");
            assertThat(echo.isAlive()).as("the echo still running; its output:%n%s", echo.output()).isTrue();
        }
    }

    @Test
    void sinkAndStreamRunOverUdp() throws Exception {
        String address = "udp://127.0.0.1:" + UnetmmProcess.freePort();
        try (UnetmmProcess sink = start(command("-jar", jar.toString(), "sink", "--listen", address, "--duration", "300"))) {
            assertThat(sink.nextLine()).as(sink.output()).startsWith("sink: listening on " + address);
            exitsZero(180, "-jar", jar.toString(), "stream", "--to", address, "--size", "64", "--duration", "2");
            assertThat(sink.isAlive()).as("the sink still running; its output:%n%s", sink.output()).isTrue();
        }
    }

    @Test
    void rpcServeAndBenchRunOverUdp() throws Exception {
        String address = "udp://127.0.0.1:" + UnetmmProcess.freePort();
        try (UnetmmProcess serve = start(command("-jar", jar.toString(), "rpc", "serve", "--listen", address,
                "--duration", "300"))) {
            assertThat(serve.nextLine()).as(serve.output()).startsWith("rpc serve: listening on " + address);
            String output = exitsZero(180, "-jar", jar.toString(), "rpc", "bench", "--to", address, "--size", "64",
                    "--inflight", "16", "--duration", "2");
            assertThat(output).containsPattern("rpc bench: summary  [1-9][0-9,]* calls").contains("failed 0");
            assertThat(serve.isAlive()).as("the server still serving; its output:%n%s", serve.output()).isTrue();
        }
    }

    /** Runs {@code java <args>} as the ordinary user; asserts it exits 0 within the time; returns its output. */
    private static String exitsZero(long timeoutSeconds, String... javaArgs) throws Exception {
        try (UnetmmProcess child = start(command(javaArgs))) {
            int code = child.exitCode(timeoutSeconds);
            assertThat(code).as("exit status of java %s as uid %d under RLIMIT_MEMLOCK %d; its output:%n%s",
                    String.join(" ", javaArgs), NOBODY, MEMLOCK, child.output()).isZero();
            return child.output();
        }
    }

    /** {@code java <args>} as uid 65534, no CAP_IPC_LOCK in any set, RLIMIT_MEMLOCK = 8 MiB (soft and hard). */
    private static List<String> command(String... javaArgs) {
        List<String> command = new ArrayList<>(List.of(onPath("prlimit"), "--memlock=" + MEMLOCK + ":" + MEMLOCK,
                onPath("setpriv"), "--reuid=" + NOBODY, "--regid=" + NOBODY, "--clear-groups",
                "--bounding-set=-ipc_lock", "--inh-caps=-ipc_lock",
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx256m", "-XX:+UseSerialGC", "-XX:-UsePerfData", "-Djava.awt.headless=true"));
        command.addAll(List.of(javaArgs));
        return command;
    }

    /** A child process in the work folder, its output (stdout and stderr) read as it comes; destroyed on close. */
    private static UnetmmProcess start(List<String> command) throws IOException {
        return UnetmmProcess.of(new ProcessBuilder(command).directory(work.toFile()).redirectInput(new File("/dev/null")));
    }

    private static int uid() throws IOException {
        Matcher m = Pattern.compile("Uid:\\s+(\\d+)").matcher(Files.readString(Path.of("/proc/self/status")));
        return m.find() ? Integer.parseInt(m.group(1)) : -1;
    }

    private static String onPath(String program) {
        for (String dir : System.getenv().getOrDefault("PATH", "/usr/sbin:/usr/bin:/sbin:/bin").split(File.pathSeparator)) {
            if (Files.isExecutable(Path.of(dir, program))) {
                return Path.of(dir, program).toString();
            }
        }
        return null;
    }
}
