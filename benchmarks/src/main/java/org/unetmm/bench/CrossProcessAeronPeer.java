package org.unetmm.bench;

import io.aeron.Aeron;
import io.aeron.ExclusivePublication;
import io.aeron.Publication;
import io.aeron.Subscription;
import io.aeron.driver.MediaDriver;
import io.aeron.driver.ThreadingMode;
import io.aeron.logbuffer.FragmentHandler;
import io.aeron.logbuffer.FrameDescriptor;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.HdrHistogram.Histogram;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.YieldingIdleStrategy;

/**
 * Aeron IPC between two processes, as an Aeron user runs it: one embedded media driver in this JVM
 * (shared threading, a yielding conductor: it must run for IPC flow control, and busy-spinning
 * would take a core from the two measured threads on a small machine; its directory under
 * /dev/shm, deleted on close), the {@link ChildJvm} a client of it through that directory. One
 * exclusive IPC publication each way; the receiver copies each fragment out of the log into one
 * receive buffer, as {@link AeronIpcPeer} does in one JVM: two copies.
 *
 * <p>Latency is half a ping-pong's round trip; throughput a one-way stream under Aeron's own flow
 * control (the publication's limit), counted by the receiver's acknowledgements (8 B back, every
 * {@link UdpPeer.Window#ackEvery} messages).
 */
final class CrossProcessAeronPeer implements UdpPeer {
    private static final Duration ANSWER = Duration.ofSeconds(30);
    private static final int MAX_SOURCES = 8;
    private static final int SOURCE_BYTES = 1 << 20;

    private final ChildJvm child;
    private int size;
    private MediaDriver driver;
    private Aeron aeron;
    private ExclusivePublication out;
    private Subscription in;
    private BufferPool sources;
    private UnsafeBuffer[] views = new UnsafeBuffer[0];
    private UnsafeBuffer reply;
    private int filled;
    private long expected;
    private long sequence = FIRST_SEQUENCE;
    private boolean answered;
    private boolean streaming;
    private long acked;
    private final FragmentHandler onFragment = (buffer, offset, length, header) -> {
        if (streaming) {
            if (length == 8) {
                acked = Math.max(acked, buffer.getLong(offset));
            }
            return;
        }
        if ((header.flags() & FrameDescriptor.BEGIN_FRAG_FLAG) != 0) {
            filled = 0;
        }
        if (filled + length <= reply.capacity()) {
            buffer.getBytes(offset, reply, filled, length);
        }
        filled += length;
        if ((header.flags() & FrameDescriptor.END_FRAG_FLAG) != 0 && (size < 8 || reply.getLong(0) == expected)) {
            answered = true;
        }
    };

    CrossProcessAeronPeer(ChildJvm child) {
        this.child = child;
    }

    @Override
    public String name() {
        return "Aeron IPC";
    }

