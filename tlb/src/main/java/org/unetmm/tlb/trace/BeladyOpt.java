package org.unetmm.tlb.trace;

import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;

/**
 * Bélády's optimal replacement (Bélády, "A study of replacement algorithms for a virtual-storage
 * computer", IBM Systems Journal 5(2), 1966; MIN in Mattson et al. 1970): on a miss with the cache
 * full, evict the page whose next use lies furthest in the future. Offline (it reads the whole
 * trace first), fully associative, demand-fetching (every miss is inserted, as the TLB does). No
 * demand-fetching policy of the same capacity, set-associative ones included, has more hits on the
 * same trace, so its hit rate is the bound printed beside every measured one.
 *
 * <p>O(n log n): a backward pass gives each access the time of the next access to the same
 * (context, page); a max-heap of the cached pages' next-use times, with stale heap words skipped
 * lazily, finds the furthest. A page never used again gets a next-use time past the end, unique
 * per page, so ties never arise.
 */
public final class BeladyOpt {
    private BeladyOpt() {
    }

    /**
     * {@return hits of OPT with {@code capacity} entries on the trace, from a cold (empty) start}
     *
     * @param trace    the accesses, in order
     * @param capacity entries, positive
     */
    public static long hits(PageTrace trace, int capacity) {
        if (capacity < 1) {
            throw new IllegalArgumentException("OPT needs a capacity of at least one entry, got " + capacity);
        }
        int n = trace.length();
        int[] ids = denseIds(trace);
        int distinct = 0;
        for (int id : ids) {
            distinct = Math.max(distinct, id + 1);
        }
        // next[i]: time of the next access to ids[i]; n + i if never (unique, past every real time)
        int[] next = new int[n];
        int[] seenAt = new int[distinct];
        Arrays.fill(seenAt, -1);
        for (int i = n - 1; i >= 0; i--) {
            int id = ids[i];
            next[i] = seenAt[id] >= 0 ? seenAt[id] : n + i;
            seenAt[id] = i;
        }
        // cachedNext[id]: the next-use time the cache holds the page under, or -1 if not cached
        int[] cachedNext = seenAt; // reuse: every entry is overwritten before it is read
        Arrays.fill(cachedNext, -1);
        IntMaxHeap heap = new IntMaxHeap(Math.min(n, 1 << 20) + 1);
        int cached = 0;
        long hits = 0;
        for (int i = 0; i < n; i++) {
            int id = ids[i];
            if (cachedNext[id] >= 0) {
                hits++; // its held next use was i: now it is next[i]
            } else {
                if (cached == capacity) {
                    for (;;) {
                        int t = heap.pop();
                        int owner = ids[t < n ? t : t - n];
                        if (cachedNext[owner] == t) {
                            cachedNext[owner] = -1;
                            break;
                        }
                    }
                } else {
                    cached++;
                }
            }
            cachedNext[id] = next[i];
            heap.push(next[i]);
        }
        return hits;
    }

    /**
     * {@return OPT's hit rate: hits ÷ accesses (0 for an empty trace)}
     *
     * @param trace    the accesses, in order
     * @param capacity entries, positive
     */
    public static double hitRate(PageTrace trace, int capacity) {
        return trace.length() == 0 ? 0.0 : (double) hits(trace, capacity) / trace.length();
    }

    private static int[] denseIds(PageTrace trace) {
        Map<Long, Integer> ids = new HashMap<>();
        int[] dense = new int[trace.length()];
        for (int i = 0; i < dense.length; i++) {
            Integer id = ids.putIfAbsent(trace.key(i), ids.size());
            dense[i] = id == null ? ids.size() - 1 : id;
        }
        return dense;
    }

    /** A growable binary max-heap of ints. */
    private static final class IntMaxHeap {
        private int[] heap;
        private int size;

        IntMaxHeap(int capacity) {
            heap = new int[Math.max(2, capacity)];
        }

        void push(int value) {
            if (size == heap.length) {
                heap = Arrays.copyOf(heap, heap.length * 2);
            }
            int at = size++;
            while (at > 0) {
                int parent = (at - 1) >>> 1;
                if (heap[parent] >= value) {
                    break;
                }
                heap[at] = heap[parent];
                at = parent;
            }
            heap[at] = value;
        }

        int pop() {
            int top = heap[0];
            int last = heap[--size];
            int at = 0;
            for (;;) {
                int child = 2 * at + 1;
                if (child >= size) {
                    break;
                }
                if (child + 1 < size && heap[child + 1] > heap[child]) {
                    child++;
                }
                if (heap[child] <= last) {
                    break;
                }
                heap[at] = heap[child];
                at = child;
            }
            heap[at] = last;
            return top;
        }
    }
}
