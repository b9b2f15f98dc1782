package org.unetmm.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Consumer;
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
import org.unetmm.pinning.PinBudget;
import org.unetmm.pinning.PinCacheConfig;
import org.unetmm.pinning.PinStats;
import org.unetmm.pinning.ProcessStatus;
import org.unetmm.tlb.ReplacementPolicy;
import org.unetmm.tlb.TlbConfig;
import org.unetmm.tlb.TlbStats;
import org.unetmm.tlb.trace.BeladyOpt;
import org.unetmm.tlb.trace.PageTrace;
import org.unetmm.tlb.trace.PageTraceRecorder;
import org.unetmm.tlb.trace.TraceFile;
import org.unetmm.tlb.trace.TraceResult;
import org.unetmm.tlb.trace.TraceRunner;

/**
 * The measurement behind {@code unetmm pressure}: every combination of TLB entries × ways ×
 * policy × pin budget × distribution × working-set size. A point replays one seeded page trace
 * either as real traffic (default) — one page-sized PINNED message per access, from the page the
 * trace names, between two NICs on the chosen wire so the sending NIC's TLB sees only the send
 * side — or, with {@code trace-only}, straight against a TLB over a pin cache
 * ({@link TraceRunner}). OPT's hit rate for the same trace and capacity is computed beside it,
 * and the static top-C bound of the trace's generator where it has one
 * ({@link PageTrace#staticTopCHitRate}).
 *
 * <p>With a trace file the sweep is over TLB shapes and policies only: the recorded trace is
 * replayed as a model run ({@link TraceRunner#simulate}: hits and misses, no pinning), each page
 * at the virtual page number it was recorded at, so it falls in the set it had. Its top-C bound
 * is absent: a recorded trace's distribution is unknown. With a record file the traffic of the
 * sweep's first point is recorded as the sending NIC's TLB saw it ({@link org.unetmm.tlb.Tlb#record}), every
 * lookup from the first message on, and written when the point ends; the stream is the same for
 * every TLB shape and policy of the sweep, which is why one trace (one distribution, one working
 * set) is all a recording sweep may have.
 *
 * <p>On a udp wire the receiving NIC binds the same host on its own port ({@link UdpWire#secondNic})
 * and a datagram may be lost. A message not received within {@link #LOSS_TIMEOUT_NANOS} is counted
 * lost and the replay goes on; it is not sent again, because the sending NIC translated its page
 * before handing it to the wire, so the TLB has seen the access already, and a resend would be an
 * access the trace does not have (one OPT was not computed for).
 */
public final class PressureRun {
    /** What to sweep; validated by the command. */
    public record Settings(String transport, List<Integer> tlbEntries, List<Integer> tlbWays,
                           List<ReplacementPolicy> policies, List<Long> budgets, List<String> distributions,
                           List<Integer> workingSets, int accesses, long seed, boolean traceOnly, PageTrace replay,
                           Path recordTrace, int repeats, double spreadThreshold) {
        int points() {
            if (replay != null) {
                return tlbEntries.size() * tlbWays.size() * policies.size();
            }
            return tlbEntries.size() * tlbWays.size() * policies.size() * budgets.size() * distributions.size()
                    * workingSets.size();
        }
    }

    private static final long PAGE = NativeMemory.pageSize();
    /** A traffic message not received in this time is lost (udp): far above a page's one-way trip. */
    static final long LOSS_TIMEOUT_NANOS = 200_000_000L;
    private final Settings settings;
    private final Consumer<String> progress;
    /** Whether the record file has been written (by the first traffic point). */
    private boolean recorded;

    public PressureRun(Settings settings, Consumer<String> progress) {
        this.settings = settings;
        this.progress = progress;
    }

    /**
     * The sweep: every point once per repeat, the repeats interleaved across the points (repeat 1 of
     * every point, then repeat 2, …) so drift of the machine spreads over all of them alike.
     */
    public List<PressurePoint> run() {
        if (settings.replay() != null) {
            return replay(settings.replay());
        }
        int total = settings.points();
        PressurePoint[] points = new PressurePoint[total];
        for (int repeat = 0; repeat < settings.repeats(); repeat++) {
            int done = 0;
            for (int entries : settings.tlbEntries()) {
                for (int ways : settings.tlbWays()) {
                    for (ReplacementPolicy policy : settings.policies()) {
                        for (long budget : settings.budgets()) {
                            for (String distribution : settings.distributions()) {
                                for (int workingSet : settings.workingSets()) {
                                    progress.accept(String.format("[%d/%d]%s TLB %d×%d-way %s, budget %s, %s over %d pages",
                                            done + 1, total, settings.repeats() > 1 ? String.format(" repeat %d/%d", repeat + 1,
                                                    settings.repeats()) : "", entries / ways, ways, policy,
                                            budget == Long.MAX_VALUE ? "unlimited" : budget + " B", distribution, workingSet));
                                    PageTrace trace = trace(distribution, workingSet, settings.accesses(), settings.seed());
                                    TlbConfig tlb = new TlbConfig(entries / ways, ways, policy, settings.seed());
                                    PressurePoint p = settings.traceOnly()
                                            ? traceOnly(trace, tlb, budget, distribution, workingSet, repeat)
                                            : traffic(trace, tlb, budget, distribution, workingSet, repeat);
                                    points[done] = points[done] == null ? p : points[done].plus(p);
                                    done++;
                                }
                            }
                        }
                    }
                }
            }
        }
        return Arrays.stream(points).map(p -> p.flagged(settings.spreadThreshold())).toList();
    }

