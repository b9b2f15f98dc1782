package org.unetmm.pinning;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.unetmm.pinning.KernelView.PAGE;
import static org.unetmm.pinning.KernelView.lockedSince;
import static org.unetmm.pinning.KernelView.pageLocked;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.parallel.ResourceLock;
import org.unetmm.pinning.internal.Libc;
import org.unetmm.pinning.internal.Pinner;

/**
 * The Pinner's page reference counts against the kernel: VmLck for how much is locked, and the
 * VM_LOCKED flag of the page's mapping (/proc/self/smaps) for which pages.
 */
@Timeout(30)
@ResourceLock(KernelView.LOCKED_MEMORY)
class PinnerTest {
    private long baseline;
    private NativeBuffer memory;
    private long base;

    @BeforeEach
    void setUp() {
        baseline = ProcessStatus.vmLckBytes();
        memory = NativeMemory.allocate((int) (8 * PAGE), true);
        base = memory.address();
    }

    @AfterEach
    void tearDown() {
        memory.close();
        assertThat(ProcessStatus.vmLckBytes()).as("VmLck back at baseline after the test").isEqualTo(baseline);
    }

    @Test
    void overlappingRangesSharingAPageLockItOnceAndUnlockItLast() {
        Pinner pinner = new Pinner(PinBudget.unlimited());
        // pages 0-1, then pages 1-2: page 1 is shared
        pinner.pin(base + 100, 5000);
        pinner.pin(base + PAGE + 2000, (int) PAGE);
        assertThat(lockedSince(baseline)).isEqualTo(3 * PAGE).isEqualTo(pinner.pinnedBytes());
        assertThat(pinner.lockCalls()).as("the shared page is not locked a second time").isEqualTo(2);

        pinner.unpin(base + 100, 5000);
        assertThat(lockedSince(baseline)).isEqualTo(2 * PAGE).isEqualTo(pinner.pinnedBytes());
        assertThat(pageLocked(base)).as("page 0, only the first range's").isFalse();
        assertThat(pageLocked(base + PAGE)).as("page 1, still under the second range").isTrue();
        assertThat(pageLocked(base + 2 * PAGE)).isTrue();
        assertThat(pinner.isPinned(base)).isFalse();
        assertThat(pinner.isPinned(base + PAGE)).isTrue();

        pinner.unpin(base + PAGE + 2000, (int) PAGE);
        assertThat(lockedSince(baseline)).isZero();
        assertThat(pinner.pinnedBytes()).isZero();
        assertThat(pageLocked(base + PAGE)).isFalse();
    }

    @Test
    void adjacentRangesInOnePageNeverUnlockEachOther() {
        Pinner pinner = new Pinner(PinBudget.unlimited());
        pinner.pin(base, 4000);             // page 0
        pinner.pin(base + 4000, 200);       // pages 0 and 1
        pinner.pin(base + 4200, 10);        // page 1
        assertThat(lockedSince(baseline)).isEqualTo(2 * PAGE).isEqualTo(pinner.pinnedBytes());

        pinner.unpin(base, 4000);
        assertThat(pageLocked(base)).as("page 0 is still held by the range that straddles it").isTrue();
        pinner.unpin(base + 4000, 200);
        assertThat(pageLocked(base)).isFalse();
        assertThat(pageLocked(base + PAGE)).as("page 1 is still held by the third range").isTrue();
        assertThat(lockedSince(baseline)).isEqualTo(PAGE).isEqualTo(pinner.pinnedBytes());
        pinner.unpin(base + 4200, 10);
        assertThat(lockedSince(baseline)).isZero();
    }

    @Test
    void pinningTheSameRangeTwiceLocksOnceAndNeedsTwoUnpins() {
        Pinner pinner = new Pinner(PinBudget.unlimited());
        pinner.pin(base, 3 * PAGE);
        pinner.pin(base, 3 * PAGE);
        assertThat(pinner.lockCalls()).isEqualTo(1);
        assertThat(lockedSince(baseline)).isEqualTo(3 * PAGE);

        pinner.unpin(base, 3 * PAGE);
        assertThat(pinner.unlockCalls()).isZero();
        assertThat(lockedSince(baseline)).as("one unpin of two leaves the pages locked").isEqualTo(3 * PAGE);
        pinner.unpin(base, 3 * PAGE);
        assertThat(lockedSince(baseline)).isZero();
        assertThat(pinner.peakPinnedBytes()).isEqualTo(3 * PAGE);
    }