    @Override
    public void open(int messageSize) {
        size = messageSize;
        int term = 1 << 20; // an IPC term holds at least 8 messages (Aeron's limit on one message)
        while (term / 8 < size) {
            term <<= 1;
        }
        try {
            Path dir = Files.createTempDirectory(Path.of(Files.isDirectory(Path.of("/dev/shm")) ? "/dev/shm" : "/tmp"),
                    "unetmm-aeron-xp-");
            driver = MediaDriver.launchEmbedded(new MediaDriver.Context().aeronDirectoryName(dir.toString())
                    .threadingMode(ThreadingMode.SHARED).sharedIdleStrategy(new YieldingIdleStrategy())
                    .dirDeleteOnStart(true).dirDeleteOnShutdown(true));
            aeron = Aeron.connect(new Aeron.Context().aeronDirectoryName(driver.aeronDirectoryName()));
            String channel = "aeron:ipc?term-length=" + term + "|mtu=65504";
            out = aeron.addExclusivePublication(channel, CrossProcessChild.AERON_TO_CHILD);
            in = aeron.addSubscription("aeron:ipc", CrossProcessChild.AERON_TO_PARENT);
            int sourceCount = (int) Math.max(1, Math.min(MAX_SOURCES, SOURCE_BYTES / Math.max(1L, size)));
            sources = BufferPool.filled(size, sourceCount);
            views = new UnsafeBuffer[sourceCount];
            for (int i = 0; i < sourceCount; i++) {
                views[i] = new UnsafeBuffer(sources.get(i), 0, Math.max(1, size));
            }
            reply = new UnsafeBuffer(java.nio.ByteBuffer.allocateDirect(Math.max(1, size)));
            child.request("aeron " + driver.aeronDirectoryName() + " " + size + " " + term, "ready", ANSWER);
            long deadline = System.nanoTime() + ANSWER.toNanos();
            while (!out.isConnected() || !in.isConnected()) {
                child.check();
                if (System.nanoTime() - deadline > 0) {
                    throw new IllegalStateException("Aeron IPC did not connect to the receiving JVM in " + ANSWER.toSeconds() + " s");
                }
                Thread.onSpinWait();
            }
        } catch (IOException e) {
            close();
            throw new UncheckedIOException("cannot make the Aeron directory: " + e.getMessage(), e);
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    private boolean offered(long result) {
        if (result == Publication.CLOSED || result == Publication.MAX_POSITION_EXCEEDED || result == Publication.NOT_CONNECTED) {
            child.check();
            throw new IllegalStateException("Aeron IPC offer to the receiving JVM failed: " + Publication.errorString(result));
        }
        return result >= 0;
    }

    @Override
    public long pingPong(Span warmup, Span measure, Histogram rtt) throws Exception {
        streaming = false;
        child.request("echo", "ok", ANSWER);
        return UdpPeer.roundTrips(warmup, measure, rtt, this::roundTrip);
    }

    private long roundTrip() {
        long ping = ++sequence;
        if (size >= 8) {
            views[0].putLong(0, ping);
        }
        expected = ping;
        answered = false;
        long start = System.nanoTime();
        while (!offered(out.offer(views[0], 0, size))) {
            child.check();
        }
        IdleTurns idle = new IdleTurns();
        while (!answered) {
            idle.after(in.poll(onFragment, 16));
            child.check();
            if (System.nanoTime() - start > UdpPeer.lossTimeoutNanos(size)) {
                return -1;
            }
        }
        return System.nanoTime() - start;
    }

    @Override
    public StreamResult stream(long warmupMillis, long millis) {
        streaming = true;
        acked = 0;
        child.request("sink " + Window.forSize(size).ackEvery(), "ok", ANSWER);
        long start = System.nanoTime() + warmupMillis * 1_000_000L;
        long end = start + millis * 1_000_000L;
        long atStart = -1;
        long startedAt = start;
        int next = 0;
        long now;
        IdleTurns idle = new IdleTurns();
        while ((now = System.nanoTime()) - end < 0) {
            if (atStart < 0 && now - start >= 0) {
                atStart = acked;
                startedAt = System.nanoTime();
            }
            int work = 0;
            if (offered(out.offer(views[next], 0, size))) {
                next = next + 1 == views.length ? 0 : next + 1;
                work++;
            }
            idle.after(work + in.poll(onFragment, 16));
            child.check();
        }
        long delivered = atStart < 0 ? 0 : acked - atStart;
        return new StreamResult(delivered, (System.nanoTime() - startedAt) / 1e9, 0, Double.NaN, Double.NaN);
    }

    @Override
    public void close() {
        try {
            if (driver != null && child.isAlive()) {
                child.request("close", "closed", ANSWER); // the client first, while its driver still runs
            }
        } finally {
            if (aeron != null) {
                aeron.close(); // closes its publication and subscription
            }
            if (driver != null) {
                driver.close(); // deletes its directory
            }
            aeron = null;
            driver = null;
            if (sources != null) {
                sources.close();
            }
            sources = null;
        }
    }
}
