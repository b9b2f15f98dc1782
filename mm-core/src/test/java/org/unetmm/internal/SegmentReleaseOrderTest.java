package org.unetmm.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class SegmentReleaseOrderTest {
    @Test
    void spaceIsFreedOnlyUpToTheOldestAllocationStillInUse() {
        SegmentAllocator allocator = new SegmentAllocator(1000);
        SegmentReleaseOrder order = new SegmentReleaseOrder(allocator);
        allocator.allocate(100);
        allocator.allocate(200);
        allocator.allocate(300);
        order.release(1, 200);
        order.release(2, 300);
        assertThat(allocator.inUse()).as("ticket 0 still in use holds everything after it").isEqualTo(600);
        order.release(0, 100);
        assertThat(allocator.inUse()).isZero();
        assertThatThrownBy(() -> order.release(1, 200)).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void anyCompletionOrderFreesEverythingOnceAllComplete() {
        long seed = Long.getLong("unetmm.test.seed", System.nanoTime());
        Random random = new Random(seed);
        SegmentAllocator allocator = new SegmentAllocator(1 << 20);
        SegmentReleaseOrder order = new SegmentReleaseOrder(allocator);
        List<int[]> tickets = new ArrayList<>();
        for (int t = 0; t < 500; t++) { // more than the ring's first capacity: it grows
            int length = random.nextInt(1000);
            allocator.allocate(length);
            tickets.add(new int[] {t, allocator.consumed()});
        }
        Collections.shuffle(tickets, random);
        for (int[] t : tickets) {
            order.release(t[0], t[1]);
        }
        assertThat(allocator.inUse()).as("seed %d", seed).isZero();
        assertThat(order.waiting()).isZero();
    }
}
