package org.unetmm.tlb.internal;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import org.unetmm.tlb.TlbConfig;

/**
 * The TLB's entries, {@code sets × ways} of them in one {@code long[]}, and an open-addressing
 * index from (context, page) to entry so a hit costs the same in a fully associative TLB as in a
 * direct-mapped one (hardware uses a CAM; this is its software stand-in). Set {@code s} owns
 * entries {@code [s × ways, (s + 1) × ways)}; the index only finds entries, the sets decide where
 * a page may live and what it may displace.
 *
 * <p>Entry {@code i} occupies longs {@code [i × ENTRY_LONGS, (i + 1) × ENTRY_LONGS)}, 32 bytes,
 * two entries to a cache line, so a hit touches one index word and one line:
 *
 * <pre>
 *   0               8               16              24              32
 *   +---------------+---------------+---------------+---------------+
 *   |  virtual page |     frame     |   tag: C | V  |    recency    |
 *   +---------------+---------------+---------------+---------------+
 *   tag  = context &lt;&lt; 1 | valid: bit 0 is V, bits 1..32 the context id (never negative)
 *   page = -1 in an entry never filled
 *   recency: the replacement policy's word (LRU stamp, CLOCK or SIEVE bit, S3-FIFO or LFU counter, unused by RANDOM)
 * </pre>
 *
 * <p>Who writes what (the {@link org.unetmm.tlb.Tlb} keeps these rules):
 * <ul>
 *   <li>page, frame, recency and the whole index are written only by the NIC thread, so the
 *       NIC thread reads them with plain loads;</li>
 *   <li>the tag is written with release semantics under the TLB's lock: set valid by the NIC
 *       thread when it fills an entry, cleared by a shootdown from any thread. The hit path reads
 *       it with acquire semantics and needs no lock;</li>
 *   <li>other threads read page and context only under the lock (shootdowns, diagnostics).</li>
 * </ul>
 *
 * <p>Index invariant: if the index maps key k to entry i then entry i's page and context are k
 * (its valid bit may be clear: a shootdown does not touch the index, it only clears V; the NIC
 * thread drops or reuses the stale index word later). Each entry is indexed at most once, so the
 * index, sized to a power of two at least twice the entries, is never more than half full.
 * Deletion is Knuth's backward shift for linear probing (TAOCP vol. 3, 6.4, Algorithm R), so
 * there are no tombstones to age.
 */
public final class TranslationTable {
    public static final int PAGE_OFFSET = 0;
    public static final int FRAME_OFFSET = 1;
    public static final int TAG_OFFSET = 2;
    public static final int RECENCY_OFFSET = 3;
    public static final int ENTRY_LONGS = 4;
    public static final int ENTRY_SHIFT = 2;

    private static final long VALID = 1L;
    private static final long NEVER_FILLED = -1L;
    private static final VarHandle LONGS = MethodHandles.arrayElementVarHandle(long[].class);

    private final TlbConfig config;
    private final int entryCount;
    private final int ways;
    private final long[] entries;
    /** Entry number + 1 per index position; 0 is an empty position. */
    private final int[] index;
    private final int indexMask;

    public TranslationTable(TlbConfig config) {
        this.config = config;
        this.entryCount = config.entries();
        this.ways = config.ways();
        this.entries = new long[entryCount * ENTRY_LONGS];
        for (int i = 0; i < entryCount; i++) {
            entries[(i << ENTRY_SHIFT) + PAGE_OFFSET] = NEVER_FILLED;
        }
        int size = Integer.highestOneBit(Math.max(2, entryCount)) << 2;
        this.index = new int[size];
        this.indexMask = size - 1;
    }

    public int entryCount() {
        return entryCount;
    }

    /** The backing array, for the replacement policies' recency words. */
    long[] entries() {
        return entries;
    }

    // ------------------------------------------------------------------ NIC thread, no lock

    /**
     * The entry holding a valid translation of (context, page), or -1. The hit path: no lock,
     * no allocation; one acquire load of the tag orders the frame read after the fill's release.
     */
    public int find(int context, long page) {
        int[] index = this.index;
        long[] entries = this.entries;
        int mask = indexMask;
        int position = hash(context, page) & mask;
        for (;;) {
            int word = index[position];
            if (word == 0) {
                return -1;
            }
            int entry = word - 1;
            int base = entry << ENTRY_SHIFT;
            if (entries[base + PAGE_OFFSET] == page) {
                long tag = (long) LONGS.getAcquire(entries, base + TAG_OFFSET);
                if ((tag >>> 1) == context) {
                    return (tag & VALID) != 0 ? entry : -1;
                }
            }
            position = (position + 1) & mask;
        }
    }

