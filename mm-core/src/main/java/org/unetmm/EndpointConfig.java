package org.unetmm;

/**
 * The shape of an {@link Endpoint}: queue capacities, its fixed communication segment, the
 * longest scatter list. Validated when built.
 *
 * @param sendQueue       send descriptors in flight before {@link SendStatus#SEND_QUEUE_FULL}
 * @param freeQueue       receive buffers that may be posted at once
 * @param completionQueue completions held until polled; when full the NIC pauses this endpoint's sends
 * @param segmentBytes    the fixed segment (pinned at creation) for FIXED_SEGMENT sends; 0 = none.
 *                        Default 1 MiB: large enough for every FIXED_SEGMENT message up to 1 MiB, small
 *                        enough that a few endpoints and the NIC's TLB fit the 8 MiB RLIMIT_MEMLOCK of a
 *                        default Linux account (DESIGN invariant 7); larger messages need a larger segment
 *                        or the PINNED path
 * @param maxScatter      most buffers one send may gather
 */
public record EndpointConfig(int sendQueue, int freeQueue, int completionQueue, int segmentBytes, int maxScatter) {
    /**
     * Checks the shape.
     *
     * @param sendQueue       send descriptors in flight, 1 to 2^20
     * @param freeQueue       receive buffers posted at once, 1 to 2^20
     * @param completionQueue completions held until polled, 1 to 2^20
     * @param segmentBytes    the fixed segment's size, 0 for none
     * @param maxScatter      most buffers one send may gather, 1 to 1024
     * @throws IllegalArgumentException naming the value out of range
     */
    public EndpointConfig {
        check("send queue", sendQueue);
        check("free queue", freeQueue);
        check("completion queue", completionQueue);
        if (segmentBytes < 0) {
            throw new IllegalArgumentException("segment size must be >= 0 (0 = no fixed segment), got " + segmentBytes);
        }
        if (maxScatter < 1 || maxScatter > 1024) {
            throw new IllegalArgumentException("max scatter entries must be in 1..1024, got " + maxScatter);
        }
    }

    private static void check(String what, int capacity) {
        if (capacity < 1 || capacity > (1 << 20)) {
            throw new IllegalArgumentException(what + " capacity must be in 1.." + (1 << 20) + ", got " + capacity);
        }
    }

    /** {@return the defaults: queues of 256, 256 and 1024, a 1 MiB segment, 16 scatter entries} */
    public static EndpointConfig defaults() {
        return builder().build();
    }

    /** {@return a builder holding the defaults} */
    public static Builder builder() {
        return new Builder();
    }

    /** Builds an {@link EndpointConfig}; values are checked by {@link #build()}. */
    public static final class Builder {
        private int sendQueue = 256;
        private int freeQueue = 256;
        private int completionQueue = 1024;
        private int segmentBytes = 1 << 20;
        private int maxScatter = 16;

        private Builder() {
        }

        /**
         * Send descriptors in flight before {@link SendStatus#SEND_QUEUE_FULL} (default 256).
         *
         * @param capacity 1 to 2^20
         * @return this builder
         */
        public Builder sendQueue(int capacity) {
            this.sendQueue = capacity;
            return this;
        }

        /**
         * Receive buffers that may be posted at once (default 256).
         *
         * @param capacity 1 to 2^20
         * @return this builder
         */
        public Builder freeQueue(int capacity) {
            this.freeQueue = capacity;
            return this;
        }

        /**
         * Completions held until polled (default 1024).
         *
         * @param capacity 1 to 2^20
         * @return this builder
         */
        public Builder completionQueue(int capacity) {
            this.completionQueue = capacity;
            return this;
        }

        /**
         * The fixed segment for FIXED_SEGMENT sends, pinned when the endpoint opens (default 1 MiB).
         *
         * @param bytes 0 for none
         * @return this builder
         */
        public Builder segmentBytes(int bytes) {
            this.segmentBytes = bytes;
            return this;
        }

        /**
         * Most buffers one send may gather (default 16).
         *
         * @param entries 1 to 1024
         * @return this builder
         */
        public Builder maxScatter(int entries) {
            this.maxScatter = entries;
            return this;
        }

        /**
         * {@return the shape}
         *
         * @throws IllegalArgumentException naming the value out of range
         */
        public EndpointConfig build() {
            return new EndpointConfig(sendQueue, freeQueue, completionQueue, segmentBytes, maxScatter);
        }
    }
}
