package org.unetmm.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * The descriptor ring: what the producer publishes the consumer sees once and in order, whatever
 * the cached copies of the other side's index say; an aborted claim publishes nothing; capacities
 * that are not a power of two fill and empty exactly at their capacity; and the two sides' indexes
 * lie on separate cache lines.
 */
class SpscRingTest {
    private static final long SEED = Long.getLong("unetmm.test.seed", 0x5B1C);

    /** A slot: the sequence number and its complement, written in place, so a half-written slot shows. */
    private static final class Cell {
        long sequence;
        long check;
    }

    @Test
    void everyElementArrivesOnceInOrderAcrossTwoThreads() throws Exception {
        for (int capacity : new int[] {1, 3, 5, 64}) {
            // a small ring hands over on nearly every element: 50,000 of them are thousands of laps
            transferAcrossThreads(capacity, SEED + capacity, capacity < 64 ? 50_000 : 200_000);
        }
    }

    /**
     * A side that finds the ring full or empty: yields a few times, then sleeps a little. A yield
     * alone hands the core to whatever else runs there (other processes' busy threads on a shared
     * machine) for a whole time slice, every element of a capacity-1 ring; a sleeping side leaves
     * the core to its peer.
     */
    private static void backOff(int waits) {
        if (waits < 16) {
            Thread.yield();
        } else {
            LockSupport.parkNanos(10_000);
        }
    }

