package org.unetmm.bench;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import org.HdrHistogram.Histogram;
import org.unetmm.Channel;
import org.unetmm.Completion;
import org.unetmm.CompletionHandler;
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
 * latency is one-way send → receive completion and the throughput is what one core moves. On a
 * udp wire the sweep is {@link CompareUdpRun}'s: two NICs, two threads, Java NIO and Aeron beside.
 */
public final class CompareRun {
    /** What to run; validated by the command. */
    public record Settings(String transport, List<Integer> sizes, int buffers, long warmupMillis, long measureMillis,
                           int repeats, int tlbSets, int tlbWays, org.unetmm.tlb.ReplacementPolicy policy, long seed,
                           boolean aeron) {
        /** Points per message size: memcpy, pinned, fixed, and Aeron IPC when asked. */
        int pathsPerSize() {
            return aeron ? 4 : 3;
        }
    }

    private final Settings settings;
    private final Consumer<String> progress;
    private final List<String> notes = new ArrayList<>();
    /** Hears every lookup of the NIC's TLB from its opening on, or null. */
    private org.unetmm.tlb.AccessRecorder recorder;

    public CompareRun(Settings settings, Consumer<String> progress) {
        this.settings = settings;
        this.progress = progress;
    }

    /** What the run left out and why, one line each, for below the table. */
    /**
     * Records the page stream of the NIC's TLB (loopback: one NIC sends and receives, so its
     * TLB sees both sides) from the moment it opens, warm-up included.
     */
    public CompareRun recordingInto(org.unetmm.tlb.AccessRecorder recorder) {
        this.recorder = recorder;
        return this;
    }

    public List<String> notes() {
        return notes;
    }

    public List<ComparePoint> run() {
        if (UdpWire.isUdp(settings.transport())) {
            return new CompareUdpRun(settings, progress, notes).run();
        }
        List<ComparePoint> points = new ArrayList<>();
        int total = settings.sizes().size() * settings.pathsPerSize();
        int done = 0;
        NicConfig nicConfig = NicConfig.builder().transport(settings.transport())
                .tlb(settings.tlbSets(), settings.tlbWays(), settings.policy()).seed(settings.seed())
                .progressMode(ProgressMode.CALLER).build();
        int largest = settings.sizes().stream().mapToInt(Integer::intValue).max().orElse(64);
        try (Nic nic = Nic.open(nicConfig);
             Endpoint sender = nic.createEndpoint(EndpointConfig.builder().segmentBytes(0).build());
             Endpoint receiver = nic.createEndpoint(EndpointConfig.builder().segmentBytes(0).build())) {
            nic.tlb().record(recorder);
            Channel out = sender.openChannel();
            Channel in = receiver.openChannel();
            out.connect(in.address());
            in.connect(out.address());
            warmUp(nic, sender, receiver, out);
            for (int size : settings.sizes()) {
                NativeBuffer[] sendBuffers = sendBuffers(size, settings.buffers());
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
        if (settings.aeron()) {
            done = measureAeronPhase(points, largest, done, total);
        }
        return points;
    }

    /**
     * Aeron IPC at every size, after the unetmm points: its media driver's conductor thread runs only
     * during this phase, so it does not take a core from the other measurements on a small machine.
     */
    private int measureAeronPhase(List<ComparePoint> points, int largest, int done, int total) {
        try (AeronIpcPeer aeron = startAeron(largest)) {
            ByteBuffer[] warm = {ByteBuffer.allocateDirect(64)};
            aeron.runFor(Math.min(200, 2 * settings.warmupMillis() + 20), 64, warm, ByteBuffer.allocateDirect(64), null);
            for (int size : settings.sizes()) {
                progress.accept(String.format("[%d/%d] %s %d B: AERON_IPC", ++done, total, settings.transport(), size));
                NativeBuffer[] sendBuffers = sendBuffers(size, settings.buffers());
                NativeBuffer receiveBuffer = NativeMemory.allocate(Math.max(size, 1));
                try {
                    ComparePoint peer = measureAeron(aeron, size, sendBuffers, receiveBuffer.buffer());
                    double limit = points.stream().filter(p -> p.size() == size && p.path().equals("MEMCPY"))
                            .mapToDouble(ComparePoint::gigabytesPerSecond).findFirst().orElse(Double.NaN);
                    int at = 0;
                    while (at < points.size() && points.get(at).size() != size) {
                        at++;
                    }
                    while (at < points.size() && points.get(at).size() == size) {
                        at++;
                    }
                    points.add(at, peer.withLimitRatio(peer.gigabytesPerSecond() / limit));
                } finally {
                    for (NativeBuffer b : sendBuffers) {
                        b.close();
                    }
                    receiveBuffer.close();
                }
            }
        }
        return done;
    }

    /** Compiles the data path before the first point, so a short first measurement is not of the interpreter. */
    private void warmUp(Nic nic, Endpoint sender, Endpoint receiver, Channel out) {
        NativeBuffer[] one = {NativeMemory.allocate(4096)};
        NativeBuffer target = NativeMemory.allocate(4096);
        try {
            runFor(Math.min(200, 2 * settings.warmupMillis() + 20), nic, sender, receiver, out, SendPath.PINNED, 64, one,
                    target.buffer(), null);
        } finally {
            closeQuietly(nic, one[0]);
            closeQuietly(nic, target);
        }
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
                    latency.getValueAtPercentile(50), latency.getValueAtPercentile(99), hitRate, pins, 0,
                    ComparePoint.ONE_WAY);
            if (best == null || point.gigabytesPerSecond() > best.gigabytesPerSecond()) {
                best = point;
            }
        }
        return best;
    }

