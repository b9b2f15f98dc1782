package org.unetmm.pinning;

import static org.assertj.core.api.Assertions.assertThat;
import static org.unetmm.pinning.KernelView.PAGE;
import static org.unetmm.pinning.KernelView.lockedSince;
import static org.unetmm.pinning.KernelView.pageLocked;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.parallel.ResourceLock;

/**
 * Page reference counts are the process's, not a cache's (DESIGN §3): two caches (two NICs)
 * whose regions share a page lock it once and unlock it when the last of them lets go, checked
 * against VmLck and the page's VM_LOCKED flag after every step.
 */
@Timeout(30)
@ResourceLock(KernelView.LOCKED_MEMORY)
class PinCachesSharingAPageTest {
    private static final int P = (int) PAGE;

    private long baseline;
    private long processBaseline;
    private NativeBuffer memory;
    private PinCache a;
    private PinCache b;

    @BeforeEach
    void setUp() {
        baseline = ProcessStatus.vmLckBytes();
        processBaseline = LockedMemory.process().lockedBytes();
        memory = NativeMemory.allocate(2 * P, true);
        a = new PinCache(PinCacheConfig.builder().budgetBytes(64 * PAGE).build());
        b = new PinCache(PinCacheConfig.builder().budgetBytes(64 * PAGE).build());
    }

    @AfterEach
    void tearDown() {
        a.close();
        b.close();
        memory.close();
        assertThat(ProcessStatus.vmLckBytes()).as("VmLck back at baseline").isEqualTo(baseline);
    }

    private void expectLocked(String step, long pages, boolean firstPageLocked) {
        assertThat(lockedSince(baseline)).as("%s: VmLck", step).isEqualTo(pages * PAGE);
        assertThat(LockedMemory.process().lockedBytes() - processBaseline).as("%s: the process's count", step)
                .isEqualTo(pages * PAGE);
        assertThat(pageLocked(memory.address())).as("%s: the shared page's VM_LOCKED", step).isEqualTo(firstPageLocked);
    }

    @Test
    void aPageSharedByTwoCachesStaysLockedUntilTheLastOneLetsGo() {
        PinHandle inA = a.acquire(memory, 0, 100);
        expectLocked("A pins bytes 0-99", 1, true);
        PinHandle inB = b.acquire(memory, 2000, 100);
        expectLocked("B pins bytes 2000-2099 of the same page", 1, true);
        assertThat(a.pinnedBytes()).isEqualTo(PAGE);
        assertThat(b.pinnedBytes()).isEqualTo(PAGE);
        assertThat(a.stats().lockCalls() + b.stats().lockCalls()).as("locked once").isEqualTo(1);

        inA.release();
        expectLocked("A releases (idle)", 1, true);
        a.evictIdle();
        expectLocked("A unpins: B still holds the page", 1, true);
        assertThat(a.pinnedBytes()).isZero();
        assertThat(b.isPinned(memory.address())).isTrue();

        inB.release();
        expectLocked("B releases (idle)", 1, true);
        b.evictIdle();
        expectLocked("B unpins: no one holds it", 0, false);
    }

    @Test
    void closingOneCacheLeavesThePagesTheOtherHoldsLocked() {
        PinHandle inB = b.acquire(memory, 0, 2 * P);     // pages 0-1
        expectLocked("B pins pages 0-1", 2, true);
        a.acquire(memory, 10, 20).release();              // page 0, idle in A
        expectLocked("A pins page 0 and releases it", 2, true);
        a.close();
        expectLocked("A closed: B holds both pages", 2, true);
        a.close();
        inB.release();
        expectLocked("B releases (idle)", 2, true);
        b.close();
        expectLocked("B closed", 0, false);
    }

    @Test
    void theLastUnpinOfASharedRunUnlocksOnlyThePagesNoOneElseHolds() {
        PinHandle inA = a.acquire(memory, 0, 2 * P);     // pages 0-1
        PinHandle inB = b.acquire(memory, P, P);         // page 1
        expectLocked("A pins 0-1, B pins 1", 2, true);
        inA.release();
        a.evictIdle();
        expectLocked("A unpins 0-1", 1, false);
        assertThat(pageLocked(memory.address() + P)).as("page 1, B's").isTrue();
        inB.release();
        b.evictIdle();
        expectLocked("B unpins 1", 0, false);
        assertThat(pageLocked(memory.address() + P)).isFalse();
    }
}
