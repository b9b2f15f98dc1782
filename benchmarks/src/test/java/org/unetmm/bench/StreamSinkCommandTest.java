package org.unetmm.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@code unetmm sink} and {@code unetmm stream} as a user runs them: the sink in a JVM of its own,
 * the stream here; the stream's lines, summary and exit status, and its failure when no sink answers.
 */
@Timeout(60)
class StreamSinkCommandTest {
    @Test
    void aStreamToASinkInAnotherProcessReportsRatesAndLossAndSucceeds() throws Exception {
        String address = "udp://127.0.0.1:" + UnetmmProcess.freePort();
        try (UnetmmProcess sink = UnetmmProcess.start("sink", "--listen", address, "--duration", "30", "--buffers", "512")) {
            assertThat(sink.nextLine()).startsWith("sink: listening on " + address + "/1");
            for (String path : new String[] {"pinned", "fixed"}) {
                CommandRun run = CommandRun.of("stream", "--to", address, "--size", "1000", "--duration", "1.5", "--path", path,
                        "--inflight", "32");
                assertThat(run.exitCode()).as(run.out() + run.err()).isZero();
                assertThat(run.out()).as(run.out()).contains("stream:    1 s  sent").contains("delivered")
                        .containsPattern("stream: summary  [0-9,]+ msgs of 1000 B in [0-9.]+ s: sent [0-9,]+ msgs/s [0-9.]+ MB/s,"
                                + " delivered [0-9,]+ msgs/s [0-9.]+ MB/s, lost [0-9,]+ \\([0-9.]+%\\)\n")
                        .contains("sendmmsg calls");
            }
        }
    }

    @Test
    void aStreamWithNoSinkFailsSayingHowToStartOne() throws IOException {
        String address = "udp://127.0.0.1:" + UnetmmProcess.freePort();
        CommandRun run = CommandRun.of("stream", "--to", address, "--duration", "1");
        assertThat(run.exitCode()).isEqualTo(1);
        assertThat(run.out()).contains("no sink answered").contains("unetmm sink --listen " + address);
    }

    @Test
    void helpShowsExamplesAndBadSizesNameTheLimit() {
        CommandRun help = CommandRun.of("stream", "--help");
        assertThat(help.exitCode()).isZero();
        assertThat(help.out()).contains("Examples:").contains("unetmm stream --to udp://127.0.0.1:7100 --size 64");
        assertThat(CommandRun.of("sink", "--help").out()).contains("Examples:").contains("unetmm sink --listen");
        CommandRun bad = CommandRun.of("stream", "--to", "udp://127.0.0.1:9", "--size", "4");
        assertThat(bad.exitCode()).isEqualTo(2);
        assertThat(bad.err()).contains("--size: 4 B is out of range: 8..");
    }
}
