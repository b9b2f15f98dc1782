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

    public static EndpointConfig defaults() {
        return builder().build();
    }

    public static Builder builder() {
        return new Builder();
    }

    public static final class Builder {
        private int sendQueue = 256;
        private int freeQueue = 256;
        private int completionQueue = 1024;
        private int segmentBytes = 1 << 20;
        private int maxScatter = 16;

        private Builder() {
        }

        public Builder sendQueue(int capacity) {
            this.sendQueue = capacity;
            return this;
        }

        public Builder freeQueue(int capacity) {
            this.freeQueue = capacity;
            return this;
        }

        public Builder completionQueue(int capacity) {
            this.completionQueue = capacity;
            return this;
        }

        public Builder segmentBytes(int bytes) {
            this.segmentBytes = bytes;
            return this;
        }

        public Builder maxScatter(int entries) {
            this.maxScatter = entries;
            return this;
        }

        public EndpointConfig build() {
            return new EndpointConfig(sendQueue, freeQueue, completionQueue, segmentBytes, maxScatter);
        }
    }
}
