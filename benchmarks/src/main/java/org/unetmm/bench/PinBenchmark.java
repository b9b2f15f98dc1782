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
import org.unetmm.pinning.PinHandle;
import org.unetmm.pinning.internal.Pinner;

/**
 * The micro-costs of U-Net/MM's kernel side: a pin miss (mlock + munlock of a region no one has
 * pinned, the cache bypassed), a pin-cache hit (an idle region taken back and returned, no system
 * call), and a pagemap translation per page. The miss ÷ hit ratio for one page is the number the
 * pin cache exists for.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class PinBenchmark {
    /** Regions cycled through by the miss benchmark, so each pin is of pages no one holds. */
    private static final int REGIONS = 64;

    @Param({"1", "16", "256"})
    public int pages;

    private NativeBuffer memory;
    private ByteBuffer buffer;
    private long base;
    private long regionBytes;
    private Pinner pinner;
    private PinCache cache;
    private PageTranslator translator;
    private int next;

    @Setup(Level.Trial)
    public void setUp() {
        long page = NativeMemory.pageSize();
        regionBytes = pages * page;
        memory = NativeMemory.allocate((int) (regionBytes * REGIONS));
        buffer = memory.buffer();
        base = memory.address();
        for (int i = 0; i < buffer.capacity(); i += (int) page) {
            buffer.put(i, (byte) 1); // fault every page in: the miss measures locking, not first touch
        }
        pinner = new Pinner(PinBudget.unlimited());
        cache = new PinCache(PinCacheConfig.builder().budget(PinBudget.unlimited()).build());
        cache.acquire(buffer, 0, (int) regionBytes).release(); // region 0 is now idle in the cache
        translator = PageTranslator.open();
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        cache.close();
        translator.close();
        memory.close();
    }

    /** Pin miss, cache bypassed: mlock + munlock of a fresh region through the page-counting Pinner. */
    @Benchmark
    public void pinMiss() {
        long address = base + (next++ % REGIONS) * regionBytes;
        pinner.pin(address, regionBytes);
        pinner.unpin(address, regionBytes);
    }

    /** Pin-cache hit: acquire of an idle region and its release, no system call. */
    @Benchmark
    public PinHandle pinCacheHit() {
        PinHandle handle = cache.acquire(buffer, 0, (int) regionBytes);
        handle.release();
        return handle;
    }

    /** One pagemap read: virtual page to physical frame (or the virtual page without root). */
    @Benchmark
    public long translatePage() {
        return translator.frameOf(base + (next++ % REGIONS) * regionBytes);
    }
}
