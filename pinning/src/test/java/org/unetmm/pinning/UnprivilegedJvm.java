package org.unetmm.pinning;

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
import java.util.stream.Stream;

/**
 * A second JVM started as our users run: uid 65534, CAP_IPC_LOCK dropped from every set, under
 * {@code prlimit --memlock}, so the kernel (not just the library) enforces the limit. uid 65534
 * cannot read /root/.m2 or the build tree, so the test's classpath is copied to a world-readable
 * folder under /tmp first. Needs root (to drop to another user) and util-linux's prlimit and
 * setpriv; {@link #prepare()} skips the calling test, with the reason, where they are missing.
 * Shared with other modules' tests through this module's test jar.
 */
public final class UnprivilegedJvm implements AutoCloseable {
    public static final int NOBODY = 65534;

    private final Path workDir;
    private final String classpath;
    private final String prlimit;
    private final String setpriv;

    /** What a child run left behind: its exit code and its output (stdout and stderr). */
    public record ChildRun(int exitCode, String output) {
    }

    private UnprivilegedJvm(Path workDir, String classpath, String prlimit, String setpriv) {
        this.workDir = workDir;
        this.classpath = classpath;
        this.prlimit = prlimit;
        this.setpriv = setpriv;
    }

    /** Checks the machine can run one (else skips the test) and copies the classpath. */
    public static UnprivilegedJvm prepare() throws IOException {
        assumeTrue(KernelView.uid() == 0, "dropping to an unprivileged user needs root; running as uid " + KernelView.uid());
        String prlimit = onPath("prlimit");
        String setpriv = onPath("setpriv");
        assumeTrue(prlimit != null, "prlimit (util-linux) is not on the PATH");
        assumeTrue(setpriv != null, "setpriv (util-linux) is not on the PATH");
        Path workDir = Files.createTempDirectory(Path.of("/tmp"), "unetmm-unprivileged-");
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
        makeWorldReadable(workDir);
        return new UnprivilegedJvm(workDir, String.join(File.pathSeparator, entries), prlimit, setpriv);
    }

    /** A folder the child may write to (world-writable), under the work folder. */
    public Path writableDir(String name) throws IOException {
        Path dir = Files.createDirectories(workDir.resolve(name));
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxrwxrwx"));
        return dir;
    }

    /** Runs {@code mainClass} with {@code args} under RLIMIT_MEMLOCK = {@code memlock}; destroyed past the timeout. */
    public ChildRun run(long memlock, long timeoutSeconds, String mainClass, String... args)
            throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of(
                prlimit, "--memlock=" + memlock + ":" + memlock,
                setpriv, "--reuid=" + NOBODY, "--regid=" + NOBODY, "--clear-groups",
                "--bounding-set=-ipc_lock", "--inh-caps=-ipc_lock",
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx256m", "-XX:+UseSerialGC", "-XX:-UsePerfData", "-Djava.awt.headless=true",
                "-cp", classpath, mainClass));
        command.addAll(List.of(args));
        Path output = Files.createTempFile(workDir, "child-", ".out");
        Process process = new ProcessBuilder(command)
                .directory(workDir.toFile())
                .redirectErrorStream(true)
                .redirectOutput(output.toFile())
                .start();
        if (!process.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            process.waitFor(10, TimeUnit.SECONDS);
            throw new AssertionError("child " + mainClass + " " + String.join(" ", args) + " did not finish within "
                    + timeoutSeconds + " s; its output:\n" + Files.readString(output));
        }
        return new ChildRun(process.exitValue(), Files.readString(output));
    }

    @Override
    public void close() throws IOException {
        try (Stream<Path> paths = Files.walk(workDir)) {
            for (Path path : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(path);
            }
        }
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
