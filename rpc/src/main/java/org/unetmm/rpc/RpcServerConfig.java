package org.unetmm.rpc;

import java.time.Duration;
import org.unetmm.ChannelConfig;

/**
 * How an {@link RpcServer} is built. Validated when built.
 *
 * @param requestBuffers requests the server holds at once: each has a posted buffer, lent to its handler
 *                       until the reply is acknowledged; the server posts twice as many, so the calls that
 *                       carry those acknowledgements find buffers (clients with this many calls in flight
 *                       between them are never refused)
 * @param maxRequest     largest request payload; longer requests fail with REQUEST_TOO_LARGE
 * @param maxResponse    capacity of the buffer lent to a handler for its reply
 * @param maxMethods     method ids are 0 .. maxMethods-1
 * @param channel        options of the reliable channel to each client (must be reliable); its send window is
 *                       widened to requestBuffers (at most 4096): one reply outstanding per request held
 * @param closeTimeout   how long close() lets client channels drain before it closes abruptly
 */
public record RpcServerConfig(int requestBuffers, int maxRequest, int maxResponse, int maxMethods, ChannelConfig channel,
                              Duration closeTimeout) {
    /**
     * Checks the settings.
     *
     * @param requestBuffers requests held at once, 1 to 65536
     * @param maxRequest     largest request payload, 0 to 64 MiB
     * @param maxResponse    capacity of the lent reply buffer, 0 to 64 MiB
     * @param maxMethods     method ids served, 1 to 65536
     * @param channel        reliable channel options
     * @param closeTimeout   zero or more
     * @throws IllegalArgumentException naming the value out of range
     */
    public RpcServerConfig {
        if (requestBuffers < 1 || requestBuffers > 65_536) {
            throw new IllegalArgumentException("requestBuffers must be 1..65536, got " + requestBuffers);
        }
        if (maxRequest < 0 || maxResponse < 0 || maxRequest > (64 << 20) || maxResponse > (64 << 20)) {
            throw new IllegalArgumentException("maxRequest and maxResponse must be 0..64 MiB, got " + maxRequest + " / "
                    + maxResponse);
        }
        if (maxMethods < 1 || maxMethods > 65_536) {
            throw new IllegalArgumentException("maxMethods must be 1..65536, got " + maxMethods);
        }
        if (channel == null || !channel.isReliable()) {
            throw new IllegalArgumentException("RPC needs reliable channels: pass ChannelConfig.reliable() (or a"
                    + " builder with reliable(true))");
        }
        if (closeTimeout == null || closeTimeout.isNegative()) {
            throw new IllegalArgumentException("closeTimeout must be >= 0");
        }
    }

    /** {@return the defaults: 64 request buffers, 64 KiB requests and replies, 256 methods, 1 s to close} */
    public static RpcServerConfig defaults() {
        return builder().build();
    }

    /** {@return a builder holding the defaults} */
    public static Builder builder() {
        return new Builder();
    }

    /** Builds an {@link RpcServerConfig}; values are checked by {@link #build()}. */
    public static final class Builder {
        private int requestBuffers = 64;
        private int maxRequest = 64 * 1024;
        private int maxResponse = 64 * 1024;
        private int maxMethods = 256;
        private ChannelConfig channel = ChannelConfig.reliable();
        private Duration closeTimeout = Duration.ofSeconds(1);

        private Builder() {
        }

        /**
         * Requests the server holds at once, each in its own posted buffer (default 64).
         *
         * @param count 1 to 65536
         * @return this builder
         */
        public Builder requestBuffers(int count) {
            this.requestBuffers = count;
            return this;
        }

        /**
         * Largest request payload (default 64 KiB).
         *
         * @param bytes 0 to 64 MiB
         * @return this builder
         */
        public Builder maxRequest(int bytes) {
            this.maxRequest = bytes;
            return this;
        }

        /**
         * Capacity of the buffer lent to a handler for its reply (default 64 KiB).
         *
         * @param bytes 0 to 64 MiB
         * @return this builder
         */
        public Builder maxResponse(int bytes) {
            this.maxResponse = bytes;
            return this;
        }

        /**
         * How many method ids are served, 0 to {@code count - 1} (default 256).
         *
         * @param count 1 to 65536
         * @return this builder
         */
        public Builder maxMethods(int count) {
            this.maxMethods = count;
            return this;
        }

        /**
         * Options of the channel to each client (default {@link ChannelConfig#reliable()}).
         *
         * @param options reliable channel options
         * @return this builder
         */
        public Builder channel(ChannelConfig options) {
            this.channel = options;
            return this;
        }

        /**
         * How long close lets client channels drain (default 1 s).
         *
         * @param timeout zero or more
         * @return this builder
         */
        public Builder closeTimeout(Duration timeout) {
            this.closeTimeout = timeout;
            return this;
        }

        /**
         * {@return the settings}
         *
         * @throws IllegalArgumentException naming the value out of range
         */
        public RpcServerConfig build() {
            return new RpcServerConfig(requestBuffers, maxRequest, maxResponse, maxMethods, channel, closeTimeout);
        }
    }
}
