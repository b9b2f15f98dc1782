package org.unetmm;

import java.time.Duration;

/**
 * How a channel moves messages, chosen when it is opened ({@link Endpoint#openChannel(ChannelConfig)}).
 * Validated when built, so a bad value fails at setup, not mid-run.
 *
 * <p>{@link #unreliable()} (the default) is U-Net's channel: a send completes when its last byte
 * is on the wire; what the wire loses is lost. {@link #reliable()} adds the protocol of
 * {@code ReliableChannel}: sequence numbers, cumulative and selective acknowledgements, a send
 * window, an adaptive retransmission timeout, duplicate suppression and in-order delivery. A
 * reliable send completes only when the peer has acknowledged every fragment, and until then its
 * buffer is the NIC's: a retransmission reads it again (no copy is kept). Both ends of a channel
 * must be reliable, or nothing is acknowledged and the sender gives up with
 * {@link CompletionStatus#PEER_UNREACHABLE}.
 *
 * <p>The timer defaults suit both a microsecond loopback and a millisecond UDP path: the timeout
 * adapts to the measured round trip (Jacobson/Karels) and is clamped to [minRto, maxRto].
 *
 * <p>Liveness is a time, not a count: the peer is declared unreachable when it has been silent for
 * {@link #peerTimeout()} — no acknowledged progress while something is unacknowledged, no answer to
 * keep-alive probes while idle. The default, 10 s, rides out what an ordinary peer does to a
 * channel without dying: a garbage-collection pause, a SIGSTOP, a link flap, a congested switch.
 * Retransmissions back off to {@code maxRto} meanwhile, so a peer that returns is resumed within
 * {@code maxRto}. {@link #worstCaseDeathDetection()} is that time.
 *
 * @param isReliable     the reliable protocol, or U-Net's unreliable channel
 * @param window         reliable: messages in flight (sent, not yet acknowledged) before the send queue waits
 * @param checksum       reliable: CRC32C of header and payload on every frame; corrupted frames are dropped and resent
 * @param initialRto     reliable: retransmission timeout before the first round-trip sample
 * @param minRto         reliable: the smallest timeout the estimator may choose
 * @param maxRto         reliable: the largest timeout, also the cap of exponential back-off
 * @param maxRetransmits reliable: retransmissions of CLOSE before an orderly close gives up waiting for its
 *                       acknowledgement, and failed translations of a send buffer before its send fails PIN_FAILED
 * @param keepAlive      reliable: silence from an established peer after which a probe is sent; ZERO = no probes
 * @param ackDelay       reliable: how long an acknowledgement may wait for a reply to ride on (piggyback);
 *                       must be below the peer's minRto
 * @param peerTimeout    reliable: silence of the peer (no acknowledged progress while data is outstanding, no
 *                       answer to probes while idle) after which every pending operation completes with
 *                       PEER_UNREACHABLE and the channel closes; at least twice maxRto and above keepAlive
 */