    public long frame(int entry) {
        return entries[(entry << ENTRY_SHIFT) + FRAME_OFFSET];
    }

    // ------------------------------------------------------------------ NIC thread, under the lock

    /** The first vacant (never filled or shot down) entry of a set, or -1 if all are valid. */
    public int vacant(int set) {
        int first = set * ways;
        for (int entry = first, end = first + ways; entry < end; entry++) {
            if ((entries[(entry << ENTRY_SHIFT) + TAG_OFFSET] & VALID) == 0) {
                return entry;
            }
        }
        return -1;
    }

    /**
     * Fills an entry with a valid translation, displacing whatever it held, and indexes it.
     * The caller holds the lock and has taken over (or released) the displaced entry's pin.
     */
    public void fill(int entry, int context, long page, long frame) {
        int base = entry << ENTRY_SHIFT;
        long oldPage = entries[base + PAGE_OFFSET];
        if (oldPage != NEVER_FILLED) {
            unindex(contextOf(entry), oldPage, entry);
        }
        LONGS.setRelease(entries, base + TAG_OFFSET, (long) context << 1);
        entries[base + PAGE_OFFSET] = page;
        entries[base + FRAME_OFFSET] = frame;
        int stale = position(context, page);
        if (stale >= 0) {
            removeAt(stale); // a shot-down entry elsewhere in the set still indexed under this key
        }
        LONGS.setRelease(entries, base + TAG_OFFSET, ((long) context << 1) | VALID);
        index(entry);
    }

    // ------------------------------------------------------------------ any thread, under the lock

    public boolean isValid(int entry) {
        return (entries[(entry << ENTRY_SHIFT) + TAG_OFFSET] & VALID) != 0;
    }

    public int contextOf(int entry) {
        return (int) (entries[(entry << ENTRY_SHIFT) + TAG_OFFSET] >>> 1);
    }

    public long pageOf(int entry) {
        return entries[(entry << ENTRY_SHIFT) + PAGE_OFFSET];
    }

    /**
     * Clears an entry's valid bit with release semantics; from the moment it is visible no
     * lookup hits it. The index still names the entry until the NIC thread refills it.
     *
     * @return whether the entry was valid
     */
    public boolean invalidate(int entry) {
        int at = (entry << ENTRY_SHIFT) + TAG_OFFSET;
        long tag = entries[at];
        if ((tag & VALID) == 0) {
            return false;
        }
        LONGS.setRelease(entries, at, tag & ~VALID);
        return true;
    }

    // ------------------------------------------------------------------ index

    private static int hash(int context, long page) {
        long h = (page ^ ((long) context << 40)) * 0x9E37_79B9_7F4A_7C15L;
        return (int) (h ^ (h >>> 29));
    }

    private int hashOf(int entry) {
        return hash(contextOf(entry), pageOf(entry));
    }

    private void index(int entry) {
        int position = hashOf(entry) & indexMask;
        while (index[position] != 0) {
            position = (position + 1) & indexMask;
        }
        index[position] = entry + 1;
    }

    /** The index position naming (context, page), or -1. */
    private int position(int context, long page) {
        int position = hash(context, page) & indexMask;
        for (;;) {
            int word = index[position];
            if (word == 0) {
                return -1;
            }
            int entry = word - 1;
            if (pageOf(entry) == page && contextOf(entry) == context) {
                return position;
            }
            position = (position + 1) & indexMask;
        }
    }

    /** Removes (context, page) from the index if, and only if, it names this entry. */
    private void unindex(int context, long page, int entry) {
        int position = position(context, page);
        if (position >= 0 && index[position] == entry + 1) {
            removeAt(position);
        }
    }

    /** Knuth's Algorithm R: empty the position, then pull back every later word that may move. */
    private void removeAt(int position) {
        int hole = position;
        index[hole] = 0;
        int probe = hole;
        for (;;) {
            probe = (probe + 1) & indexMask;
            int word = index[probe];
            if (word == 0) {
                return;
            }
            int home = hashOf(word - 1) & indexMask;
            boolean staysPut = hole <= probe ? (hole < home && home <= probe) : (hole < home || home <= probe);
            if (!staysPut) {
                index[hole] = word;
                index[probe] = 0;
                hole = probe;
            }
        }
    }
}
