package org.unetmm.bench;

/**
 * One point of {@code unetmm pressure}: a TLB shape and policy, a pin budget, a working set drawn
 * from a distribution, and what the run measured, with the bounds for the same trace and
 * capacity beside the TLB's: Bélády's OPT, and the static top-C bound (NaN, an empty CSV cell,
 * for a trace not drawn independently from a known distribution: loop, sequential, a file). {@code lostMessages}: traffic on a udp wire whose datagram never
 * arrived (the sender's TLB saw the access all the same; 0 on loopback and for trace-only).
 */
public record PressurePoint(String mode, int tlbEntries, int tlbWays, String policy, long budgetBytes, String distribution,
                            int workingSetPages, long accesses, double tlbHitRate, double optHitRate, double topCHitRate,
                            double pinCacheHitRate, double pinsPerMessage, double unpinsPerMessage, long missP50Nanos,
                            long missP99Nanos, double messagesPerSecond, long pinnedPeakBytes, long vmLckPeakBytes,
                            long lostMessages) {

    static String csvHeader() {
        return "mode,tlb_entries,tlb_ways,policy,budget_bytes,distribution,working_set_pages,accesses,tlb_hit_rate,"
                + "opt_hit_rate,top_c_hit_rate,pin_cache_hit_rate,pins_per_msg,unpins_per_msg,miss_p50_ns,miss_p99_ns,msgs_per_s,"
                + "pinned_peak_bytes,vmlck_peak_bytes,lost_msgs";
    }

    String csvRow() {
        return String.join(",", mode, Integer.toString(tlbEntries), Integer.toString(tlbWays), policy,
                budgetBytes == Long.MAX_VALUE ? "unlimited" : Long.toString(budgetBytes), distribution,
                Integer.toString(workingSetPages), Long.toString(accesses), fmt(tlbHitRate), fmt(optHitRate), fmt(topCHitRate),
                fmt(pinCacheHitRate), fmt(pinsPerMessage), fmt(unpinsPerMessage), Long.toString(missP50Nanos),
                Long.toString(missP99Nanos), String.format("%.1f", messagesPerSecond), Long.toString(pinnedPeakBytes),
                Long.toString(vmLckPeakBytes), Long.toString(lostMessages));
    }

    /** The point's fields for run.json; NaN as null. */
    java.util.Map<String, Object> json() {
        java.util.Map<String, Object> m = new java.util.LinkedHashMap<>();
        m.put("mode", mode);
        m.put("tlbEntries", tlbEntries);
        m.put("tlbWays", tlbWays);
        m.put("policy", policy);
        m.put("distribution", distribution);
        m.put("workingSetPages", workingSetPages);
        m.put("accesses", accesses);
        m.put("tlbHitRate", orNull(tlbHitRate));
        m.put("optHitRate", orNull(optHitRate));
        m.put("topCHitRate", orNull(topCHitRate));
        m.put("pinCacheHitRate", orNull(pinCacheHitRate));
        return m;
    }

    private static Object orNull(double value) {
        return Double.isNaN(value) ? null : value;
    }

    private static String fmt(double value) {
        return Double.isNaN(value) ? "" : String.format("%.4f", value);
    }
}
