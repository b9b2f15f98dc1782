package org.unetmm.rpc.example;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** {@code KeyValueExample} as its README section runs it: exit status, what it says, how long the server lives. */
@Timeout(90)
class KeyValueExampleCommandLineTest {
    /** A run in this JVM: exit status and stderr. */
    private record Run(int exitCode, String err) {
        static Run of(String... args) {
            PrintStream err = System.err;
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            try {
                System.setErr(new PrintStream(bytes, true, StandardCharsets.UTF_8));
                return new Run(KeyValueExample.run(args), bytes.toString(StandardCharsets.UTF_8));
            } finally {
                System.setErr(err);
            }
        }
    }

    @Test
    void aValueLargerThanTheServerTakesIsOneClearLineNamingMaxMessage() {
        Run tooLarge = Run.of("demo", "--size", "65536", "--keys", "3");
        assertThat(tooLarge.exitCode()).as(tooLarge.err()).isEqualTo(1);
        assertThat(tooLarge.err().lines()).as(tooLarge.err()).hasSize(1).first().asString()
                .contains("REQUEST_TOO_LARGE", "--max-message " + (65536 + KeyValueExample.PUT_OVERHEAD), "--size");
        Run raised = Run.of("demo", "--size", "65536", "--keys", "3", "--max-message", "70000");
        assertThat(raised.exitCode()).as("with the limit the error named: " + raised.err()).isZero();
    }

    @Test
    void badOptionsExitWithCode2() {
        for (String[] args : new String[][] {{}, {"serve"}, {"demo", "--size", "lots"}, {"client", "--bind", "udp://127.0.0.1:0"}}) {
            Run run = Run.of(args);
            assertThat(run.exitCode()).as(String.join(" ", args) + ": " + run.err()).isEqualTo(2);
            assertThat(run.err()).contains("Usage: KeyValueExample");
            assertThat(run.err().lines().findFirst().orElse("")).as("what was wrong comes first").doesNotStartWith("Usage");
        }
    }

    @Test
    void theServerKeepsServingWithStandardInputAtEndOfFileUntilItsDuration() throws Exception {
        Process server = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-XX:+UseSerialGC", "-cp", System.getProperty("java.class.path"), KeyValueExample.class.getName(),
                "server", "--bind", "udp://127.0.0.1:0", "--duration", "20")
                .redirectInput(new File("/dev/null")).redirectErrorStream(true).start();
        try {
            BufferedReader lines = new BufferedReader(new InputStreamReader(server.getInputStream(), StandardCharsets.UTF_8));
            String first = lines.readLine();
            Matcher address = Pattern.compile("listening at (udp://\\S+/\\d+(?:#[0-9a-f]+)?),").matcher(String.valueOf(first));
            assertThat(address.find()).as(first).isTrue();
            Run client = Run.of("client", "--bind", "udp://127.0.0.1:0", "--server", address.group(1), "--keys", "50");
            assertThat(client.exitCode()).as("a client served after stdin hit end of file: " + client.err()).isZero();
            assertThat(server.isAlive()).as("still serving before --duration").isTrue();
            StringBuilder rest = new StringBuilder();
            for (String line = lines.readLine(); line != null; line = lines.readLine()) {
                rest.append(line).append('\n');
            }
            assertThat(server.waitFor(30, TimeUnit.SECONDS)).as("exits at --duration").isTrue();
            assertThat(server.exitValue()).as(rest.toString()).isZero();
            Matcher served = Pattern.compile("served (\\d+) requests").matcher(rest);
            assertThat(served.find()).as(rest.toString()).isTrue();
            assertThat(Integer.parseInt(served.group(1))).as("requests served, 151 asked").isGreaterThanOrEqualTo(151);
        } finally {
            server.destroyForcibly();
            server.waitFor(10, TimeUnit.SECONDS);
        }
    }
}
