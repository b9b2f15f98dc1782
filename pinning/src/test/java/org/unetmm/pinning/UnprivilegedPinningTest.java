package org.unetmm.pinning;

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
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
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
    private static final int NOBODY = 65534;
    private static final long CHILD_TIMEOUT_SECONDS = 60;

    private static Path workDir;
    private static String classpath;
    private static String prlimit;
    private static String setpriv;

    /** What a child run left behind. */
    record ChildRun(int exitCode, String output) {
    }

    @BeforeAll
    static void prepareWorldReadableClasspath() throws IOException {
        assumeTrue(KernelView.uid() == 0, "dropping to an unprivileged user needs root; running as uid " + KernelView.uid());
        prlimit = onPath("prlimit");
        setpriv = onPath("setpriv");
        assumeTrue(prlimit != null, "prlimit (util-linux) is not on the PATH");
        assumeTrue(setpriv != null, "setpriv (util-linux) is not on the PATH");

        // uid 65534 cannot read /root/.m2 or the build tree: copy the classpath somewhere it can
        workDir = Files.createTempDirectory(Path.of("/tmp"), "unetmm-unprivileged-");
        List<String> entries = new ArrayList<>();
        int index = 0;
        for (String entry : System.getProperty("java.class.path").split(File.pathSeparator)) {
            Path source = Path.of(entry);
            if (entry.isEmpty() || !Files.exists(source)) {
                continue;
            }
            Path target = workDir.resolve("cp").resolve(index++ + "-" + source.getFileName());
            copyTree(source, target);
            entries.add(target.toString());
        }
        classpath = String.join(File.pathSeparator, entries);
        makeWorldReadable(workDir);
    }

    @AfterAll
    static void deleteWorkDir() throws IOException {
        if (workDir == null) {
            return;
        }
        try (Stream<Path> paths = Files.walk(workDir)) {
            for (Path path : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(path);
            }
        }
    }

    @Test
    void unprivilegedProcessPinsAWorkingSetManyTimesItsMemlockLimit() throws Exception {
        ChildRun run = runChild(LIMIT, "limited", Long.toString(LIMIT));

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
        ChildRun run = runChild(0, "zero");

        assertThat(run.exitCode()).as("child exit code; its output:%n%s", run.output()).isZero();
        assertThat(resultLine(run, "zero")).contains("uid=" + NOBODY, "capIpcLock=false",
                "fromProcess=PinPermissionException", "mlock=EPERM");
    }

    private static ChildRun runChild(long memlock, String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of(
                prlimit, "--memlock=" + memlock + ":" + memlock,
                setpriv, "--reuid=" + NOBODY, "--regid=" + NOBODY, "--clear-groups",
                "--bounding-set=-ipc_lock", "--inh-caps=-ipc_lock",
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx128m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-XX:-UsePerfData",
                "-cp", classpath, UnprivilegedPinningChild.class.getName()));
        command.addAll(List.of(args));
        Path output = Files.createTempFile(workDir, "child-", ".out");
        Process process = new ProcessBuilder(command)
                .directory(workDir.toFile())
                .redirectErrorStream(true)
                .redirectOutput(output.toFile())
                .start();
        if (!process.waitFor(CHILD_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            process.waitFor(10, TimeUnit.SECONDS);
            throw new AssertionError("child " + String.join(" ", args) + " did not finish within "
                    + CHILD_TIMEOUT_SECONDS + " s; its output:\n" + Files.readString(output));
        }
        return new ChildRun(process.exitValue(), Files.readString(output));
    }

    private static String resultLine(ChildRun run, String mode) {
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

    private static String onPath(String program) {
        for (String dir : System.getenv().getOrDefault("PATH", "/usr/sbin:/usr/bin:/sbin:/bin").split(File.pathSeparator)) {
            Path candidate = Path.of(dir, program);
            if (Files.isExecutable(candidate)) {
                return candidate.toString();
            }
        }
        return null;
    }

    private static void copyTree(Path source, Path target) throws IOException {
        if (Files.isDirectory(source)) {
            try (Stream<Path> paths = Files.walk(source)) {
                for (Path path : paths.toList()) {
                    Path copy = target.resolve(source.relativize(path).toString());
                    if (Files.isDirectory(path)) {
                        Files.createDirectories(copy);
                    } else {
                        Files.copy(path, copy, StandardCopyOption.REPLACE_EXISTING);
                    }
                }
            }
        } else {
            Files.createDirectories(target.getParent());
            Files.copy(source, target, StandardCopyOption.REPLACE_EXISTING);
        }
    }

    /** chmod -R a+rX: directories 755, files 644. */
    private static void makeWorldReadable(Path root) throws IOException {
        try (Stream<Path> paths = Files.walk(root)) {
            for (Path path : paths.toList()) {
                Files.setPosixFilePermissions(path, PosixFilePermissions.fromString(
                        Files.isDirectory(path) ? "rwxr-xr-x" : "rw-r--r--"));
            }
        }
    }
}
