package org.unetmm.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Random;
import org.junit.jupiter.api.Test;
import org.unetmm.SendPath;

/** The shm stream's window, planned against both processes' pin budgets (arithmetic, no processes). */
class ShmStreamPlanTest {
    private static final long MIB = 1L << 20;
    private static final long UNBOUNDED = Long.MAX_VALUE;

    @Test
    void unboundedBudgetsGetTheWantedBytesInFlight() {
        ShmStreamPlan plan = ShmStreamPlan.plan(SendPath.PINNED, (int) MIB, UNBOUNDED, UNBOUNDED);

        assertThat(plan.bytesInFlight()).isEqualTo(ShmStreamPlan.WANTED_BYTES);
        assertThat(plan.receiveBuffers()).isEqualTo(ShmStreamPlan.BUFFERS_PER_MESSAGE * plan.messages());
        assertThat(plan.shrunk()).isFalse();
        assertThat(plan.fits()).isTrue();
        assertThat(plan.note()).isNull();
    }

    @Test
    void anOrdinaryUsersEightMibShrinksTheOneMibWindowUntilBothSidesFit() {
        ShmStreamPlan plan = ShmStreamPlan.plan(SendPath.PINNED, (int) MIB, 8 * MIB, 8 * MIB);

        assertThat(plan.messages()).isBetween(2, (int) (ShmStreamPlan.WANTED_BYTES / MIB) - 1);
        assertThat(plan.receiveBuffers()).isEqualTo(2 * plan.messages());
        assertThat(plan.senderPins()).isLessThanOrEqualTo(8 * MIB - ShmStreamPlan.MARGIN);
        assertThat(plan.receiverPins()).isLessThanOrEqualTo(8 * MIB - ShmStreamPlan.MARGIN);
        assertThat(plan.shrunk()).isTrue();
        assertThat(plan.fits()).isTrue();
        assertThat(plan.note()).contains("window shrunk to " + plan.messages() + " messages").contains("8192 KiB");
        assertThat(2 * (plan.messages() + 1) * MIB + 4096).as("one message more would not fit the receiver: the plan is the largest")
                .isGreaterThan(8 * MIB - ShmStreamPlan.MARGIN);
    }

    @Test
    void theSmallerSidesBudgetDecides() {
        ShmStreamPlan childSmall = ShmStreamPlan.plan(SendPath.PINNED, (int) MIB, UNBOUNDED, 4 * MIB);
        ShmStreamPlan parentSmall = ShmStreamPlan.plan(SendPath.PINNED, (int) MIB, 4 * MIB, UNBOUNDED);

        assertThat(childSmall.receiverPins()).isLessThanOrEqualTo(4 * MIB);
        assertThat(parentSmall.senderPins()).isLessThanOrEqualTo(4 * MIB);
        assertThat(childSmall.budget()).isEqualTo(4 * MIB);
        assertThat(childSmall.messages()).isLessThan((int) (ShmStreamPlan.WANTED_BYTES / MIB));
    }

    @Test
    void aMessageLargerThanTheBudgetIsPlannedAloneAndSaidNotToFit() {
        ShmStreamPlan plan = ShmStreamPlan.plan(SendPath.PINNED, (int) (8 * MIB), 8 * MIB, 8 * MIB);

        assertThat(plan.messages()).isEqualTo(1);
        assertThat(plan.fits()).isFalse();
        assertThat(plan.note()).contains("does not fit");
    }

    @Test
    void theFixedSegmentPathCountsItsSegmentsNotItsSources() {
        ShmStreamPlan plan = ShmStreamPlan.plan(SendPath.FIXED_SEGMENT, (int) MIB, 8 * MIB, 8 * MIB);

        assertThat(plan.senderPins()).isEqualTo(plan.senderSegment() + MIB + 4096);
        assertThat(plan.senderSegment()).as("the sending segment holds the window, and one message to wrap")
                .isEqualTo((plan.messages() + 1) * MIB);
        assertThat(plan.receiverPins()).isEqualTo(2 * plan.messages() * MIB + 2 * MIB + 4096);
        assertThat(ShmStreamPlan.segmentBytes(SendPath.PINNED, (int) MIB)).isZero();
    }

    @Test
    void theFixedStreamHasAsManyMessagesInFlightAsThePinnedOne() {
        for (int size : new int[] {64, 65_536, 1 << 20}) {
            ShmStreamPlan pinned = ShmStreamPlan.plan(SendPath.PINNED, size, UNBOUNDED, UNBOUNDED);
            ShmStreamPlan fixed = ShmStreamPlan.plan(SendPath.FIXED_SEGMENT, size, UNBOUNDED, UNBOUNDED);
            assertThat(fixed.messages()).as(size + " B").isEqualTo(pinned.messages());
            assertThat((long) fixed.senderSegment()).as("the segment holds every message in flight at " + size + " B")
                    .isGreaterThanOrEqualTo(fixed.bytesInFlight() + size);
        }
    }

    @Test
    void aPlanThatFitsNeverAsksForMorePinsThanEitherBudget() {
        long seed = 20261201L;
        Random random = new Random(seed);
        for (int i = 0; i < 20_000; i++) {
            SendPath path = random.nextBoolean() ? SendPath.PINNED : SendPath.FIXED_SEGMENT;
            int size = 1 + random.nextInt(1 << (1 + random.nextInt(24)));
            long senderBudget = random.nextInt(8) == 0 ? UNBOUNDED : 4096 + (long) (random.nextDouble() * 64 * MIB);
            long receiverBudget = random.nextInt(8) == 0 ? UNBOUNDED : 4096 + (long) (random.nextDouble() * 64 * MIB);
            ShmStreamPlan plan = ShmStreamPlan.plan(path, size, senderBudget, receiverBudget);
            String about = "seed " + seed + " case " + i + ": " + plan;

            assertThat(plan.messages()).as(about).isBetween(1, UdpPeer.Window.messagesFor(size));
            assertThat(plan.bytesInFlight()).as(about).isLessThanOrEqualTo(Math.max(size, ShmStreamPlan.WANTED_BYTES));
            if (plan.fits()) {
                assertThat(plan.senderPins()).as(about).isLessThanOrEqualTo(senderBudget);
                assertThat(plan.receiverPins()).as(about).isLessThanOrEqualTo(receiverBudget);
            } else {
                assertThat(plan.messages()).as(about + ": only a single message may fail to fit").isEqualTo(1);
            }
        }
    }
}
