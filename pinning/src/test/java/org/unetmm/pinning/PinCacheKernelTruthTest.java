package org.unetmm.pinning;

import static org.assertj.core.api.Assertions.assertThat;
import static org.unetmm.pinning.KernelView.PAGE;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.parallel.ResourceLock;

/**
 * DESIGN §4, invariant 1, step by step: a seeded random workload of acquire, release, eviction
 * (explicit, and under pressure of a 64-page budget), invalidation and Caffeine maintenance over
 * unaligned, overlapping buffers that share pages, with the kernel's VmLck checked against the
 * cache's pinned bytes after every step, and every page under a live handle checked pinned
 * (invariant 2). {@code -Dunetmm.test.steps} sets the length; {@code -Dunetmm.test.seed} replays the
 * same choices (the addresses malloc hands out, and so which pages are shared, may differ).
 */
@Timeout(120)
@ResourceLock(KernelView.LOCKED_MEMORY)
class PinCacheKernelTruthTest {
    private static final int P = (int) PAGE;
    private static final int BUDGET_PAGES = 64;
    private static final int MAX_HELD = 40;
    private static final int KERNEL_PAGE_CHECK_EVERY = 500;
    /** The first buffers of the list: the arena's 16 slices and the arena itself. */
    private static final int ARENA_BUFFERS = 17;

    /** {@code length} bytes at {@code offset} of {@code buffer}. */
    record Request(ByteBuffer buffer, int offset, int length) {
        long address() {
            return NativeMemory.address(buffer) + offset;
        }

        PageRange pages() {
            return PageRange.of(address(), length);
        }
    }

