package org.unetmm.tlb;

/**
 * The shape of a {@link Tlb}: {@code sets × ways} entries, a replacement policy and the seed of
 * its randomness. Validated when built, immutable after.
 *
 * <p>A (context, virtual page) maps to exactly one set ({@link #setOf}) and may sit in any of its
 * ways. The two ends of the range are the same record: {@code sets == 1} is fully associative
 * (any page in any entry, {@link #fullyAssociative}), {@code ways == 1} is direct-mapped (each
 * page in exactly one entry, {@link #directMapped}).
 *
 * @param sets   number of sets, at least 1
 * @param ways   entries per set, at least 1
 * @param policy how a full set picks its victim
 * @param seed   seed of {@link ReplacementPolicy#RANDOM}'s generator (ignored by the others)
 */
public record TlbConfig(int sets, int ways, ReplacementPolicy policy, long seed) {
    /** The most entries a TLB may have (16 Mi, 512 MiB of entries). */
    public static final int MAX_ENTRIES = 1 << 24;
    /** The seed used when none is given. */
    public static final long DEFAULT_SEED = 0x5EED_7AB1EL;

    /** Added per context to the page number before the set is taken, so contexts spread over sets. */
    private static final long CONTEXT_SET_STRIDE = 0x9E37_79B9L;

    /**
     * Checks the shape.
     *
     * @param sets   number of sets, at least 1
     * @param ways   entries per set, at least 1
     * @param policy how a full set picks its victim, not null
     * @param seed   seed of {@link ReplacementPolicy#RANDOM}'s generator
     * @throws TlbConfigException for no entries, more than {@link #MAX_ENTRIES}, or no policy
     */
    public TlbConfig {
        if (sets < 1 || ways < 1) {
            throw new TlbConfigException("a TLB needs at least one entry, got " + sets + " set(s) of " + ways
                    + " way(s): give sets ≥ 1 and ways ≥ 1 (or entries ≥ 1 to the builder)");
        }
        if ((long) sets * ways > MAX_ENTRIES) {
            throw new TlbConfigException(sets + " sets × " + ways + " ways = " + (long) sets * ways
                    + " entries is more than the " + MAX_ENTRIES + " a TLB may have: shrink sets or ways");
        }
        if (policy == null) {
            throw new TlbConfigException("a TLB needs a replacement policy: choose ReplacementPolicy.LRU, CLOCK, RANDOM, SIEVE, S3FIFO or LFU");
        }
    }

    /**
     * One set holding every entry: any page may go in any entry.
     *
     * @param entries total entries, 1 to {@link #MAX_ENTRIES}
     * @param policy  how the full set picks its victim
     * @return the configuration, with {@link #DEFAULT_SEED}
     */
    public static TlbConfig fullyAssociative(int entries, ReplacementPolicy policy) {
        return builder().entries(entries).ways(entries).policy(policy).build();
    }

    /**
     * One way per set: each page has exactly one entry it may occupy (no policy to choose).
     *
     * @param entries total entries, as many sets, 1 to {@link #MAX_ENTRIES}
     * @return the configuration
     */
    public static TlbConfig directMapped(int entries) {
        return builder().entries(entries).ways(1).build();
    }

    /** {@return a builder: LRU, {@link #DEFAULT_SEED}, size to be given} */
    public static Builder builder() {
        return new Builder();
    }

    /** {@return total entries: {@code sets × ways}} */
    public int entries() {
        return sets * ways;
    }

    /** {@return whether there is one set: any page may go in any entry} */
    public boolean isFullyAssociative() {
        return sets == 1;
    }

    /** {@return whether there is one way per set: each page has exactly one entry} */
    public boolean isDirectMapped() {
        return ways == 1;
    }

    /**
     * The set a page of a context maps to: {@code (page + context × 0x9E3779B9) mod sets},
     * unsigned. With one context this is the textbook low bits of the page number (a sequential
     * sweep walks the sets in order); the context term keeps two contexts' identical page numbers
     * from colliding in the same set.
     *
     * @param context a context id
     * @param page    a virtual page number
     * @return the set, 0 to {@code sets - 1}
     */
    public int setOf(int context, long page) {
        return sets == 1 ? 0 : (int) Long.remainderUnsigned(page + context * CONTEXT_SET_STRIDE, sets);
    }

