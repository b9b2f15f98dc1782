package org.unetmm;

import java.time.Duration;
import java.util.concurrent.locks.LockSupport;

/**
 * How the NIC thread waits when a progress round found nothing to do (as Agrona's
 * {@code IdleStrategy}): spin for the lowest latency at the cost of a core, or back off to a park
 * so an idle NIC costs nothing. {@link #idle(int)} is called after every round with the work it
 * did; a round that did work resets the strategy. An instance has state: give each NIC its own.
 */
public interface IdleStrategy {
    /**
     * Called after a progress round that did {@code workCount} units of work (0 = idle).
     *
     * @param workCount units of work the round did
     */
    void idle(int workCount);

    /** Back to the first step (spinning). */
    void reset();

    /**
     * Whether the next idle {@link #idle(int) idle(0)} may park the thread: then a sender wakes it
     * (an unpark costs a system call, so it is sent only when this says so).
     *
     * @return true if it may park; the default is false
     */
    default boolean mayPark() {
        return false;
    }

    /** {@return a strategy that spins on {@link Thread#onSpinWait()}: the lowest latency; burns a core while idle} */
    static IdleStrategy busySpin() {
        return new IdleStrategy() {
            @Override
            public void idle(int workCount) {
                Thread.onSpinWait();
            }

            @Override
            public void reset() {
            }

            @Override
            public String toString() {
                return "busySpin";
            }
        };
    }

    /**
     * {@return a strategy that yields after every idle round: low latency, shares the core, still runs all the time}
     */
    static IdleStrategy yielding() {
        return new IdleStrategy() {
            @Override
            public void idle(int workCount) {
                if (workCount == 0) {
                    Thread.yield();
                }
            }

            @Override
            public void reset() {
            }

            @Override
            public String toString() {
                return "yielding";
            }
        };
    }

    /**
     * The default: spin {@code spins} idle rounds, then yield {@code yields}, then park for growing
     * intervals up to {@code maxPark}: microseconds of latency after a burst, nearly no CPU idle.
     *
     * @param spins   idle rounds spent spinning, 0 or more
     * @param yields  idle rounds spent yielding after those, 0 or more
     * @param maxPark the longest park, positive
     * @return a new strategy
     */
    static IdleStrategy backoff(int spins, int yields, Duration maxPark) {
        return new Backoff(spins, yields, maxPark.toNanos());
    }

    /** {@return {@link #backoff(int, int, Duration)} with 200 spins, 100 yields and parks of at most 1 ms} */
    static IdleStrategy backoff() {
        return backoff(200, 100, Duration.ofMillis(1));
    }

    /** The default back-off strategy. */
    final class Backoff implements IdleStrategy {
        private final int spins;
        private final int yields;
        private final long maxParkNanos;
        private int idle;

        Backoff(int spins, int yields, long maxParkNanos) {
            if (spins < 0 || yields < 0 || maxParkNanos <= 0) {
                throw new IllegalArgumentException("back-off needs spins >= 0, yields >= 0 and a positive park, got "
                        + spins + ", " + yields + ", " + maxParkNanos + " ns");
            }
            this.spins = spins;
            this.yields = yields;
            this.maxParkNanos = maxParkNanos;
        }

        @Override
        public void idle(int workCount) {
            if (workCount > 0) {
                idle = 0;
                return;
            }
            if (idle < spins) {
                Thread.onSpinWait();
            } else if (idle < spins + yields) {
                Thread.yield();
            } else {
                LockSupport.parkNanos(Math.min(maxParkNanos, 1_000L << Math.min(idle - spins - yields, 20)));
            }
            if (idle < Integer.MAX_VALUE) {
                idle++;
            }
        }

        @Override
        public void reset() {
            idle = 0;
        }

        @Override
        public boolean mayPark() {
            return idle >= spins + yields;
        }

        @Override
        public String toString() {
            return "backoff(" + spins + " spins, " + yields + " yields, park <= " + Duration.ofNanos(maxParkNanos) + ")";
        }
    }
}
