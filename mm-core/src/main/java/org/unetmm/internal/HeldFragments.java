package org.unetmm.internal;

import java.util.ArrayDeque;
import java.util.Arrays;
import org.unetmm.pinning.PinHandle;

/**
 * The fragments wires hold after {@code transmit} returned (the SPI's deferred completion): a
 * token per held fragment, naming the send it belongs to. A token is a slot and a generation, so
 * a repeated or invented release is refused rather than completing someone else's send. The
 * send's {@link SendDescriptor#held} counts its fragments here; its pages stay pinned and
 * translated, and it does not complete, until that count is back to zero (DESIGN invariants 2
 * and 6).
 *
 * <p><b>One pin per held send, not per fragment.</b> A pin of the wire's own keeps a held
 * fragment's pages locked even if the TLB evicts their translations meanwhile. A 256 KiB message
 * over a 1500-byte MTU is some 180 fragments on the same pages, so the pin is a {@link SendPin}
 * shared by every held fragment of the send: the first retained fragment that touches a buffer
 * entry pins that whole entry once, later fragments take a share, and the last share's release
 * unpins (Netty's {@code retain}/{@code release} on one reference count). A send whose entry does
 * not fit the pin budget whole falls back to a pin per fragment, as small as the piece, kept in
 * the slot. The share lives in the slots, not in the descriptor: a descriptor cleared or reused
 * while fragments are still held leaves their pin alone. Engine only; allocates only when a table
 * grows, when a send's first pin is taken (the pin cache's handle), and on the per-fragment
 * fallback.
 */
public final class HeldFragments {
    private SendDescriptor[] owners = new SendDescriptor[64];
    /** Per slot: the send's shared pin this fragment holds a share of, or null. */
    private SendPin[] shares = new SendPin[64];
    /** Per slot: the fragment's own pins (the budget fallback), or null. */
    private PinHandle[][] pins = new PinHandle[64][];
    private int[] generations = new int[64];
    private int[] free = new int[64];
    private int freeCount;
    private int used;
    private int held;
    private final ArrayDeque<SendDescriptor> spare = new ArrayDeque<>();
    private final ArrayDeque<SendPin> sparePins = new ArrayDeque<>();

    /**
     * The pins one held send's fragments share: a pin cache handle per buffer entry that a held
     * fragment touched, taken once over the whole entry, released when the last share goes.
     */
    public static final class SendPin {
        /** Per buffer entry of the send: its pin over the whole entry, or null while none is taken. */
        PinHandle[] entries;
        /** Slots holding a share. */
        int shares;
        /** An entry did not fit the budget whole: later fragments pin their own pieces (see {@link HeldFragments}). */
        boolean perFragment;
        /** The descriptor whose {@link SendDescriptor#pin} this is while it is. */
        SendDescriptor owner;

        SendPin(int maxScatter) {
            entries = new PinHandle[maxScatter];
        }

        /** Whether entry {@code entry} is pinned whole. */
        boolean covers(int entry) {
            return entries[entry] != null;
        }

        /** Records the whole-entry pin of {@code entry}; the pin is this SendPin's until its last share goes. */
        void cover(int entry, PinHandle handle) {
            entries[entry] = handle;
        }

        private void releaseAll() {
            for (int i = 0; i < entries.length; i++) {
                if (entries[i] != null) {
                    entries[i].release();
                    entries[i] = null;
                }
            }
            perFragment = false;
            owner = null;
        }
    }

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
     * A fresh shared pin for a send of up to {@code count} buffer entries, holding nothing yet:
     * {@link #hold} it with the send's first retained fragment, or give it back with
     * {@link #discard} if that fragment fails.
     */
    SendPin newSendPin(int count) {
        SendPin p = sparePins.poll();
        if (p == null || p.entries.length < count) {
            p = new SendPin(Math.max(count, p == null ? 0 : p.entries.length));
        }
        return p;
    }

    /** Unpins and gives back a shared pin that no held fragment took a share of. */
    void discard(SendPin p) {
        if (p.shares != 0) {
            throw new IllegalStateException("a SendPin with " + p.shares + " shares held cannot be discarded");
        }
        p.releaseAll();
        sparePins.add(p);
    }

    /**
     * A token for one more held fragment of {@code d}. {@code shared} (taken for {@code d} and
     * now its {@link SendDescriptor#pin}, or null) gains a share; {@code own} are the fragment's
     * own pins (the budget fallback), or null. Both are released with the token. Memory pinned
     * anyway (the fixed segment) passes null for both.
     */
    public long hold(SendDescriptor d, SendPin shared, PinHandle[] own) {
        int slot;
        if (freeCount > 0) {
            slot = free[--freeCount];
        } else {
            if (used == owners.length) {
                owners = Arrays.copyOf(owners, used * 2);
                shares = Arrays.copyOf(shares, used * 2);
                pins = Arrays.copyOf(pins, used * 2);
                generations = Arrays.copyOf(generations, used * 2);
                free = Arrays.copyOf(free, used * 2);
            }
            slot = used++;
        }
        owners[slot] = d;
        pins[slot] = own;
        shares[slot] = shared;
        if (shared != null) {
            if (shared.shares++ == 0) {
                shared.owner = d;
                d.pin = shared;
            }
        }
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
        PinHandle[] own = pins[slot];
        pins[slot] = null;
        if (own != null) {
            for (PinHandle handle : own) {
                if (handle != null) {
                    handle.release();
                }
            }
        }
        SendPin shared = shares[slot];
        shares[slot] = null;
        if (shared != null && --shared.shares == 0) {
            if (shared.owner != null && shared.owner.pin == shared) {
                shared.owner.pin = null; // a later retain of this send (a retransmission) pins afresh
            }
            shared.releaseAll();
            sparePins.add(shared);
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
