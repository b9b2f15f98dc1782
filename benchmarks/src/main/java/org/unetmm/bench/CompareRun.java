package org.unetmm.bench;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import org.HdrHistogram.Histogram;
import org.unetmm.Channel;
import org.unetmm.Completion;
import org.unetmm.Endpoint;
import org.unetmm.EndpointConfig;
import org.unetmm.Nic;
import org.unetmm.NicConfig;
import org.unetmm.ProgressMode;
import org.unetmm.SendPath;
import org.unetmm.SendStatus;
import org.unetmm.pinning.NativeBuffer;
import org.unetmm.pinning.NativeMemory;
import org.unetmm.pinning.PinStats;
import org.unetmm.tlb.TlbStats;

/**
 * The measurement behind {@code unetmm compare}: for each message size, the pinned path, the
 * fixed-segment path and a raw memcpy of the same bytes, side by side in one process run, each
 * warmed up and then measured for a fixed time, repeated, keeping the best repeat's throughput
 * (the least disturbed by the shared machine).
 *
 * <p>On the loopback wire one NIC with two endpoints is driven by the caller ({@link
 * ProgressMode#CALLER}): each message is sent, progressed and received before the next, so the
 * latency is one-way send → receive completion and the throughput is what one core moves.
 */
public final class CompareRun {
    /** What to run; validated by the command. */
    public record Settings(String transport, List<Integer> sizes, int buffers, long warmupMillis, long measureMillis,
                           int repeats, int tlbSets, int tlbWays, org.unetmm.tlb.ReplacementPolicy policy, long seed) {
    }

    private final Settings settings;
    private final Consumer<String> progress;

    public CompareRun(Settings settings, Consumer<String> progress) {
        this.settings = settings;
        this.progress = progress;
    }

    public List<ComparePoint> run() {
        List<ComparePoint> points = new ArrayList<>();
        int total = settings.sizes().size() * 3;
        int done = 0;
        NicConfig nicConfig = NicConfig.builder().transport(settings.transport())
                .tlb(settings.tlbSets(), settings.tlbWays(), settings.policy()).seed(settings.seed())
                .progressMode(ProgressMode.CALLER).build();
        try (Nic nic = Nic.open(nicConfig);
             Endpoint sender = nic.createEndpoint(EndpointConfig.builder().segmentBytes(0).build());
             Endpoint receiver = nic.createEndpoint(EndpointConfig.builder().segmentBytes(0).build())) {
            Channel out = sender.openChannel();
            Channel in = receiver.openChannel();
            out.connect(in.address());
            in.connect(out.address());
            for (int size : settings.sizes()) {
                NativeBuffer[] sendBuffers = new NativeBuffer[settings.buffers()];
                for (int i = 0; i < sendBuffers.length; i++) {
                    sendBuffers[i] = NativeMemory.allocate(Math.max(size, 1));
                    fill(sendBuffers[i].buffer(), size, i);
                }
                NativeBuffer receiveBuffer = NativeMemory.allocate(Math.max(size, 1));
                try {
                    progress.accept(String.format("[%d/%d] %s %d B: memcpy", ++done, total, settings.transport(), size));
                    ComparePoint limit = measureMemcpy(size, sendBuffers, receiveBuffer.buffer());
                    points.add(limit.withLimitRatio(1.0));
                    progress.accept(String.format("[%d/%d] %s %d B: PINNED", ++done, total, settings.transport(), size));
                    ComparePoint pinned = measurePath(nic, sender, receiver, out, SendPath.PINNED, size, sendBuffers,
                            receiveBuffer.buffer());
                    points.add(pinned.withLimitRatio(pinned.gigabytesPerSecond() / limit.gigabytesPerSecond()));
                    progress.accept(String.format("[%d/%d] %s %d B: FIXED_SEGMENT", ++done, total, settings.transport(), size));
                    // the segment is pinned for the endpoint's life: open it only while its path is measured, so
                    // under a low RLIMIT_MEMLOCK it does not take the pinned path's budget
                    try (Endpoint segmentSender = nic.createEndpoint(EndpointConfig.builder()
                            .segmentBytes(Math.max(size, 64 << 10)).build())) {
                        Channel segmentOut = segmentSender.openChannel();
                        Channel segmentIn = receiver.openChannel();
                        segmentOut.connect(segmentIn.address());
                        segmentIn.connect(segmentOut.address());
                        ComparePoint fixed = measurePath(nic, segmentSender, receiver, segmentOut, SendPath.FIXED_SEGMENT,
                                size, sendBuffers, receiveBuffer.buffer());
                        points.add(fixed.withLimitRatio(fixed.gigabytesPerSecond() / limit.gigabytesPerSecond()));
                        segmentIn.close();
                    }
                } finally {
                    nic.pinCache().evictIdle();
                    for (NativeBuffer b : sendBuffers) {
                        closeQuietly(nic, b);
                    }
                    closeQuietly(nic, receiveBuffer);
                }
            }
        }
        return points;
    }

    /** Frees a buffer: the pin cache first has the TLB shoot down its translations, then drops its pins. */
    private static void closeQuietly(Nic nic, NativeBuffer buffer) {
        buffer.close();
    }

