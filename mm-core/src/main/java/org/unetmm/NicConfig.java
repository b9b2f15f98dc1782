package org.unetmm;

import org.unetmm.pinning.PinBudget;
import org.unetmm.tlb.ReplacementPolicy;

/**
 * Everything a {@link Nic} is built from, validated when built so bad values fail at start.
 *
 * @param transport       wire URI: {@code loopback:} (default), {@code loopback:name}, {@code udp://host:port}
 * @param tlbSets         TLB sets (1 = fully associative)
 * @param tlbWays         TLB ways per set (1 = direct-mapped)
 * @param tlbPolicy       TLB replacement policy
 * @param seed            seed for the RANDOM policy
 * @param pinBudget       most bytes the NIC may keep pinned, a sub-budget inside the process's; null = the
 *                        process's (RLIMIT_MEMLOCK, shared by every NIC of the process: their pins together
 *                        stay within it, and one NIC's pin reclaims idle pins and idle translations of the others)
 * @param mtu             largest fragment payload; 0 = the transport's own
 * @param progressMode    NIC thread or caller-driven progress
 * @param reuseCheck      debug: checksum pinned send buffers at send and when the NIC reads them
 * @param reassemblyTimeout how long an unreliable message may wait for its next fragment before it
 *                        is dropped (counted INCOMPLETE) and its posted buffer completes INCOMPLETE
 *                        (default 1 s)
 * @param errorHandler    told of completion handlers that throw and of engine faults; the NIC goes on
 *                        (default {@link ErrorHandler#logging()}: SLF4J, at most a line a second)
 * @param idleStrategy    makes the NIC thread's {@link IdleStrategy}, one per NIC (default
 *                        {@link IdleStrategy#backoff()}: spin, yield, then park, so an idle NIC costs no core;
 *                        {@code IdleStrategy::busySpin} for the lowest latency at a core's cost)
 */
