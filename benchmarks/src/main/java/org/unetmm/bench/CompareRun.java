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
 * warmed up and then measured for a fixed time. The repeats interleave across the paths (memcpy,
 * pinned, fixed, memcpy, pinned, fixed, …), so a drift of the shared machine spreads over every
 * path instead of landing on one; each path's ratio to the limit is taken against the memcpy
 * repeat just before it, then summarised (median, min, max).
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
                           boolean aeron, double spreadThreshold) {
        /** Points per message size: memcpy, pinned, fixed, and Aeron IPC when asked. */
        int pathsPerSize() {
            return aeron ? 4 : 3;
        }
    }

    private final Settings settings;
    private final Consumer<String> progress;
    private final List<String> notes = new ArrayList<>();
    private final List<ComparePoint.Repeat> samples = new ArrayList<>();
    /** Hears every lookup of the NIC's TLB from its opening on, or null. */
    private org.unetmm.tlb.AccessRecorder recorder;

    public CompareRun(Settings settings, Consumer<String> progress) {
        this.settings = settings;
        this.progress = progress;
    }

    /**
     * Records the page stream of the NIC's TLB (loopback: one NIC sends and receives, so its
     * TLB sees both sides) from the moment it opens, warm-up included.
     */
    public CompareRun recordingInto(org.unetmm.tlb.AccessRecorder recorder) {
        this.recorder = recorder;
        return this;
    }

    /** What the run left out and why, one line each, for below the table. */
    public List<String> notes() {
        return notes;
    }

    /** Every repeat measured, in the order it ran (the paths interleave), memcpy references included. */
    public List<ComparePoint.Repeat> samples() {
        return samples;
    }

    public List<ComparePoint> run() {
        if (UdpWire.isUdp(settings.transport())) {
            return new CompareUdpRun(settings, progress, notes, samples).run();
        }
        if (ShmCompareRun.isShm(settings.transport())) {
            return new ShmCompareRun(settings, progress, notes, samples).run();
        }
        List<ComparePoint> points = new ArrayList<>();
        int total = settings.sizes().size() * settings.pathsPerSize() * settings.repeats();
        int done = 0;
        NicConfig nicConfig = NicConfig.builder().transport(settings.transport())
                .tlb(settings.tlbSets(), settings.tlbWays(), settings.policy()).seed(settings.seed())
                .progressMode(ProgressMode.CALLER).build();
        int largest = settings.sizes().stream().mapToInt(Integer::intValue).max().orElse(64);
        try (Nic nic = Nic.open(nicConfig);
             Endpoint sender = nic.openEndpoint(EndpointConfig.builder().segmentBytes(0).build());
             Endpoint receiver = nic.openEndpoint(EndpointConfig.builder().segmentBytes(0).build())) {
            Channel out = sender.openChannel();
            Channel in = receiver.openChannel();
            out.connect(in.address());
            in.connect(out.address());
            warmUp(nic, sender, receiver, out);
            nic.experiments().recordTlbAccesses(recorder); // the measured traffic, not the JIT warm-up's one buffer
            for (int size : settings.sizes()) {
                NativeBuffer[] sendBuffers = sendBuffers(size, settings.buffers());
                NativeBuffer receiveBuffer = NativeMemory.allocate(Math.max(size, 1));
                Accumulator memcpy = new Accumulator(settings.transport(), "MEMCPY", size, ComparePoint.ONE_WAY, false);
                Accumulator pinned = new Accumulator(settings.transport(), SendPath.PINNED.name(), size, ComparePoint.ONE_WAY, false);
                Accumulator fixed = new Accumulator(settings.transport(), SendPath.FIXED_SEGMENT.name(), size,
                        ComparePoint.ONE_WAY, false);
                try {
                    for (int repeat = 0; repeat < settings.repeats(); repeat++) {
                        progress.accept(step(++done, total, size, "memcpy", repeat));
                        ComparePoint.Repeat limit = record(samples, memcpy, memcpyRepeat(settings, size, repeat, sendBuffers,
                                receiveBuffer.buffer(), memcpy.latency), 1.0);
                        progress.accept(step(++done, total, size, "PINNED", repeat));
                        record(samples, pinned, measurePath(nic, sender, receiver, out, SendPath.PINNED, size, repeat, sendBuffers,
                                receiveBuffer.buffer(), pinned.latency), limit.gigabytesPerSecond());
                        progress.accept(step(++done, total, size, "FIXED_SEGMENT", repeat));
                        // the segment is pinned for the endpoint's life: open it only while its path is measured, so
                        // under a low RLIMIT_MEMLOCK it does not take the pinned path's budget
                        try (Endpoint segmentSender = nic.openEndpoint(EndpointConfig.builder()
                                .segmentBytes(Math.max(size, 64 << 10)).build())) {
                            Channel segmentOut = segmentSender.openChannel();
                            Channel segmentIn = receiver.openChannel();
                            segmentOut.connect(segmentIn.address());
                            segmentIn.connect(segmentOut.address());
                            record(samples, fixed, measurePath(nic, segmentSender, receiver, segmentOut, SendPath.FIXED_SEGMENT, size,
                                    repeat, sendBuffers, receiveBuffer.buffer(), fixed.latency), limit.gigabytesPerSecond());
                            segmentIn.close();
                        }
                    }
                    points.add(memcpy.point(settings.spreadThreshold()));
                    points.add(pinned.point(settings.spreadThreshold()));
                    points.add(fixed.point(settings.spreadThreshold()));
                } finally {
                    nic.experiments().evictIdlePins();
                    for (NativeBuffer b : sendBuffers) {
                        closeQuietly(nic, b);
                    }
                    closeQuietly(nic, receiveBuffer);
                }
            }
        }
        if (settings.aeron()) {
            measureAeronPhase(points, largest, done, total);
        }
        return points;
    }

    private String step(int done, int total, int size, String path, int repeat) {
        return step(settings, done, total, size, path, repeat);
    }

    /** A progress line: "[3/36] loopback: 64 B: PINNED (repeat 1/3)". */
    static String step(Settings settings, int done, int total, int size, String path, int repeat) {
        return String.format("[%d/%d] %s %d B: %s (repeat %d/%d)", done, total, settings.transport(), size, path, repeat + 1,
                settings.repeats());
    }

    /** Adds {@code repeat}, its ratio taken to the memcpy repeat paired with it, to its point and to the log. */
    static ComparePoint.Repeat record(List<ComparePoint.Repeat> samples, Accumulator into, ComparePoint.Repeat repeat, double limitGigabytes) {
        ComparePoint.Repeat paired = repeat.withRatio(into.path.startsWith("MEMCPY") ? 1.0
                : repeat.gigabytesPerSecond() / limitGigabytes);
        into.repeats.add(paired);
        samples.add(paired);
        return paired;
    }

    /** One point's repeats and latencies while they are measured. */
    static final class Accumulator {
        final String transport;
        final String path;
        final int size;
        final String latencyKind;
        /** Latencies of every repeat; round trips when {@code halve}, reported halved. */
        final Histogram latency = new Histogram(3);
        final boolean halve;
        final List<ComparePoint.Repeat> repeats = new ArrayList<>();
        /** Flags the measurement raised (loss, stall). */
        final java.util.Set<String> flags = new java.util.LinkedHashSet<>();

        Accumulator(String transport, String path, int size, String latencyKind, boolean halve) {
            this.transport = transport;
            this.path = path;
            this.size = size;
            this.latencyKind = latencyKind;
            this.halve = halve;
        }

        ComparePoint point(double spreadThreshold) {
            int divisor = halve ? 2 : 1;
            long p50 = latency.getTotalCount() == 0 ? 0 : latency.getValueAtPercentile(50) / divisor;
            long p99 = latency.getTotalCount() == 0 ? 0 : latency.getValueAtPercentile(99) / divisor;
            double[] ratios = repeats.stream().mapToDouble(ComparePoint.Repeat::ratio).toArray();
            return new ComparePoint(transport, path, size, repeats, p50, p99,
                    ComparePoint.Spread.of(repeats.stream().mapToDouble(ComparePoint.Repeat::tlbHitRate).toArray()).median(),
                    ComparePoint.Spread.of(repeats.stream().mapToDouble(ComparePoint.Repeat::pinsPerMsg).toArray()).median(),
                    ComparePoint.Spread.of(ratios), latencyKind, List.of()).flagged(List.copyOf(flags), spreadThreshold);
        }
    }

    /**
     * Aeron IPC at every size, after the unetmm points: its media driver's conductor thread runs only
     * during this phase, so it does not take a core from the other measurements on a small machine.
     * Each Aeron repeat is paired with a memcpy repeat measured just before it in this phase
     * ({@code MEMCPY_BESIDE_AERON} in the log), so its ratio is not across phases.
     */
    private int measureAeronPhase(List<ComparePoint> points, int largest, int done, int total) {
        try (AeronIpcPeer aeron = startAeron(largest)) {
            ByteBuffer[] warm = {ByteBuffer.allocateDirect(64)};
            aeron.runFor(Math.min(200, 2 * settings.warmupMillis() + 20), 64, warm, ByteBuffer.allocateDirect(64), null);
            for (int size : settings.sizes()) {
                NativeBuffer[] sendBuffers = sendBuffers(size, settings.buffers());
                NativeBuffer receiveBuffer = NativeMemory.allocate(Math.max(size, 1));
                ByteBuffer[] buffers = new ByteBuffer[sendBuffers.length];
                for (int i = 0; i < sendBuffers.length; i++) {
                    buffers[i] = sendBuffers[i].buffer();
                }
                Accumulator reference = new Accumulator(settings.transport(), "MEMCPY_BESIDE_AERON", size,
                        ComparePoint.ONE_WAY, false);
                Accumulator peer = new Accumulator(settings.transport(), "AERON_IPC", size, ComparePoint.ONE_WAY, false);
                try {
                    for (int repeat = 0; repeat < settings.repeats(); repeat++) {
                        progress.accept(step(++done, total, size, "AERON_IPC", repeat));
                        ComparePoint.Repeat limit = record(samples, reference, timed(settings, "MEMCPY_BESIDE_AERON", size, repeat,
                                reference.latency, (millis, h) -> copyFor(millis, size, sendBuffers, receiveBuffer.buffer(), h)), 1);
                        record(samples, peer, timed(settings, "AERON_IPC", size, repeat, peer.latency,
                                (millis, h) -> aeron.runFor(millis, size, buffers, receiveBuffer.buffer(), h)),
                                limit.gigabytesPerSecond());
                    }
                    int at = 0;
                    while (at < points.size() && points.get(at).size() != size) {
                        at++;
                    }
                    while (at < points.size() && points.get(at).size() == size) {
                        at++;
                    }
                    points.add(at, peer.point(settings.spreadThreshold()));
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

    /** One repeat of {@code path}: warm-up, then a measurement whose latencies go into {@code latency}. */
    private ComparePoint.Repeat measurePath(Nic nic, Endpoint sender, Endpoint receiver, Channel out, SendPath path, int size,
                                            int repeat, NativeBuffer[] sendBuffers, ByteBuffer receiveBuffer, Histogram latency) {
        runFor(settings.warmupMillis(), nic, sender, receiver, out, path, size, sendBuffers, receiveBuffer, null);
        TlbStats tlbBefore = nic.stats().tlb();
        PinStats pinsBefore = nic.stats().pins();
        java.time.Instant startedAt = java.time.Instant.now();
        long start = System.nanoTime();
        long messages = runFor(settings.measureMillis(), nic, sender, receiver, out, path, size, sendBuffers,
                receiveBuffer, latency);
        double seconds = (System.nanoTime() - start) / 1e9;
        TlbStats tlbAfter = nic.stats().tlb();
        PinStats pinsAfter = nic.stats().pins();
        long hits = tlbAfter.hits() - tlbBefore.hits();
        long lookups = hits + tlbAfter.misses() - tlbBefore.misses();
        double hitRate = path == SendPath.PINNED || lookups > 0 ? (lookups == 0 ? 1.0 : (double) hits / lookups) : Double.NaN;
        double pins = (double) (pinsAfter.lockCalls() - pinsBefore.lockCalls()) / Math.max(1, messages);
        return new ComparePoint.Repeat(path.name(), size, repeat, startedAt, messages, seconds, hitRate, pins, Double.NaN);
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
                if (!receiver.postReceive(receiveBuffer, 0, Math.max(size, 1), messages).isPosted()) {
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

    /** A timed loop: runs for {@code millis}, recording each message's latency when given a histogram; returns messages moved. */
    interface TimedLoop {
        long runFor(long millis, Histogram latency);
    }

    /** One repeat of a timed loop: warm-up, then a measurement whose latencies go into {@code latency}. */
    static ComparePoint.Repeat timed(Settings settings, String path, int size, int repeat, Histogram latency, TimedLoop loop) {
        loop.runFor(settings.warmupMillis(), null);
        java.time.Instant startedAt = java.time.Instant.now();
        long start = System.nanoTime();
        long messages = loop.runFor(settings.measureMillis(), latency);
        double seconds = (System.nanoTime() - start) / 1e9;
        return new ComparePoint.Repeat(path, size, repeat, startedAt, messages, seconds, Double.NaN, Double.NaN, Double.NaN);
    }

    /** The physical limit at {@code size}: one repeat of a plain copy of the same bytes, timed as the paths are. */
    static ComparePoint.Repeat memcpyRepeat(Settings settings, int size, int repeat, NativeBuffer[] sources, ByteBuffer destination,
                                            Histogram latency) {
        return timed(settings, "MEMCPY", size, repeat, latency, (millis, h) -> copyFor(millis, size, sources, destination, h));
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

    static void fill(ByteBuffer buffer, int size, int seed) {
        for (int i = 0; i < size; i++) {
            buffer.put(i, (byte) (i * 31 + seed));
        }
    }
}
