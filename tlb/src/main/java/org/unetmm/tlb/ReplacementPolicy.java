package org.unetmm.tlb;

/**
 * How a full set of the {@link Tlb} chooses the entry a new translation displaces. A set with a
 * vacant (never filled, or shot down) entry fills that first under every policy; the policy
 * decides only among valid entries.
 */
public enum ReplacementPolicy {
    /**
     * Least recently used: the entry whose last hit (or fill) is oldest. Each hit stamps the
     * entry with a counter; the victim is the smallest stamp in the set. Exact, not approximated.
     */
    LRU,
    /**
     * CLOCK, Corbató's second-chance approximation of LRU (Corbató, "A paging experiment with the
     * Multics system", MIT Project MAC MAC-M-384, 1968). Each entry has a reference bit, set by a
     * hit and by the fill itself; each set has a hand. On eviction the hand sweeps the set,
     * clearing set bits, and takes the first entry whose bit is already clear; the hand then rests
     * on the entry after the victim. A hit costs one store, as in hardware.
     */
    CLOCK,
    /**
     * A uniformly random way of the set, from a xorshift generator seeded by
     * {@link TlbConfig#seed()}: the same seed and the same accesses give the same victims.
     */
    RANDOM
}
