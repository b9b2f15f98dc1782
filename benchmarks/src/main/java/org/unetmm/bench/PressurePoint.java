package org.unetmm.bench;

import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.ToDoubleFunction;

/**
 * One point of {@code unetmm pressure}: a TLB shape and policy, a pin budget, a working set drawn
 * from a distribution, and what its repeats measured, with the bounds for the same trace and
 * capacity beside the TLB's: Bélády's OPT, and the static top-C bound (NaN, an empty CSV cell,
 * for a trace not drawn independently from a known distribution: loop, sequential, a file).
 *
 * <p>In traffic mode a point is measured {@code --repeats} times, interleaved with the other points
 * (repeat 1 of every point, then repeat 2, …), each repeat the same seeded trace on fresh NICs, so
 * the hit rates agree and the time-dependent figures (msgs/s, miss latency) show the machine's
 * noise. A figure of the point is the median over its repeats; peaks are the largest repeat's;
 * {@code lostMessages} (a udp datagram that never arrived; the sender's TLB saw the access all the
 * same) is the sum over the repeats. Trace replays are deterministic and have one repeat.
 *
 * @param accesses messages (trace accesses) per repeat
 * @param flags    {@link ComparePoint#ABOVE_LIMIT} (the TLB's hit rate above OPT's: a broken measurement),
 *                 {@link ComparePoint#SPREAD} (msgs/s over the repeats spread beyond the threshold),
 *                 {@link ComparePoint#LOSS}; empty when none
 */
