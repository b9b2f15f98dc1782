package org.unetmm.bench;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * The receiving side of a cross-process measurement: a second JVM on this JVM's class path running
 * {@link CrossProcessChild}, driven by one request line on its standard input and one reply line
 * on its standard output per step ({@link #request}).
 *
 * <p><b>Bounded lifetime.</b> The child ends when its standard input closes (this JVM is gone, even
 * by SIGKILL: the kernel closes the pipe), when its lifetime argument runs out, or when {@link #close}
 * asks it to; {@link #close} then destroys it, and a shutdown hook does the same when this JVM exits
 * before {@link #close} (Ctrl-C). A child that dies is noticed by {@link #check} within
 * {@link #CHECK_NANOS} or {@link #CHECK_CALLS} calls, whichever is later, and every wait for it
 * says which child, its exit status and its last words.
 */
final class ChildJvm implements AutoCloseable {
    /** How often the measuring loops look whether the child is still there. */
    static final long CHECK_NANOS = 10_000_000L;
    /** {@link #check} reads the clock once in this many calls (a power of two). */
    private static final int CHECK_CALLS = 64;
    /** The module openings the library needs; the manifest grants them to {@code java -jar} only. */
    private static final List<String> OPENINGS = List.of("--add-exports", "java.base/jdk.internal.misc=ALL-UNNAMED",
            "--add-opens", "java.base/sun.nio.ch=ALL-UNNAMED", "--add-opens", "java.base/java.nio=ALL-UNNAMED");
    private static final int STDERR_LINES = 8;

    private final Process process;
    private final Writer requests;
    private final BlockingQueue<String> replies = new LinkedBlockingQueue<>();
    private final ArrayDeque<String> lastErrors = new ArrayDeque<>();
    private final Thread killer;
    private long nextCheck;
    private int checks;

    private ChildJvm(Process process) {
        this.process = process;
        this.requests = new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8);
        daemon("child-stdout", () -> drain(process.getInputStream(), replies::add));
        daemon("child-stderr", () -> drain(process.getErrorStream(), line -> {
            synchronized (lastErrors) {
                if (lastErrors.size() == STDERR_LINES) {
                    lastErrors.poll();
                }
                lastErrors.add(line);
            }
        }));
        killer = new Thread(process::destroyForcibly, "child-jvm-killer");
        Runtime.getRuntime().addShutdownHook(killer);
    }

    /** Starts {@code main} in a second JVM that ends by itself after {@code lifetime} at the latest. */
    static ChildJvm start(Class<?> main, Duration lifetime) {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(List.of("-Xmx256m", "-XX:+UseSerialGC", "-Djava.awt.headless=true"));
        command.addAll(OPENINGS);
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), main.getName(),
                Long.toString(lifetime.toSeconds())));
        try {
            return new ChildJvm(new ProcessBuilder(command).start());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start the receiving JVM (" + command.get(0) + "): " + e.getMessage(), e);
        }
    }

    long pid() {
        return process.pid();
    }

    /** Whether the child, now gone, ended by itself with status 0 (it closed what it had open). */
    boolean endedCleanly() {
        return !process.isAlive() && process.exitValue() == 0;
    }

    boolean isAlive() {
        return process.isAlive();
    }

    /**
     * Sends one request line and returns the child's reply line, which must start with
     * {@code expect}; a child that replies {@code error …}, exits or stays silent for
     * {@code timeout} fails the request with what it said.
     */
    String request(String line, String expect, Duration timeout) {
        check();
        try {
            requests.write(line + "\n");
            requests.flush();
        } catch (IOException e) {
            throw gone("while sent '" + verb(line) + "'");
        }
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            String reply;
            try {
                reply = replies.poll(Math.min(CHECK_NANOS, Math.max(0, deadline - System.nanoTime())), TimeUnit.NANOSECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while the receiving JVM answered '" + verb(line) + "'");
            }
            if (reply != null) {
                if (reply.startsWith(expect)) {
                    return reply;
                }
                throw new IllegalStateException("the receiving JVM (pid " + pid() + ") could not do '" + verb(line) + "': "
                        + (reply.startsWith("error ") ? reply.substring("error ".length()) : reply));
            }
            if (!process.isAlive()) {
                throw gone("while it answered '" + verb(line) + "'");
            }
            if (System.nanoTime() - deadline > 0) {
                throw new IllegalStateException("the receiving JVM (pid " + pid() + ") did not answer '" + verb(line)
                        + "' within " + timeout.toMillis() + " ms" + lastWords());
            }
        }
    }

    /** Fails when the child has exited; looks at most every {@link #CHECK_NANOS} and {@link #CHECK_CALLS} calls, so a hot loop may call it each turn. */
    void check() {
        if ((++checks & (CHECK_CALLS - 1)) != 0) {
            return; // a clock read costs 30-70 ns on these machines: more than a measured step of a small message
        }
        long now = System.nanoTime();
        if (now - nextCheck < 0) {
            return;
        }
        nextCheck = now + CHECK_NANOS;
        if (!process.isAlive()) {
            throw gone("during the measurement");
        }
    }

    private IllegalStateException gone(String when) {
        try {
            process.waitFor(1, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        String status = process.isAlive() ? "closed its pipe" : process.exitValue() > 128
                ? "was killed (signal " + (process.exitValue() - 128) + ")" : "exited with status " + process.exitValue();
        return new IllegalStateException("the receiving JVM (pid " + pid() + ") " + status + " " + when + lastWords());
    }

    private String lastWords() {
        synchronized (lastErrors) {
            return lastErrors.isEmpty() ? "" : "; its last words: " + lastErrors.peekLast();
        }
    }

    private static String verb(String line) {
        int space = line.indexOf(' ');
        return space < 0 ? line : line.substring(0, space);
    }

    /** Asks the child to end, then makes sure it has: it is gone when this returns. */
    @Override
    public void close() {
        try {
            if (process.isAlive()) {
                try {
                    requests.write("exit\n");
                    requests.close(); // the child also ends on end of input
                } catch (IOException ignored) {
                    // it is going already
                }
                process.waitFor(5, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            process.destroyForcibly();
            try {
                process.waitFor(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            try {
                Runtime.getRuntime().removeShutdownHook(killer);
            } catch (IllegalStateException ignored) {
                // this JVM is shutting down: the hook runs anyway
            }
        }
    }

    private static void drain(java.io.InputStream stream, java.util.function.Consumer<String> into) {
        try (BufferedReader in = new BufferedReader(new InputStreamReader(stream, StandardCharsets.UTF_8))) {
            String line;
            while ((line = in.readLine()) != null) {
                into.accept(line);
            }
        } catch (IOException ignored) {
            // the child is gone
        }
    }

    private static void daemon(String name, Runnable body) {
        Thread t = new Thread(body, name);
        t.setDaemon(true);
        t.start();
    }
}
