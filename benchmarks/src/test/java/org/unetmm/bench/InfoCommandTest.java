package org.unetmm.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.unetmm.pinning.ProcessStatus;

/** {@code unetmm info} says what this machine allows, with the kernel's own figures. */
@Timeout(60)
class InfoCommandTest {
    @Test
    void infoReportsLimitsCoresBuffersAndWiresWithTheKernelsOwnValues() throws Exception {
        CommandRun run = CommandRun.of("info", "--sample-ms", "100");
        assertThat(run.exitCode()).as(run.err()).isZero();
        String out = run.out();
        assertThat(out).contains("locked memory: RLIMIT_MEMLOCK soft", "CAP_IPC_LOCK " + (ProcessStatus.hasCapIpcLock() ? "yes" : "no"),
                "cpu: " + Runtime.getRuntime().availableProcessors() + " cores", "busy processes", "wires: loopback: yes");
        // the whole value, as cat prints it: Files.readString of a /proc/sys file returns only its first byte
        long rmem = Long.parseLong(String.join("", Files.readAllLines(Path.of("/proc/sys/net/core/rmem_max"))).trim());
        assertThat(out).contains("rmem_max " + InfoCommand.bytes(rmem) + ",");
        assertThat(RunRecord.sysctl("net/core/rmem_max")).isEqualTo(Long.toString(rmem));
    }

    @Test
    void aBadSampleTimeIsAUsageError() {
        CommandRun run = CommandRun.of("info", "--sample-ms", "0");
        assertThat(run.exitCode()).isEqualTo(UnetmmCommand.USAGE);
        assertThat(run.err()).contains("--sample-ms must be in 1..60000");
    }
}
