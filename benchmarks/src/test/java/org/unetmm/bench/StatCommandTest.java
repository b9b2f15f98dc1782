package org.unetmm.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** {@code unetmm stat --pid} reads a running echo's NIC counters from another process. */
@Timeout(90)
class StatCommandTest {
    private static final Pattern LISTENING = Pattern.compile("^echo: listening on (udp://[0-9.]+:[0-9]+)/1");

    @Test
    void statPrintsARunningEchosNicOnceAnInterval() throws Exception {
        Process echo = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-XX:+UseSerialGC", "-cp", System.getProperty("java.class.path"), UnetmmCommand.class.getName(),
                "echo", "--listen", "udp://127.0.0.1:0", "--duration", "60").redirectErrorStream(true).start();
        try {
            BufferedReader in = new BufferedReader(new InputStreamReader(echo.getInputStream(), StandardCharsets.UTF_8));
            String first = in.readLine();
            Matcher listening = first == null ? null : LISTENING.matcher(first);
            assertThat(listening != null && listening.find()).as("the echo's first line: " + first).isTrue();
            CommandRun run = CommandRun.of("stat", "--pid", Long.toString(echo.pid()), "--count", "2", "--interval-ms", "200");
            assertThat(run.exitCode()).as(run.err()).isZero();
            String[] lines = run.out().strip().split("\\R");
            assertThat(lines).as(run.out()).hasSize(3); // the heading, then one line per interval for its one NIC
            assertThat(lines[0]).contains("sent msg/s", "pinned KiB");
            assertThat(lines[1]).contains(listening.group(1));
            assertThat(lines[2]).contains(listening.group(1));
        } finally {
            echo.destroy();
            echo.waitFor(10, TimeUnit.SECONDS);
        }
    }

    @Test
    void aNegativeCountIsRefusedBeforeAttachingToAnything() {
        CommandRun run = CommandRun.of("stat", "--pid", "1", "--count", "-1");
        assertThat(run.exitCode()).isNotZero();
        assertThat(run.err()).contains("--count must be 0").doesNotContain("cannot attach");
    }

    @Test
    void statOfAProcessThatIsNoJvmFailsInOneLineThatSaysWhy() {
        CommandRun run = CommandRun.of("stat", "--pid", "1");
        assertThat(run.exitCode()).isEqualTo(UnetmmCommand.FAILED);
        assertThat(run.err().strip()).startsWith("unetmm stat: cannot attach to process 1").doesNotContain("\n");
    }
}
