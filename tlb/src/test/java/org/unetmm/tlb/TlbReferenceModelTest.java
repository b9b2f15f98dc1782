package org.unetmm.tlb;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.unetmm.pinning.NativeMemory;
import org.unetmm.tlb.internal.FrequencySketch;
import org.unetmm.tlb.internal.LfuReplacement;

/**
 * The TLB against reference models, access for access: a miss is a call of the miss handler, so
 * the TLB's hit/miss sequence is observable without its internals. Traces mix contexts, skewed
 * and uniform pages, and shootdowns of random ranges; each seed is in every assertion message.
 */
@Timeout(120)
class TlbReferenceModelTest {
    private static final long PAGE = NativeMemory.pageSize();
    /** First page of the model address space: page-aligned, far from zero. */
    private static final long BASE_PAGE = 1L << 20;
    private static final int STEPS = Integer.getInteger("unetmm.test.steps", 10_000);

    /** A miss handler that pins nothing and counts its calls: calls == misses. */
    private static final class CountingHandler implements MissHandler {
        long calls;

        @Override
        public Translation onMiss(int context, java.nio.ByteBuffer owner, long pageAddress) {
            calls++;
            return new Translation(pageAddress / PAGE, null);
        }
    }

    /** What a model of the TLB must answer. */
    private interface Model {
        boolean access(int context, long page);

        void invalidate(int context, long firstPage, long endPage);
    }

    /** LRU over one set of {@code capacity} entries: a LinkedHashMap in access order. */
    private static final class LruSet {
        private final int capacity;
        private final LinkedHashMap<List<Long>, Boolean> entries = new LinkedHashMap<>(16, 0.75f, true);

        LruSet(int capacity) {
            this.capacity = capacity;
        }

        boolean access(List<Long> key) {
            if (entries.get(key) != null) {
                return true;
            }
            if (entries.size() == capacity) {
                Iterator<List<Long>> eldest = entries.keySet().iterator();
                eldest.next();
                eldest.remove();
            }
            entries.put(key, Boolean.TRUE);
            return false;
        }

        void invalidate(int context, long firstPage, long endPage) {
            entries.keySet().removeIf(k -> k.get(0) == context && k.get(1) >= firstPage && k.get(1) < endPage);
        }
    }

    /** Per-set LRU: the set of a page from TlbConfig.setOf, each set an LruSet of `ways`. */
    private static Model lruModel(TlbConfig config) {
        LruSet[] sets = new LruSet[config.sets()];
        for (int s = 0; s < sets.length; s++) {
            sets[s] = new LruSet(config.ways());
        }
        return new Model() {
            @Override
            public boolean access(int context, long page) {
                return sets[config.setOf(context, page)].access(List.of((long) context, page));
            }

            @Override
            public void invalidate(int context, long firstPage, long endPage) {
                for (LruSet set : sets) {
                    set.invalidate(context, firstPage, endPage);
                }
            }
        };
    }

    /**
     * CLOCK as a textbook would write it, per set: ways of (valid, key, reference bit) and a hand.
     * A vacant way (lowest first) is filled without moving the hand; otherwise the hand sweeps,
     * clearing bits, to the first clear one, replaces it, and moves one past. A fill sets the bit.
     */
    private static Model clockModel(TlbConfig config) {
        int ways = config.ways();
        boolean[][] valid = new boolean[config.sets()][ways];
        long[][] contexts = new long[config.sets()][ways];
        long[][] pages = new long[config.sets()][ways];
        boolean[][] referenced = new boolean[config.sets()][ways];
        int[] hands = new int[config.sets()];
        return new Model() {
            @Override
            public boolean access(int context, long page) {
                int s = config.setOf(context, page);
                for (int w = 0; w < ways; w++) {
                    if (valid[s][w] && contexts[s][w] == context && pages[s][w] == page) {
                        referenced[s][w] = true;
                        return true;
                    }
                }
                int way = -1;
                for (int w = 0; w < ways && way < 0; w++) {
                    if (!valid[s][w]) {
                        way = w;
                    }
                }
                while (way < 0) {
                    int h = hands[s];
                    hands[s] = (h + 1) % ways;
                    if (referenced[s][h]) {
                        referenced[s][h] = false;
                    } else {
                        way = h;
                    }
                }
                valid[s][way] = true;
                contexts[s][way] = context;
                pages[s][way] = page;
                referenced[s][way] = true;
                return false;
            }

            @Override
            public void invalidate(int context, long firstPage, long endPage) {
                for (int s = 0; s < valid.length; s++) {
                    for (int w = 0; w < ways; w++) {
                        if (valid[s][w] && contexts[s][w] == context && pages[s][w] >= firstPage && pages[s][w] < endPage) {
                            valid[s][w] = false;
                        }
                    }
                }
            }
        };
    }