public record ChannelConfig(boolean isReliable, int window, boolean checksum, Duration initialRto, Duration minRto,
                             Duration maxRto, int maxRetransmits, Duration keepAlive, Duration ackDelay,
                             Duration peerTimeout) {
    /**
     * Checks the values, so a bad one fails when the options are built.
     *
     * @param isReliable     the reliable protocol, or U-Net's unreliable channel
     * @param window         messages in flight, 1 to 4096
     * @param checksum       CRC32C on every reliable frame
     * @param initialRto     timeout before the first round-trip sample
     * @param minRto         the smallest timeout
     * @param maxRto         the largest timeout and the cap of back-off
     * @param maxRetransmits retransmissions of CLOSE, and failed translations of a send buffer, before giving up; 1
     *                       to 1000
     * @param keepAlive      silence after which a probe is sent; ZERO for no probes
     * @param ackDelay       how long an acknowledgement may wait to piggyback; zero or more, below minRto
     * @param peerTimeout    silence after which the peer is unreachable; at least twice maxRto and above keepAlive
     * @throws IllegalArgumentException naming the value out of range and its bounds
     */
    public ChannelConfig {
        if (window < 1 || window > 4096) {
            throw new IllegalArgumentException("send window must be 1..4096 messages, got " + window);
        }
        if (initialRto == null || minRto == null || maxRto == null || keepAlive == null || ackDelay == null
                || peerTimeout == null) {
            throw new IllegalArgumentException("timer durations are required (use Duration.ZERO to switch off keep-alive)");
        }
        if (minRto.isNegative() || minRto.isZero()) {
            throw new IllegalArgumentException("minRto must be positive, got " + minRto);
        }
        if (initialRto.compareTo(minRto) < 0 || initialRto.compareTo(maxRto) > 0) {
            throw new IllegalArgumentException("need minRto <= initialRto <= maxRto, got " + minRto + " <= " + initialRto
                    + " <= " + maxRto);
        }
        if (maxRetransmits < 1 || maxRetransmits > 1000) {
            throw new IllegalArgumentException("maxRetransmits must be 1..1000, got " + maxRetransmits);
        }
        if (keepAlive.isNegative()) {
            throw new IllegalArgumentException("keepAlive must be >= 0 (0 = no probes), got " + keepAlive);
        }
        if (ackDelay.isNegative() || ackDelay.compareTo(minRto) >= 0) {
            throw new IllegalArgumentException("ackDelay must be >= 0 and below minRto (" + minRto + "), got " + ackDelay
                    + ": a peer waiting longer than its timeout for an ack retransmits for nothing");
        }
    }

    /** {@return U-Net's channel: no acknowledgements, a send completes when it is on the wire} */
    public static ChannelConfig unreliable() {
        return UNRELIABLE;
    }

    /** {@return the reliable protocol with default timers (see {@link Builder})} */
    public static ChannelConfig reliable() {
        return builder().reliable(true).build();
    }

    private static final ChannelConfig UNRELIABLE = builder().build();

    /**
     * {@return a builder holding the defaults: unreliable, the reliable protocol's timers ready for
     * {@link Builder#reliable}}
     */
    public static Builder builder() {
        return new Builder();
    }

    /** {@return a builder holding these options, to change some of them} */
    public Builder toBuilder() {
        return new Builder().reliable(isReliable).window(window).checksum(checksum).initialRto(initialRto)
                .minRto(minRto).maxRto(maxRto).maxRetransmits(maxRetransmits).keepAlive(keepAlive).ackDelay(ackDelay)
                .peerTimeout(peerTimeout);
    }

    /**
     * How long a silent peer is waited for before it is declared unreachable: {@link #peerTimeout()},
     * counted from the last acknowledged progress (data outstanding) or the last frame heard (idle,
     * with keep-alive probes). It is never declared sooner, and later only by the gap between two
     * {@link Nic#progress()} rounds.
     *
     * @return that time
     */
    public Duration worstCaseDeathDetection() {
        return peerTimeout;
    }

    /**
     * Builds a {@link ChannelConfig}; values are checked by {@link #build()}. Defaults: unreliable,
     * window 32, checksum on, initial RTO 1 ms, RTO 200 µs to 250 ms, 12 retransmissions, keep-alive
     * 500 ms, acknowledgement delay 50 µs, peer timeout 10 s.
     */
    public static final class Builder {
        private boolean reliable;
        private int window = 32;
        private boolean checksum = true;
        private Duration initialRto = Duration.ofMillis(1);
        private Duration minRto = Duration.ofNanos(200_000);
        private Duration maxRto = Duration.ofMillis(250);
        private int maxRetransmits = 12;
        private Duration keepAlive = Duration.ofMillis(500);
        private Duration ackDelay = Duration.ofNanos(50_000);
        private Duration peerTimeout = Duration.ofSeconds(10);

        private Builder() {
        }

        /**
         * The reliable protocol (true) or U-Net's unreliable channel (false, the default).
         *
         * @param on whether the channel is reliable
         * @return this builder
         */
        public Builder reliable(boolean on) {
            this.reliable = on;
            return this;
        }

        /**
         * Messages a reliable channel keeps in flight before sends wait (default 32).
         *
         * @param messages 1 to 4096
         * @return this builder
         */
        public Builder window(int messages) {
            this.window = messages;
            return this;
        }

        /**
         * CRC32C of header and payload on every reliable frame (default on).
         *
         * @param on whether frames carry the checksum
         * @return this builder
         */
        public Builder checksum(boolean on) {
            this.checksum = on;
            return this;
        }

        /**
         * Retransmission timeout before the first round-trip sample (default 1 ms).
         *
         * @param timeout positive, within [minRto, maxRto]
         * @return this builder
         */
        public Builder initialRto(Duration timeout) {
            this.initialRto = timeout;
            return this;
        }

        /**
         * The smallest timeout the estimator may choose (default 200 µs).
         *
         * @param timeout positive
         * @return this builder
         */
        public Builder minRto(Duration timeout) {
            this.minRto = timeout;
            return this;
        }

        /**
         * The largest timeout, and the cap of exponential back-off (default 250 ms).
         *
         * @param timeout at least minRto
         * @return this builder
         */
        public Builder maxRto(Duration timeout) {
            this.maxRto = timeout;
            return this;
        }

        /**
         * Retransmissions of CLOSE, and failed translations of a send buffer, before giving up (default 12).
         *
         * @param count 1 to 1000
         * @return this builder
         */
        public Builder maxRetransmits(int count) {
            this.maxRetransmits = count;
            return this;
        }

        /**
         * Silence from an established peer after which a probe is sent (default 500 ms).
         *
         * @param interval ZERO for no probes, else below peerTimeout
         * @return this builder
         */
        public Builder keepAlive(Duration interval) {
            this.keepAlive = interval;
            return this;
        }

        /**
         * How long an acknowledgement may wait for a reply to ride on (default 50 µs).
         *
         * @param delay zero or more, below minRto
         * @return this builder
         */
        public Builder ackDelay(Duration delay) {
            this.ackDelay = delay;
            return this;
        }

        /**
         * Silence of the peer after which it is declared unreachable (default 10 s).
         *
         * @param timeout at least twice maxRto and above keepAlive
         * @return this builder
         */
        public Builder peerTimeout(Duration timeout) {
            this.peerTimeout = timeout;
            return this;
        }

        /**
         * {@return the options}
         *
         * @throws IllegalArgumentException naming the value out of range and its bounds
         */
        public ChannelConfig build() {
            return new ChannelConfig(reliable, window, checksum, initialRto, minRto, maxRto, maxRetransmits, keepAlive,
                    ackDelay, peerTimeout);
        }
    }
}
