package org.unetmm.nic.fault;

import java.time.Duration;

/**
 * What a {@link FaultInjectingTransport} does to the frames it transmits, each fault drawn per
 * frame from a seeded generator, so a failing run replays exactly. Validated when built.
 *
 * <p>As a URI fragment ({@link #parse}): {@code drop=0.05,duplicate=0.05,reorder=0.05,corrupt=0.01,delay=200us,seed=42};
 * durations take {@code ns}, {@code us}, {@code ms} or {@code s}; a delay without a unit
 * ({@code delay=3}) is a number of the NIC's progress rounds.
 *
 * @param drop      probability a frame is lost
 * @param duplicate probability a frame is sent and a copy of it is sent again later (after 1..3 other frames)
 * @param reorder   probability a frame is held back and sent after the next 1..3 frames
 * @param corrupt   probability one bit of the frame is flipped (payload, or the ack/message id of a frame without one)
 * @param delay     every frame is held this long before it is sent (ZERO = none): a slow wire
 * @param seed      seed of the fault generator
 * @param delayRounds every frame is held for this many of the NIC's progress rounds before it is sent
 *                  (0 = none): a wire that finishes later, as a batching wire (sent at the end of a round),
 *                  the shm rendezvous or {@code MSG_ZEROCOPY} do. Delayed data fragments are kept without
 *                  a copy, their pages still the NIC's, and their sends complete only once sent.
 */
public record FaultConfig(double drop, double duplicate, double reorder, double corrupt, Duration delay, long seed,
                          int delayRounds) {
    /**
     * Without a delay in progress rounds.
     *
     * @param drop      probability a frame is lost, 0 to 1
     * @param duplicate probability a frame is sent twice, 0 to 1
     * @param reorder   probability a frame is held back past the next 1..3, 0 to 1
     * @param corrupt   probability one bit of the frame is flipped, 0 to 1
     * @param delay     how long every frame is held, zero or more
     * @param seed      seed of the fault generator
     */
    public FaultConfig(double drop, double duplicate, double reorder, double corrupt, Duration delay, long seed) {
        this(drop, duplicate, reorder, corrupt, delay, seed, 0);
    }

    /**
     * Checks the values.
     *
     * @param drop        probability a frame is lost, 0 to 1
     * @param duplicate   probability a frame is sent twice, 0 to 1
     * @param reorder     probability a frame is held back past the next 1..3, 0 to 1
     * @param corrupt     probability one bit of the frame is flipped, 0 to 1
     * @param delay       how long every frame is held, zero or more
     * @param seed        seed of the fault generator
     * @param delayRounds progress rounds every frame is held, 0 or more
     * @throws IllegalArgumentException naming the value out of range
     */
    public FaultConfig {
        if (delayRounds < 0) {
            throw new IllegalArgumentException("delay in progress rounds must be >= 0, got " + delayRounds);
        }
        if (delayRounds > 0 && delay != null && !delay.isZero()) {
            throw new IllegalArgumentException("delay is either a time (delay=200us) or progress rounds (delay=3), not both");
        }
        check("drop", drop);
        check("duplicate", duplicate);
        check("reorder", reorder);
        check("corrupt", corrupt);
        if (drop + duplicate + reorder + corrupt > 1.0) {
            throw new IllegalArgumentException("fault probabilities add up to more than 1 (" + (drop + duplicate + reorder
                    + corrupt) + "): a frame suffers at most one fault");
        }
        if (delay == null || delay.isNegative()) {
            throw new IllegalArgumentException("delay must be >= 0, got " + delay);
        }
    }

    private static void check(String what, double p) {
        if (!(p >= 0 && p <= 1)) {
            throw new IllegalArgumentException(what + " probability must be in [0, 1], got " + p);
        }
    }

    /** {@return no faults: the wire as it is} */
    public static FaultConfig none() {
        return new FaultConfig(0, 0, 0, 0, Duration.ZERO, 1);
    }

    /**
     * Parses {@code key=value} pairs separated by commas (the fragment of a {@code faulty:} URI).
     *
     * @param spec e.g. {@code drop=0.05,corrupt=0.01,delay=200us,seed=42}; empty for no faults
     * @return the configuration; unnamed faults are 0, the seed 1
     * @throws IllegalArgumentException naming the pair that cannot be read
     */
    public static FaultConfig parse(String spec) {
        double drop = 0;
        double duplicate = 0;
        double reorder = 0;
        double corrupt = 0;
        Duration delay = Duration.ZERO;
        int rounds = 0;
        long seed = 1;
        if (spec != null && !spec.isBlank()) {
            for (String pair : spec.split(",")) {
                int eq = pair.indexOf('=');
                if (eq <= 0) {
                    throw new IllegalArgumentException("bad fault '" + pair + "': expected key=value, e.g. drop=0.05");
                }
                String key = pair.substring(0, eq).trim();
                String value = pair.substring(eq + 1).trim();
                try {
                    switch (key) {
                        case "drop" -> drop = Double.parseDouble(value);
                        case "duplicate" -> duplicate = Double.parseDouble(value);
                        case "reorder" -> reorder = Double.parseDouble(value);
                        case "corrupt" -> corrupt = Double.parseDouble(value);
                        case "delay" -> {
                            if (value.chars().allMatch(Character::isDigit) && !value.equals("0")) {
                                rounds = Integer.parseInt(value);
                            } else {
                                delay = duration(value);
                            }
                        }
                        case "seed" -> seed = Long.parseLong(value);
                        default -> throw new IllegalArgumentException("unknown fault '" + key
                                + "': use drop, duplicate, reorder, corrupt, delay or seed");
                    }
                } catch (NumberFormatException e) {
                    throw new IllegalArgumentException("bad value '" + value + "' for fault '" + key + "'");
                }
            }
        }
        return new FaultConfig(drop, duplicate, reorder, corrupt, delay, seed, rounds);
    }

    private static Duration duration(String text) {
        String t = text.trim();
        if (t.equals("0")) {
            return Duration.ZERO;
        }
        if (t.endsWith("ns")) {
            return Duration.ofNanos(Long.parseLong(t.substring(0, t.length() - 2)));
        }
        if (t.endsWith("us")) {
            return Duration.ofNanos(1_000L * Long.parseLong(t.substring(0, t.length() - 2)));
        }
        if (t.endsWith("ms")) {
            return Duration.ofMillis(Long.parseLong(t.substring(0, t.length() - 2)));
        }
        if (t.endsWith("s")) {
            return Duration.ofSeconds(Long.parseLong(t.substring(0, t.length() - 1)));
        }
        throw new NumberFormatException("duration needs a unit: ns, us, ms or s");
    }

    /** {@return this configuration as a URI fragment, for {@code faulty:<inner uri>#<spec>}} */
    public String spec() {
        return "drop=" + drop + ",duplicate=" + duplicate + ",reorder=" + reorder + ",corrupt=" + corrupt + ",delay="
                + (delayRounds > 0 ? String.valueOf(delayRounds) : delay.toNanos() + "ns") + ",seed=" + seed;
    }

    /**
     * {@return the NicConfig transport URI that wraps {@code innerUri} in these faults}
     *
     * @param innerUri the wire to wrap, e.g. {@code loopback:a}
     */
    public String wrap(String innerUri) {
        return FaultInjectingTransportFactory.SCHEME + ":" + innerUri + "#" + spec();
    }
}
