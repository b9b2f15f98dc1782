package org.unetmm.nic.udp;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A second JVM running {@link UdpEchoPeer} on this test's class path, optionally inside a network
 * namespace. Its lifetime is bounded twice: by the lifetime argument, and by its standard input,
 * which closes when this JVM dies; {@link #close()} destroys it at once.
 */
public final class PeerProcess implements AutoCloseable {
    private final Process process;
    private final Path log;
    private final BlockingQueue<String> lines = new LinkedBlockingQueue<>();

    private PeerProcess(Process process, Path log) {
        this.process = process;
        this.log = log;
        Thread reader = new Thread(() -> {
            try (BufferedReader in = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = in.readLine()) != null) {
                    lines.add(line);
                }
            } catch (IOException ignored) {
                // the process is gone
            }
        }, "peer-stdout");
        reader.setDaemon(true);
        reader.start();
    }

    /** Starts {@code UdpEchoPeer} with {@code args}, behind {@code prefix} (e.g. ip netns exec NAME). */
    /**
     * In the peer JVM: halts it when its standard input closes, i.e. when the test that started it
     * is gone (the test writes nothing), so no peer outlives its test.
     */
    public static void haltWhenParentGoes() {
        Thread watchdog = new Thread(() -> {
            try {
                while (System.in.read() >= 0) {
                    // the test writes nothing; end of input means it is gone
                }
            } catch (Exception ignored) {
                // the pipe broke: same
            }
            Runtime.getRuntime().halt(0);
        }, "stdin-watchdog");
        watchdog.setDaemon(true);
        watchdog.start();
    }

    public static PeerProcess start(List<String> prefix, String... args) throws IOException {
        return start(prefix, UdpEchoPeer.class, args);
    }

    /** Starts {@code main} (a class on this test's class path) with {@code args}, behind {@code prefix}. */
    public static PeerProcess start(List<String> prefix, Class<?> main, String... args) throws IOException {
        List<String> command = new ArrayList<>(prefix);
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.add("-Xmx256m");
        command.add("-XX:+UseSerialGC");
        command.add("-XX:TieredStopAtLevel=1");
        command.add("-cp");
        command.add(System.getProperty("java.class.path"));
        command.add(main.getName());
        command.addAll(List.of(args));
        Path log = Files.createTempFile("unetmm-peer-", ".log");
        Process process = new ProcessBuilder(command).redirectError(log.toFile()).start();
        return new PeerProcess(process, log);
    }

    /** Waits for the {@code READY a b} line and returns {@code [a, b]}. */
    public String[] awaitReady(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            String line = lines.poll(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            if (line == null) {
                throw new AssertionError("the peer JVM did not report READY within " + timeout + " (alive="
                        + process.isAlive() + "); its stderr: " + stderr());
            }
            if (line.startsWith("READY ")) {
                return line.substring("READY ".length()).trim().split(" ");
            }
        }
    }

    /** Kills the peer as a crash would (SIGKILL) and waits for it to be gone. */
    public void kill() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor(10, TimeUnit.SECONDS);
    }

    public boolean isAlive() {
        return process.isAlive();
    }

    public String stderr() {
        try {
            String text = Files.readString(log);
            return text.length() > 4000 ? text.substring(text.length() - 4000) : text;
        } catch (IOException e) {
            return "(unreadable: " + e + ")";
        }
    }

    @Override
    public void close() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor(10, TimeUnit.SECONDS);
        try {
            Files.deleteIfExists(log);
        } catch (IOException ignored) {
            // a temp file
        }
    }
}
