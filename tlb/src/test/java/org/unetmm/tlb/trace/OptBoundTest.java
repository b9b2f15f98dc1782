package org.unetmm.tlb.trace;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.unetmm.tlb.ReplacementPolicy;
import org.unetmm.tlb.TlbConfig;

/** Bélády's OPT is a bound: checked against a textbook answer, exhaustive search, and every policy. */
@Timeout(120)
class OptBoundTest {
    private static final int LENGTH = Math.max(5_000, Integer.getInteger("unetmm.test.steps", 10_000));

    /** Silberschatz, Galvin, Gagne, Operating System Concepts, 9.4: 20 references, 3 frames. */
    private static final int[] TEXTBOOK = {7, 0, 1, 2, 0, 3, 0, 4, 2, 3, 0, 3, 2, 1, 2, 0, 1, 7, 0, 1};

    @Test
    void optAndLruMatchTheTextbookReferenceString() {
        PageTrace trace = PageTrace.of("textbook", null, TEXTBOOK);
        assertThat(BeladyOpt.hits(trace, 3)).as("OPT: 9 page faults").isEqualTo(20 - 9);
        assertThat(TraceRunner.simulate(trace, TlbConfig.fullyAssociative(3, ReplacementPolicy.LRU)).tlbStats().misses())
                .as("LRU: 12 page faults").isEqualTo(12);
    }

    @Test
    void optEqualsExhaustiveSearchOnSmallTraces() {
        for (long seed = 1; seed <= 300; seed++) {
            SplittableRandom random = new SplittableRandom(seed);
            int length = 6 + random.nextInt(9);
            int pages = 2 + random.nextInt(5);
            int[] contexts = new int[length];
            int[] accesses = new int[length];
            for (int i = 0; i < length; i++) {
                contexts[i] = random.nextInt(4) == 0 ? 1 : 0;
                accesses[i] = random.nextInt(pages);
            }
            PageTrace trace = PageTrace.of("small", contexts, accesses);
            for (int capacity = 1; capacity <= 3; capacity++) {
                assertThat(BeladyOpt.hits(trace, capacity))
                        .as("seed %d, capacity %d, trace %s", seed, capacity, java.util.Arrays.toString(accesses))
                        .isEqualTo(bestHits(trace, capacity, 0, new HashSet<>()));
            }
        }
    }

    /** The most hits any sequence of demand-paging eviction choices achieves from here. */
    private static long bestHits(PageTrace trace, int capacity, int at, Set<Long> cached) {
        if (at == trace.length()) {
            return 0;
        }
        long key = trace.key(at);
        if (cached.contains(key)) {
            return 1 + bestHits(trace, capacity, at + 1, cached);
        }
        if (cached.size() < capacity) {
            Set<Long> next = new HashSet<>(cached);
            next.add(key);
            return bestHits(trace, capacity, at + 1, next);
        }
        long best = 0;
        for (long victim : cached) {
            Set<Long> next = new HashSet<>(cached);
            next.remove(victim);
            next.add(key);
            best = Math.max(best, bestHits(trace, capacity, at + 1, next));
        }
        return best;
    }

    @Test
    void noPolicyOrAssociativityBeatsOpt() {
        for (long seed = 1; seed <= 3; seed++) {
            for (PageTrace trace : traces(seed)) {
                for (int entries : new int[] {1, 4, 16, 64}) {
                    double opt = BeladyOpt.hitRate(trace, entries);
                    for (ReplacementPolicy policy : ReplacementPolicy.values()) {
                        for (int ways : new int[] {entries, Math.max(1, entries / 4), 1}) {
                            TlbConfig config = TlbConfig.builder().entries(entries).ways(ways).policy(policy)
                                    .seed(seed).build();
                            double hitRate = TraceRunner.simulate(trace, config).tlbHitRate();
                            assertThat(hitRate).as("seed %d, %s, %s: policy hit rate vs OPT", seed, trace, config)
                                    .isLessThanOrEqualTo(opt);
                        }
                    }
                }
            }
        }
    }

    @Test
    void optIsMonotoneInCapacityAndReachesTheColdMissFloor() {
        for (PageTrace trace : traces(9)) {
            double previous = -1;
            for (int capacity = 1; capacity <= 128; capacity *= 2) {
                double opt = BeladyOpt.hitRate(trace, capacity);
                assertThat(opt).as("%s, capacity %d", trace, capacity).isGreaterThanOrEqualTo(previous);
                previous = opt;
            }
            int footprint = trace.distinctPages();
            assertThat(BeladyOpt.hits(trace, footprint)).as("%s: only cold misses at full capacity", trace)
                    .isEqualTo(trace.length() - footprint);
        }
    }

    private static List<PageTrace> traces(long seed) {
        List<PageTrace> traces = new ArrayList<>();
        traces.add(PageTrace.uniform(1, 100, LENGTH, seed));
        traces.add(PageTrace.zipf(1, 200, 0.99, LENGTH, seed));
        traces.add(PageTrace.zipf(2, 100, 0.5, LENGTH, seed));
        traces.add(PageTrace.sequential(1, 80, LENGTH, seed));
        traces.add(PageTrace.loop(1, 100, 17, LENGTH, seed));
        traces.add(PageTrace.loop(3, 50, 40, LENGTH, seed));
        return traces;
    }
}