public record NicConfig(String transport, int tlbSets, int tlbWays, ReplacementPolicy tlbPolicy, long seed,
                        PinBudget pinBudget, int mtu, ProgressMode progressMode, boolean reuseCheck,
                        java.time.Duration reassemblyTimeout, ErrorHandler errorHandler,
                        java.util.function.Supplier<IdleStrategy> idleStrategy) {
    /**
     * Checks every value, so a bad one fails when the NIC is configured.
     *
     * @param transport         wire URI, containing a colon
     * @param tlbSets           TLB sets, a positive power of two
     * @param tlbWays           TLB ways per set, positive; sets × ways at most 2^24
     * @param tlbPolicy         TLB replacement policy, not null
     * @param seed              seed for the RANDOM policy
     * @param pinBudget         the NIC's pin budget, or null for the process's
     * @param mtu               0 for the transport's, else at least 64 bytes
     * @param progressMode      not null
     * @param reuseCheck        debug: checksum pinned send buffers
     * @param reassemblyTimeout positive
     * @param errorHandler      not null
     * @param idleStrategy      the idle strategy's factory, not null
     * @throws IllegalArgumentException naming the value out of range and the fix
     */
    public NicConfig {
        if (idleStrategy == null) {
            throw new IllegalArgumentException("idle strategy is required: IdleStrategy::backoff is the default");
        }
        if (errorHandler == null) {
            throw new IllegalArgumentException("error handler is required: ErrorHandler.logging() is the default");
        }
        if (reassemblyTimeout == null || reassemblyTimeout.isNegative() || reassemblyTimeout.isZero()) {
            throw new IllegalArgumentException("reassembly timeout must be positive, got " + reassemblyTimeout);
        }
        if (transport == null || !transport.contains(":")) {
            throw new IllegalArgumentException("transport must be a URI such as loopback: or udp://127.0.0.1:7000, got '"
                    + transport + "'");
        }
        if (tlbSets <= 0 || Integer.bitCount(tlbSets) != 1) {
            throw new IllegalArgumentException("TLB sets must be a positive power of two, got " + tlbSets);
        }
        if (tlbWays <= 0) {
            throw new IllegalArgumentException("TLB ways must be positive, got " + tlbWays);
        }
        if ((long) tlbSets * tlbWays > (1 << 24)) {
            throw new IllegalArgumentException("TLB of " + ((long) tlbSets * tlbWays) + " entries is too large (max 2^24)");
        }
        if (tlbPolicy == null) {
            throw new IllegalArgumentException("TLB replacement policy is required (LRU, CLOCK, RANDOM, SIEVE, S3FIFO or LFU)");
        }
        if (mtu < 0 || (mtu > 0 && mtu < 64)) {
            throw new IllegalArgumentException("MTU must be 0 (the transport's) or at least 64 bytes, got " + mtu);
        }
        if (progressMode == null) {
            throw new IllegalArgumentException("progress mode is required (NIC_THREAD or CALLER)");
        }
    }

    /** {@return the defaults: loopback, a 256 × 4 LRU TLB, the process's pin budget, a NIC thread} */
    public static NicConfig defaults() {
        return builder().build();
    }

    /** {@return a builder holding the defaults} */
    public static Builder builder() {
        return new Builder();
    }

    /** {@return the TLB's entries: sets × ways} */
    public int tlbEntries() {
        return tlbSets * tlbWays;
    }

    /** {@return a builder holding these settings, to change some of them} */
    public Builder toBuilder() {
        return new Builder().transport(transport).tlb(tlbSets, tlbWays, tlbPolicy).seed(seed).pinBudget(pinBudget)
                .mtu(mtu).progressMode(progressMode).reuseCheck(reuseCheck).reassemblyTimeout(reassemblyTimeout)
                .errorHandler(errorHandler).idleStrategy(idleStrategy);
    }

    /** Builds a {@link NicConfig}; values are checked by {@link #build()}. */
    public static final class Builder {
        private String transport = "loopback:";
        private int tlbSets = 256;
        private int tlbWays = 4;
        private ReplacementPolicy tlbPolicy = ReplacementPolicy.LRU;
        private long seed = 1;
        private PinBudget pinBudget;
        private int mtu;
        private ProgressMode progressMode = ProgressMode.NIC_THREAD;
        private boolean reuseCheck;
        /**
         * One second between fragments: a sender descheduled on a loaded machine, re-pinning its pages under a
         * small RLIMIT_MEMLOCK or paused by its GC is slow, not lost (100 ms lost such messages); Linux's own IP
         * reassembly waits 30 s (ipfrag_time). The price: a posted buffer waits that long after a lost fragment.
         */
        private java.time.Duration reassemblyTimeout = java.time.Duration.ofSeconds(1);
        private ErrorHandler errorHandler;
        private java.util.function.Supplier<IdleStrategy> idleStrategy = IdleStrategy::backoff;

        private Builder() {
        }

        /**
         * Where completion handlers' exceptions and engine faults are reported (default: logged, rate-limited).
         *
         * @param handler told of each error; null for the default
         * @return this builder
         */
        public Builder errorHandler(ErrorHandler handler) {
            this.errorHandler = handler;
            return this;
        }

        /**
         * How the NIC thread waits when idle: a factory, called once per NIC (e.g. {@code IdleStrategy::busySpin}).
         *
         * @param factory makes one strategy per NIC
         * @return this builder
         */
        public Builder idleStrategy(java.util.function.Supplier<IdleStrategy> factory) {
            this.idleStrategy = factory;
            return this;
        }

        /**
         * How long an unreliable message may wait for its next fragment (default 1 s).
         *
         * @param timeout positive
         * @return this builder
         */
        public Builder reassemblyTimeout(java.time.Duration timeout) {
            this.reassemblyTimeout = timeout;
            return this;
        }

        /**
         * The wire (default {@code loopback:}).
         *
         * @param uri e.g. {@code loopback:}, {@code loopback:name}, {@code udp://host:port}, {@code shm:name}
         * @return this builder
         */
        public Builder transport(String uri) {
            this.transport = uri;
            return this;
        }

        /**
         * The TLB's shape and policy (default 256 sets of 4 ways, LRU).
         *
         * @param sets   a positive power of two
         * @param ways   positive
         * @param policy how a full set picks its victim
         * @return this builder
         */
        public Builder tlb(int sets, int ways, ReplacementPolicy policy) {
            this.tlbSets = sets;
            this.tlbWays = ways;
            this.tlbPolicy = policy;
            return this;
        }

        /**
         * Seed of the RANDOM policy (default 1).
         *
         * @param seed any value
         * @return this builder
         */
        public Builder seed(long seed) {
            this.seed = seed;
            return this;
        }

        /**
         * The NIC's own pin budget, inside the process's (default: the process's).
         *
         * @param budget the budget, or null for the process's
         * @return this builder
         */
        public Builder pinBudget(PinBudget budget) {
            this.pinBudget = budget;
            return this;
        }

        /**
         * The largest fragment payload (default 0: the transport's own).
         *
         * @param mtu 0, or at least 64 bytes
         * @return this builder
         */
        public Builder mtu(int mtu) {
            this.mtu = mtu;
            return this;
        }

        /**
         * Who drives progress (default {@link ProgressMode#NIC_THREAD}).
         *
         * @param mode a NIC thread, or the caller
         * @return this builder
         */
        public Builder progressMode(ProgressMode mode) {
            this.progressMode = mode;
            return this;
        }

        /**
         * Debug: checksum pinned send buffers at send and when the NIC reads them (default off).
         *
         * @param on whether to check
         * @return this builder
         */
        public Builder reuseCheck(boolean on) {
            this.reuseCheck = on;
            return this;
        }

        /**
         * {@return the settings}
         *
         * @throws IllegalArgumentException naming the value out of range and the fix
         */
        public NicConfig build() {
            return new NicConfig(transport, tlbSets, tlbWays, tlbPolicy, seed, pinBudget, mtu, progressMode, reuseCheck,
                    reassemblyTimeout, errorHandler == null ? ErrorHandler.logging() : errorHandler, idleStrategy);
        }
    }
}