    /**
     * SIEVE as its paper draws it, per set: a list of nodes (key, visited), oldest first, and a
     * hand naming a node (null: start at the oldest). A hit sets visited. A miss in a full set
     * walks the hand toward the newest, wrapping to the oldest, clearing visited, evicts the first
     * unvisited node and leaves the hand on the node newer than it (null if none); the new key
     * joins as the newest, unvisited. A shootdown removes its nodes, moving the hand the same way.
     */
    private static Model sieveModel(TlbConfig config) {
        final class Node {
            final List<Long> key;
            boolean visited;

            Node(List<Long> key) {
                this.key = key;
            }
        }
        final class SieveSet {
            final List<Node> nodes = new ArrayList<>();
            Node hand;

            void remove(Node node) {
                int i = nodes.indexOf(node);
                if (hand == node) {
                    hand = i + 1 < nodes.size() ? nodes.get(i + 1) : null;
                }
                nodes.remove(i);
            }
        }
        SieveSet[] sets = new SieveSet[config.sets()];
        for (int s = 0; s < sets.length; s++) {
            sets[s] = new SieveSet();
        }
        return new Model() {
            @Override
            public boolean access(int context, long page) {
                SieveSet set = sets[config.setOf(context, page)];
                List<Long> key = List.of((long) context, page);
                for (Node node : set.nodes) {
                    if (node.key.equals(key)) {
                        node.visited = true;
                        return true;
                    }
                }
                if (set.nodes.size() == config.ways()) {
                    Node node = set.hand != null ? set.hand : set.nodes.get(0);
                    while (node.visited) {
                        node.visited = false;
                        int i = set.nodes.indexOf(node);
                        node = i + 1 < set.nodes.size() ? set.nodes.get(i + 1) : set.nodes.get(0);
                    }
                    set.hand = node;
                    set.remove(node);
                }
                set.nodes.add(new Node(key));
                return false;
            }

            @Override
            public void invalidate(int context, long firstPage, long endPage) {
                for (SieveSet set : sets) {
                    for (Node node : new ArrayList<>(set.nodes)) {
                        if (node.key.get(0) == context && node.key.get(1) >= firstPage && node.key.get(1) < endPage) {
                            set.remove(node);
                        }
                    }
                }
            }
        };
    }

