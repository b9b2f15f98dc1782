package org.unetmm.internal;

import java.util.Arrays;

/**
 * Which fragments of one message are done (received, or acknowledged): a bitmap indexed by
 * fragment number. {@link #reset} sizes it for the next message and grows the words only when a
 * message has more fragments than any before it, so steady traffic allocates nothing.
 *
 * <p>Not thread-safe: the NIC engine owns it.
 */
public final class FragmentSet {
    private long[] words = new long[1];
    private int size;
    private int count;

    /** Empties the set for a message of {@code fragments} fragments. */
    public void reset(int fragments) {
        int needed = (fragments + 63) >>> 6;
        if (needed > words.length) {
            words = new long[Math.max(needed, words.length * 2)];
        } else {
            Arrays.fill(words, 0, Math.max(1, (size + 63) >>> 6), 0L);
        }
        size = fragments;
        count = 0;
    }

    /** Fragments the current message has. */
    public int size() {
        return size;
    }

    /** Fragments marked. */
    public int count() {
        return count;
    }

    public boolean isComplete() {
        return count == size;
    }

    public boolean contains(int fragment) {
        return fragment >= 0 && fragment < size && (words[fragment >>> 6] & (1L << fragment)) != 0;
    }

    /** Marks one fragment; returns false if it was already marked or is outside the message. */
    public boolean add(int fragment) {
        if (fragment < 0 || fragment >= size) {
            return false;
        }
        long bit = 1L << fragment;
        int word = fragment >>> 6;
        if ((words[word] & bit) != 0) {
            return false;
        }
        words[word] |= bit;
        count++;
        return true;
    }

    /** Unmarks one fragment; returns false if it was not marked. */
    public boolean remove(int fragment) {
        if (!contains(fragment)) {
            return false;
        }
        words[fragment >>> 6] &= ~(1L << fragment);
        count--;
        return true;
    }

    /** Unmarks every fragment, keeping the size. */
    public void clear() {
        reset(size);
    }

    /** The first marked fragment at or after {@code from}, or -1 when there is none. */
    public int nextMarked(int from) {
        if (from < 0) {
            from = 0;
        }
        if (from >= size || count == 0) {
            return -1;
        }
        int word = from >>> 6;
        long bits = words[word] & (-1L << from);
        int wordCount = (size + 63) >>> 6;
        while (true) {
            if (bits != 0) {
                int at = (word << 6) + Long.numberOfTrailingZeros(bits);
                return at < size ? at : -1;
            }
            if (++word >= wordCount) {
                return -1;
            }
            bits = words[word];
        }
    }

    /** The first fragment not marked (== {@link #size()} when all are). */
    public int firstMissing() {
        int wordCount = (size + 63) >>> 6;
        for (int w = 0; w < wordCount; w++) {
            long missing = ~words[w];
            if (missing != 0) {
                return Math.min(size, (w << 6) + Long.numberOfTrailingZeros(missing));
            }
        }
        return size;
    }

    /**
     * 64 bits of the set from fragment {@code from}: bit i is fragment {@code from + i} (0 past the end).
     */
    public long window(int from) {
        if (from < 0 || from >= size) {
            return 0;
        }
        int word = from >>> 6;
        int shift = from & 63;
        long bits = words[word] >>> shift;
        if (shift != 0 && word + 1 < words.length) {
            bits |= words[word + 1] << (64 - shift);
        }
        int left = size - from;
        return left >= 64 ? bits : bits & ((1L << left) - 1);
    }
}
