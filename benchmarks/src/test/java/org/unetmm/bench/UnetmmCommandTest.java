package org.unetmm.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** How {@code unetmm} fails: usage errors exit 2 after the usage, a run that cannot start says why in one line and exits 1. */
@Timeout(60)
class UnetmmCommandTest {
    @Test
    void bareUnetmmPrintsItsUsageAndExits2() {
        CommandRun run = CommandRun.of();
        assertThat(run.exitCode()).isEqualTo(2);
        assertThat(run.err()).contains("Usage: unetmm", "compare", "pingpong");
    }

    @Test
    void aPortInUseIsOneLineAndExit1() throws IOException {
        try (DatagramSocket taken = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))) {
            CommandRun run = CommandRun.of("echo", "--listen", "udp://127.0.0.1:" + taken.getLocalPort(), "--duration", "0");
            assertFailedInOneLine(run, "port is in use");
        }
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "echo --listen udp://127.0.0.1:0?bogus=1 --duration 0|unknown key 'bogus'",
            "pingpong --to udp://127.0.0.1:9 --bind udp://127.0.0.1:0?bogus=1|unknown key 'bogus'"})
    void aBadTransportUriIsOneLineAndExit1(String command, String said) {
        assertFailedInOneLine(CommandRun.of(command.split(" ")), said);
    }

    @Test
    void pingpongWithNoEchoIsOneLineAndExit1() throws IOException {
        CommandRun run = CommandRun.of("pingpong", "--to", "udp://127.0.0.1:" + UnetmmProcess.freePort(), "--timeout-ms", "100");
        assertFailedInOneLine(run, "no answer from an echo");
    }

    private static void assertFailedInOneLine(CommandRun run, String said) {
        assertThat(run.exitCode()).as(run.err()).isEqualTo(1);
        assertThat(run.err().lines()).as("stderr").hasSize(1).allSatisfy(line -> assertThat(line).startsWith("unetmm ").contains(said));
        assertThat(run.err()).doesNotContain("\tat ", "Exception");
    }
}