    @Test
    void rangeAroundPinnedPagesLocksOnlyTheGapsAround() {
        Pinner pinner = new Pinner(PinBudget.unlimited());
        pinner.pin(base + 2 * PAGE, PAGE);
        pinner.pin(base + 5 * PAGE, PAGE);
        long calls = pinner.lockCalls();
        pinner.pin(base, 8 * PAGE);
        assertThat(pinner.lockCalls() - calls).as("runs 0-1, 3-4, 6-7").isEqualTo(3);
        assertThat(lockedSince(baseline)).isEqualTo(8 * PAGE).isEqualTo(pinner.pinnedBytes());

        pinner.unpin(base, 8 * PAGE);
        assertThat(lockedSince(baseline)).isEqualTo(2 * PAGE);
        assertThat(pageLocked(base + 2 * PAGE)).isTrue();
        assertThat(pageLocked(base + 5 * PAGE)).isTrue();
        assertThat(pageLocked(base + 3 * PAGE)).isFalse();
        pinner.unpin(base + 2 * PAGE, PAGE);
        pinner.unpin(base + 5 * PAGE, PAGE);
        assertThat(lockedSince(baseline)).isZero();
    }

    @Test
    void pinOverBudgetFailsBeforeAnySystemCall() {
        Pinner pinner = new Pinner(PinBudget.ofBytes(4 * PAGE));
        pinner.pin(base, 3 * PAGE);
        long calls = pinner.lockCalls();

        assertThatThrownBy(() -> pinner.pin(base + 2 * PAGE, 3 * PAGE))
                .isInstanceOfSatisfying(PinBudgetExceededException.class, e -> {
                    assertThat(e.requestedBytes()).as("pages 3 and 4 are new").isEqualTo(2 * PAGE);
                    assertThat(e.pinnedBytes()).isEqualTo(3 * PAGE);
                    assertThat(e.budgetBytes()).isEqualTo(4 * PAGE);
                });
        assertThat(pinner.lockCalls()).isEqualTo(calls);
        assertThat(lockedSince(baseline)).isEqualTo(3 * PAGE).isEqualTo(pinner.pinnedBytes());

        // re-pinning pages already pinned needs no budget
        pinner.pin(base + PAGE, PAGE);
        pinner.pin(base + 3 * PAGE, PAGE);
        assertThat(lockedSince(baseline)).isEqualTo(4 * PAGE);
        pinner.unpin(base + PAGE, PAGE);
        pinner.unpin(base + 3 * PAGE, PAGE);
        pinner.unpin(base, 3 * PAGE);
        assertThat(lockedSince(baseline)).isZero();
    }

    @Test
    void unpinOfPagesNotPinnedIsRefusedAndChangesNothing() {
        Pinner pinner = new Pinner(PinBudget.unlimited());
        pinner.pin(base, PAGE);
        assertThatThrownBy(() -> pinner.unpin(base, 2 * PAGE))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("not pinned");
        assertThat(lockedSince(baseline)).isEqualTo(PAGE).isEqualTo(pinner.pinnedBytes());
        assertThat(pageLocked(base)).isTrue();
        pinner.unpin(base, PAGE);
        assertThat(lockedSince(baseline)).isZero();
    }

    @Test
    void failedLockOverAnUnmappedHoleLeavesNothingLocked() {
        // three pages, the middle one unmapped: mlock locks page 0, meets the hole, returns ENOMEM
        long hole = Libc.mmapAnonymous(3 * PAGE, Libc.PROT_READ | Libc.PROT_WRITE);
        try {
            Libc.munmap(hole + PAGE, PAGE);
            Pinner pinner = new Pinner(PinBudget.unlimited());
            pinner.pin(hole + 2 * PAGE, PAGE);

            assertThatThrownBy(() -> pinner.pin(hole, 3 * PAGE))
                    .isInstanceOfSatisfying(MemlockLimitException.class,
                            e -> assertThat(e.errnoName()).isEqualTo("ENOMEM"));
            assertThat(pinner.pinnedBytes()).isEqualTo(PAGE);
            assertThat(lockedSince(baseline)).as("kernel agrees: only page 2 is locked").isEqualTo(PAGE);
            assertThat(pageLocked(hole)).isFalse();
            assertThat(pageLocked(hole + 2 * PAGE)).isTrue();
            pinner.unpin(hole + 2 * PAGE, PAGE);
            assertThat(lockedSince(baseline)).isZero();
        } finally {
            Libc.munmap(hole, PAGE);
            Libc.munmap(hole + 2 * PAGE, PAGE);
        }
    }

    @Test
    void rangeAddressesRoundToWholePages() {
        PageRange range = PageRange.of(base + 1, 2 * PAGE);
        assertThat(range.firstPage()).isEqualTo(base / PAGE);
        assertThat(range.pageCount()).isEqualTo(3);
        assertThat(range.address()).isEqualTo(base);
        assertThat(range.length()).isEqualTo(3 * PAGE);
        assertThat(range.overlaps(base + 3 * PAGE - 1, 1)).isTrue();
        assertThat(range.overlaps(base + 3 * PAGE, 1)).isFalse();
        assertThatThrownBy(() -> PageRange.of(base, 0)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> PageRange.of(-1, 10)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> PageRange.of(Long.MAX_VALUE - 2, 10)).isInstanceOf(IllegalArgumentException.class);
    }
}
