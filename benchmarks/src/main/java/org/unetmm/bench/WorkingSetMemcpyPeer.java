package org.unetmm.bench;

import java.nio.ByteBuffer;
import org.HdrHistogram.Histogram;
import org.unetmm.SendPath;
import org.unetmm.pinning.PinBudget;

/**
 * The cross-process compare's second limit ({@code WORKING_SET_MEMCPY}): one copy per message, in
 * this process, over the same working set as the shm pinned stream. The {@code MEMCPY} row copies
 * {@code --buffers} sources into one destination that stays in cache (~30 GB/s here); a
 * cross-process stream reads as many sources as it has messages in flight and writes as many
 * buffers as the receiver posted, which at 1 MiB is 8 MiB out and 16 MiB in: a copy that works
 * through the caches, not one inside them (~5–7.5 GB/s here). This row cycles through exactly
 * those buffers — {@link ShmStreamPlan#messages()} sources and {@link ShmStreamPlan#receiveBuffers()}
 * destinations of the pinned stream's plan at the size (the one the pinned peer planned, or the
 * same plan against this process's budget) — so PINNED ÷ this row is the share of a single copy
 * of that working set the wire reaches. Both limits are reported: the target is against
 * {@code MEMCPY}.
 *
 * <p>Its "ping-pong" copies a message there and back, one copy each way, so the table's rtt/2 is
 * one copy of one message out of the working set.
 */
final class WorkingSetMemcpyPeer implements UdpPeer {
    static final String ROW = "WORKING_SET_MEMCPY";

    private final CrossProcessPeer pinned;
    private int size;
    private BufferPool sources;
    private BufferPool destinations;
    private int nextSource;
    private int nextDestination;

    /** Takes its working set from {@code pinned}'s plan at the size, when that peer has planned it. */
    WorkingSetMemcpyPeer(CrossProcessPeer pinned) {
        this.pinned = pinned;
    }

    @Override
    public String name() {
        return "memcpy over the stream's working set";
    }

    /** The plan whose buffers this row copies through at {@code messageSize}. */
    ShmStreamPlan plan(int messageSize) {
        ShmStreamPlan planned = pinned.plan();
        if (planned != null && planned.size() == messageSize) {
            return planned;
        }
        long budget = PinBudget.fromProcess().bytes();
        return ShmStreamPlan.plan(SendPath.PINNED, messageSize, budget, budget);
    }

    @Override
    public void open(int messageSize) {
        size = messageSize;
        ShmStreamPlan plan = plan(messageSize);
        try {
            sources = BufferPool.filled(size, plan.messages());
            destinations = new BufferPool(size, plan.receiveBuffers());
        } catch (RuntimeException e) {
            close();
            throw e;
        }
        nextSource = 0;
        nextDestination = 0;
    }

    /** Bytes this row cycles through: its sources and destinations together. */
    long workingSetBytes() {
        return (long) (sources.count() + destinations.count()) * Math.max(1, size);
    }

    private void copyOne() {
        ByteBuffer from = sources.get(nextSource);
        ByteBuffer to = destinations.get(nextDestination);
        nextSource = nextSource + 1 == sources.count() ? 0 : nextSource + 1;
        nextDestination = nextDestination + 1 == destinations.count() ? 0 : nextDestination + 1;
        to.put(0, from, 0, size);
    }

    @Override
    public long pingPong(Span warmup, Span measure, Histogram rtt) {
        for (long done = 0, start = System.nanoTime(); warmup.more(done, start); done++) {
            copyOne();
            copyOne();
        }
        for (long done = 0, start = System.nanoTime(); measure.more(done, start); done++) {
            long t = System.nanoTime();
            copyOne();
            copyOne();
            rtt.recordValue(Math.max(2, System.nanoTime() - t));
        }
        return 0;
    }

    /**
     * Copies for {@code millis} after a warm-up, timed as the {@code MEMCPY} row is
     * ({@code CompareRun.copyFor}: each copy between two clock reads while measured), so the two
     * limits differ in the working set alone.
     */
    @Override
    public StreamResult stream(long warmupMillis, long millis) {
        copyFor(warmupMillis, null);
        long start = System.nanoTime();
        long messages = copyFor(millis, new Histogram(3));
        return new StreamResult(messages, (System.nanoTime() - start) / 1e9, 0, Double.NaN, Double.NaN);
    }

    private long copyFor(long millis, Histogram latency) {
        long end = System.nanoTime() + millis * 1_000_000L;
        long messages = 0;
        do {
            for (int batch = 0; batch < 16; batch++) {
                long start = System.nanoTime();
                copyOne();
                if (latency != null) {
                    latency.recordValue(Math.max(0, System.nanoTime() - start));
                }
            }
            messages += 16;
        } while (System.nanoTime() - end < 0);
        return messages;
    }

    @Override
    public void close() {
        if (sources != null) {
            sources.close();
        }
        if (destinations != null) {
            destinations.close();
        }
        sources = null;
        destinations = null;
    }
}
