package org.unetmm.pinning;

/**
 * Configuration of a {@link PinCache}, validated when built.
 *
 * <p><b>The idle cap.</b> An idle region (released, still locked, kept for a hit) holds its pages
 * locked and its buffer strongly reachable (so its memory cannot be freed and reused while it is
 * locked). Bounded only by the budget, a process that may lock without limit (root, CAP_IPC_LOCK,
 * {@code ulimit -l unlimited}) would keep every buffer it ever sent from: a sender that uses a
 * fresh direct buffer per message locks memory and keeps dead buffers from the collector until
 * {@code OutOfMemoryError}. So idle regions are bounded on their own, by pages and by count, and
 * the coldest go first (Caffeine's W-TinyLFU), as libfabric's MR cache bounds its idle
 * registrations ({@code FI_MR_CACHE_MAX_SIZE}, {@code FI_MR_CACHE_MAX_COUNT}).
 *
 * <p>Defaults: {@value #DEFAULT_IDLE_BYTES_CAP} bytes (64 MiB) or the budget if smaller, and
 * {@value #DEFAULT_IDLE_REGIONS} regions. 64 MiB is 16 times a default NIC TLB's reach (1024
 * entries of 4 KiB) and 8 times the 8 MiB RLIMIT_MEMLOCK of an ordinary Linux account: a working
 * set of buffers many times what the TLB can translate still re-pins without a system call,
 * while a process that leaks buffers locks and retains at most that much for it. Under an
 * ordinary limit the budget is the smaller, so the cap changes nothing there. 16384 regions is
 * 64 MiB of one-page regions (what the TLB's miss path pins), so by default the byte cap governs;
 * a lower count bounds how many distinct dead buffers idle pins can keep reachable when each
 * pins only a little of a large buffer.
 *
 * @param budget         the most bytes the cache may keep locked, in use and idle together (a
 *                       sub-budget inside the process's, {@link LockedMemory})
 * @param maxIdleBytes   the most bytes of idle regions kept locked for reuse (weighed in pages)
 * @param maxIdleRegions the most idle regions kept
 */
public record PinCacheConfig(PinBudget budget, long maxIdleBytes, int maxIdleRegions) {
    /** Idle bytes kept at most by default when the budget allows more: 64 MiB. */
    public static final long DEFAULT_IDLE_BYTES_CAP = 64L << 20;
    /** Idle regions kept at most by default. */
    public static final int DEFAULT_IDLE_REGIONS = 16_384;

    /**
     * Checks the values.
     *
     * @param budget         not null
     * @param maxIdleBytes   0 or more; 0 unpins every region at its last release
     * @param maxIdleRegions 0 or more; 0 unpins every region at its last release
     * @throws IllegalArgumentException for a null budget or a negative cap
     */
    public PinCacheConfig {
        if (budget == null) {
            throw new IllegalArgumentException("pin cache needs a budget: PinBudget.fromProcess() is the default");
        }
        if (maxIdleBytes < 0) {
            throw new IllegalArgumentException("maxIdleBytes must be 0 or more, got " + maxIdleBytes
                    + "; 0 unpins every region at its last release");
        }
        if (maxIdleRegions < 0) {
            throw new IllegalArgumentException("maxIdleRegions must be 0 or more, got " + maxIdleRegions
                    + "; 0 unpins every region at its last release");
        }
    }

    /**
     * A budget with the default idle caps.
     *
     * @param budget the cache's budget, not null
     */
    public PinCacheConfig(PinBudget budget) {
        this(budget, defaultIdleBytes(budget), DEFAULT_IDLE_REGIONS);
    }

    /**
     * The process's default: RLIMIT_MEMLOCK, unbounded under CAP_IPC_LOCK; default idle caps.
     *
     * @return the configuration {@code builder().build()} gives
     * @throws PinPermissionException if RLIMIT_MEMLOCK is 0 and the process lacks CAP_IPC_LOCK
     */
    public static PinCacheConfig defaults() {
        return builder().build();
    }

    /** {@return a builder with the defaults: the process's budget and the default idle caps} */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * The default idle byte cap for a budget: 64 MiB, or the budget if smaller.
     *
     * @param budget the cache's budget, not null
     * @return the cap in bytes
     */
    public static long defaultIdleBytes(PinBudget budget) {
        if (budget == null) {
            throw new IllegalArgumentException("pin cache needs a budget: PinBudget.fromProcess() is the default");
        }
        return Math.min(budget.bytes(), DEFAULT_IDLE_BYTES_CAP);
    }

    /** Builds a {@link PinCacheConfig}; values are checked as they are set and when built. */
    public static final class Builder {
        private PinBudget budget;
        private long maxIdleBytes = -1;
        private int maxIdleRegions = DEFAULT_IDLE_REGIONS;

        private Builder() {
        }

        /**
         * Sets the budget; unset, {@link PinBudget#fromProcess()}.
         *
         * @param budget the cache's budget
         * @return this builder
         */
        public Builder budget(PinBudget budget) {
            this.budget = budget;
            return this;
        }

        /**
         * Shorthand for {@code budget(PinBudget.ofBytes(bytes))}.
         *
         * @param bytes the budget in bytes, positive
         * @return this builder
         */
        public Builder budgetBytes(long bytes) {
            return budget(PinBudget.ofBytes(bytes));
        }

        /**
         * Idle bytes kept at most (default 64 MiB, or the budget if smaller).
         *
         * @param bytes 0 or more; 0 unpins every region at its last release
         * @return this builder
         * @throws IllegalArgumentException if {@code bytes} is negative
         */
        public Builder maxIdleBytes(long bytes) {
            if (bytes < 0) {
                throw new IllegalArgumentException("maxIdleBytes must be 0 or more, got " + bytes
                        + "; 0 unpins every region at its last release");
            }
            this.maxIdleBytes = bytes;
            return this;
        }

        /**
         * Idle regions kept at most (default {@value PinCacheConfig#DEFAULT_IDLE_REGIONS}).
         *
         * @param regions 0 or more; 0 unpins every region at its last release
         * @return this builder
         */
        public Builder maxIdleRegions(int regions) {
            this.maxIdleRegions = regions;
            return this;
        }

        /**
         * {@return the configuration, its budget read from the process if none was set}
         *
         * @throws PinPermissionException if no budget was set, RLIMIT_MEMLOCK is 0 and the process lacks CAP_IPC_LOCK
         * @throws IllegalArgumentException if a cap is negative
         */
        public PinCacheConfig build() {
            PinBudget chosen = budget == null ? PinBudget.fromProcess() : budget;
            return new PinCacheConfig(chosen, maxIdleBytes < 0 ? defaultIdleBytes(chosen) : maxIdleBytes, maxIdleRegions);
        }
    }
}
