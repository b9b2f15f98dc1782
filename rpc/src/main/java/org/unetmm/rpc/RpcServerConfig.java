package org.unetmm.rpc;

import java.time.Duration;
import org.unetmm.ChannelConfig;

/**
 * How an {@link RpcServer} is built. Validated when built.
 *
 * @param requestBuffers requests the server holds at once: each has a posted buffer, lent to its handler
 *                       until the reply is acknowledged
 * @param maxRequest     largest request payload; longer requests fail with REQUEST_TOO_LARGE
 * @param maxResponse    capacity of the buffer lent to a handler for its reply
 * @param maxMethods     method ids are 0 .. maxMethods-1
 * @param channel        options of the reliable channel to each client (must be reliable); its send window is
 *                       widened to requestBuffers (at most 4096): one reply outstanding per request held
 * @param closeTimeout   how long close() lets client channels drain before it closes abruptly
 */
public record RpcServerConfig(int requestBuffers, int maxRequest, int maxResponse, int maxMethods, ChannelConfig channel,
                              Duration closeTimeout) {
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

    public static RpcServerConfig defaults() {
        return builder().build();
    }

    public static Builder builder() {
        return new Builder();
    }

    public static final class Builder {
        private int requestBuffers = 64;
        private int maxRequest = 64 * 1024;
        private int maxResponse = 64 * 1024;
        private int maxMethods = 256;
        private ChannelConfig channel = ChannelConfig.reliable();
        private Duration closeTimeout = Duration.ofSeconds(1);

        private Builder() {
        }

        public Builder requestBuffers(int count) {
            this.requestBuffers = count;
            return this;
        }

        public Builder maxRequest(int bytes) {
            this.maxRequest = bytes;
            return this;
        }

        public Builder maxResponse(int bytes) {
            this.maxResponse = bytes;
            return this;
        }

        public Builder maxMethods(int count) {
            this.maxMethods = count;
            return this;
        }

        public Builder channel(ChannelConfig options) {
            this.channel = options;
            return this;
        }

        public Builder closeTimeout(Duration timeout) {
            this.closeTimeout = timeout;
            return this;
        }

        public RpcServerConfig build() {
            return new RpcServerConfig(requestBuffers, maxRequest, maxResponse, maxMethods, channel, closeTimeout);
        }
    }
}
