package org.unetmm.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayDeque;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The fixed segment's FIFO space: messages never overlap live ones, and an empty segment takes anything that fits. */
class SegmentAllocatorTest {
    @Test
    void emptySegmentTakesAWholeSegmentMessageWhereverTheLastOneEnded() {
        SegmentAllocator segment = new SegmentAllocator(1024);
        assertThat(segment.allocate(100)).isZero();
        segment.free(segment.consumed());
        assertThat(segment.allocate(1024)).as("empty: skip the tail, start at 0").isZero();
        segment.free(segment.consumed());
        assertThat(segment.inUse()).isZero();
    }

    @Test
    void liveMessagesNeverOverlapUnderARandomMix() {
        long seed = System.nanoTime();
        Random random = new Random(seed);
        int size = 4096;
        SegmentAllocator segment = new SegmentAllocator(size);
        ArrayDeque<int[]> live = new ArrayDeque<>(); // {offset, length, consumed}
        for (int step = 0; step < 100_000; step++) {
            if (random.nextBoolean() && !live.isEmpty()) {
                segment.free(live.poll()[2]);
                continue;
            }
            int length = random.nextInt(size + 1);
            int at = segment.allocate(length);
            if (at < 0) {
                assertThat(live).as("refused only while something is live, seed " + seed).isNotEmpty();
                continue;
            }
            assertThat(at + length).as("inside the segment, seed " + seed).isLessThanOrEqualTo(size);
            for (int[] other : live) {
                boolean overlap = at < other[0] + other[1] && other[0] < at + length;
                assertThat(overlap && length > 0 && other[1] > 0).as("overlaps a live message, seed " + seed).isFalse();
            }
            live.add(new int[] {at, length, segment.consumed()});
        }
    }
}