    @Override
    public String toString() {
        String shape = sets == 1 ? "fully associative" : ways == 1 ? "direct-mapped" : ways + "-way";
        return entries() + " entries (" + shape + ", " + sets + " × " + ways + "), " + policy
                + (policy == ReplacementPolicy.RANDOM ? " seed " + seed : "");
    }

    /**
     * Builds a {@link TlbConfig}. Give the size as {@code entries} (with {@code ways}; without,
     * fully associative) or as {@code sets} and {@code ways}; both, and they must agree. Policy
     * defaults to LRU, seed to {@link #DEFAULT_SEED}.
     */
    public static final class Builder {
        private int entries = -1;
        private int sets = -1;
        private int ways = -1;
        private ReplacementPolicy policy = ReplacementPolicy.LRU;
        private long seed = DEFAULT_SEED;

        private Builder() {
        }

        /**
         * Total entries; with {@link #ways} not given the TLB is fully associative.
         *
         * @param entries at least 1
         * @return this builder
         */
        public Builder entries(int entries) {
            this.entries = entries;
            return this;
        }

        /**
         * Sets; give {@link #ways} too.
         *
         * @param sets at least 1
         * @return this builder
         */
        public Builder sets(int sets) {
            this.sets = sets;
            return this;
        }

        /**
         * Entries per set.
         *
         * @param ways at least 1
         * @return this builder
         */
        public Builder ways(int ways) {
            this.ways = ways;
            return this;
        }

        /**
         * Replacement policy; LRU if not given.
         *
         * @param policy how a full set picks its victim
         * @return this builder
         */
        public Builder policy(ReplacementPolicy policy) {
            this.policy = policy;
            return this;
        }

        /**
         * Seed of {@link ReplacementPolicy#RANDOM}'s generator; {@link #DEFAULT_SEED} if not given.
         *
         * @param seed any value
         * @return this builder
         */
        public Builder seed(long seed) {
            this.seed = seed;
            return this;
        }

        /**
         * {@return the configuration}
         *
         * @throws TlbConfigException if no size was given, entries and sets × ways disagree, or the shape is invalid
         */
        public TlbConfig build() {
            if (entries == -1 && sets == -1) {
                throw new TlbConfigException("TLB size not given: call entries(n) (fully associative, or with ways(w))"
                        + " or sets(s) and ways(w)");
            }
            if (entries != -1 && entries < 1) {
                throw new TlbConfigException("a TLB needs at least one entry, got entries(" + entries
                        + "): give entries ≥ 1");
            }
            if (ways != -1 && ways < 1) {
                throw new TlbConfigException("a set needs at least one way, got ways(" + ways + "): give ways ≥ 1"
                        + " (1 = direct-mapped, entries = fully associative)");
            }
            if (sets != -1 && sets < 1) {
                throw new TlbConfigException("a TLB needs at least one set, got sets(" + sets + "): give sets ≥ 1"
                        + " (1 = fully associative)");
            }
            int w;
            int s;
            if (entries != -1) {
                w = ways != -1 ? ways : sets != -1 ? -1 : entries;
                if (w == -1) {
                    if (entries % sets != 0) {
                        throw new TlbConfigException(entries + " entries cannot be split into " + sets
                                + " equal sets: choose a set count dividing the entries");
                    }
                    w = entries / sets;
                }
                if (w > entries || entries % w != 0) {
                    throw new TlbConfigException(entries + " entries cannot be split into sets of " + w
                            + " ways: choose ways dividing the entries (e.g. " + divisorNear(entries, w)
                            + "), or change the entries");
                }
                s = entries / w;
                if (sets != -1 && sets != s) {
                    throw new TlbConfigException("sets(" + sets + ") × ways(" + w + ") ≠ entries(" + entries
                            + "): give two of entries, sets and ways, or make them agree");
                }
            } else {
                if (ways == -1) {
                    throw new TlbConfigException("sets(" + sets + ") given without ways: give ways(w) too"
                            + " (1 = direct-mapped)");
                }
                s = sets;
                w = ways;
            }
            return new TlbConfig(s, w, policy, seed);
        }

        /** The largest divisor of {@code n} not above {@code wanted}, to suggest in an error. */
        private static int divisorNear(int n, int wanted) {
            for (int d = Math.min(wanted, n); d > 1; d--) {
                if (n % d == 0) {
                    return d;
                }
            }
            return 1;
        }
    }
}
