package org.unetmm.bench;

import java.nio.ByteBuffer;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.unetmm.pinning.NativeBuffer;
import org.unetmm.pinning.NativeMemory;
import org.unetmm.pinning.PageTranslator;
import org.unetmm.pinning.PinBudget;
import org.unetmm.pinning.PinCache;
import org.unetmm.pinning.PinCacheConfig;
import org.unetmm.tlb.ReplacementPolicy;
import org.unetmm.tlb.Tlb;
import org.unetmm.tlb.TlbConfig;
import org.unetmm.tlb.trace.PolicyComparison;

/**
 * The three costs of a NIC address translation, each over real memory and a real pin cache:
 * <ul>
 *   <li>{@link #hit}: the translation is in the TLB (target ≤ 10 ns under every policy; no lock,
 *       no allocation: run with {@code -prof gc} to see 0 B/op);</li>
 *   <li>{@link #missIdlePin}: a TLB miss whose page is idle in the pin cache, taken back without a
 *       system call (the pagemap read of the translation remains);</li>
 *   <li>{@link #missMustPin}: a TLB miss whose page must be locked, with the pin budget forcing the
 *       unlock of an idle page first: mlock + munlock + pagemap.</li>
 * </ul>
 * The misses cycle through more pages than the TLB holds, so under LRU every lookup misses.
 * {@link #main} prints the policies' hit rates against Bélády's OPT on a zipf(0.99) trace.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class TlbBenchmark {
    private static final long PAGE = NativeMemory.pageSize();

    /** A TLB over a pin cache and a region of real pages, torn down in reverse. */
    abstract static class Rig {
        NativeBuffer memory;
        ByteBuffer buffer;
        long[] addresses;
        PageTranslator translator;
        PinCache cache;
        Tlb tlb;
        int context;
        int next;

        void build(TlbConfig config, int pages, PinBudget budget) {
            memory = NativeMemory.allocate((int) (pages * PAGE));
            buffer = memory.buffer();
            addresses = new long[pages];
            for (int p = 0; p < pages; p++) {
                addresses[p] = memory.address() + p * PAGE + 64;
                buffer.put((int) (p * PAGE), (byte) 1); // fault in: measure pinning, not first touch
            }
            translator = PageTranslator.open();
            cache = new PinCache(PinCacheConfig.builder().budget(budget).build());
            tlb = Tlb.over(config, cache, translator);
            context = tlb.openContext();
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            tlb.close();
            cache.close();
            translator.close();
            memory.close();
        }
    }

    /** Every page resident: each lookup hits. */
    @State(Scope.Thread)
    public static class Resident extends Rig {
        @Param({"LRU", "CLOCK", "RANDOM", "SIEVE", "S3FIFO", "LFU"})
        public ReplacementPolicy policy;

        @Param({"64", "1024"})
        public int entries;

        @Setup(Level.Trial)
        public void setUp() {
            build(TlbConfig.builder().entries(entries).ways(4).policy(policy).build(), entries, PinBudget.unlimited());
            for (long address : addresses) {
                tlb.lookup(context, buffer, address);
            }
        }
    }

    /** 16 LRU entries, 64 pages cycled, budget for all: every lookup misses, every page is idle in the cache. */
    @State(Scope.Thread)
    public static class IdleMiss extends Rig {
        @Setup(Level.Trial)
        public void setUp() {
            build(TlbConfig.fullyAssociative(16, ReplacementPolicy.LRU), 64, PinBudget.unlimited());
        }
    }

    /**
     * 16 LRU entries, 64 pages cycled, a budget of 17 pages: the 16 resident translations hold 16,
     * so each miss first unlocks the one idle page (the last victim) and then locks its own.
     */
    @State(Scope.Thread)
    public static class PinningMiss extends Rig {
        @Setup(Level.Trial)
        public void setUp() {
            build(TlbConfig.fullyAssociative(16, ReplacementPolicy.LRU), 64, PinBudget.ofBytes(17 * PAGE));
        }
    }

    @Benchmark
    public long hit(Resident s) {
        long[] addresses = s.addresses;
        int i = s.next;
        s.next = i + 1 == addresses.length ? 0 : i + 1;
        return s.tlb.lookup(s.context, s.buffer, addresses[i]);
    }

    @Benchmark
    public long missIdlePin(IdleMiss s) {
        return lookupNext(s);
    }

    @Benchmark
    public long missMustPin(PinningMiss s) {
        return lookupNext(s);
    }

    private static long lookupNext(Rig s) {
        long[] addresses = s.addresses;
        int i = s.next;
        s.next = i + 1 == addresses.length ? 0 : i + 1;
        return s.tlb.lookup(s.context, s.buffer, addresses[i]);
    }

    /** Every policy's hit rate vs OPT and the static top-C bound on zipf(0.99) over a working set 4 × the TLB. */
    public static void main(String[] args) {
        int accesses = args.length > 0 ? Integer.parseInt(args[0]) : 1_000_000;
        for (int entries : new int[] {64, 256, 1024}) {
            System.out.println(PolicyComparison.zipf(entries, accesses, 1).table());
        }
    }
}