    /**
     * S3-FIFO as libCacheSim runs it, per set: deques small (a tenth of the ways, at least one),
     * main (the rest) and ghost (nine tenths of the ways, at least one, keys only), a counter per
     * key bumped by a hit up to 3. A miss whose key is in ghost leaves ghost and joins main, any
     * other joins small, counter 0. Evicting: while main holds more than its share or small is
     * empty, main's oldest with a counter goes to main's new end one lower, the first with none is
     * evicted; else small's oldest hit twice goes to main's new end at 0, the first hit less is
     * evicted into ghost (whose oldest falls out when full), and main is tried if small empties.
     */
    private static Model s3fifoModel(TlbConfig config) {
        int ways = config.ways();
        int smallShare = Math.max(1, ways / 10);
        int mainShare = ways - smallShare;
        int ghostSize = Math.max(1, ways * 9 / 10);
        final class S3Set {
            final java.util.ArrayDeque<List<Long>> small = new java.util.ArrayDeque<>();
            final java.util.ArrayDeque<List<Long>> main = new java.util.ArrayDeque<>();
            final java.util.ArrayDeque<List<Long>> ghost = new java.util.ArrayDeque<>();
            final java.util.HashMap<List<Long>, Integer> frequency = new java.util.HashMap<>();

            void evict() {
                for (;;) {
                    if (main.size() > mainShare || small.isEmpty()) {
                        List<Long> oldest = main.pollFirst();
                        int f = frequency.get(oldest);
                        if (f == 0) {
                            frequency.remove(oldest);
                            return;
                        }
                        frequency.put(oldest, f - 1);
                        main.addLast(oldest);
                        continue;
                    }
                    while (!small.isEmpty()) {
                        List<Long> oldest = small.pollFirst();
                        if (frequency.get(oldest) < 2) {
                            frequency.remove(oldest);
                            if (ghost.size() == ghostSize) {
                                ghost.pollFirst();
                            }
                            ghost.addLast(oldest);
                            return;
                        }
                        frequency.put(oldest, 0);
                        main.addLast(oldest);
                    }
                }
            }
        }
        S3Set[] sets = new S3Set[config.sets()];
        for (int s = 0; s < sets.length; s++) {
            sets[s] = new S3Set();
        }
        return new Model() {
            @Override
            public boolean access(int context, long page) {
                S3Set set = sets[config.setOf(context, page)];
                List<Long> key = List.of((long) context, page);
                Integer f = set.frequency.get(key);
                if (f != null) {
                    set.frequency.put(key, Math.min(3, f + 1));
                    return true;
                }
                if (set.frequency.size() == ways) {
                    set.evict();
                }
                if (set.ghost.remove(key)) {
                    set.main.addLast(key);
                } else {
                    set.small.addLast(key);
                }
                set.frequency.put(key, 0);
                return false;
            }

            @Override
            public void invalidate(int context, long firstPage, long endPage) {
                for (S3Set set : sets) {
                    set.frequency.keySet().removeIf(k -> k.get(0) == context && k.get(1) >= firstPage && k.get(1) < endPage);
                    set.small.retainAll(set.frequency.keySet());
                    set.main.retainAll(set.frequency.keySet());
                }
            }
        };
    }

    /**
     * LFU with aging, per set: a map from key to count in fill order. A hit adds one to the count
     * (at most {@link LfuReplacement#MAX_COUNT}). A miss in a full set evicts the key with the
     * smallest count, the earliest filled among equals, and raises the sketch to its count; the
     * sketch then counts the missing key, which joins with the sketch's estimate as its count.
     * Every {@link LfuReplacement#agingPeriod} fills the sketch and every count are halved. The
     * sketch is the policy's own class, tested on its own in {@code FrequencySketchTest}: what this
     * model checks is everything around it.
     */
    private static Model lfuModel(TlbConfig config) {
        int ways = config.ways();
        FrequencySketch sketch = new FrequencySketch(LfuReplacement.sketchWidth(config.entries()), LfuReplacement.MAX_COUNT);
        int period = LfuReplacement.agingPeriod(config.entries());
        List<LinkedHashMap<List<Long>, Integer>> sets = new ArrayList<>();
        for (int s = 0; s < config.sets(); s++) {
            sets.add(new LinkedHashMap<>());
        }
        return new Model() {
            int fills;

            @Override
            public boolean access(int context, long page) {
                LinkedHashMap<List<Long>, Integer> set = sets.get(config.setOf(context, page));
                List<Long> key = List.of((long) context, page);
                Integer count = set.get(key);
                if (count != null) {
                    set.put(key, Math.min(LfuReplacement.MAX_COUNT, count + 1));
                    return true;
                }
                if (set.size() == ways) {
                    List<Long> victim = null;
                    int least = Integer.MAX_VALUE;
                    for (var e : set.entrySet()) {
                        if (e.getValue() < least) {
                            victim = e.getKey();
                            least = e.getValue();
                        }
                    }
                    set.remove(victim);
                    sketch.raise((int) (long) victim.get(0), victim.get(1), least);
                }
                sketch.increment(context, page);
                set.put(key, sketch.estimate(context, page));
                if (++fills == period) {
                    fills = 0;
                    sketch.halve();
                    sets.forEach(s -> s.replaceAll((k, c) -> c >> 1));
                }
                return false;
            }

            @Override
            public void invalidate(int context, long firstPage, long endPage) {
                sets.forEach(s -> s.keySet().removeIf(k -> k.get(0) == context && k.get(1) >= firstPage && k.get(1) < endPage));
            }
        };
    }