    /** Every TLB shape and policy against a recorded trace, model runs. */
    private List<PressurePoint> replay(PageTrace trace) {
        List<PressurePoint> points = new ArrayList<>();
        int total = settings.points();
        int done = 0;
        String distribution = "file:" + trace.name();
        int footprint = trace.distinctPages();
        for (int entries : settings.tlbEntries()) {
            for (int ways : settings.tlbWays()) {
                double opt = BeladyOpt.hitRate(trace, entries);
                for (ReplacementPolicy policy : settings.policies()) {
                    progress.accept(String.format("[%d/%d] TLB %d×%d-way %s, replaying %s (%d accesses, %d pages)",
                            ++done, total, entries / ways, ways, policy, trace.name(), trace.length(), footprint));
                    TlbConfig tlb = new TlbConfig(entries / ways, ways, policy, settings.seed());
                    Instant started = Instant.now();
                    long start = System.nanoTime();
                    TraceResult r = TraceRunner.simulate(trace, tlb);
                    points.add(PressurePoint.of("replay", entries, ways, policy.name(), Long.MAX_VALUE, distribution,
                            footprint, r.accesses(), opt, Double.NaN, new PressurePoint.Repeat(0, started,
                                    (System.nanoTime() - start) / 1e9, r.tlbHitRate(), Double.NaN, 0, 0,
                                    r.tlbStats().missLatency().getValueAtPercentile(50), r.p99MissNanos(), Double.NaN, 0, 0, 0))
                            .flagged(settings.spreadThreshold()));
                }
            }
        }
        return points;
    }

    static PageTrace trace(String distribution, int pages, int length, long seed) {
        if (distribution.equals("uniform")) {
            return PageTrace.uniform(1, pages, length, seed);
        }
        if (distribution.equals("sequential")) {
            return PageTrace.sequential(1, pages, length, seed);
        }
        if (distribution.equals("loop")) {
            return PageTrace.loop(1, pages, pages, length, seed);
        }
        if (distribution.startsWith("zipf")) {
            double theta = distribution.contains(":") ? Double.parseDouble(distribution.substring(distribution.indexOf(':') + 1)) : 0.99;
            return PageTrace.zipf(1, pages, theta, length, seed);
        }
        throw new IllegalArgumentException("unknown distribution '" + distribution
                + "': use uniform, zipf[:theta], sequential or loop");
    }

    private PressurePoint traceOnly(PageTrace trace, TlbConfig tlb, long budget, String distribution, int workingSet,
                                    int repeat) {
        PinBudget pinBudget = budget == Long.MAX_VALUE ? PinBudget.fromProcess() : PinBudget.ofBytes(budget);
        long before = ProcessStatus.vmLckBytes();
        Instant started = Instant.now();
        long start = System.nanoTime();
        TraceResult r = TraceRunner.run(trace, tlb, PinCacheConfig.builder().budget(pinBudget).build());
        return PressurePoint.of("trace", tlb.entries(), tlb.ways(), tlb.policy().name(), budget, distribution, workingSet,
                r.accesses(), r.optHitRate(), r.topCHitRate(), new PressurePoint.Repeat(repeat, started,
                        (System.nanoTime() - start) / 1e9, r.tlbHitRate(), r.pinCacheHitRate(), r.pinsPerAccess(),
                        r.unpinsPerAccess(), r.tlbStats().missLatency().getValueAtPercentile(50), r.p99MissNanos(), Double.NaN,
                        r.peakPinnedBytes(), r.kernelLockedBytes() + Math.max(0, ProcessStatus.vmLckBytes() - before), 0));
    }

