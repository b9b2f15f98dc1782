package org.unetmm.tlb.trace;

import java.util.Collections;
import java.util.EnumMap;
import java.util.Map;
import org.unetmm.tlb.ReplacementPolicy;
import org.unetmm.tlb.TlbConfig;

/**
 * Hit rates of every {@link ReplacementPolicy} on one trace, beside the bounds for the same
 * capacity: Bélády's OPT, and the static top-C bound when the trace was drawn independently from
 * a known distribution ({@link PageTrace#staticTopCHitRate}). Model runs
 * ({@link TraceRunner#simulate}): hit and miss depend only on the trace and the TLB's shape, not
 * on pinning.
 *
 * @param trace      the trace's description
 * @param entries    TLB entries (and OPT's capacity)
 * @param ways       ways per set of the TLBs compared
 * @param optHitRate OPT's hit rate: no policy can beat it
 * @param topCHitRate the static top-C bound, no online policy beats it in expectation; NaN if the
 *                    trace has none
 * @param hitRates   each policy's hit rate, in enum order
 */
public record PolicyComparison(String trace, int entries, int ways, double optHitRate, double topCHitRate,
                               Map<ReplacementPolicy, Double> hitRates) {
    /** Zipf skew of {@link #zipf}: YCSB's default. */
    public static final double ZIPF_THETA = 0.99;
    /** Working set of {@link #zipf}, in TLBs: four times the entries. */
    public static final int WORKING_SET_TLBS = 4;

    /**
     * Keeps an unmodifiable copy of {@code hitRates}.
     *
     * @param trace       the trace's description
     * @param entries     TLB entries (and OPT's capacity)
     * @param ways        ways per set of the TLBs compared
     * @param optHitRate  OPT's hit rate
     * @param topCHitRate the static top-C bound, or NaN
     * @param hitRates    each policy's hit rate
     */
    public PolicyComparison {
        hitRates = Collections.unmodifiableMap(new EnumMap<>(hitRates));
    }

    /**
     * Every policy, fully associative with {@code entries} entries, against OPT on a
     * zipf(0.99) trace over a working set of 4 × entries pages.
     *
     * @param entries  TLB entries, positive
     * @param accesses length of the trace
     * @param seed     seed of the trace and of RANDOM
     * @return the comparison
     */
    public static PolicyComparison zipf(int entries, int accesses, long seed) {
        PageTrace trace = PageTrace.zipf(1, WORKING_SET_TLBS * entries, ZIPF_THETA, accesses, seed);
        return of(trace, entries, entries, seed);
    }

    /**
     * Every policy on the trace with a TLB of {@code entries} entries in sets of {@code ways}.
     *
     * @param trace   the accesses
     * @param entries TLB entries, positive
     * @param ways    ways per set, dividing {@code entries}
     * @param seed    seed of RANDOM
     * @return the comparison
     */
    public static PolicyComparison of(PageTrace trace, int entries, int ways, long seed) {
        Map<ReplacementPolicy, Double> rates = new EnumMap<>(ReplacementPolicy.class);
        for (ReplacementPolicy policy : ReplacementPolicy.values()) {
            TlbConfig config = TlbConfig.builder().entries(entries).ways(ways).policy(policy).seed(seed).build();
            rates.put(policy, TraceRunner.simulate(trace, config).tlbHitRate());
        }
        return new PolicyComparison(trace.toString(), entries, ways, BeladyOpt.hitRate(trace, entries),
                trace.staticTopCHitRate(entries).orElse(Double.NaN), rates);
    }

    /** {@return a plain-text table: one row per policy, then OPT and top-C, with each rate's fraction of OPT} */
    public String table() {
        StringBuilder out = new StringBuilder();
        out.append(trace).append(", ").append(entries).append(" entries, ")
                .append(ways == entries ? "fully associative" : ways + "-way").append('\n');
        out.append(String.format("%-8s %9s %9s%n", "policy", "hit rate", "of OPT"));
        for (Map.Entry<ReplacementPolicy, Double> row : hitRates.entrySet()) {
            out.append(String.format("%-8s %9.4f %8.1f%%%n", row.getKey(), row.getValue(),
                    optHitRate == 0 ? 100.0 : 100.0 * row.getValue() / optHitRate));
        }
        out.append(String.format("%-8s %9.4f %8.1f%%%n", "OPT", optHitRate, 100.0));
        if (Double.isNaN(topCHitRate)) {
            out.append("top-C    none: the trace was not drawn independently from a known distribution\n");
        } else {
            out.append(String.format("%-8s %9.4f %8.1f%%%n", "top-C", topCHitRate,
                    optHitRate == 0 ? 100.0 : 100.0 * topCHitRate / optHitRate));
        }
        return out.toString();
    }

    /**
     * Prints {@link #zipf}'s table: args are entries, accesses, seed (defaults 256, 1000000, 1).
     *
     * @param args entries, accesses, seed, each optional
     */
    public static void main(String[] args) {
        int entries = args.length > 0 ? Integer.parseInt(args[0]) : 256;
        int accesses = args.length > 1 ? Integer.parseInt(args[1]) : 1_000_000;
        long seed = args.length > 2 ? Long.parseLong(args[2]) : 1;
        System.out.print(zipf(entries, accesses, seed).table());
    }
}
