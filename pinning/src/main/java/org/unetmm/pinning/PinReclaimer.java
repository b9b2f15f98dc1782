package org.unetmm.pinning;

/**
 * Gives up pins that a {@link PinCache}'s user holds but could do without, when another cache of
 * the process needs locked memory and the idle pins of every cache were not enough
 * ({@link LockedMemory}). A NIC registers one that drops the translations its TLB holds (each
 * holds a pin; a posted buffer's are re-translated when a message arrives).
 *
 * <p>Called from another NIC's thread, which may hold engine locks of its own and of other NICs:
 * <b>never block</b>. Try-lock what must be locked and return at once when it is busy; the pins
 * released go idle in the cache, and the caller unpins them next.
 */
@FunctionalInterface
public interface PinReclaimer {
    /**
     * Releases pins, ideally about {@code bytes} of them, without blocking.
     *
     * @param bytes how many bytes of pins the caller would like released
     */
    void reclaim(long bytes);
}