    private PressurePoint traffic(PageTrace trace, TlbConfig tlb, long budget, String distribution, int workingSet,
                                  int repeat) {
        PinBudget pinBudget = budget == Long.MAX_VALUE ? PinBudget.fromProcess() : PinBudget.ofBytes(budget);
        long baseline = ProcessStatus.vmLckBytes();
        long vmLckPeak = 0;
        NicConfig sendConfig = NicConfig.builder().transport(settings.transport()).progressMode(ProgressMode.CALLER)
                .tlb(tlb.sets(), tlb.ways(), tlb.policy()).seed(tlb.seed()).pinBudget(pinBudget).build();
        NicConfig receiveConfig = NicConfig.builder().transport(UdpWire.secondNic(settings.transport()))
                .progressMode(ProgressMode.CALLER).build();
        NativeBuffer workingMemory = NativeMemory.allocate((int) (workingSet * PAGE));
        ByteBuffer memory = workingMemory.buffer();
        for (int page = 0; page < workingSet; page++) {
            memory.putLong((int) (page * PAGE), page);
        }
        try (Nic sender = Nic.open(sendConfig); Nic receiver = Nic.open(receiveConfig)) {
            Endpoint out = sender.openEndpoint(EndpointConfig.builder().segmentBytes(0).build());
            Endpoint in = receiver.openEndpoint(EndpointConfig.builder().segmentBytes(0).build());
            Channel channel = out.openChannel();
            Channel back = in.openChannel();
            channel.connect(back.address());
            back.connect(channel.address());
            ByteBuffer target = ByteBuffer.allocateDirect((int) PAGE).order(memory.order());
            PageTraceRecorder recorder = settings.recordTrace() != null && !recorded
                    ? new PageTraceRecorder(trace.length()) : null;
            sender.experiments().recordTlbAccesses(recorder);
            TlbStats tlbBefore = sender.stats().tlb();
            PinStats pinsBefore = sender.stats().pins();
            Instant started = Instant.now();
            long start = System.nanoTime();
            long lost = 0;
            boolean posted = false;
            for (int i = 0; i < trace.length(); i++) {
                if (!posted) { // still posted when the last message was lost
                    in.postReceive(target, i);
                    posted = true;
                }
                int page = trace.page(i);
                if (out.send(channel, memory, (int) (page * PAGE), (int) PAGE, SendPath.PINNED, i) != SendStatus.ACCEPTED) {
                    throw new IllegalStateException("send not accepted at access " + i);
                }
                long sentAt = System.nanoTime();
                boolean sent = false;
                boolean received = false;
                while (!(sent && received)) {
                    sender.progress();
                    receiver.progress();
                    Completion c;
                    while ((c = out.poll()) != null) {
                        if (!c.isSuccess()) {
                            throw new IllegalStateException("send failed at access " + i + ": " + c);
                        }
                        sent = true;
                    }
                    while (!received && (c = in.poll()) != null) {
                        posted = false;
                        if (!c.isSuccess() || (target.getLong(0) != page && lost == 0)) {
                            throw new IllegalStateException("receive failed or wrong page at access " + i + ": " + c);
                        }
                        received = target.getLong(0) == page; // else a late copy of a message counted lost
                        if (!received) {
                            in.postReceive(target, i);
                            posted = true;
                        }
                    }
                    if (sent && !received && System.nanoTime() - sentAt > LOSS_TIMEOUT_NANOS) {
                        lost++;
                        break;
                    }
                }
                if ((i & 1023) == 0) {
                    vmLckPeak = Math.max(vmLckPeak, ProcessStatus.vmLckBytes() - baseline);
                }
            }
            double seconds = (System.nanoTime() - start) / 1e9;
            if (recorder != null) {
                sender.experiments().recordTlbAccesses(null);
                writeRecording(recorder, trace);
            }
            vmLckPeak = Math.max(vmLckPeak, ProcessStatus.vmLckBytes() - baseline);
            TlbStats t = sender.stats().tlb();
            PinStats p = sender.stats().pins();
            long hits = t.hits() - tlbBefore.hits();
            long misses = t.misses() - tlbBefore.misses();
            long cacheHits = p.hits() - pinsBefore.hits();
            long cacheMisses = p.misses() - pinsBefore.misses();
            long messages = trace.length();
            return PressurePoint.of("traffic", tlb.entries(), tlb.ways(), tlb.policy().name(), budget, distribution,
                    workingSet, messages, BeladyOpt.hitRate(trace, tlb.entries()),
                    trace.staticTopCHitRate(tlb.entries()).orElse(Double.NaN), new PressurePoint.Repeat(repeat, started,
                            seconds, (double) hits / Math.max(1, hits + misses),
                            cacheHits + cacheMisses == 0 ? Double.NaN : (double) cacheHits / (cacheHits + cacheMisses),
                            (double) (p.lockCalls() - pinsBefore.lockCalls()) / messages,
                            (double) (p.unlockCalls() - pinsBefore.unlockCalls()) / messages,
                            t.missLatency().getValueAtPercentile(50), t.missLatency().getValueAtPercentile(99),
                            messages / seconds, p.peakPinnedBytes(), vmLckPeak, lost));
        } finally {
            workingMemory.close();
        }
    }

    private void writeRecording(PageTraceRecorder recorder, PageTrace trace) {
        try {
            TraceFile.write(recorder.trace("recorded " + trace.name()), settings.recordTrace(), PAGE);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the recorded trace to " + settings.recordTrace()
                    + ": " + e.getMessage(), e);
        }
        recorded = true;
        progress.accept(String.format("recorded %d lookups of the sending NIC's TLB to %s%s", recorder.size(),
                settings.recordTrace(), recorder.dropped() > 0 ? " (" + recorder.dropped() + " more not kept)" : ""));
    }
}
