package org.unetmm.tlb.internal;

/**
 * TinyLFU's approximate frequency histogram (Einziger, Friedman, Manes, "TinyLFU: A Highly
 * Efficient Cache Admission Policy", ACM Transactions on Storage 13(4), 2017): a count-min sketch
 * (Cormode and Muthukrishnan, "An improved data stream summary: the count-min sketch and its
 * applications", J. Algorithms 55(1), 2005) of {@link #DEPTH} rows of saturating byte counters,
 * with conservative update and TinyLFU's reset, which halves every counter so that old
 * popularity fades.
 *
 * <p>A key (context, page) owns one counter in each row; its estimate is the smallest of them.
 * {@link #increment} raises only the owned counters equal to that smallest one (conservative
 * update), {@link #raise} lifts the owned counters below a value to it. Neither ever lowers a
 * counter, so the estimate never falls below what was counted for the key since the last reset
 * (halved at each reset); it exceeds it only where every row collides with other keys. Nothing
 * allocates after construction. Not thread-safe: the {@link LfuReplacement} uses it under the
 * TLB's lock.
 */
public final class FrequencySketch {
    public static final int DEPTH = 4;
    private static final long[] SEEDS = {
        0x9E37_79B9_7F4A_7C15L, 0xC2B2_AE3D_27D4_EB4FL, 0x1656_67B1_9E37_79F9L, 0xD6E8_FEB8_6659_FD93L
    };

    private final byte[] counters;
    private final int width;
    private final int shift;
    private final int max;

    /**
     * @param width counters per row, rounded up to a power of two (at least 16)
     * @param max   the value a counter saturates at, 1..255
     */
    public FrequencySketch(int width, int max) {
        if (max < 1 || max > 255) {
            throw new IllegalArgumentException("a sketch counter saturates at 1..255, not " + max);
        }
        int rounded = Math.max(16, Integer.highestOneBit(width - 1) << 1);
        this.width = rounded;
        this.shift = 64 - Integer.numberOfTrailingZeros(rounded);
        this.counters = new byte[DEPTH * rounded];
        this.max = max;
    }

    /** The smallest of the key's counters. */
    public int estimate(int context, long page) {
        int min = Integer.MAX_VALUE;
        for (int row = 0; row < DEPTH; row++) {
            min = Math.min(min, counters[cell(row, context, page)] & 0xff);
        }
        return min;
    }

    /** Counts one occurrence: the key's counters at its estimate go up by one, unless saturated. */
    public void increment(int context, long page) {
        int estimate = estimate(context, page);
        if (estimate < max) {
            raise(context, page, estimate + 1);
        }
    }

    /** Lifts the key's counters below {@code value} (at most the saturation value) to it. */
    public void raise(int context, long page, int value) {
        int to = Math.min(value, max);
        for (int row = 0; row < DEPTH; row++) {
            int at = cell(row, context, page);
            if ((counters[at] & 0xff) < to) {
                counters[at] = (byte) to;
            }
        }
    }

    /** TinyLFU's reset: every counter halved, rounding down. */
    public void halve() {
        for (int i = 0; i < counters.length; i++) {
            counters[i] = (byte) ((counters[i] & 0xff) >>> 1);
        }
    }

    private int cell(int row, int context, long page) {
        long h = (page ^ ((long) context << 40)) * SEEDS[row];
        h ^= h >>> 31;
        h *= SEEDS[(row + 1) & (DEPTH - 1)];
        return row * width + (int) (h >>> shift);
    }
}
