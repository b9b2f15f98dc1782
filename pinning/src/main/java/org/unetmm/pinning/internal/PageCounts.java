package org.unetmm.pinning.internal;

import java.util.Arrays;

/**
 * Reference count per page number: an open-addressing long→int map with linear probing and
 * backward-shift deletion, so counting a page allocates nothing. Absent means zero. Not
 * thread-safe: the owner ({@code Pinner}) guards it.
 */
public final class PageCounts {
    private static final long EMPTY = -1L;
    private long[] keys;
    private int[] counts;
    private int size;
    private int mask;

    public PageCounts() {
        allocate(64);
    }

    public int get(long page) {
        int slot = find(page);
        return slot < 0 ? 0 : counts[slot];
    }

    public int size() {
        return size;
    }

    /** Adds {@code delta} to the page's count and returns the new count; a count of 0 removes the page. */
    public int add(long page, int delta) {
        int slot = index(page);
        while (keys[slot] != EMPTY) {
            if (keys[slot] == page) {
                int updated = counts[slot] + delta;
                if (updated < 0) {
                    throw new IllegalStateException("page " + page + " count would go negative");
                }
                if (updated == 0) {
                    remove(slot);
                } else {
                    counts[slot] = updated;
                }
                return updated;
            }
            slot = (slot + 1) & mask;
        }
        if (delta < 0) {
            throw new IllegalStateException("page " + page + " count would go negative");
        }
        if (delta == 0) {
            return 0;
        }
        keys[slot] = page;
        counts[slot] = delta;
        if (++size > (keys.length >> 1)) {
            rehash(keys.length << 1);
        }
        return delta;
    }

    private int find(long page) {
        int slot = index(page);
        while (keys[slot] != EMPTY) {
            if (keys[slot] == page) {
                return slot;
            }
            slot = (slot + 1) & mask;
        }
        return -1;
    }

    private void remove(int slot) {
        size--;
        int hole = slot;
        int next = (hole + 1) & mask;
        while (keys[next] != EMPTY) {
            int home = index(keys[next]);
            // move the entry back if the hole lies cyclically between its home slot and where it sits
            if (((next - home) & mask) >= ((next - hole) & mask)) {
                keys[hole] = keys[next];
                counts[hole] = counts[next];
                hole = next;
            }
            next = (next + 1) & mask;
        }
        keys[hole] = EMPTY;
        counts[hole] = 0;
    }

    private int index(long page) {
        long h = page * 0x9E3779B97F4A7C15L;
        return (int) (h ^ (h >>> 32)) & mask;
    }

    private void rehash(int capacity) {
        long[] oldKeys = keys;
        int[] oldCounts = counts;
        allocate(capacity);
        for (int i = 0; i < oldKeys.length; i++) {
            if (oldKeys[i] != EMPTY) {
                int slot = index(oldKeys[i]);
                while (keys[slot] != EMPTY) {
                    slot = (slot + 1) & mask;
                }
                keys[slot] = oldKeys[i];
                counts[slot] = oldCounts[i];
            }
        }
    }

    private void allocate(int capacity) {
        keys = new long[capacity];
        Arrays.fill(keys, EMPTY);
        counts = new int[capacity];
        mask = capacity - 1;
    }
}