    /**
     * Replays a fixed page sequence (one context) against the TLB and the model, every access
     * compared: the adversarial shapes random traces rarely produce.
     */
    private static void agreeOn(TlbConfig config, Model model, String shape, long[] pages) {
        CountingHandler handler = new CountingHandler();
        try (Tlb tlb = new Tlb(config, handler)) {
            int context = tlb.openContext();
            for (int step = 0; step < pages.length; step++) {
                long page = BASE_PAGE + pages[step];
                long before = handler.calls;
                tlb.lookup(context, null, page * PAGE);
                boolean tlbHit = handler.calls == before;
                boolean modelHit = model.access(context, page);
                assertThat(tlbHit)
                        .as("%s, %s, step %d: page %d: TLB %s but model %s", shape, config, step, page,
                                tlbHit ? "hit" : "missed", modelHit ? "hit" : "missed")
                        .isEqualTo(modelHit);
            }
        }
    }

    /** Loops one page larger than the TLB, scans through a hot set, hot sets that take turns. */
    private static java.util.Map<String, long[]> adversarialTraces(int entries) {
        java.util.Map<String, long[]> traces = new java.util.LinkedHashMap<>();
        int length = Math.max(2_000, entries * 40);
        long[] loop = new long[length];
        for (int i = 0; i < length; i++) {
            loop[i] = i % (entries + 1);
        }
        traces.put("loop of entries+1", loop);
        long[] scan = new long[length];
        SplittableRandom random = new SplittableRandom(99);
        long next = 10_000;
        int hot = Math.max(1, entries / 2);
        for (int i = 0; i < length; i++) {
            scan[i] = (i / hot) % 3 == 2 ? next++ : random.nextInt(hot);
        }
        traces.put("hot set under scans", scan);
        long[] alternating = new long[length];
        for (int i = 0; i < length; i++) {
            int phase = (i / (entries * 4 + 1)) % 2;
            alternating[i] = phase * 5_000L + random.nextInt(Math.max(1, entries * 3 / 4));
        }
        traces.put("alternating hot sets", alternating);
        return traces;
    }

    /**
     * Replays a random trace against the TLB and the model and fails at the first access where
     * they disagree. Pages come from a region of {@code regionPages}: some skewed toward a hot
     * few, some uniform; about one step in {@code shootdownEvery} is a shootdown of a small range.
     */
    private static void agree(TlbConfig config, Model model, long seed, int regionPages, int shootdownEvery) {
        SplittableRandom random = new SplittableRandom(seed);
        CountingHandler handler = new CountingHandler();
        try (Tlb tlb = new Tlb(config, handler)) {
            int[] contexts = {tlb.openContext(), tlb.openContext(), tlb.openContext()};
            for (int step = 0; step < STEPS; step++) {
                int context = contexts[random.nextInt(random.nextInt(4) == 0 ? 3 : 1)];
                if (shootdownEvery > 0 && random.nextInt(shootdownEvery) == 0) {
                    long first = BASE_PAGE + random.nextInt(regionPages);
                    long count = 1 + random.nextInt(4);
                    tlb.invalidate(context, first * PAGE + random.nextInt((int) PAGE), (count - 1) * PAGE + 1);
                    model.invalidate(context, first, first + count);
                    continue;
                }
                int hot = Math.max(1, config.entries() / 2);
                long page = BASE_PAGE + (random.nextBoolean() ? random.nextInt(Math.min(hot, regionPages))
                        : random.nextInt(regionPages));
                long before = handler.calls;
                tlb.lookup(context, null, page * PAGE + random.nextInt((int) PAGE));
                boolean tlbHit = handler.calls == before;
                boolean modelHit = model.access(context, page);
                assertThat(tlbHit)
                        .as("seed %d, %s, step %d: context %d page %d: TLB %s but model %s", seed, config, step,
                                context, page, tlbHit ? "hit" : "missed", modelHit ? "hit" : "missed")
                        .isEqualTo(modelHit);
            }
            assertThat(tlb.stats().misses()).as("seed %d, %s", seed, config).isEqualTo(handler.calls);
        }
    }

    @Test
    void fullyAssociativeLruAgreesWithLinkedHashMapAccessForAccess() {
        for (long seed = 1; seed <= 4; seed++) {
            for (int entries : new int[] {1, 7, 64}) {
                TlbConfig config = TlbConfig.fullyAssociative(entries, ReplacementPolicy.LRU);
                agree(config, lruModel(config), seed, entries * 3, 0);
            }
        }
    }

