package org.unetmm.pinning;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.unetmm.pinning.KernelView.PAGE;
import static org.unetmm.pinning.KernelView.lockedSince;
import static org.unetmm.pinning.KernelView.pageLocked;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.parallel.ResourceLock;

/**
 * Eviction unpins only idle regions, really (the kernel unlocks them), and only after listeners
 * (the TLB) have heard of it while the pages were still locked. Page-aligned library memory keeps
 * the page arithmetic exact.
 */
@Timeout(30)
@ResourceLock(KernelView.LOCKED_MEMORY)
class PinCacheEvictionTest {
    private static final int P = (int) PAGE;

    /** What a listener saw at the moment it was told of an unpin. */
    record Unpin(long address, long length, UnpinCause cause, long lockedThen, boolean firstPageLockedThen) {
    }

    private long baseline;
    private NativeBuffer memory;
    private final List<Unpin> unpins = new ArrayList<>();
    private final PinListener witness = new PinListener() {
        @Override
        public void beforeUnpin(long address, long length, UnpinCause cause) {
            unpins.add(new Unpin(address, length, cause, lockedSince(baseline), pageLocked(address)));
        }
    };

    @BeforeEach
    void setUp() {
        baseline = ProcessStatus.vmLckBytes();
        memory = NativeMemory.allocate(12 * P, true);
    }

    @AfterEach
    void tearDown() {
        memory.close();
        assertThat(ProcessStatus.vmLckBytes()).as("VmLck back at baseline").isEqualTo(baseline);
    }

    private long page(int index) {
        return memory.address() + (long) index * P;
    }

    @Test
    void idlePinEvictedUnderBudgetPressureIsUnlockedAfterListenersHeard() {
        try (PinCache cache = cacheOfPages(8)) {
            cache.acquire(memory, 0, 4 * P).release();             // pages 0-3, idle
            assertThat(lockedSince(baseline)).isEqualTo(4 * PAGE);

            PinHandle big = cache.acquire(memory, 5 * P, 6 * P);    // pages 5-10: only fits without 0-3
            assertThat(unpins).containsExactly(
                    new Unpin(page(0), 4 * PAGE, UnpinCause.EVICTED, 4 * PAGE, true));
            assertThat(lockedSince(baseline)).as("evicted pages unlocked, new ones locked")
                    .isEqualTo(6 * PAGE).isEqualTo(cache.pinnedBytes());
            assertThat(pageLocked(page(0))).isFalse();
            assertThat(pageLocked(page(3))).isFalse();
            assertThat(pageLocked(page(5))).isTrue();
            assertThat(cache.stats().evictions()).isEqualTo(1);
            assertThat(cache.idleRegions()).isZero();
            big.release();
        }
    }

    @Test
    void idlePinEvictedByCaffeinesSizePolicyUnlocksOnlyItsOwnPages() {
        // two idle regions sharing pages 2-5 weigh 12 pages against a maximum of 8: Caffeine evicts one
        try (PinCache cache = cacheOfPages(8)) {
            PinHandle low = cache.acquire(memory, 0, 6 * P);        // pages 0-5
            PinHandle high = cache.acquire(memory, 2 * P, 6 * P);   // pages 2-7
            assertThat(lockedSince(baseline)).isEqualTo(8 * PAGE);
            low.release();
            high.release();

            assertThat(cache.stats().evictions()).as("evicted on release, by Caffeine").isEqualTo(1);
            assertThat(cache.idleRegions()).isEqualTo(1);
            assertThat(unpins).hasSize(1);
            Unpin unpin = unpins.get(0);
            assertThat(unpin.cause()).isEqualTo(UnpinCause.EVICTED);
            assertThat(unpin.length()).isEqualTo(6 * PAGE);
            assertThat(unpin.lockedThen()).as("told while still locked").isEqualTo(8 * PAGE);
            assertThat(unpin.firstPageLockedThen()).isTrue();

            boolean lowEvicted = unpin.address() == page(0);
            int goneFrom = lowEvicted ? 0 : 6;
            int keptFrom = lowEvicted ? 6 : 0;
            assertThat(lockedSince(baseline)).isEqualTo(6 * PAGE).isEqualTo(cache.pinnedBytes());
            assertThat(pageLocked(page(goneFrom))).isFalse();
            assertThat(pageLocked(page(goneFrom + 1))).isFalse();
            assertThat(pageLocked(page(keptFrom))).isTrue();
            for (int shared = 2; shared < 6; shared++) {
                assertThat(pageLocked(page(shared))).as("shared page %d stays locked", shared).isTrue();
            }
        }
    }

