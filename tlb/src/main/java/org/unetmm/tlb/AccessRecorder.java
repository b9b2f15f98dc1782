package org.unetmm.tlb;

/**
 * Hears the page stream a {@link Tlb} sees: installed with {@link Tlb#record}, told of every
 * lookup on the NIC thread before the TLB answers it, so a recording replayed against a fresh
 * TLB of the same shape, policy and seed gives the same hits and misses.
 */
@FunctionalInterface
public interface AccessRecorder {
    /**
     * A lookup of virtual page {@code page} (address ÷ page size) of {@code context}. Must not block.
     *
     * @param context the context id the lookup was made in
     * @param page    the virtual page number looked up
     */
    void lookedUp(int context, long page);
}
