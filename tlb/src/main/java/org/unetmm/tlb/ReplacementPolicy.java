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
    RANDOM,
    /**
     * SIEVE (Zhang et al., "SIEVE is Simpler than LRU", NSDI 2024): each set a queue in fill
     * order with a visited bit per entry, set by a hit; a hand walks from old to new clearing
     * bits and evicts the first entry not visited, and new entries join at the new end, behind
     * the hand. A hit costs one store, as CLOCK's.
     */
    SIEVE,
    /**
     * S3-FIFO (Yang et al., "FIFO queues are all you need for cache eviction", SOSP 2023): each
     * set a small FIFO (a tenth of the ways) where new pages start, a main FIFO for pages hit
     * twice while there, and a ghost FIFO of pages recently evicted from the small one, which go
     * straight to main when they return. A hit bumps a two-bit counter; no list node moves.
     */
    S3FIFO,
    /**
     * LFU with aging, frequencies kept as TinyLFU keeps them (Einziger, Friedman, Manes, ACM ToS
     * 2017): a hit bumps the entry's saturating counter; a miss is counted in a small count-min
     * sketch and the new entry starts at the sketch's estimate for its page; the victim is the
     * entry with the smallest count, whose count goes back into the sketch; every so many misses
     * the sketch and the counters are halved so an old hot set fades. Near the static top-C bound
     * on independent requests. A hit costs one load and one store.
     */
    LFU
}