public record PressurePoint(String mode, int tlbEntries, int tlbWays, String policy, long budgetBytes, String distribution,
                            int workingSetPages, long accesses, double optHitRate, double topCHitRate, List<Repeat> repeats,
                            List<String> flags) {
    public PressurePoint {
        repeats = List.copyOf(repeats);
        flags = List.copyOf(flags);
    }

    /** One measurement of the point: {@code index} (0-based) of its repeats, begun at {@code startedAt}. */
    public record Repeat(int index, Instant startedAt, double seconds, double tlbHitRate, double pinCacheHitRate,
                         double pinsPerMessage, double unpinsPerMessage, long missP50Nanos, long missP99Nanos,
                         double messagesPerSecond, long pinnedPeakBytes, long vmLckPeakBytes, long lostMessages) {
    }

    /** A point of one repeat, as a measurement returns it. */
    static PressurePoint of(String mode, int tlbEntries, int tlbWays, String policy, long budgetBytes, String distribution,
                            int workingSetPages, long accesses, double optHitRate, double topCHitRate, Repeat repeat) {
        return new PressurePoint(mode, tlbEntries, tlbWays, policy, budgetBytes, distribution, workingSetPages, accesses,
                optHitRate, topCHitRate, List.of(repeat), List.of());
    }

    /** This point with {@code more} repeats of it after its own. */
    PressurePoint plus(PressurePoint more) {
        List<Repeat> all = new ArrayList<>(repeats);
        all.addAll(more.repeats);
        return new PressurePoint(mode, tlbEntries, tlbWays, policy, budgetBytes, distribution, workingSetPages, accesses,
                optHitRate, topCHitRate, all, flags);
    }

    /** This point with its flags decided, a msgs/s spread above {@code spreadThreshold} flagged. */
    PressurePoint flagged(double spreadThreshold) {
        List<String> f = new ArrayList<>();
        if (tlbHitRate() > optHitRate + 1e-9) {
            f.add(ComparePoint.ABOVE_LIMIT);
        }
        if (repeats.size() > 1 && messages().relative() > spreadThreshold) {
            f.add(ComparePoint.SPREAD);
        }
        if (lostMessages() > 0) {
            f.add(ComparePoint.LOSS);
        }
        return new PressurePoint(mode, tlbEntries, tlbWays, policy, budgetBytes, distribution, workingSetPages, accesses,
                optHitRate, topCHitRate, repeats, f);
    }

    private ComparePoint.Spread spread(ToDoubleFunction<Repeat> value) {
        return ComparePoint.Spread.of(repeats.stream().mapToDouble(value).toArray());
    }

    /** Messages per second over the repeats (NaN for trace modes, which send none). */
    public ComparePoint.Spread messages() {
        return spread(Repeat::messagesPerSecond);
    }

    /** The TLB's median miss latency over the repeats, in ns. */
    public ComparePoint.Spread missP50() {
        return spread(Repeat::missP50Nanos);
    }

    public double tlbHitRate() {
        return spread(Repeat::tlbHitRate).median();
    }

    public double pinCacheHitRate() {
        return spread(Repeat::pinCacheHitRate).median();
    }

    public double pinsPerMessage() {
        return spread(Repeat::pinsPerMessage).median();
    }

    public double unpinsPerMessage() {
        return spread(Repeat::unpinsPerMessage).median();
    }

    public long missP50Nanos() {
        return Math.round(missP50().median());
    }

    public long missP99Nanos() {
        return Math.round(spread(Repeat::missP99Nanos).median());
    }

    public double messagesPerSecond() {
        return messages().median();
    }

    public long pinnedPeakBytes() {
        return repeats.stream().mapToLong(Repeat::pinnedPeakBytes).max().orElse(0);
    }

    public long vmLckPeakBytes() {
        return repeats.stream().mapToLong(Repeat::vmLckPeakBytes).max().orElse(0);
    }

    public long lostMessages() {
        return repeats.stream().mapToLong(Repeat::lostMessages).sum();
    }

    /** Today's columns (medians over the repeats), then the repeats, msgs/s and miss p50 min and max, the spread and flags. */
    static String csvHeader() {
        return "mode,tlb_entries,tlb_ways,policy,budget_bytes,distribution,working_set_pages,accesses,tlb_hit_rate,"
                + "opt_hit_rate,top_c_hit_rate,pin_cache_hit_rate,pins_per_msg,unpins_per_msg,miss_p50_ns,miss_p99_ns,msgs_per_s,"
                + "pinned_peak_bytes,vmlck_peak_bytes,lost_msgs,repeats,msgs_per_s_min,msgs_per_s_max,miss_p50_ns_min,"
                + "miss_p50_ns_max,spread,flags";
    }

    String csvRow() {
        ComparePoint.Spread msgs = messages();
        ComparePoint.Spread miss = missP50();
        return String.join(",", mode, Integer.toString(tlbEntries), Integer.toString(tlbWays), policy,
                budgetBytes == Long.MAX_VALUE ? "unlimited" : Long.toString(budgetBytes), distribution,
                Integer.toString(workingSetPages), Long.toString(accesses), fmt(tlbHitRate()), fmt(optHitRate), fmt(topCHitRate),
                fmt(pinCacheHitRate()), fmt(pinsPerMessage()), fmt(unpinsPerMessage()), Long.toString(missP50Nanos()),
                Long.toString(missP99Nanos()), String.format("%.1f", messagesPerSecond()), Long.toString(pinnedPeakBytes()),
                Long.toString(vmLckPeakBytes()), Long.toString(lostMessages()), Integer.toString(repeats.size()),
                ComparePoint.finite("%.1f", msgs.min()), ComparePoint.finite("%.1f", msgs.max()),
                ComparePoint.finite("%.0f", miss.min()), ComparePoint.finite("%.0f", miss.max()),
                ComparePoint.finite("%.3f", msgs.relative()), String.join(";", flags));
    }

    /** The point for run.json and pressure.json: medians, spreads and flags; NaN and infinity as null with the reason. */
    Map<String, Object> json() {
        Map<String, Object> m = key();
        m.put("accesses", accesses);
        m.put("repeats", repeats.size());
        CompareJson.number(m, "tlbHitRate", tlbHitRate(), "no TLB lookups");
        CompareJson.number(m, "optHitRate", optHitRate, "no TLB lookups");
        CompareJson.number(m, "topCHitRate", topCHitRate, "no static bound: the trace is not drawn independently from a"
                + " known distribution (loop, sequential, a recorded file)");
        CompareJson.number(m, "pinCacheHitRate", pinCacheHitRate(), "no pin cache lookups (a replay models the TLB only)");
        CompareJson.number(m, "pinsPerMsg", pinsPerMessage(), "no messages");
        CompareJson.number(m, "unpinsPerMsg", unpinsPerMessage(), "no messages");
        CompareJson.spread(m, "msgsPerSecond", messages(), "trace modes send no messages");
        CompareJson.number(m, "spread", messages().relative(), "trace modes send no messages");
        CompareJson.spread(m, "missP50Nanos", missP50(), "no TLB misses measured");
        m.put("missP99Nanos", missP99Nanos());
        m.put("pinnedPeakBytes", pinnedPeakBytes());
        m.put("vmLckPeakBytes", vmLckPeakBytes());
        m.put("lostMessages", lostMessages());
        m.put("flags", flags);
        return m;
    }

    /** Repeat {@code index} of this point, its point named, for pressure.json's samples. */
    Map<String, Object> sampleJson(int index) {
        Repeat r = repeats.get(index);
        Map<String, Object> m = key();
        m.put("repeat", r.index());
        m.put("startedAt", r.startedAt().toString());
        m.put("seconds", r.seconds());
        CompareJson.number(m, "msgsPerSecond", r.messagesPerSecond(), "trace modes send no messages");
        CompareJson.number(m, "tlbHitRate", r.tlbHitRate(), "no TLB lookups");
        m.put("missP50Nanos", r.missP50Nanos());
        m.put("vmLckPeakBytes", r.vmLckPeakBytes());
        m.put("lostMessages", r.lostMessages());
        return m;
    }

    private Map<String, Object> key() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("mode", mode);
        m.put("tlbEntries", tlbEntries);
        m.put("tlbWays", tlbWays);
        m.put("policy", policy);
        m.put("budgetBytes", budgetBytes == Long.MAX_VALUE ? "process" : budgetBytes);
        m.put("distribution", distribution);
        m.put("workingSetPages", workingSetPages);
        return m;
    }

    private static String fmt(double value) {
        return Double.isNaN(value) ? "" : String.format("%.4f", value);
    }
}