    /** Counts successful completions per kind, without allocating (the completion view is reused). */
    private static final class Tally implements CompletionHandler {
        int completions;

        @Override
        public void onCompletion(Completion c) {
            check(c);
            completions++;
        }
    }

    private static long runFor(long millis, Nic nic, Endpoint sender, Endpoint receiver, Channel out, SendPath path,
                               int size, NativeBuffer[] sendBuffers, ByteBuffer receiveBuffer, Histogram latency) {
        long end = System.nanoTime() + millis * 1_000_000L;
        long messages = 0;
        int next = 0;
        Tally sends = new Tally();
        Tally receives = new Tally();
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
                sends.completions = 0;
                receives.completions = 0;
                while (receives.completions == 0) {
                    nic.progress();
                    receiver.poll(receives, 1);
                }
                if (latency != null) {
                    latency.recordValue(Math.max(0, System.nanoTime() - start));
                }
                while (sends.completions == 0) {
                    nic.progress();
                    sender.poll(sends, 1);
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

    private static AeronIpcPeer startAeron(int largest) {
        try {
            return new AeronIpcPeer(Math.max(largest, 64));
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException("cannot start the embedded Aeron media driver", e);
        }
    }

    private ComparePoint measureAeron(AeronIpcPeer aeron, int size, NativeBuffer[] sources, ByteBuffer destination) {
        ByteBuffer[] buffers = new ByteBuffer[sources.length];
        for (int i = 0; i < sources.length; i++) {
            buffers[i] = sources[i].buffer();
        }
        return bestOf(settings, "AERON_IPC", size, (millis, latency) -> aeron.runFor(millis, size, buffers, destination, latency));
    }

    private ComparePoint measureMemcpy(int size, NativeBuffer[] sources, ByteBuffer destination) {
        return measureMemcpy(settings, size, sources, destination);
    }

    /** The physical limit at {@code size}: a plain copy of the same bytes, timed as the paths are. */
    static ComparePoint measureMemcpy(Settings settings, int size, NativeBuffer[] sources, ByteBuffer destination) {
        return bestOf(settings, "MEMCPY", size, (millis, latency) -> copyFor(millis, size, sources, destination, latency));
    }

    /** A timed loop: runs for {@code millis}, recording each message's latency when given a histogram; returns messages moved. */
    interface TimedLoop {
        long runFor(long millis, Histogram latency);
    }

    /** Warm-up then measurement, {@code repeats} times; the repeat with the best throughput is the point. */
    static ComparePoint bestOf(Settings settings, String path, int size, TimedLoop loop) {
        ComparePoint best = null;
        for (int repeat = 0; repeat < settings.repeats(); repeat++) {
            loop.runFor(settings.warmupMillis(), null);
            Histogram latency = new Histogram(3);
            long start = System.nanoTime();
            long messages = loop.runFor(settings.measureMillis(), latency);
            double seconds = (System.nanoTime() - start) / 1e9;
            ComparePoint point = new ComparePoint(settings.transport(), path, size, messages, seconds,
                    latency.getValueAtPercentile(50), latency.getValueAtPercentile(99), Double.NaN, Double.NaN, 0,
                    ComparePoint.ONE_WAY);
            if (best == null || point.gigabytesPerSecond() > best.gigabytesPerSecond()) {
                best = point;
            }
        }
        return best;
    }

    /** {@code count} send buffers of {@code size} bytes, each with its own pattern. */
    static NativeBuffer[] sendBuffers(int size, int count) {
        NativeBuffer[] buffers = new NativeBuffer[count];
        for (int i = 0; i < count; i++) {
            buffers[i] = NativeMemory.allocate(Math.max(size, 1));
            fill(buffers[i].buffer(), size, i);
        }
        return buffers;
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
