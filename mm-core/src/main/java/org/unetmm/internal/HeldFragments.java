package org.unetmm.internal;

import java.util.Arrays;
import org.unetmm.pinning.PinHandle;

/**
 * The fragments wires hold after {@code transmit} returned (the SPI's deferred completion): a
 * token per held fragment, naming the send it belongs to. A token is a slot and a generation, so
 * a repeated or invented release is refused rather than completing someone else's send. The
 * send's {@link SendDescriptor#held} counts its fragments here; its pages stay pinned and
 * translated, and it does not complete, until that count is back to zero; a pin of its own per
 * held piece keeps the pages locked even if the TLB evicts their translations meanwhile (DESIGN
 * invariants 2 and 6). Engine only; allocates per held fragment only its pins.
 */
public final class HeldFragments {
    private SendDescriptor[] owners = new SendDescriptor[64];
    /** Per slot: the pins that keep the held fragment's pages locked whatever the TLB evicts meanwhile. */
    private PinHandle[][] pins = new PinHandle[64][];
    private int[] generations = new int[64];
    private int[] free = new int[64];
    private int freeCount;
    private int used;
    private int held;
    private final java.util.ArrayDeque<SendDescriptor> spare = new java.util.ArrayDeque<>();

    /** A stable copy of the queued send {@code d}, to outlive its queue slot while a wire holds fragments of it. */
    public SendDescriptor stableCopy(SendDescriptor d) {
        SendDescriptor copy = spare.poll();
        if (copy == null || copy.buffers.length < d.count) {
            copy = new SendDescriptor(d.buffers.length);
        }
        copy.copyFrom(d);
        return copy;
    }

    /** Gives a stable copy back once its send completed. */
    public void recycle(SendDescriptor copy) {
        copy.clear();
        spare.add(copy);
    }

    /**
     * A token for one more held fragment of {@code d}, whose pages {@code handles} keep pinned
     * (null for memory pinned anyway, the fixed segment); released with the token.
     */
    public long hold(SendDescriptor d, PinHandle[] handles) {
        int slot;
        if (freeCount > 0) {
            slot = free[--freeCount];
        } else {
            if (used == owners.length) {
                owners = Arrays.copyOf(owners, used * 2);
                pins = Arrays.copyOf(pins, used * 2);
                generations = Arrays.copyOf(generations, used * 2);
                free = Arrays.copyOf(free, used * 2);
            }
            slot = used++;
        }
        owners[slot] = d;
        pins[slot] = handles;
        d.held++;
        held++;
        return ((long) generations[slot] << 32) | slot;
    }

    /** The send whose fragment {@code token} named; its held count is one less. Refuses a token not held now. */
    public SendDescriptor release(long token) {
        int slot = (int) token;
        int generation = (int) (token >>> 32);
        if (token < 0 || slot >= used || owners[slot] == null || generations[slot] != generation) {
            throw new IllegalArgumentException("transmit token " + token + " is not held (released twice, or never"
                    + " given by retain()): a wire releases each retained fragment exactly once");
        }
        SendDescriptor d = owners[slot];
        owners[slot] = null;
        PinHandle[] handles = pins[slot];
        pins[slot] = null;
        if (handles != null) {
            for (PinHandle handle : handles) {
                if (handle != null) {
                    handle.release();
                }
            }
        }
        generations[slot]++;
        free[freeCount++] = slot;
        d.held--;
        held--;
        return d;
    }

    /** Fragments held now, by every wire. */
    public int size() {
        return held;
    }

    /** Tokens of every fragment held now (for a forced release when a wire broke its contract). */
    public long[] tokens() {
        long[] tokens = new long[held];
        int n = 0;
        for (int slot = 0; slot < used; slot++) {
            if (owners[slot] != null) {
                tokens[n++] = ((long) generations[slot] << 32) | slot;
            }
        }
        return tokens;
    }
}
