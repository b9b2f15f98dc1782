package org.unetmm.pinning;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;
import static org.unetmm.pinning.KernelView.PAGE;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.parallel.ResourceLock;

/**
 * Virtual page → physical frame from /proc/self/pagemap. Frames are visible to root only (with
 * CAP_SYS_ADMIN); the unprivileged VIRTUAL mode is checked in the child JVM of
 * {@link UnprivilegedPinningTest}.
 */
@Timeout(30)
@ResourceLock(KernelView.LOCKED_MEMORY)
class PageTranslatorTest {

    @Test
    void asRootTouchedPagesTranslateToDistinctPhysicalFrames() {
        assumeRootWithSysAdmin();
        try (PageTranslator translator = PageTranslator.open();
             // guarded: a mapping of its own, too small for a transparent huge page to fault in page 2
             NativeBuffer memory = NativeMemory.allocate(3 * (int) PAGE, true)) {
            assertThat(translator.mode()).isEqualTo(PageTranslator.Mode.PHYSICAL);
            long first = memory.address();
            long second = first + PAGE;
            memory.buffer().put(0, (byte) 1);
            memory.buffer().put((int) PAGE, (byte) 2);

            long frame0 = translator.frameOf(first);
            long frame1 = translator.frameOf(second);
            assertThat(frame0).as("frame of a touched page").isNotNegative();
            assertThat(frame1).as("frame of a touched page").isNotNegative();
            assertThat(frame0).as("two pages, two frames").isNotEqualTo(frame1);
            assertThat(translator.translate(NativeMemory.pageOf(first))).isEqualTo(frame0);
            assertThat(translator.frameOf(first + PAGE - 1)).as("same page, same frame").isEqualTo(frame0);
            assertThat(translator.frameOf(first + 2 * PAGE)).as("a page never touched is not present").isEqualTo(-1);
        }
    }

    @Test
    void pinnedPageKeepsItsFrame() {
        assumeRootWithSysAdmin();
        try (PageTranslator translator = PageTranslator.open();
             NativeBuffer memory = NativeMemory.allocate((int) PAGE);
             PinCache cache = new PinCache(PinCacheConfig.builder().budgetBytes(16 * PAGE).build())) {
            try (PinHandle handle = cache.acquire(memory, 0, (int) PAGE)) {
                long frame = translator.frameOf(handle.address());
                assertThat(frame).as("mlock faults the page in").isNotNegative();
                memory.buffer().put(0, (byte) 7);
                assertThat(translator.frameOf(handle.address())).isEqualTo(frame);
            }
        }
    }

    private static void assumeRootWithSysAdmin() {
        assumeTrue(KernelView.uid() == 0 && KernelView.hasCapability(KernelView.CAP_SYS_ADMIN),
                "pagemap shows frame numbers only to root with CAP_SYS_ADMIN; running as uid " + KernelView.uid());
    }

    @Test
    void negativePageNumberIsRefused() {
        try (PageTranslator translator = PageTranslator.open()) {
            assertThatThrownBy(() -> translator.translate(-1)).isInstanceOf(IllegalArgumentException.class);
        }
    }
}
