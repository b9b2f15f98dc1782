package org.unetmm.rpc;

import java.time.Duration;
import org.unetmm.ChannelConfig;

/**
 * How an {@link RpcClient} is built. Validated when built.
 *
 * @param maxInFlight    calls outstanding at once; one more fails with TOO_MANY_CALLS
 * @param maxResponse    largest response payload the client's receive buffers take
 * @param timeout        a call not answered within it fails with TIMEOUT
 * @param connectTimeout how long connect() waits for the server's WELCOME
 * @param helloInterval  how often HELLO is repeated while connecting
 * @param channel        options of the reliable channel to the server (must be reliable); its send window is
 *                       widened to maxInFlight (at most 4096), so every call in flight is outstanding at once
 */
public record RpcClientConfig(int maxInFlight, int maxResponse, Duration timeout, Duration connectTimeout,
                              Duration helloInterval, ChannelConfig channel) {
    /**
     * Checks the settings.
     *
     * @param maxInFlight    calls outstanding at once, 1 to 65535
     * @param maxResponse    largest response payload, 0 to 64 MiB
     * @param timeout        per-call timeout, positive
     * @param connectTimeout positive
     * @param helloInterval  positive
     * @param channel        reliable channel options
     * @throws IllegalArgumentException naming the value out of range
     */
    public RpcClientConfig {
        if (maxInFlight < 1 || maxInFlight > 65_535) {
            throw new IllegalArgumentException("maxInFlight must be 1..65535, got " + maxInFlight);
        }
        if (maxResponse < 0 || maxResponse > (64 << 20)) {
            throw new IllegalArgumentException("maxResponse must be 0..64 MiB, got " + maxResponse);
        }
        for (Duration d : new Duration[] {timeout, connectTimeout, helloInterval}) {
            if (d == null || d.isNegative() || d.isZero()) {
                throw new IllegalArgumentException("timeout, connectTimeout and helloInterval must be positive");
            }
        }
        if (channel == null || !channel.isReliable()) {
            throw new IllegalArgumentException("RPC needs reliable channels: pass ChannelConfig.reliable() (or a"
                    + " builder with reliable(true))");
        }
    }

    /**
     * {@return the defaults: 64 calls in flight, 64 KiB responses, 5 s timeouts, HELLO every 50 ms, reliable channel
     * defaults}
     */
    public static RpcClientConfig defaults() {
        return builder().build();
    }

    /** {@return a builder holding the defaults} */
    public static Builder builder() {
        return new Builder();
    }

    /** Builds an {@link RpcClientConfig}; values are checked by {@link #build()}. */
    public static final class Builder {
        private int maxInFlight = 64;
        private int maxResponse = 64 * 1024;
        private Duration timeout = Duration.ofSeconds(5);
        private Duration connectTimeout = Duration.ofSeconds(5);
        private Duration helloInterval = Duration.ofMillis(50);
        private ChannelConfig channel = ChannelConfig.reliable();

        private Builder() {
        }

        /**
         * Calls outstanding at once (default 64).
         *
         * @param calls 1 to 65535
         * @return this builder
         */
        public Builder maxInFlight(int calls) {
            this.maxInFlight = calls;
            return this;
        }

        /**
         * Largest response payload the client's receive buffers take (default 64 KiB).
         *
         * @param bytes 0 to 64 MiB
         * @return this builder
         */
        public Builder maxResponse(int bytes) {
            this.maxResponse = bytes;
            return this;
        }

        /**
         * How long a call waits for its answer before it fails with TIMEOUT (default 5 s).
         *
         * @param timeout positive
         * @return this builder
         */
        public Builder timeout(Duration timeout) {
            this.timeout = timeout;
            return this;
        }

        /**
         * How long connect waits for the server's WELCOME (default 5 s).
         *
         * @param timeout positive
         * @return this builder
         */
        public Builder connectTimeout(Duration timeout) {
            this.connectTimeout = timeout;
            return this;
        }

        /**
         * How often HELLO is repeated while connecting (default 50 ms).
         *
         * @param interval positive
         * @return this builder
         */
        public Builder helloInterval(Duration interval) {
            this.helloInterval = interval;
            return this;
        }

        /**
         * Options of the channel to the server (default {@link ChannelConfig#reliable()}).
         *
         * @param options reliable channel options
         * @return this builder
         */
        public Builder channel(ChannelConfig options) {
            this.channel = options;
            return this;
        }

        /**
         * {@return the settings}
         *
         * @throws IllegalArgumentException naming the value out of range
         */
        public RpcClientConfig build() {
            return new RpcClientConfig(maxInFlight, maxResponse, timeout, connectTimeout, helloInterval, channel);
        }
    }
}
