package org.unetmm.internal;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.function.Supplier;

/**
 * A bounded single-producer single-consumer ring of preallocated, mutable slots: U-Net's
 * descriptor queues. The producer {@link #claim()}s the next free slot, fills it in place and
 * {@link #publish()}es it (or {@link #abort()}s it); the consumer {@link #peek()}s the oldest
 * published slot, reads it and {@link #release()}s it. Nothing is allocated after construction.
 *
 * <p>Threading contract: one producer thread and one consumer thread at a time (a side may change
 * threads if the hand-over orders them, as the NIC's engine lock does). Each method says whose it
 * is; {@link #size()}, {@link #isEmpty()}, {@link #capacity()} and {@link #highWaterMark()} may be
 * called from any thread. Indexes are published with release stores and read with acquire loads
 * (VarHandle), so a slot's contents written before {@code publish} are visible to the consumer
 * once it sees the index, and a slot is written again only after the consumer released it.
 *
 * <p>Why it is laid out as it is. Each index is written by one side and read by the other, so
 * the two must not share a cache line: if they did, every {@code publish} would invalidate the
 * consumer's line and every {@code release} the producer's, although neither side changed what
 * the other reads (false sharing). The fields are therefore grouped by the thread that writes
 * them — the producer's ({@code tail}, its copy of {@code head}, the high-water mark), the
 * consumer's ({@code head}, its copy of {@code tail}) — and each group sits between 128 bytes of
 * padding (two lines, as the adjacent-line prefetcher pulls pairs), laid out by class hierarchy as
 * JCTools' {@code SpscArrayQueue} and Agrona's ring buffers do: the JVM places a superclass's
 * fields before its subclass's, which it does not promise for the fields of one class.
 *
 * <p>Each side also keeps a plain copy of the other side's index, as Agrona's
 * {@code OneToOneRingBuffer} keeps its head cache (the idea is FastFlow's and BQueue's): the
 * producer reads the consumer's {@code head} only when its copy says the ring is full, the
 * consumer reads the producer's {@code tail} only when its copy says it is empty. A copy is never
 * ahead of the index it copies, so it can only under-report room or published slots, never over;
 * in the steady state each side touches the other's line once per lap rather than once per slot.
 */
public final class SpscRing<T> extends SpscRingConsumerFields<T> {
    private static final VarHandle HEAD;
    private static final VarHandle TAIL;
    private static final VarHandle HIGH_WATER;

