package org.unetmm.pinning;

/**
 * Configuration of a {@link PinCache}, validated when built.
 *
 * @param budget the most bytes the cache may keep locked, in use and idle together
 */
public record PinCacheConfig(PinBudget budget) {
    public PinCacheConfig {
        if (budget == null) {
            throw new IllegalArgumentException("pin cache needs a budget: PinBudget.fromProcess() is the default");
        }
    }

    /** The process's default: RLIMIT_MEMLOCK, unbounded under CAP_IPC_LOCK. */
    public static PinCacheConfig defaults() {
        return builder().build();
    }

    public static Builder builder() {
        return new Builder();
    }

    public static final class Builder {
        private PinBudget budget;

        private Builder() {
        }

        public Builder budget(PinBudget budget) {
            this.budget = budget;
            return this;
        }

        /** Shorthand for {@code budget(PinBudget.ofBytes(bytes))}. */
        public Builder budgetBytes(long bytes) {
            return budget(PinBudget.ofBytes(bytes));
        }

        public PinCacheConfig build() {
            return new PinCacheConfig(budget == null ? PinBudget.fromProcess() : budget);
        }
    }
}