    @Test
    void fullyAssociativeLruAgreesWithModelAcrossShootdowns() {
        for (long seed = 11; seed <= 14; seed++) {
            TlbConfig config = TlbConfig.fullyAssociative(32, ReplacementPolicy.LRU);
            agree(config, lruModel(config), seed, 80, 10);
        }
    }

    @Test
    void setAssociativeLruAgreesWithPerSetModel() {
        List<TlbConfig> configs = new ArrayList<>();
        configs.add(TlbConfig.builder().sets(16).ways(4).build());
        configs.add(TlbConfig.builder().sets(5).ways(3).build());
        configs.add(TlbConfig.directMapped(64));
        configs.add(TlbConfig.builder().entries(64).ways(8).build());
        for (long seed = 21; seed <= 23; seed++) {
            for (TlbConfig config : configs) {
                agree(config, lruModel(config), seed, config.entries() * 3, 12);
            }
        }
    }

    @Test
    void clockAgreesWithStraightforwardClockModel() {
        List<TlbConfig> configs = List.of(
                TlbConfig.fullyAssociative(16, ReplacementPolicy.CLOCK),
                TlbConfig.builder().sets(8).ways(4).policy(ReplacementPolicy.CLOCK).build(),
                TlbConfig.builder().sets(3).ways(5).policy(ReplacementPolicy.CLOCK).build());
        for (long seed = 31; seed <= 33; seed++) {
            for (TlbConfig config : configs) {
                agree(config, clockModel(config), seed, config.entries() * 3, 0);
                agree(config, clockModel(config), seed + 100, config.entries() * 3, 9);
            }
        }
    }

    private static List<TlbConfig> shapes(ReplacementPolicy policy) {
        return List.of(
                TlbConfig.fullyAssociative(1, policy),
                TlbConfig.fullyAssociative(7, policy),
                TlbConfig.fullyAssociative(64, policy),
                TlbConfig.builder().sets(8).ways(4).policy(policy).build(),
                TlbConfig.builder().sets(3).ways(12).policy(policy).build(),
                TlbConfig.builder().sets(5).ways(1).policy(policy).build());
    }

    /** Every shape of {@link #shapes}, random traces with and without shootdowns, then the adversarial ones. */
    private static void agreesEverywhere(ReplacementPolicy policy, java.util.function.Function<TlbConfig, Model> model,
            long firstSeed) {
        for (long seed = firstSeed; seed < firstSeed + 3; seed++) {
            for (TlbConfig config : shapes(policy)) {
                agree(config, model.apply(config), seed, config.entries() * 3, 0);
                agree(config, model.apply(config), seed + 100, config.entries() * 3, 9);
            }
        }
        for (TlbConfig config : shapes(policy)) {
            adversarialTraces(config.entries()).forEach((shape, pages) -> agreeOn(config, model.apply(config), shape, pages));
        }
    }

    @Test
    void sieveAgreesWithThePapersListAndHandOnRandomAndAdversarialTraces() {
        agreesEverywhere(ReplacementPolicy.SIEVE, TlbReferenceModelTest::sieveModel, 51);
    }

    @Test
    void s3fifoAgreesWithThreeDequeModelOnRandomAndAdversarialTraces() {
        agreesEverywhere(ReplacementPolicy.S3FIFO, TlbReferenceModelTest::s3fifoModel, 61);
    }

    @Test
    void lfuAgreesWithCountsInFillOrderOnRandomAndAdversarialTraces() {
        agreesEverywhere(ReplacementPolicy.LFU, TlbReferenceModelTest::lfuModel, 71);
    }

