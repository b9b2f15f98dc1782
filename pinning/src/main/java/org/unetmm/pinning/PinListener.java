package org.unetmm.pinning;

/**
 * Subscriber to a {@link PinCache}'s unpin decisions; the NIC's TLB is the first. Callbacks run
 * on the thread that caused them.
 */
public interface PinListener {
    /**
     * A range is being invalidated (or its memory freed): drop every translation of it and release
     * the pins held for them. Called outside the cache's lock, before any of its pages is unpinned;
     * the listener may release handles from here.
     *
     * @param address first byte of the range, page-aligned
     * @param length  bytes, whole pages
     */
    default void onInvalidate(long address, long length) {
    }

    /**
     * The pages of [address, address+length) are about to be unlocked (DESIGN §3: listeners are
     * told before any munlock). Called under the cache's lock: do not call back into the cache.
     *
     * @param address first byte of the pages, page-aligned
     * @param length  bytes, whole pages
     * @param cause   why they are unpinned
     */
    default void beforeUnpin(long address, long length, UnpinCause cause) {
    }
}
