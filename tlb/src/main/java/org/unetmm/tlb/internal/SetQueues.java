package org.unetmm.tlb.internal;

/**
 * One bounded FIFO of {@code long} values per set, oldest first, in one preallocated array: the
 * lists of SIEVE and S3-FIFO without list nodes. Set {@code s} owns slots
 * {@code [s × capacity, (s + 1) × capacity)}, used as a ring from {@code start[s]}; position
 * {@code i} of a queue is its {@code i}-th oldest value. Appending and taking the oldest are
 * O(1); removing from the middle closes the gap by shifting the newer values down, O(capacity),
 * which only the miss path and shootdowns do. Nothing here allocates after construction.
 */
final class SetQueues {
    private final long[] slots;
    private final int[] start;
    private final int[] size;
    private final int capacity;

    SetQueues(int sets, int capacity) {
        this.capacity = capacity;
        this.slots = new long[sets * capacity];
        this.start = new int[sets];
        this.size = new int[sets];
    }

    int size(int set) {
        return size[set];
    }

    /** The value at a position, 0 the oldest. */
    long get(int set, int position) {
        return slots[slot(set, position)];
    }

    /**
     * Appends as the newest value. If the queue is full its oldest value is dropped first.
     */
    void addNewest(int set, long value) {
        if (size[set] == capacity) {
            removeOldest(set);
        }
        slots[slot(set, size[set])] = value;
        size[set]++;
    }

    void removeOldest(int set) {
        int s = start[set] + 1;
        start[set] = s == capacity ? 0 : s;
        size[set]--;
    }

    /** The position of the oldest occurrence of a value, or -1. */
    int indexOf(int set, long value) {
        for (int i = 0, n = size[set]; i < n; i++) {
            if (slots[slot(set, i)] == value) {
                return i;
            }
        }
        return -1;
    }

    /** Removes the value at a position; the newer values move one position down. */
    void removeAt(int set, int position) {
        if (position == 0) {
            removeOldest(set);
            return;
        }
        int n = size[set];
        for (int i = position; i < n - 1; i++) {
            slots[slot(set, i)] = slots[slot(set, i + 1)];
        }
        size[set] = n - 1;
    }

    private int slot(int set, int position) {
        int p = start[set] + position;
        return set * capacity + (p >= capacity ? p - capacity : p);
    }
}
