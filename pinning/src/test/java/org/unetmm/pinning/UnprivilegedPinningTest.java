package org.unetmm.pinning;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.parallel.ResourceLock;

/**
 * The pinning layer as most users will meet it: not root, no CAP_IPC_LOCK, a small
 * RLIMIT_MEMLOCK. A second JVM ({@link UnprivilegedPinningChild}) is started through
 * {@code prlimit --memlock} and {@code setpriv} as uid 65534 with CAP_IPC_LOCK dropped from every
 * set; it checks its own situation against the kernel and reports one line. Needs root (to drop
 * to another user) and util-linux's prlimit and setpriv; otherwise skipped with the reason.
 */
@Timeout(180)
@ResourceLock(KernelView.LOCKED_MEMORY)
class UnprivilegedPinningTest {
    private static final long LIMIT = 64 * 1024;
    private static final int NOBODY = UnprivilegedJvm.NOBODY;
    private static final long CHILD_TIMEOUT_SECONDS = 60;

    private static UnprivilegedJvm jvm;

    @BeforeAll
    static void prepareWorldReadableClasspath() throws IOException {
        jvm = UnprivilegedJvm.prepare();
    }

    @AfterAll
    static void deleteWorkDir() throws IOException {
        if (jvm != null) {
            jvm.close();
        }
    }

    @Test
    void unprivilegedProcessPinsAWorkingSetManyTimesItsMemlockLimit() throws Exception {
        UnprivilegedJvm.ChildRun run = runChild(LIMIT, "limited", Long.toString(LIMIT));

        assertThat(run.exitCode()).as("child exit code; its output:%n%s", run.output()).isZero();
        String result = resultLine(run, "limited");
        assertThat(result).contains("uid=" + NOBODY, "capIpcLock=false", "limit=" + LIMIT, "budget=" + LIMIT,
                "source=RLIMIT_MEMLOCK", "oversized=PinBudgetExceededException",
                "unlimitedBudget=MemlockLimitException/ENOMEM");
        assertThat(number(result, "workingSet")).as("working set vs limit").isGreaterThanOrEqualTo(4 * LIMIT);
        assertThat(number(result, "peakPinned")).isPositive().isLessThanOrEqualTo(LIMIT);
        assertThat(number(result, "evictions")).isPositive();
    }

    @Test
    void unprivilegedProcessWithAZeroMemlockLimitIsRefusedWithPermissionErrors() throws Exception {
        UnprivilegedJvm.ChildRun run = runChild(0, "zero");

        assertThat(run.exitCode()).as("child exit code; its output:%n%s", run.output()).isZero();
        assertThat(resultLine(run, "zero")).contains("uid=" + NOBODY, "capIpcLock=false",
                "fromProcess=PinPermissionException", "mlock=EPERM");
    }

    @Test
    void twoCachesOfOneProcessShareItsMemlockLimitAndReclaimFromEachOther() throws Exception {
        UnprivilegedJvm.ChildRun run = runChild(LIMIT, "shared", Long.toString(LIMIT));

        assertThat(run.exitCode()).as("child exit code; its output:%n%s", run.output()).isZero();
        assertThat(resultLine(run, "shared")).contains("uid=" + NOBODY, "capIpcLock=false", "limit=" + LIMIT,
                "reclaimedIdle=true", "reclaimer=true", "refusal=PinBudgetExceededException");
    }

    private static UnprivilegedJvm.ChildRun runChild(long memlock, String... args) throws IOException, InterruptedException {
        return jvm.run(memlock, CHILD_TIMEOUT_SECONDS, UnprivilegedPinningChild.class.getName(), args);
    }

    private static String resultLine(UnprivilegedJvm.ChildRun run, String mode) {
        String line = run.output().lines()
                .filter(candidate -> candidate.startsWith("RESULT OK " + mode + " "))
                .findFirst()
                .orElseThrow(() -> new AssertionError("no RESULT OK " + mode + " line in:\n" + run.output()));
        System.out.println("UnprivilegedPinningTest child: " + line);
        return line;
    }

    private static long number(String result, String key) {
        Matcher matcher = Pattern.compile("\\b" + key + "=(\\d+)").matcher(result);
        assertThat(matcher.find()).as("%s= in %s", key, result).isTrue();
        return Long.parseLong(matcher.group(1));
    }
}
