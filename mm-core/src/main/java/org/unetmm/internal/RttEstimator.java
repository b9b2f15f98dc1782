package org.unetmm.internal;

/**
 * The retransmission timeout of one reliable channel, from round-trip samples: Jacobson and
 * Karels' estimator as RFC 6298 specifies it. The first sample R sets {@code srtt = R} and
 * {@code rttvar = R/2}; each later one updates {@code rttvar = 3/4 rttvar + 1/4 |srtt - R|} and
 * then {@code srtt = 7/8 srtt + 1/8 R}; the timeout is {@code srtt + max(G, 4 rttvar)}, held
 * inside [min, max]. A timeout doubles it (exponential back-off, §5.5) until the next sample.
 *
 * <p>The clamp is what lets one estimator serve both wires: a microsecond-scale loopback settles
 * on the minimum, a millisecond-scale UDP path on its own variance. {@code G}, the clock
 * granularity, is one microsecond: {@link System#nanoTime()} is finer, a NIC thread's park is not.
 *
 * <p>Samples must come from transmissions sent once only (Karn's rule): the caller keeps each
 * fragment's send time and takes one sample per acknowledgement, from the most recently sent
 * fragment it newly covers, and none when that fragment was ever sent again.
 *
 * <p>Not thread-safe: the NIC engine owns it. All times are nanoseconds.
 */
public final class RttEstimator {
    private static final long GRANULARITY = 1_000;

    private final long minRto;
    private final long maxRto;
    private long srtt;
    private long rttvar;
    private long rto;
    private long samples;

    public RttEstimator(long initialRto, long minRto, long maxRto) {
        if (minRto <= 0 || minRto > initialRto || initialRto > maxRto) {
            throw new IllegalArgumentException("need 0 < minRto <= initialRto <= maxRto, got " + minRto + " / "
                    + initialRto + " / " + maxRto + " ns");
        }
        this.minRto = minRto;
        this.maxRto = maxRto;
        this.rto = initialRto;
    }

    /** Feeds one round-trip measurement of a fragment sent once. */
    public void sample(long rtt) {
        long r = Math.max(rtt, 0);
        if (samples++ == 0) {
            srtt = r;
            rttvar = r / 2;
        } else {
            rttvar = (3 * rttvar + Math.abs(srtt - r)) / 4;
            srtt = (7 * srtt + r) / 8;
        }
        rto = clamp(srtt + Math.max(GRANULARITY, 4 * rttvar));
    }

    /** A retransmission timer expired: doubles the timeout, up to the maximum. */
    public void backOff() {
        rto = rto >= maxRto / 2 ? maxRto : clamp(rto * 2);
    }

    private long clamp(long value) {
        return Math.min(maxRto, Math.max(minRto, value));
    }

    /** The current retransmission timeout. */
    public long rto() {
        return rto;
    }

    /** Smoothed round-trip time (0 before the first sample). */
    public long srtt() {
        return srtt;
    }

    /** Round-trip variation (0 before the first sample). */
    public long rttvar() {
        return rttvar;
    }

    public long samples() {
        return samples;
    }

    public long minRto() {
        return minRto;
    }

    public long maxRto() {
        return maxRto;
    }
}