    /**
     * The adversarial "alternating hot sets" trace changes sets faster than LFU ages, so this is
     * the slow version, 64 entries: hot set A (48 pages, uniform) for 100,000 accesses, which
     * saturates their counts, then B, 200 other pages, uniform, for 40,000. B's pages are each
     * asked for a tenth as often as A's were; without aging A's counts would hold A's 48 entries
     * until B's pages had each missed 255 times (51,000 misses), leaving B 16 entries (a hit rate
     * of 0.08). Aging halves A away within a few resets, and B gets the TLB: 63 of its 200 pages,
     * a hit rate near 0.31 over B's last 10,000 accesses.
     */
    @Test
    void lfuLetsGoOfAnOldHotSet() {
        SplittableRandom random = new SplittableRandom(81);
        CountingHandler handler = new CountingHandler();
        try (Tlb tlb = new Tlb(TlbConfig.fullyAssociative(64, ReplacementPolicy.LFU), handler)) {
            int context = tlb.openContext();
            uniformMisses(tlb, context, handler, random, 0, 48, 100_000);
            uniformMisses(tlb, context, handler, random, 1_000, 200, 30_000);
            double hitRate = 1 - uniformMisses(tlb, context, handler, random, 1_000, 200, 10_000) / 10_000.0;
            assertThat(hitRate).as("seed 81: hit rate on B (200 pages) over its last 10,000 of 40,000 accesses")
                    .isGreaterThan(0.25);
        }
    }

    /**
     * A hot set of 56 pages (in a 64-entry TLB) between runs of 200 pages never seen again: LFU's
     * counts keep every hot page resident through the scans (LRU loses them all to each scan).
     * After a first round, no hot access misses.
     */
    @Test
    void lfuKeepsAHotSetThroughScans() {
        SplittableRandom random = new SplittableRandom(82);
        CountingHandler handler = new CountingHandler();
        try (Tlb tlb = new Tlb(TlbConfig.fullyAssociative(64, ReplacementPolicy.LFU), handler)) {
            int context = tlb.openContext();
            long hotMisses = 0;
            for (int round = 0; round < 50; round++) {
                long misses = uniformMisses(tlb, context, handler, random, 0, 56, 1_000);
                hotMisses += round > 0 ? misses : 0;
                for (int i = 0; i < 200; i++) {
                    tlb.lookup(context, null, (BASE_PAGE + 1_000 + round * 200 + i) * PAGE);
                }
            }
            assertThat(hotMisses).as("seed 82: hot-set misses after the first round, scans of 200 between rounds").isZero();
        }
    }

    /** {@code accesses} lookups of pages uniform in [first, first + pages) (from BASE_PAGE); the misses. */
    private static long uniformMisses(Tlb tlb, int context, CountingHandler handler, SplittableRandom random,
            long first, int pages, int accesses) {
        long before = handler.calls;
        for (int i = 0; i < accesses; i++) {
            tlb.lookup(context, null, (BASE_PAGE + first + random.nextInt(pages)) * PAGE);
        }
        return handler.calls - before;
    }

    @Test
    void directMappedIsTheSameUnderEveryPolicy() {
        for (ReplacementPolicy policy : ReplacementPolicy.values()) {
            TlbConfig config = TlbConfig.builder().entries(32).ways(1).policy(policy).build();
            agree(config, lruModel(config), 41, 100, 15);
        }
    }

    @Test
    void randomPolicyGivesTheSameVictimsForTheSameSeed() {
        TlbConfig config = TlbConfig.builder().entries(16).ways(16).policy(ReplacementPolicy.RANDOM).seed(77).build();
        long[] first = missSequence(config, 5);
        long[] second = missSequence(config, 5);
        assertThat(second).as("RANDOM with seed 77, trace seed 5").isEqualTo(first);
        long[] otherSeed = missSequence(TlbConfig.builder().entries(16).ways(16)
                .policy(ReplacementPolicy.RANDOM).seed(78).build(), 5);
        assertThat(otherSeed).as("RANDOM with seeds 77 and 78 should choose different victims somewhere")
                .isNotEqualTo(first);
    }

    /** Bit i: whether access i missed, for a seeded uniform trace. */
    private static long[] missSequence(TlbConfig config, long traceSeed) {
        SplittableRandom random = new SplittableRandom(traceSeed);
        CountingHandler handler = new CountingHandler();
        long[] bits = new long[(STEPS + 63) / 64];
        try (Tlb tlb = new Tlb(config, handler)) {
            int context = tlb.openContext();
            for (int i = 0; i < STEPS; i++) {
                long before = handler.calls;
                tlb.lookup(context, null, (BASE_PAGE + random.nextInt(40)) * PAGE);
                if (handler.calls != before) {
                    bits[i >>> 6] |= 1L << i;
                }
            }
        }
        return bits;
    }
}
