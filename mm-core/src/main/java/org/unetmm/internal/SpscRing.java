package org.unetmm.internal;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.function.Supplier;

/**
 * A bounded single-producer single-consumer ring of preallocated, mutable slots: U-Net's
 * descriptor queues. The producer {@link #claim()}s the next free slot, fills it in place and
 * {@link #publish()}es it; the consumer {@link #peek()}s the oldest published slot, reads it and
 * {@link #release()}s it. Nothing is allocated after construction.
 *
 * <p>Threading contract: one producer thread and one consumer thread at a time. Indices are
 * published with release stores and read with acquire loads (VarHandle), so a slot's contents
 * written before {@code publish} are visible to the consumer after it sees the index, and a
 * slot is reused only after the consumer released it.
 */
public final class SpscRing<T> {
    private static final VarHandle HEAD;
    private static final VarHandle TAIL;

    static {
        try {
            MethodHandles.Lookup lookup = MethodHandles.lookup();
            HEAD = lookup.findVarHandle(SpscRing.class, "head", long.class);
            TAIL = lookup.findVarHandle(SpscRing.class, "tail", long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final T[] slots;
    private final int mask;
    private final int capacity;
    /** Next slot the consumer reads; written by the consumer only. */
    private volatile long head;
    /** Next slot the producer fills; written by the producer only. */
    private volatile long tail;
    private long highWater;

    @SuppressWarnings("unchecked")
    public SpscRing(int capacity, Supplier<T> factory) {
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

    public int capacity() {
        return capacity;
    }

    /** Producer: the next free slot to fill, or null when the ring is full. Call {@link #publish()} after. */
    public T claim() {
        long t = (long) TAIL.getOpaque(this);
        if (t - (long) HEAD.getAcquire(this) >= capacity) {
            return null;
        }
        return slots[(int) t & mask];
    }

    /** Producer: makes the slot returned by the last {@link #claim()} visible to the consumer. */
    public void publish() {
        long t = (long) TAIL.getOpaque(this) + 1;
        TAIL.setRelease(this, t);
        long size = t - (long) HEAD.getAcquire(this);
        if (size > highWater) {
            highWater = size;
        }
    }

    /** Consumer: the oldest published slot, or null when empty. Call {@link #release()} when done with it. */
    public T peek() {
        long h = (long) HEAD.getOpaque(this);
        if (h >= (long) TAIL.getAcquire(this)) {
            return null;
        }
        return slots[(int) h & mask];
    }

    /** Consumer: the {@code i}-th oldest published slot ({@code 0} is {@link #peek()}), or null past the last one. */
    public T peekAt(int i) {
        long h = (long) HEAD.getOpaque(this) + i;
        if (i < 0 || h >= (long) TAIL.getAcquire(this)) {
            return null;
        }
        return slots[(int) h & mask];
    }

    /** Consumer: frees the slot returned by the last {@link #peek()}. */
    public void release() {
        HEAD.setRelease(this, (long) HEAD.getOpaque(this) + 1);
    }

    /** Whether the producer could claim a slot now. */
    public boolean hasRoom() {
        return (long) TAIL.getOpaque(this) - (long) HEAD.getAcquire(this) < capacity;
    }

    public int size() {
        return (int) ((long) TAIL.getAcquire(this) - (long) HEAD.getAcquire(this));
    }

    public boolean isEmpty() {
        return size() == 0;
    }

    /** Most slots ever in use at once (producer's view). */
    public long highWaterMark() {
        return highWater;
    }
}