    @Test
    void regionsInUseAreNeverEvictedAndAFullBudgetRefusesWithTheRightNumbers() {
        try (PinCache cache = cacheOfPages(8)) {
            cache.acquire(memory, 10 * P, 2 * P).release();         // pages 10-11, idle
            PinHandle first = cache.acquire(memory, 0, 4 * P);      // pages 0-3
            PinHandle second = cache.acquire(memory, 4 * P, 4 * P); // pages 4-7: evicts 10-11
            assertThat(unpins).extracting(Unpin::address, Unpin::cause)
                    .containsExactly(org.assertj.core.groups.Tuple.tuple(page(10), UnpinCause.EVICTED));
            assertThat(lockedSince(baseline)).isEqualTo(8 * PAGE);

            // pages 6-9: 6-7 are pinned already, 8-9 would pass the budget
            assertThatThrownBy(() -> cache.acquire(memory, 6 * P, 4 * P))
                    .isInstanceOfSatisfying(PinBudgetExceededException.class, e -> {
                        assertThat(e.pinnedBytes()).isEqualTo(8 * PAGE);
                        assertThat(e.inUseBytes()).isEqualTo(8 * PAGE);
                        assertThat(e.requestedBytes()).isEqualTo(2 * PAGE);
                        assertThat(e.budgetBytes()).isEqualTo(8 * PAGE);
                        assertThat(e).hasMessageContaining("release handles");
                    });
            assertThat(unpins).as("no region in use was unpinned").hasSize(1);
            assertThat(lockedSince(baseline)).isEqualTo(8 * PAGE).isEqualTo(cache.pinnedBytes());
            for (int i = 0; i < 8; i++) {
                assertThat(pageLocked(page(i))).as("in-use page %d", i).isTrue();
            }
            assertThat(pageLocked(page(8))).isFalse();
            assertThat(cache.inUseRegions()).isEqualTo(2);

            // once the first region is idle, it makes the room
            first.release();
            PinHandle third = cache.acquire(memory, 6 * P, 4 * P);
            assertThat(unpins).last().extracting(Unpin::address, Unpin::cause)
                    .containsExactly(page(0), UnpinCause.EVICTED);
            assertThat(lockedSince(baseline)).isEqualTo(6 * PAGE).isEqualTo(cache.pinnedBytes());
            second.release();
            third.release();
        }
    }

    @Test
    void aSingleRegionLargerThanTheBudgetIsRefusedEvenWhenEverythingIsIdle() {
        try (PinCache cache = cacheOfPages(8)) {
            cache.acquire(memory, 0, P).release();
            assertThatThrownBy(() -> cache.acquire(memory, 0, 9 * P))
                    .isInstanceOfSatisfying(PinBudgetExceededException.class, e -> {
                        assertThat(e.requestedBytes()).isEqualTo(9 * PAGE);
                        assertThat(e.inUseBytes()).isZero();
                    });
            assertThat(lockedSince(baseline)).isZero();
            assertThat(cache.pinnedBytes()).isZero();
        }
    }

    @Test
    void evictIdleUnpinsEveryIdleRegionAndNoRegionInUse() {
        try (PinCache cache = cacheOfPages(64)) {
            cache.acquire(memory, 0, 2 * P).release();
            cache.acquire(memory, P, 2 * P).release();
            PinHandle held = cache.acquire(memory, 2 * P, 10);
            assertThat(lockedSince(baseline)).isEqualTo(3 * PAGE);

            cache.evictIdle();
            assertThat(cache.idleRegions()).isZero();
            assertThat(unpins).extracting(Unpin::cause).containsOnly(UnpinCause.EVICTED).hasSize(2);
            assertThat(lockedSince(baseline)).as("page 2 is under the held region").isEqualTo(PAGE);
            assertThat(pageLocked(page(2))).isTrue();
            held.release();
        }
    }

    private PinCache cacheOfPages(int pages) {
        PinCache cache = new PinCache(PinCacheConfig.builder().budgetBytes(pages * PAGE).build());
        cache.addListener(witness);
        return cache;
    }
}