    private ComparePoint measurePath(Nic nic, Endpoint sender, Endpoint receiver, Channel out, SendPath path, int size,
                                     NativeBuffer[] sendBuffers, ByteBuffer receiveBuffer) {
        ComparePoint best = null;
        for (int repeat = 0; repeat < settings.repeats(); repeat++) {
            runFor(settings.warmupMillis(), nic, sender, receiver, out, path, size, sendBuffers, receiveBuffer, null);
            TlbStats tlbBefore = nic.tlb().stats();
            PinStats pinsBefore = nic.pinCache().stats();
            Histogram latency = new Histogram(3);
            long start = System.nanoTime();
            long messages = runFor(settings.measureMillis(), nic, sender, receiver, out, path, size, sendBuffers,
                    receiveBuffer, latency);
            double seconds = (System.nanoTime() - start) / 1e9;
            TlbStats tlbAfter = nic.tlb().stats();
            PinStats pinsAfter = nic.pinCache().stats();
            long hits = tlbAfter.hits() - tlbBefore.hits();
            long lookups = hits + tlbAfter.misses() - tlbBefore.misses();
            double hitRate = path == SendPath.PINNED || lookups > 0 ? (lookups == 0 ? 1.0 : (double) hits / lookups) : Double.NaN;
            double pins = (double) (pinsAfter.lockCalls() - pinsBefore.lockCalls()) / Math.max(1, messages);
            ComparePoint point = new ComparePoint(settings.transport(), path.name(), size, messages, seconds,
                    latency.getValueAtPercentile(50), latency.getValueAtPercentile(99), hitRate, pins, 0);
            if (best == null || point.gigabytesPerSecond() > best.gigabytesPerSecond()) {
                best = point;
            }
        }
        return best;
    }

    private static long runFor(long millis, Nic nic, Endpoint sender, Endpoint receiver, Channel out, SendPath path,
                               int size, NativeBuffer[] sendBuffers, ByteBuffer receiveBuffer, Histogram latency) {
        long end = System.nanoTime() + millis * 1_000_000L;
        long messages = 0;
        int next = 0;
        do {
            for (int batch = 0; batch < 16; batch++) {
                if (!receiver.postReceive(receiveBuffer, 0, Math.max(size, 1), messages)) {
                    throw new IllegalStateException("free queue full: a receive was not consumed");
                }
                ByteBuffer source = sendBuffers[next].buffer();
                next = next + 1 == sendBuffers.length ? 0 : next + 1;
                long start = System.nanoTime();
                SendStatus status = sender.send(out, source, 0, size, path, messages);
                if (status != SendStatus.ACCEPTED) {
                    throw new IllegalStateException("send was not accepted: " + status);
                }
                boolean sent = false;
                boolean received = false;
                while (!(sent && received)) {
                    nic.progress();
                    Completion c;
                    while ((c = receiver.poll()) != null) {
                        check(c);
                        received = true;
                        if (latency != null) {
                            latency.recordValue(Math.max(0, System.nanoTime() - start));
                        }
                    }
                    while ((c = sender.poll()) != null) {
                        check(c);
                        sent = true;
                    }
                }
                messages++;
            }
        } while (System.nanoTime() - end < 0);
        return messages;
    }

    private static void check(Completion c) {
        if (!c.isSuccess()) {
            throw new IllegalStateException("operation failed during the measurement: " + c);
        }
    }

    private ComparePoint measureMemcpy(int size, NativeBuffer[] sources, ByteBuffer destination) {
        ComparePoint best = null;
        for (int repeat = 0; repeat < settings.repeats(); repeat++) {
            copyFor(settings.warmupMillis(), size, sources, destination, null);
            Histogram latency = new Histogram(3);
            long start = System.nanoTime();
            long messages = copyFor(settings.measureMillis(), size, sources, destination, latency);
            double seconds = (System.nanoTime() - start) / 1e9;
            ComparePoint point = new ComparePoint(settings.transport(), "MEMCPY", size, messages, seconds,
                    latency.getValueAtPercentile(50), latency.getValueAtPercentile(99), Double.NaN, Double.NaN, 1.0);
            if (best == null || point.gigabytesPerSecond() > best.gigabytesPerSecond()) {
                best = point;
            }
        }
        return best;
    }

    private static long copyFor(long millis, int size, NativeBuffer[] sources, ByteBuffer destination, Histogram latency) {
        long end = System.nanoTime() + millis * 1_000_000L;
        long messages = 0;
        int next = 0;
        do {
            for (int batch = 0; batch < 16; batch++) {
                ByteBuffer source = sources[next].buffer();
                next = next + 1 == sources.length ? 0 : next + 1;
                long start = System.nanoTime();
                destination.put(0, source, 0, size);
                if (latency != null) {
                    latency.recordValue(Math.max(0, System.nanoTime() - start));
                }
                messages++;
            }
        } while (System.nanoTime() - end < 0);
        return messages;
    }

    private static void fill(ByteBuffer buffer, int size, int seed) {
        for (int i = 0; i < size; i++) {
            buffer.put(i, (byte) (i * 31 + seed));
        }
    }
}
