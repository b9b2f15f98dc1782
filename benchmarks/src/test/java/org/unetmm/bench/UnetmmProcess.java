package org.unetmm.bench;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The {@code unetmm} command (or any child process) in a JVM of its own, as a user starts it in
 * another terminal: its output (stdout and stderr merged) read line by line, its pid for /proc,
 * destroyed on close.
 */
final class UnetmmProcess implements AutoCloseable {
    private static final Pattern VM_LCK = Pattern.compile("VmLck:\\s+(\\d+) kB");

    private final Process process;
    private final BufferedReader lines;
    private final StringBuilder seen = new StringBuilder();

    private UnetmmProcess(Process process) {
        this.process = process;
        this.lines = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
    }

    static UnetmmProcess start(String... args) throws IOException {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-cp", System.getProperty("java.class.path"),
                UnetmmCommand.class.getName()));
        command.addAll(List.of(args));
        return of(new ProcessBuilder(command));
    }

    /** Starts {@code builder}'s command with its stderr merged into its stdout. */
    static UnetmmProcess of(ProcessBuilder builder) throws IOException {
        return new UnetmmProcess(builder.redirectErrorStream(true).start());
    }

    /** A UDP port that was free a moment ago, on 127.0.0.1. */
    static int freePort() throws IOException {
        try (DatagramSocket probe = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))) {
            return probe.getLocalPort();
        }
    }

    /** The next line of output; fails when the process ends first. */
    String nextLine() throws IOException {
        String line = lines.readLine();
        if (line == null) {
            throw new AssertionError("the process ended before the line expected; its output:\n" + seen);
        }
        seen.append(line).append('\n');
        return line;
    }

    /** Reads lines until one starts with {@code prefix}; returns it. */
    String lineStartingWith(String prefix) throws IOException {
        String line;
        do {
            line = nextLine();
        } while (!line.startsWith(prefix));
        return line;
    }

    /** Waits for the process to exit on its own (bounded) and returns its exit code; the rest of its output is in {@link #output()}. */
    int exitCode(long timeoutSeconds) throws IOException, InterruptedException {
        String line;
        while ((line = lines.readLine()) != null) {
            seen.append(line).append('\n');
        }
        if (!process.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
            throw new AssertionError("the process did not exit within " + timeoutSeconds + " s; its output:\n" + seen);
        }
        return process.exitValue();
    }

    boolean isAlive() {
        return process.isAlive();
    }

    String output() {
        return seen.toString();
    }

    /** The kernel's count of this process's locked memory (VmLck in /proc/pid/status), bytes. */
    long lockedBytes() {
        try {
            Matcher m = VM_LCK.matcher(Files.readString(Path.of("/proc", Long.toString(process.pid()), "status")));
            if (!m.find()) {
                throw new AssertionError("no VmLck in /proc/" + process.pid() + "/status");
            }
            return Long.parseLong(m.group(1)) << 10;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Ends the process now (as a crash or kill -9 would), and waits for it to be gone. */
    void kill() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor(10, TimeUnit.SECONDS);
    }

    @Override
    public void close() throws InterruptedException {
        kill();
    }
}