    @Test
    void pinnedBytesEqualKernelVmLckAfterEveryStepOfARandomWorkload() {
        long seed = Long.getLong("unetmm.test.seed", ThreadLocalRandom.current().nextLong());
        int steps = Integer.getInteger("unetmm.test.steps", 10_000);
        System.out.println("PinCacheKernelTruthTest: seed " + seed + ", " + steps + " steps"
                + " (replay with -Dunetmm.test.seed=" + seed + ")");
        Random random = new Random(seed);
        long started = System.nanoTime();

        // one arena sliced at odd offsets (slices overlap and share pages), plus small buffers that
        // malloc packs next to each other (they share pages too)
        ByteBuffer arena = ByteBuffer.allocateDirect(100 * P + 123);
        List<ByteBuffer> buffers = new ArrayList<>();
        for (int i = 0; i < 16; i++) {
            int offset = 1 + 2 * random.nextInt(arena.capacity() / 2 - 1);
            int length = 1 + random.nextInt(Math.min(12 * P, arena.capacity() - offset));
            buffers.add(arena.slice(offset, length));
        }
        buffers.add(arena);
        for (int i = 0; i < 24; i++) {
            buffers.add(ByteBuffer.allocateDirect(1 + random.nextInt(3 * P)));
        }
        // a pool of requests that recur, so regions are hit again, idle or in use
        List<Request> pool = new ArrayList<>();
        for (int i = 0; i < 60; i++) {
            pool.add(randomRequest(random, buffers));
        }
        for (int i = 0; i < 4; i++) {
            // large regions of the arena (24-40 pages): they fit only when few pages are in use
            int length = 24 * P + random.nextInt(16 * P);
            pool.add(new Request(arena, random.nextInt(arena.capacity() - length), length));
        }

        long baseline = ProcessStatus.vmLckBytes();
        PinCache cache = new PinCache(PinCacheConfig.builder().budgetBytes(BUDGET_PAGES * PAGE).build());
        List<PinHandle> held = new ArrayList<>();
        int refusals = 0;
        int deferredInvalidations = 0;
        String op = "start";
        int step = 0;
        try {
            for (step = 0; step < steps; step++) {
                int dice = random.nextInt(100);
                if (held.size() >= MAX_HELD || (dice < 32 && !held.isEmpty())) {
                    PinHandle handle = held.remove(random.nextInt(held.size()));
                    op = "release " + handle;
                    handle.release();
                } else if (dice < 84) {
                    Request request = random.nextInt(100) < 60 ? pool.get(random.nextInt(pool.size()))
                            : randomRequest(random, buffers);
                    op = "acquire " + request.length() + " bytes at 0x" + Long.toHexString(request.address());
                    try {
                        held.add(cache.acquire(request.buffer(), request.offset(), request.length()));
                    } catch (PinBudgetExceededException e) {
                        refusals++;
                        checkRefusal(e, request, held, cache, seed, step);
                    }
                } else if (dice < 91) {
                    op = "evictIdle";
                    cache.evictIdle();
                    assertThat(cache.idleRegions()).as("seed %d, step %d: idle regions after evictIdle", seed, step)
                            .isZero();
                } else if (dice < 98) {
                    Request range = randomRequest(random, buffers);
                    op = "invalidate " + range.length() + " bytes at 0x" + Long.toHexString(range.address());
                    int deferred = cache.invalidate(range.address(), range.length());
                    deferredInvalidations += deferred;
                    checkInvalidation(range.pages(), deferred, held, cache, seed, step);
                } else {
                    op = "cleanUp";
                    cache.cleanUp();
                }
                checkKernelTruth(cache, baseline, held, seed, step, op);
                if (step % KERNEL_PAGE_CHECK_EVERY == 0) {
                    checkHeldPagesLockedInKernel(held, seed, step);
                }
            }

            for (PinHandle handle : held) {
                handle.release();
            }
            held.clear();
            op = "final evictIdle";
            cache.evictIdle();
            assertThat(cache.pinnedBytes()).as("seed %d: pinned after releasing all and evicting", seed).isZero();
            assertThat(ProcessStatus.vmLckBytes()).as("seed %d: VmLck after releasing all and evicting", seed)
                    .isEqualTo(baseline);
        } catch (RuntimeException e) {
            throw new AssertionError("seed " + seed + ", step " + step + " (" + op + "): " + e, e);
        } finally {
            held.forEach(PinHandle::close);
            cache.close();
        }
        assertThat(ProcessStatus.vmLckBytes()).as("seed %d: VmLck after close", seed).isEqualTo(baseline);

        PinStats stats = cache.stats();
        System.out.printf("PinCacheKernelTruthTest: seed %d, %d steps in %d ms: %s, budget refusals=%d,"
                        + " deferred invalidations=%d%n", seed, steps, (System.nanoTime() - started) / 1_000_000,
                stats, refusals, deferredInvalidations);
        if (steps >= 2_000) {
            // a run this long exercises every path; a shorter one (-Dunetmm.test.steps) may not
            assertThat(stats.evictions()).as("seed %d: evictions happened", seed).isPositive();
            assertThat(refusals).as("seed %d: the budget refused an acquire", seed).isPositive();
            assertThat(stats.hits()).as("seed %d: hits happened", seed).isPositive();
            assertThat(stats.invalidations()).as("seed %d: invalidations happened", seed).isPositive();
        }
    }

    /** Half the time a range of the arena or one of its slices (up to 16 pages), else of any buffer. */
    private static Request randomRequest(Random random, List<ByteBuffer> buffers) {
        ByteBuffer buffer = buffers.get(random.nextInt(random.nextBoolean() ? ARENA_BUFFERS : buffers.size()));
        int offset = random.nextInt(buffer.capacity());
        int length = 1 + random.nextInt(Math.min(buffer.capacity() - offset, 16 * P));
        return new Request(buffer, offset, length);
    }

