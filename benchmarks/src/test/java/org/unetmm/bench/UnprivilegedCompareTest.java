package org.unetmm.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.unetmm.pinning.UnprivilegedJvm;

/**
 * The front door as most users meet it: {@code unetmm compare} run by an ordinary user, without
 * CAP_IPC_LOCK, under the usual 8 MiB RLIMIT_MEMLOCK, up to 4 MiB messages (whose pinned path
 * alone needs the whole limit). It must finish with every point measured, not fail on ENOMEM.
 */
@Timeout(240)
class UnprivilegedCompareTest {
    private static final long MEMLOCK = 8L << 20;

    @Test
    void compareRunsForAnUnprivilegedUserUnderTheUsualMemlockLimit() throws Exception {
        try (UnprivilegedJvm jvm = UnprivilegedJvm.prepare()) {
            Path results = jvm.writableDir("results");
            UnprivilegedJvm.ChildRun run = jvm.run(MEMLOCK, 180, UnetmmCommand.class.getName(), "compare",
                    "--sizes", "4096,1048576,4194304", "--warmup-ms", "20", "--measure-ms", "60", "--repeats", "1",
                    "--results", results.toString(), "--format", "csv", "--no-aeron");
            assertThat(run.exitCode()).as("exit code; output:%n%s", run.output()).isZero();
            List<String> rows = run.output().lines().filter(l -> l.startsWith("loopback:,")).toList();
            assertThat(rows).as(run.output()).hasSize(9);
            assertThat(rows).filteredOn(r -> r.contains(",PINNED,")).hasSize(3)
                    .allSatisfy(r -> assertThat(Long.parseLong(r.split(",")[3])).as(r).isPositive());
        }
    }
}
