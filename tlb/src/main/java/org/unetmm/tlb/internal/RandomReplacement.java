package org.unetmm.tlb.internal;

import org.unetmm.tlb.TlbConfig;

/**
 * A uniformly random way of the set, from Marsaglia's xorshift64* (Vigna, "An experimental
 * exploration of Marsaglia's xorshift generators, scrambled", 2016) seeded through SplitMix64 by
 * {@link TlbConfig#seed()}: the same seed and the same accesses give the same victims. Hits cost
 * nothing.
 */
final class RandomReplacement extends Replacement {
    private long state;

    RandomReplacement(TranslationTable table, TlbConfig config) {
        super(table, config);
        long z = config.seed() + 0x9E37_79B9_7F4A_7C15L;
        z = (z ^ (z >>> 30)) * 0xBF58_476D_1CE4_E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D0_49BB_1331_11EBL;
        z ^= z >>> 31;
        this.state = z == 0 ? 0x9E37_79B9_7F4A_7C15L : z;
    }

    @Override
    public void touched(int entry) {
    }

    @Override
    public void filled(int entry) {
    }

    @Override
    public int victim(int set) {
        long x = state;
        x ^= x >>> 12;
        x ^= x << 25;
        x ^= x >>> 27;
        state = x;
        long r = (x * 0x2545_F491_4F6C_DD1DL) >>> 1;
        return set * ways + (int) (r % ways);
    }
}
