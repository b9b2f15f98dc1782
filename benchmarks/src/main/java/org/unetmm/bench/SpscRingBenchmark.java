package org.unetmm.bench;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Group;
import org.openjdk.jmh.annotations.GroupThreads;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;
import org.unetmm.internal.SpscRing;

/**
 * The descriptor ring's throughput, one producer thread and one consumer thread (a JMH group), for
 * {@link SpscRing} (each side's index on its own cache lines, a cached copy of the other side's)
 * beside {@link UnpaddedSpscRing}, the ring as it was before (both indexes on one line, each side
 * reading the other's index on every call), in one run. Each call claims-fills-publishes or
 * peeks-reads-releases one slot, or fails at once when the ring is full or empty; the figure to
 * read is {@code consumed} (slots moved per microsecond), the raw group score counts the failed
 * calls too. With {@code idle=spin} on a machine with fewer than two idle cores the figures measure
 * the scheduler as much as the ring (two threads sharing a core move one lap per time slice), so
 * quote the load average with them; {@code idle=yield} is the steadier figure there.
 */
@State(Scope.Group)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class SpscRingBenchmark {
    @Param({"1024"})
    int capacity;

    /**
     * What a side does when the ring is full or empty: {@code spin} returns at once (the ring's own
     * cost, when each thread has a core of its own); {@code yield} gives up the core first, so two
     * threads that share one hand over per lap, not per time slice.
     */
    @Param({"spin", "yield"})
    String idle;

    private boolean yield;

    private SpscRing<Cell> padded;
    private UnpaddedSpscRing<Cell> unpadded;

    /** A descriptor stand-in: a slot is written and read in place. */
    static final class Cell {
        long value;
    }

    /** Slots each side moved; each thread counts only its own side's field, JMH sums them over the group. */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.OPERATIONS)
    public static class Moved {
        public long produced;
        public long consumed;

        @Setup(Level.Iteration)
        public void reset() {
            produced = 0;
            consumed = 0;
        }
    }

    @Setup(Level.Trial)
    public void setUp() {
        yield = idle.equals("yield");
        padded = new SpscRing<>(capacity, Cell::new);
        unpadded = new UnpaddedSpscRing<>(capacity, Cell::new);
    }

    @Benchmark
    @Group("padded")
    @GroupThreads(1)
    public boolean paddedProduce(Moved moved) {
        Cell c = padded.claim();
        if (c == null) {
            idle();
            return false;
        }
        c.value = moved.produced;
        padded.publish();
        moved.produced++;
        return true;
    }

    @Benchmark
    @Group("padded")
    @GroupThreads(1)
    public long paddedConsume(Moved moved) {
        Cell c = padded.peek();
        if (c == null) {
            idle();
            return -1;
        }
        long v = c.value;
        padded.release();
        moved.consumed++;
        return v;
    }

    @Benchmark
    @Group("unpadded")
    @GroupThreads(1)
    public boolean unpaddedProduce(Moved moved) {
        Cell c = unpadded.claim();
        if (c == null) {
            idle();
            return false;
        }
        c.value = moved.produced;
        unpadded.publish();
        moved.produced++;
        return true;
    }

    @Benchmark
    @Group("unpadded")
    @GroupThreads(1)
    public long unpaddedConsume(Moved moved) {
        Cell c = unpadded.peek();
        if (c == null) {
            idle();
            return -1;
        }
        long v = c.value;
        unpadded.release();
        moved.consumed++;
        return v;
    }

    private void idle() {
        if (yield) {
            Thread.yield();
        }
    }

    /**
     * The ring before its indexes were padded apart and cached: kept here, as it was, only to
     * measure against. Head and tail are neighbouring volatile fields, and every claim, publish
     * and peek reads the other side's index.
     */
    static final class UnpaddedSpscRing<T> {
        private static final VarHandle HEAD;
        private static final VarHandle TAIL;

        static {
            try {
                MethodHandles.Lookup lookup = MethodHandles.lookup();
                HEAD = lookup.findVarHandle(UnpaddedSpscRing.class, "head", long.class);
                TAIL = lookup.findVarHandle(UnpaddedSpscRing.class, "tail", long.class);
            } catch (ReflectiveOperationException e) {
                throw new ExceptionInInitializerError(e);
            }
        }

        private final T[] slots;
        private final int mask;
        private final int capacity;
        private volatile long head;
        private volatile long tail;
        private long highWater;

        @SuppressWarnings("unchecked")
        UnpaddedSpscRing(int capacity, Supplier<T> factory) {
            int size = 1;
            while (size < capacity) {
                size <<= 1;
            }
            this.slots = (T[]) new Object[size];
            for (int i = 0; i < size; i++) {
                slots[i] = factory.get();
            }
            this.mask = size - 1;
            this.capacity = capacity;
        }

        T claim() {
            long t = (long) TAIL.getOpaque(this);
            if (t - (long) HEAD.getAcquire(this) >= capacity) {
                return null;
            }
            return slots[(int) t & mask];
        }

        void publish() {
            long t = (long) TAIL.getOpaque(this) + 1;
            TAIL.setRelease(this, t);
            long size = t - (long) HEAD.getAcquire(this);
            if (size > highWater) {
                highWater = size;
            }
        }

        T peek() {
            long h = (long) HEAD.getOpaque(this);
            if (h >= (long) TAIL.getAcquire(this)) {
                return null;
            }
            return slots[(int) h & mask];
        }

        void release() {
            HEAD.setRelease(this, (long) HEAD.getOpaque(this) + 1);
        }
    }
}
