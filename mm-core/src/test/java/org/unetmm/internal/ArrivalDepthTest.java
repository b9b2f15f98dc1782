package org.unetmm.internal;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.unetmm.pinning.NativeMemory;

/** How deep the receive prefetch translates a posted buffer: as deep as recent messages reached. */
class ArrivalDepthTest {
    private static final long PAGE = NativeMemory.pageSize();
    private static final long BUFFER = 1L << 30; // a page-aligned address

    @Test
    void beforeAnyMessageThePrefetchTakesItsWholeShare() {
        assertThat(new ArrivalDepth().pages(8)).isEqualTo(8);
    }

    @Test
    void smallMessagesBringThePrefetchDownToTheirPageAndALargerOneRaisesItAtOnce() {
        ArrivalDepth depth = new ArrivalDepth();
        depth.arrived(BUFFER, 64);
        assertThat(depth.pages(8)).isEqualTo(1);
        depth.arrived(BUFFER + PAGE - 10, 20); // 20 bytes across a page boundary: two pages
        assertThat(depth.pages(8)).isEqualTo(2);
        depth.arrived(BUFFER, (int) (5 * PAGE));
        assertThat(depth.pages(8)).isEqualTo(5);
        depth.arrived(BUFFER, (int) (40 * PAGE));
        assertThat(depth.pages(8)).as("never past the share").isEqualTo(8);
        assertThat(depth.pages(0)).as("at least a page").isEqualTo(1);
    }

    @Test
    void aLargeMessageAmongSmallOnesCostsDeeperPrefetchesForAWindowNotForever() {
        ArrivalDepth depth = new ArrivalDepth();
        depth.arrived(BUFFER, (int) (6 * PAGE));
        for (int i = 1; i < ArrivalDepth.WINDOW; i++) {
            depth.arrived(BUFFER, 64);
            assertThat(depth.pages(8)).as("message %d of the window that saw 6 pages", i).isEqualTo(6);
        }
        for (int i = 0; i < ArrivalDepth.WINDOW; i++) {
            depth.arrived(BUFFER, 64);
        }
        assertThat(depth.pages(8)).as("a whole window of one-page messages").isEqualTo(1);
        depth.arrived(BUFFER, 0);
        assertThat(depth.pages(8)).as("an empty message reaches its first page").isEqualTo(1);
    }
}