    private static void checkKernelTruth(PinCache cache, long baseline, List<PinHandle> held, long seed, int step,
                                         String op) {
        long kernel = ProcessStatus.vmLckBytes() - baseline;
        assertThat(cache.pinnedBytes()).as("seed %d, step %d (%s): pinned bytes vs the kernel's VmLck - baseline",
                seed, step, op).isEqualTo(kernel);
        assertThat(cache.pinnedBytes()).as("seed %d, step %d (%s): within the budget", seed, step, op)
                .isLessThanOrEqualTo(BUDGET_PAGES * PAGE);
        Set<PageRange> regions = new HashSet<>();
        for (PinHandle handle : held) {
            regions.add(handle.pages());
            for (long page = handle.pages().firstPage(); page < handle.pages().endPage(); page++) {
                if (!cache.isPinned(page * PAGE)) {
                    throw new AssertionError("seed " + seed + ", step " + step + " (" + op + "): page 0x"
                            + Long.toHexString(page * PAGE) + " of held " + handle + " is not pinned");
                }
            }
        }
        assertThat(cache.inUseRegions()).as("seed %d, step %d (%s): regions in use", seed, step, op)
                .isEqualTo(regions.size());
    }

    private static void checkRefusal(PinBudgetExceededException e, Request request, List<PinHandle> held,
                                     PinCache cache, long seed, int step) {
        Set<Long> inUsePages = new LinkedHashSet<>();
        for (PinHandle handle : held) {
            for (long page = handle.pages().firstPage(); page < handle.pages().endPage(); page++) {
                inUsePages.add(page);
            }
        }
        long fresh = 0;
        for (long page = request.pages().firstPage(); page < request.pages().endPage(); page++) {
            if (!cache.isPinned(page * PAGE)) {
                fresh++;
            }
        }
        String where = "seed " + seed + ", step " + step + ": refusal " + e.getMessage();
        assertThat(cache.idleRegions()).as(where + ": every idle region was evicted first").isZero();
        assertThat(e.inUseBytes()).as(where + ": in-use bytes").isEqualTo(inUsePages.size() * PAGE);
        assertThat(e.pinnedBytes()).as(where + ": pinned bytes").isEqualTo(e.inUseBytes()).isEqualTo(cache.pinnedBytes());
        assertThat(e.requestedBytes()).as(where + ": requested bytes").isEqualTo(fresh * PAGE);
        assertThat(e.budgetBytes()).isEqualTo(BUDGET_PAGES * PAGE);
        assertThat(e.inUseBytes() + e.requestedBytes()).as(where + ": really over the budget")
                .isGreaterThan(e.budgetBytes());
    }

    /** After an invalidation, a page of the range is pinned exactly when a live handle covers it. */
    private static void checkInvalidation(PageRange range, int deferred, List<PinHandle> held, PinCache cache,
                                          long seed, int step) {
        Set<PageRange> overlapping = new HashSet<>();
        Set<Long> heldPages = new HashSet<>();
        for (PinHandle handle : held) {
            if (handle.pages().overlaps(range)) {
                overlapping.add(handle.pages());
            }
            for (long page = handle.pages().firstPage(); page < handle.pages().endPage(); page++) {
                heldPages.add(page);
            }
        }
        assertThat(deferred).as("seed %d, step %d: regions in use deferred by invalidate", seed, step)
                .isEqualTo(overlapping.size());
        for (long page = range.firstPage(); page < range.endPage(); page++) {
            assertThat(cache.isPinned(page * PAGE))
                    .as("seed %d, step %d: invalidated page 0x%x pinned iff a handle holds it", seed, step, page * PAGE)
                    .isEqualTo(heldPages.contains(page));
        }
    }

    private static void checkHeldPagesLockedInKernel(List<PinHandle> held, long seed, int step) {
        List<KernelView.Mapping> locked = KernelView.lockedMappings();
        for (PinHandle handle : held) {
            for (long page = handle.pages().firstPage(); page < handle.pages().endPage(); page++) {
                long address = page * PAGE;
                assertThat(locked.stream().anyMatch(m -> m.contains(address)))
                        .as("seed %d, step %d: the kernel has page 0x%x of %s locked", seed, step, address, handle)
                        .isTrue();
            }
        }
    }
}