    static {
        try {
            MethodHandles.Lookup lookup = MethodHandles.lookup();
            HEAD = lookup.findVarHandle(SpscRingConsumerFields.class, "head", long.class);
            TAIL = lookup.findVarHandle(SpscRingProducerFields.class, "tail", long.class);
            HIGH_WATER = lookup.findVarHandle(SpscRingProducerFields.class, "highWater", long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    // 128 bytes after the consumer's fields, so the next object on the heap does not share their line
    long q00, q01, q02, q03, q04, q05, q06, q07;
    long q10, q11, q12, q13, q14, q15, q16, q17;

    public SpscRing(int capacity, Supplier<T> factory) {
        super(capacity, factory);
    }

    public int capacity() {
        return capacity;
    }

    /**
     * Producer: the next free slot to fill, or null when the ring is full. Call {@link #publish()}
     * after, or {@link #abort()}; until then every {@code claim} returns the same slot.
     */
    public T claim() {
        long t = tail;
        if (t - headCache >= capacity) {
            headCache = (long) HEAD.getAcquire(this);
            if (t - headCache >= capacity) {
                return null;
            }
        }
        return slots[(int) t & mask];
    }

    /** Producer: makes the slot returned by the last {@link #claim()} visible to the consumer. */
    public void publish() {
        long t = tail + 1;
        TAIL.setRelease(this, t);
        // t - headCache is never below the slots really in use (the copy lags the real head), so only
        // an apparent new high needs the real head: after the first full lap that is never
        if (t - headCache > highWater) {
            headCache = (long) HEAD.getAcquire(this);
            long used = t - headCache;
            if (used > highWater) {
                HIGH_WATER.setOpaque(this, used);
            }
        }
    }

    /**
     * Producer: gives back the slot returned by the last {@link #claim()} without publishing it
     * (the producer's error path, when a descriptor it was filling proved bad). No index moves —
     * an unpublished slot is invisible to the consumer already — so this only says so: the next
     * {@code claim} returns the same slot, as the producer left it; clear what must not leak into
     * its next use (a buffer reference, say) before aborting.
     */
    public void abort() {
        // nothing to undo: claim() does not move tail
    }

    /** Consumer: the oldest published slot, or null when empty. Call {@link #release()} when done with it. */
    public T peek() {
        long h = head;
        if (h >= tailCache) {
            tailCache = (long) TAIL.getAcquire(this);
            if (h >= tailCache) {
                return null;
            }
        }
        return slots[(int) h & mask];
    }

    /** Consumer: the {@code i}-th oldest published slot ({@code 0} is {@link #peek()}), or null past the last one. */
    public T peekAt(int i) {
        if (i < 0) {
            return null;
        }
        long at = head + i;
        if (at >= tailCache) {
            tailCache = (long) TAIL.getAcquire(this);
            if (at >= tailCache) {
                return null;
            }
        }
        return slots[(int) at & mask];
    }

    /** Consumer: frees the slot returned by the last {@link #peek()}. */
    /** {@return how many elements the consumer has released so far} Consumer only. */
    public long consumed() {
        return head;
    }

    public void release() {
        HEAD.setRelease(this, head + 1);
    }

    /** Producer: whether {@link #claim()} would return a slot now. */
    public boolean hasRoom() {
        long t = tail;
        if (t - headCache < capacity) {
            return true;
        }
        headCache = (long) HEAD.getAcquire(this);
        return t - headCache < capacity;
    }

    /**
     * Any thread: published slots not yet released, in {@code 0..capacity()}. Reads the real
     * indexes (no side's copy), head before tail and head again until head held still, so a
     * consumer racing ahead between the two reads cannot make the difference negative or too big.
     */
    public int size() {
        long h = (long) HEAD.getAcquire(this);
        while (true) {
            long t = (long) TAIL.getAcquire(this);
            long again = (long) HEAD.getAcquire(this);
            if (again == h) {
                return (int) (t - h);
            }
            h = again;
        }
    }

    /** Any thread: no slot is published and unreleased. */
    public boolean isEmpty() {
        // head first: the tail read after it is at least the tail of that moment, so equal means empty then
        long h = (long) HEAD.getAcquire(this);
        return h >= (long) TAIL.getAcquire(this);
    }

    /** Any thread: most slots ever in use at once, as the producer saw it when it published. */
    public long highWaterMark() {
        return (long) HIGH_WATER.getOpaque(this);
    }
}

/** What every thread reads and no thread writes after construction. */
abstract class SpscRingFixedFields<T> {
    final T[] slots;
    final int mask;
    final int capacity;

    @SuppressWarnings("unchecked")
    SpscRingFixedFields(int capacity, Supplier<T> factory) {
        if (capacity <= 0 || capacity > (1 << 24)) {
            throw new IllegalArgumentException("ring capacity must be in 1.." + (1 << 24) + ", got " + capacity);
        }
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
}

/** 128 bytes between the read-only fields (and the object header) and the producer's line. */
abstract class SpscRingPadBeforeProducer<T> extends SpscRingFixedFields<T> {
    long p00, p01, p02, p03, p04, p05, p06, p07;
    long p10, p11, p12, p13, p14, p15, p16, p17;

    SpscRingPadBeforeProducer(int capacity, Supplier<T> factory) {
        super(capacity, factory);
    }
}

/** Written by the producer only; only {@link SpscRing} touches these. */
abstract class SpscRingProducerFields<T> extends SpscRingPadBeforeProducer<T> {
    /** Next slot the producer fills: release-stored by the producer, acquire-read by the consumer and observers. */
    long tail;
    /** The producer's copy of {@code head}: plain, never ahead of it. */
    long headCache;
    /** Most slots in use at once: opaque-stored by the producer, read anywhere. */
    long highWater;

    SpscRingProducerFields(int capacity, Supplier<T> factory) {
        super(capacity, factory);
    }
}

/** 128 bytes between the producer's line and the consumer's. */
abstract class SpscRingPadBetween<T> extends SpscRingProducerFields<T> {
    long r00, r01, r02, r03, r04, r05, r06, r07;
    long r10, r11, r12, r13, r14, r15, r16, r17;

    SpscRingPadBetween(int capacity, Supplier<T> factory) {
        super(capacity, factory);
    }
}

/** Written by the consumer only; only {@link SpscRing} touches these. */
abstract class SpscRingConsumerFields<T> extends SpscRingPadBetween<T> {
    /** Next slot the consumer reads: release-stored by the consumer, acquire-read by the producer and observers. */
    long head;
    /** The consumer's copy of {@code tail}: plain, never ahead of it. */
    long tailCache;

    SpscRingConsumerFields(int capacity, Supplier<T> factory) {
        super(capacity, factory);
    }
}
