package org.unetmm.pinning;

import static org.assertj.core.api.Assertions.assertThat;
import static org.unetmm.pinning.KernelView.PAGE;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.parallel.ResourceLock;

/**
 * Two threads acquire and release overlapping regions of one arena (their pages shared), with
 * evictions under budget pressure, explicit trims, invalidations and Caffeine maintenance mixed
 * in. The budget leaves room for every region both can hold at once, so no acquire may fail.
 * Each thread checks that the pages of its live handles are pinned; at the end the kernel's
 * VmLck agrees with the cache.
 */
@Timeout(120)
@ResourceLock(KernelView.LOCKED_MEMORY)
class PinCacheConcurrencyTest {
    private static final int P = (int) PAGE;
    private static final int BUDGET_PAGES = 64;
    private static final int OPS_PER_THREAD = 5_000;
    private static final int MAX_HELD_PER_THREAD = 3;
    /** A region of at most 7 pages + 1 byte at an unaligned offset touches at most 9 pages: 2 × 3 × 9 < 64. */
    private static final int MAX_LENGTH = 7 * P + 1;

    @Test
    void twoThreadsOnOverlappingRegionsKeepKernelTruthAndNeverFail() throws Exception {
        long seed = Long.getLong("unetmm.test.seed", ThreadLocalRandom.current().nextLong());
        System.out.println("PinCacheConcurrencyTest: seed " + seed + " (replay with -Dunetmm.test.seed=" + seed + ")");
        ByteBuffer arena = ByteBuffer.allocateDirect(96 * P + 7);
        long baseline = ProcessStatus.vmLckBytes();
        PinCache cache = new PinCache(PinCacheConfig.builder().budgetBytes(BUDGET_PAGES * PAGE).build());
        CountDownLatch start = new CountDownLatch(1);
        ExecutorService threads = Executors.newFixedThreadPool(2);
        try {
            List<Future<Integer>> workers = new ArrayList<>();
            for (int id = 0; id < 2; id++) {
                workers.add(threads.submit(worker(cache, arena, new Random(seed + id), start, seed, id)));
            }
            start.countDown();
            int acquired = 0;
            for (Future<Integer> worker : workers) {
                try {
                    acquired += worker.get(60, TimeUnit.SECONDS);
                } catch (TimeoutException e) {
                    throw new AssertionError("seed " + seed + ": a worker did not finish within 60 s", e);
                } catch (ExecutionException e) {
                    throw new AssertionError("seed " + seed + ": a worker failed: " + e.getCause(), e.getCause());
                }
            }

            assertThat(acquired).as("seed %d: acquires made", seed).isPositive();
            assertThat(cache.inUseRegions()).as("seed %d: every handle released", seed).isZero();
            assertThat(cache.pinnedBytes()).as("seed %d: pinned bytes vs the kernel's VmLck - baseline", seed)
                    .isEqualTo(ProcessStatus.vmLckBytes() - baseline)
                    .isLessThanOrEqualTo(BUDGET_PAGES * PAGE);
            PinStats stats = cache.stats();
            System.out.println("PinCacheConcurrencyTest: seed " + seed + ": " + stats);
            assertThat(stats.peakPinnedBytes()).as("seed %d: pinned bytes came within one region of the budget", seed)
                    .isGreaterThan((BUDGET_PAGES - 9) * PAGE);
            assertThat(stats.hits() + stats.misses()).as("seed %d: every acquire counted", seed).isEqualTo(acquired);

            cache.evictIdle();
            assertThat(cache.pinnedBytes()).isZero();
            assertThat(ProcessStatus.vmLckBytes()).as("seed %d: VmLck after evictIdle", seed).isEqualTo(baseline);
        } finally {
            threads.shutdownNow();
            assertThat(threads.awaitTermination(30, TimeUnit.SECONDS)).as("workers stopped").isTrue();
            cache.close();
        }
        assertThat(ProcessStatus.vmLckBytes()).as("seed %d: VmLck after close", seed).isEqualTo(baseline);
    }

    private static Callable<Integer> worker(PinCache cache, ByteBuffer arena, Random random, CountDownLatch start,
                                            long seed, int id) {
        return () -> {
            List<PinHandle> held = new ArrayList<>();
            int acquired = 0;
            start.await();
            for (int op = 0; op < OPS_PER_THREAD; op++) {
                int dice = random.nextInt(100);
                try {
                    if (held.size() >= MAX_HELD_PER_THREAD || (dice < 45 && !held.isEmpty())) {
                        held.remove(random.nextInt(held.size())).release();
                    } else if (dice < 93) {
                        int offset = random.nextInt(arena.capacity() - 1);
                        int length = 1 + random.nextInt(Math.min(arena.capacity() - offset, MAX_LENGTH));
                        PinHandle handle = cache.acquire(arena, offset, length);
                        acquired++;
                        held.add(handle);
                        for (long page = handle.pages().firstPage(); page < handle.pages().endPage(); page++) {
                            if (!cache.isPinned(page * PAGE)) {
                                throw new AssertionError("page 0x" + Long.toHexString(page * PAGE) + " of live "
                                        + handle + " is not pinned");
                            }
                        }
                    } else if (dice < 94) {
                        cache.evictIdle();
                    } else if (dice < 98) {
                        int offset = random.nextInt(arena.capacity() - 1);
                        cache.invalidate(NativeMemory.address(arena) + offset, 1 + random.nextInt(4 * P));
                    } else {
                        cache.cleanUp();
                    }
                } catch (RuntimeException | AssertionError e) {
                    throw new AssertionError("seed " + seed + ", thread " + id + ", op " + op + ": " + e, e);
                }
            }
            held.forEach(PinHandle::release);
            return acquired;
        };
    }
}
