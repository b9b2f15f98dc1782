package org.unetmm.internal;

import java.nio.ByteBuffer;
import org.unetmm.SendPath;
import org.unetmm.pinning.NativeMemory;
import org.unetmm.pinning.PinCache;
import org.unetmm.pinning.PinHandle;
import org.unetmm.pinning.PinningException;
import org.unetmm.spi.PayloadSource;

/**
 * The payload of the fragment being transmitted, read from the sender's memory: from the fixed
 * segment (base U-Net), or from the user's buffers with every page translated through the TLB as
 * it is read (U-Net/MM, {@link PageWalk}). A translation failure is kept and reported on the send.
 * A wire that keeps the fragment after {@code transmit} {@link #retain()}s it: the send is held
 * ({@link HeldFragments}) until the wire releases it, its pages pinned once for all its held
 * fragments ({@link HeldFragments.SendPin}). Reused for every fragment; engine only.
 */
final class SendSource implements PayloadSource {
    private final PageWalk pages;
    private final HeldFragments held;
    private final PinCache pinCache;
    private EndpointState endpoint;
    /** The send whose bytes these are: the send-queue slot, or a window's or the held table's stable copy. */
    private SendDescriptor descriptor;
    /** Where a retained fragment's send lives once the queue slot is released (see {@link SendLoop}). */
    private SendDescriptor owner;
    private int base;
    private int length;
    /** The page last translated for this fragment: a NIC translates each page once per transfer. */
    private long lastPage;
    private RuntimeException failure;
    private boolean retained;

    SendSource(PageWalk pages, HeldFragments held, PinCache pinCache) {
        this.pages = pages;
        this.held = held;
        this.pinCache = pinCache;
    }

    /**
     * Fragment {@code [base, base + length)} of {@code d}. {@code owner} is where the send lives if
     * the wire keeps the fragment: a reliable window's slot; null for a queued unreliable send, whose
     * stable copy is made on the first retain.
     */
    void start(EndpointState endpoint, SendDescriptor d, SendDescriptor owner, int base, int length) {
        this.endpoint = endpoint;
        this.descriptor = d;
        this.owner = owner;
        this.base = base;
        this.length = length;
        this.lastPage = PageWalk.NO_PAGE;
        this.failure = null;
        this.retained = false;
    }

    /** Whether the wire retained the fragment last transmitted. */
    boolean retained() {
        return retained;
    }

    /** Ends the fragment; returns the translation failure it met, or null. */
    RuntimeException finish() {
        RuntimeException f = failure;
        endpoint = null;
        descriptor = null;
        owner = null;
        failure = null;
        return f;
    }

    @Override
    public long retain() {
        if (descriptor == null || retained) {
            throw new IllegalStateException("retain() outside a transmit call, or twice for one fragment");
        }
        HeldFragments.SendPin shared = null;
        PinHandle[] own = null;
        if (descriptor.path == SendPath.PINNED) {
            shared = owner == null ? null : owner.pin;
            boolean fresh = shared == null;
            if (fresh) {
                shared = held.newSendPin(descriptor.count);
            }
            try {
                own = pinPieces(shared);
            } catch (RuntimeException e) {
                if (fresh) {
                    held.discard(shared);
                }
                failure = e;
                throw e;
            }
        }
        retained = true;
        if (owner == null) { // an unreliable send: its queue slot is reused once it is transmitted, so keep a copy
            owner = held.stableCopy(descriptor);
            descriptor.heldCopy = owner;
        }
        return held.hold(owner, shared, own);
    }