    /**
     * A producer and a consumer thread move {@code count} cells through a ring of {@code capacity}
     * in seeded bursts (the producer sometimes claims, scribbles and aborts first; the consumer looks
     * ahead with peekAt), while a third thread watches {@code size()}. Small capacities make both
     * sides hit full and empty, where the cached indexes are re-read, many times a lap. A side that
     * finds the ring full or empty backs off rather than spins ({@link #backOff}): on a loaded
     * two-core machine a spinning side would hold the core its peer needs for a whole time slice per
     * slot. The watcher samples every 20 µs rather than spinning, for the same reason.
     */
    private static void transferAcrossThreads(int capacity, long seed, int count) throws Exception {
        SpscRing<Cell> ring = new SpscRing<>(capacity, Cell::new);
        AtomicReference<Throwable> failure = new AtomicReference<>();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        String where = "capacity " + capacity + ", seed " + seed + " (-Dunetmm.test.seed)";

        Thread producer = new Thread(() -> {
            SplittableRandom random = new SplittableRandom(seed);
            try {
                for (long next = 0; next < count; ) {
                    int burst = 1 + random.nextInt(2 * capacity + 1);
                    for (int b = 0; b < burst && next < count; b++) {
                        Cell c;
                        for (int waits = 0; (c = ring.claim()) == null; waits++) {
                            if (System.nanoTime() - deadline > 0 || failure.get() != null) {
                                throw new AssertionError("producer stuck at " + next + ", " + where);
                            }
                            backOff(waits); // the machine may have fewer free cores than this test has threads
                        }
                        if (random.nextInt(8) == 0) {
                            c.sequence = -1;
                            c.check = -1;
                            ring.abort();
                            if (ring.claim() != c) {
                                throw new AssertionError("claim after abort gave another slot, " + where);
                            }
                        }
                        c.sequence = next;
                        c.check = ~next;
                        ring.publish();
                        next++;
                    }
                    if (random.nextInt(4) == 0) {
                        LockSupport.parkNanos(10_000); // let the consumer catch up now and then, so the ring also runs empty
                    }
                }
            } catch (Throwable t) {
                failure.compareAndSet(null, t);
            }
        }, "ring-producer");

        long[] received = new long[1];
        Thread consumer = new Thread(() -> {
            SplittableRandom random = new SplittableRandom(~seed);
            try {
                int waits = 0;
                for (long expected = 0; expected < count; ) {
                    Cell c = ring.peek();
                    if (c == null) {
                        if (System.nanoTime() - deadline > 0 || failure.get() != null) {
                            throw new AssertionError("consumer stuck at " + expected + ", " + where);
                        }
                        backOff(waits++);
                        continue;
                    }
                    waits = 0;
                    expect(c, expected, "in order, once, fully written before it was visible", where);
                    int ahead = random.nextInt(capacity + 1);
                    Cell later = ring.peekAt(ahead);
                    if (later != null) {
                        expect(later, expected + ahead, "peekAt(ahead)", where);
                    }
                    if (ring.peekAt(capacity) != null) {
                        throw new AssertionError("a slot past capacity at " + expected + ", " + where);
                    }
                    ring.release();
                    expected++;
                    received[0] = expected;
                }
                assertThat(ring.peek()).as("nothing more than was published, " + where).isNull();
            } catch (Throwable t) {
                failure.compareAndSet(null, t);
            }
        }, "ring-consumer");

        Thread observer = new Thread(() -> {
            try {
                while (producer.isAlive() || consumer.isAlive()) {
                    int size = ring.size();
                    if (size < 0 || size > capacity) {
                        throw new AssertionError("size() from a third thread was " + size + ", " + where);
                    }
                    // sample, do not spin: a third runnable thread on two loaded cores left the producer and
                    // the consumer one core between them, and a capacity-1 ring hands over on every element
                    LockSupport.parkNanos(20_000);
                }
            } catch (Throwable t) {
                failure.compareAndSet(null, t);
            }
        }, "ring-observer");

        producer.start();
        consumer.start();
        observer.start();
        long waitMillis = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime()) + 5_000;
        producer.join(waitMillis);
        consumer.join(waitMillis);
        observer.join(waitMillis);
        if (failure.get() != null) {
            throw new AssertionError(where, failure.get());
        }
        assertThat(producer.isAlive() || consumer.isAlive() || observer.isAlive()).as("threads finished, " + where).isFalse();
        assertThat(received[0]).isEqualTo(count);
        assertThat(ring.isEmpty()).isTrue();
        assertThat(ring.highWaterMark()).as("high water, " + where).isBetween(1L, (long) capacity);
    }

    /** Plain checks in the threads' loops: an assertion object per element would slow the race it looks at. */
    private static void expect(Cell c, long sequence, String what, String where) {
        if (c.sequence != sequence || c.check != ~sequence) {
            throw new AssertionError("expected cell " + sequence + ", found " + c.sequence + " (check " + ~c.check + "): "
                    + what + "; " + where);
        }
    }

    @Test
    void abortedClaimPublishesNothingAndTheNextClaimGetsTheSameSlot() {
        SpscRing<Cell> ring = new SpscRing<>(3, Cell::new);
        Cell first = ring.claim();
        first.sequence = 99;
        ring.abort();
        assertThat(ring.isEmpty()).isTrue();
        assertThat(ring.size()).isZero();
        assertThat(ring.peek()).as("an aborted slot is never seen").isNull();
        assertThat(ring.highWaterMark()).isZero();

        Cell second = ring.claim();
        assertThat(second).as("the slot given back is claimed again").isSameAs(first);
        assertThat(ring.claim()).as("claim twice without publish: the same slot").isSameAs(first);
        second.sequence = 7;
        ring.publish();
        assertThat(ring.size()).isOne();
        assertThat(ring.peek()).isSameAs(first);
        assertThat(ring.peek().sequence).isEqualTo(7);
        assertThat(ring.claim()).as("after publish the next slot").isNotSameAs(first);
        ring.abort();
        ring.release();
        assertThat(ring.peek()).as("the second claim was aborted: nothing more").isNull();
    }

    @Test
    void capacityNotAPowerOfTwoFillsAndEmptiesExactlyAtItAcrossManyLaps() {
        int capacity = 5; // 8 slots behind it
        SpscRing<Cell> ring = new SpscRing<>(capacity, Cell::new);
        assertThat(ring.capacity()).isEqualTo(capacity);
        long next = 0;
        long expected = 0;
        for (int lap = 0; lap < 40; lap++) {
            // fill to the brim
            while (ring.hasRoom()) {
                Cell c = ring.claim();
                assertThat(c).isNotNull();
                c.sequence = next++;
                ring.publish();
            }
            assertThat(ring.size()).as("lap " + lap).isEqualTo(capacity);
            assertThat(ring.claim()).as("full at capacity, not at the 8 slots behind it").isNull();
            assertThat(ring.peekAt(capacity - 1).sequence).isEqualTo(expected + capacity - 1);
            assertThat(ring.peekAt(capacity)).isNull();
            assertThat(ring.peekAt(-1)).isNull();
            // one out, one room
            assertThat(ring.peek().sequence).isEqualTo(expected++);
            ring.release();
            assertThat(ring.hasRoom()).isTrue();
            assertThat(ring.claim()).isNotNull();
            ring.abort();
            // drain a lap-dependent part, so head and tail wrap the 8 slots at every offset
            int keep = lap % capacity;
            while (ring.size() > keep) {
                assertThat(ring.peek().sequence).as("lap " + lap).isEqualTo(expected++);
                ring.release();
            }
            assertThat(ring.size()).isEqualTo(keep);
            assertThat(ring.isEmpty()).isEqualTo(keep == 0);
        }
        while (ring.peek() != null) {
            assertThat(ring.peek().sequence).isEqualTo(expected++);
            ring.release();
        }
        assertThat(expected).isEqualTo(next);
        assertThat(ring.isEmpty()).isTrue();
        assertThat(ring.peekAt(0)).isNull();
        assertThat(ring.highWaterMark()).isEqualTo(capacity);
    }

    @Test
    void highWaterMarkIsTheMostInUseAtOnceNotTheProducersStaleCopyOfHead() {
        SpscRing<Cell> ring = new SpscRing<>(8, Cell::new);
        for (int i = 0; i < 3; i++) {
            ring.claim();
            ring.publish();
        }
        assertThat(ring.highWaterMark()).isEqualTo(3);
        // one in, one out, for many laps: never more than 3 + 1 in use at once
        for (int i = 0; i < 100; i++) {
            ring.claim();
            ring.publish();
            ring.peek();
            ring.release();
        }
        assertThat(ring.highWaterMark()).as("the producer's copy of head lags; the mark must not").isEqualTo(4);
    }

    @Test
    void producerAndConsumerIndexesLieOnSeparateCacheLines() throws Exception {
        long tail = offset("SpscRingProducerFields", "tail");
        long headCache = offset("SpscRingProducerFields", "headCache");
        long highWater = offset("SpscRingProducerFields", "highWater");
        long head = offset("SpscRingConsumerFields", "head");
        long tailCache = offset("SpscRingConsumerFields", "tailCache");
        long[] producer = {tail, headCache, highWater};
        long[] consumer = {head, tailCache};
        long[] fixed = {offset("SpscRingFixedFields", "slots"), offset("SpscRingFixedFields", "mask"),
                offset("SpscRingFixedFields", "capacity")};
        int line = 64;
        for (long p : producer) {
            for (long c : consumer) {
                assertThat(Math.abs(p - c)).as("producer field at %d, consumer field at %d", p, c).isGreaterThanOrEqualTo(line);
            }
            for (long f : fixed) {
                assertThat(Math.abs(p - f)).as("producer field at %d, read-only field at %d", p, f).isGreaterThanOrEqualTo(line);
            }
        }
        for (long c : consumer) {
            for (long f : fixed) {
                assertThat(Math.abs(c - f)).as("consumer field at %d, read-only field at %d", c, f).isGreaterThanOrEqualTo(line);
            }
        }
    }

    /** The field's offset in its object, as the JVM laid it out (sun.misc.Unsafe, by reflection: a test's look only). */
    private static long offset(String declaringClass, String field) throws Exception {
        Class<?> unsafeClass = Class.forName("sun.misc.Unsafe");
        Field theUnsafe = unsafeClass.getDeclaredField("theUnsafe");
        theUnsafe.setAccessible(true);
        Object unsafe = theUnsafe.get(null);
        Method objectFieldOffset = unsafeClass.getMethod("objectFieldOffset", Field.class);
        Field f = Class.forName("org.unetmm.internal." + declaringClass).getDeclaredField(field);
        return (long) objectFieldOffset.invoke(unsafe, f);
    }
}
