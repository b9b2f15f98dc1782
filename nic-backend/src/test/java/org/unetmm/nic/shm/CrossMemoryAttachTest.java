package org.unetmm.nic.shm;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.unetmm.Nic;
import org.unetmm.pinning.internal.Errno;
import org.unetmm.pinning.internal.Libc;

/**
 * The cross-memory attach probe against the real kernel: {@code prctl(PR_SET_PTRACER)} is what Yama
 * answers (0 where it is built in, EINVAL where the option is unknown), and the probe calls it
 * only at ptrace_scope 1, saying in its description what it found and did. Yama's setting is read
 * from a file the tests point elsewhere for the scopes this kernel does not have; the prctl and the
 * test read stay real.
 */
class CrossMemoryAttachTest {
    private static final boolean YAMA = Files.exists(CrossMemoryAttach.PTRACE_SCOPE);

    @Test
    void prSetPtracerSucceedsUnderYamaAndIsEinvalWithoutIt() {
        int result = Libc.setPtracer(Libc.PR_SET_PTRACER_ANY);
        assertThat(result).as("prctl(PR_SET_PTRACER, ANY) with Yama %s", YAMA ? "built in" : "absent")
                .isEqualTo(YAMA ? 0 : -Errno.EINVAL);
        assertThat(Libc.setPtracer(Libc.getpid() + 1L)).as("naming one pid").isEqualTo(YAMA ? 0 : -Errno.EINVAL);
    }

    @Test
    void withoutYamaTheProbeDoesNotCallPrSetPtracerAndSaysSo(@TempDir Path dir) {
        CrossMemoryAttach probe = CrossMemoryAttach.probe(dir.resolve("no-yama-here"));
        assertThat(probe.allowed()).as(probe.reason()).isTrue();
        assertThat(probe.reason()).isEmpty();
        assertThat(probe.description()).contains("Yama is not built into this kernel", "PR_SET_PTRACER is not needed and was"
                + " not called", "test process_vm_readv of this process's own memory read 8 bytes");
    }

    @Test
    void atScopeOneTheProbeCallsPrSetPtracerAndFollowsItsOutcome(@TempDir Path dir) throws IOException {
        Path scope = Files.writeString(dir.resolve("ptrace_scope"), "1\n");
        CrossMemoryAttach probe = CrossMemoryAttach.probe(scope);
        if (YAMA) {
            assertThat(probe.allowed()).as(probe.reason()).isTrue();
            assertThat(probe.description()).contains("called prctl(PR_SET_PTRACER, PR_SET_PTRACER_ANY)");
        } else {
            // this kernel has no Yama: the call the probe makes really fails, and the probe says how and what to do
            assertThat(probe.allowed()).isFalse();
            assertThat(probe.reason()).contains("ptrace_scope is 1", "prctl(PR_SET_PTRACER, PR_SET_PTRACER_ANY) failed with"
                    + " EINVAL", "sysctl kernel.yama.ptrace_scope=0", "cma=false");
        }
    }

    @Test
    void atScopeZeroThePrctlIsNotCalled(@TempDir Path dir) throws IOException {
        CrossMemoryAttach probe = CrossMemoryAttach.probe(Files.writeString(dir.resolve("ptrace_scope"), "0\n"));
        assertThat(probe.allowed()).as(probe.reason()).isTrue();
        assertThat(probe.description()).contains("ptrace_scope is 0", "was not called");
    }

    @Test
    void atScopeTwoOrThreeOrUnreadableRendezvousIsRefusedNamingTheSysctl(@TempDir Path dir) throws IOException {
        for (String value : new String[] {"2", "3", "garbage"}) {
            CrossMemoryAttach probe = CrossMemoryAttach.probe(Files.writeString(dir.resolve("ptrace_scope"), value));
            assertThat(probe.allowed()).as(value).isFalse();
            assertThat(probe.reason()).as(value).contains("ptrace_scope is " + (value.equals("2") ? "2" : "3"),
                    "sysctl kernel.yama.ptrace_scope=0");
            assertThat(probe.description()).isEqualTo(probe.reason());
        }
    }

    @Test
    void aNicReportsWhatItsProbeFoundAndCmaFalseSaysItProbedNothing() {
        try (Nic nic = ShmPairInOneJvmTest.open("shm:" + ShmPairInOneJvmTest.fresh("probe"))) {
            String description = ShmTransport.of(nic).crossMemoryAttachDescription();
            assertThat(description).contains(YAMA ? "ptrace_scope is" : "Yama is not built into this kernel");
        }
        try (Nic nic = ShmPairInOneJvmTest.open("shm:" + ShmPairInOneJvmTest.fresh("probe") + "?cma=false")) {
            assertThat(ShmTransport.of(nic).crossMemoryAttachDescription()).startsWith("cma=false in the transport URI");
            assertThat(ShmTransport.of(nic).rendezvousEnabled()).isFalse();
        }
    }
}