    /**
     * Makes sure every page of the fragment is pinned for as long as the wire holds it: each buffer
     * entry it touches is pinned whole once for the send ({@code shared}); an entry too large for
     * the pin budget whole is pinned piece by piece for this fragment alone, returned (else null).
     * On failure nothing this call pinned for the fragment alone stays pinned.
     */
    private PinHandle[] pinPieces(HeldFragments.SendPin shared) {
        SendDescriptor d = descriptor;
        PinHandle[] own = null;
        int end = base + length;
        int entryStart = 0;
        try {
            for (int entry = 0; entry < d.count && entryStart < end; entry++) {
                int entryEnd = entryStart + d.lengths[entry];
                int from = Math.max(base, entryStart);
                int to = Math.min(end, entryEnd);
                if (to > from && !shared.covers(entry)) {
                    if (!shared.perFragment) {
                        try {
                            shared.cover(entry, pinCache.acquire(d.buffers[entry], d.offsets[entry], d.lengths[entry]));
                        } catch (PinningException tooLarge) {
                            shared.perFragment = true; // the budget is short: pin only what is held, from now on
                        }
                    }
                    if (!shared.covers(entry)) {
                        if (own == null) {
                            own = new PinHandle[d.count];
                        }
                        own[entry] = pinCache.acquire(d.buffers[entry], d.offsets[entry] + from - entryStart, to - from);
                    }
                }
                entryStart = entryEnd;
            }
            return own;
        } catch (RuntimeException e) {
            if (own != null) {
                for (PinHandle handle : own) {
                    if (handle != null) {
                        handle.release();
                    }
                }
            }
            throw e;
        }
    }

    @Override
    public int gather(long[] addresses, int[] lengths, int max) {
        SendDescriptor d = descriptor;
        if (length == 0) {
            return 0;
        }
        if (d.path == SendPath.FIXED_SEGMENT) {
            if (max < 1) {
                return -1;
            }
            addresses[0] = endpoint.segment.address() + d.segmentOffset + base;
            lengths[0] = length;
            return 1;
        }
        try {
            int pieces = 0;
            int position = base;
            int end = base + length;
            int entryStart = 0;
            for (int entry = 0; entry < d.count && position < end; entry++) {
                int entryEnd = entryStart + d.lengths[entry];
                if (position < entryEnd) {
                    int from = position - entryStart;
                    int to = Math.min(end, entryEnd) - entryStart;
                    if (pieces == max) {
                        return -1;
                    }
                    long address = d.addresses[entry] + d.offsets[entry] + from;
                    lastPage = pages.translate(endpoint.context, d.buffers[entry], address, to - from, lastPage);
                    addresses[pieces] = address;
                    lengths[pieces] = to - from;
                    pieces++;
                    position = entryStart + to;
                }
                entryStart = entryEnd;
            }
            return pieces;
        } catch (RuntimeException e) {
            failure = e;
            throw e;
        }
    }

    @Override
    public void copyTo(int offset, ByteBuffer destination, int destinationIndex, int count) {
        SendDescriptor d = descriptor;
        int position = base + offset;
        if (d.path == SendPath.FIXED_SEGMENT) {
            NativeMemory.copy(endpoint.segment.buffer(), d.segmentOffset + position, destination, destinationIndex, count);
            return;
        }
        try {
            int entry = 0;
            int entryStart = 0;
            while (position >= entryStart + d.lengths[entry]) {
                entryStart += d.lengths[entry];
                entry++;
            }
            int remaining = count;
            while (remaining > 0) {
                int inEntry = position - entryStart;
                int index = d.offsets[entry] + inEntry;
                long address = d.addresses[entry] + index;
                int chunk = pages.run(address, Math.min(remaining, d.lengths[entry] - inEntry));
                lastPage = pages.translate(endpoint.context, d.buffers[entry], address, chunk, lastPage);
                NativeMemory.copy(d.buffers[entry], index, destination, destinationIndex, chunk);
                destinationIndex += chunk;
                position += chunk;
                remaining -= chunk;
                if (position == entryStart + d.lengths[entry] && remaining > 0) {
                    entryStart += d.lengths[entry];
                    entry++;
                }
            }
        } catch (RuntimeException e) {
            failure = e;
            throw e;
        }
    }
}
