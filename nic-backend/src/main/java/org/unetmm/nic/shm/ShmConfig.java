package org.unetmm.nic.shm;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * How a {@link ShmTransport} is named and sized, validated when built. Written as the transport
 * URI {@code shm:name[?key=value&...]}; {@code shm:} alone draws a fresh name (a client NIC that
 * only connects to others).
 *
 * <table>
 *   <caption>URI query keys</caption>
 *   <tr><th>key</th><th>meaning</th><th>default</th></tr>
 *   <tr><td>{@code eager}</td><td>fragments of at most this many bytes are copied into the ring (copy in,
 *       copy out); larger ones the sender's NIC posts by rendezvous and the receiver's NIC reads with
 *       {@code process_vm_readv} straight into the posted buffer</td><td>{@value #DEFAULT_EAGER}</td></tr>
 *   <tr><td>{@code ring}</td><td>bytes of each direction's frame ring (a power of two); inline fragments
 *       are at most half of it; chosen by the side that creates a pair's region</td><td>{@value #DEFAULT_RING}</td></tr>
 *   <tr><td>{@code timeout}</td><td>ms a peer's heartbeat may stay silent before it is taken for dead:
 *       what it holds fails, its region is removed</td><td>{@value #DEFAULT_TIMEOUT_MS}</td></tr>
 *   <tr><td>{@code cma}</td><td>{@code false} switches cross-memory attach off: every fragment travels
 *       inline</td><td>true (if the kernel allows it)</td></tr>
 *   <tr><td>{@code messages}</td><td>most messages one poll completes from a peer's ring before the NIC turns to
 *       its sends, as the udp wire's key of that name: the rest wait in the ring for the next round, so answers
 *       to the first leave while the rest are served, and a stream's reports leave sooner. Measured with 64 B
 *       across two processes (compare, 6 pairs; the rate is bimodal by where the processes run): pinned
 *       6.2–10.1 M msgs/s, median 6.7 M, with 64 a poll, 5.2–10.9 M, median 10.3 M, with 8 (Aeron IPC beside it
 *       11.4–14.3 M); fixed 4.4–4.9 → 4.2–4.8 M; RPC, 16 in flight: 1.28–1.31 → 1.37–1.47 M calls/s. Every
 *       poll takes at most 64 records in any case</td><td>{@value #DEFAULT_POLL_MESSAGES}</td></tr>
 * </table>
 *
 * @param name            the NIC's name on this host ({@code [A-Za-z0-9._-]}, at most 80 characters)
 * @param eagerBytes      largest fragment sent inline when rendezvous is possible
 * @param ringBytes       frame ring capacity per direction
 * @param peerTimeoutMillis heartbeat silence that makes a peer dead
 * @param crossMemoryAttach whether rendezvous may be used at all
 * @param pollMessages    most messages one poll completes from a peer's ring
 */
public record ShmConfig(String name, int eagerBytes, int ringBytes, long peerTimeoutMillis, boolean crossMemoryAttach,
                        int pollMessages) {
    /**
     * Bytes of the largest fragment sent inline by default (16 KiB, MPICH's switch to CMA);
     * {@code eager=} overrides it. Measured (docs/architecture.md, "The eager threshold"): a
     * {@code process_vm_readv} costs more CPU than the inline path's two copies below 16 KiB and
     * less from 24 KiB on, the spreads overlapping between.
     */
    public static final int DEFAULT_EAGER = 16 * 1024;
    /** Bytes of each direction's frame ring by default (1 MiB); {@code ring=} overrides it. */
    public static final int DEFAULT_RING = 1 << 20;
    /** Milliseconds of heartbeat silence before a peer is taken for dead by default; {@code timeout=} overrides it. */
    public static final long DEFAULT_TIMEOUT_MS = 5000;
    /** Messages one poll completes from a peer's ring at most by default; {@code messages=} overrides it. */
    public static final int DEFAULT_POLL_MESSAGES = 8;
    static final int COMPLETION_SLOTS = 1024;
    private static final int MIN_RING = 64 * 1024;
    private static final int MAX_RING = 1 << 30;

    /**
     * Checks every component, so a bad value fails when the configuration is built, not mid-run.
     *
     * @param name              1 to 80 of {@code [A-Za-z0-9._-]}, not starting with {@code '.'}
     * @param eagerBytes        0 to half the ring less a record header
     * @param ringBytes         a power of two, 64 KiB to 1 GiB
     * @param peerTimeoutMillis 10 to 3600000 ms
     * @param crossMemoryAttach false to send every fragment inline
     * @param pollMessages      1 to 65536
     * @throws IllegalArgumentException if the name is not 1 to 80 of {@code [A-Za-z0-9._-]} (or starts with
     *         {@code '.'}), the ring is not a power of two in 64 KiB..1 GiB, the eager limit exceeds half the
     *         ring less a record header, the timeout is outside 10..3600000 ms, or messages is outside 1..65536;
     *         the message names the fix
     */
    public ShmConfig {
        if (name == null || !name.matches("[A-Za-z0-9._-]{1,80}") || name.startsWith(".")) {
            throw new IllegalArgumentException("bad shm NIC name '" + name + "': use 1 to 80 letters, digits, '.', '_'"
                    + " or '-', not starting with '.', e.g. shm:kv-server");
        }
        if (!validRing(ringBytes)) {
            throw new IllegalArgumentException("ring must be a power of two in " + MIN_RING + ".." + MAX_RING + " bytes, got "
                    + ringBytes);
        }
        if (eagerBytes < 0 || eagerBytes > ringBytes / 2 - ShmFrame.HEADER_LENGTH) {
            throw new IllegalArgumentException("eager must be in 0.." + (ringBytes / 2 - ShmFrame.HEADER_LENGTH)
                    + " (half the ring less a record header), got " + eagerBytes + "; raise ring= or lower eager=");
        }
        if (peerTimeoutMillis < 10 || peerTimeoutMillis > 3_600_000) {
            throw new IllegalArgumentException("timeout (ms of heartbeat silence before a peer is dead) must be in"
                    + " 10..3600000, got " + peerTimeoutMillis);
        }
        if (pollMessages < 1 || pollMessages > 65536) {
            throw new IllegalArgumentException("messages (messages one poll completes) must be in 1..65536, got "
                    + pollMessages);
        }
    }

    static boolean validRing(int bytes) {
        return bytes >= MIN_RING && bytes <= MAX_RING && Integer.bitCount(bytes) == 1;
    }

    static boolean validSlots(int slots) {
        return slots >= 16 && slots <= 1 << 20 && Integer.bitCount(slots) == 1;
    }

    /**
     * The transport address peers name this NIC by.
     *
     * @return {@code shm:} followed by the name, never null
     */
    public String address() {
        return "shm:" + name;
    }

    /**
     * Parses {@code shm:name[?key=value&...]}; an empty name is drawn from the pid and a counter.
     *
     * @param uri the transport URI, e.g. {@code shm:kv-server?ring=4194304}; {@code shm://name} is accepted too
     * @return the validated configuration, keys left out taking their defaults
     * @throws IllegalArgumentException if the URI is null, not {@code shm:}, has an unknown key or a value that
     *         is not a whole number (or, for {@code cma}, not {@code true}/{@code false}), or fails validation
     */
    public static ShmConfig parse(String uri) {
        if (uri == null || !uri.startsWith("shm:")) {
            throw new IllegalArgumentException("not a shm URI: '" + uri
                    + "' (expected shm:name[?eager=N&ring=N&timeout=ms&cma=false&messages=N])");
        }
        String rest = uri.substring("shm:".length());
        if (rest.startsWith("//")) {
            rest = rest.substring(2);
        }
        int q = rest.indexOf('?');
        String name = q < 0 ? rest : rest.substring(0, q);
        Map<String, String> options = new LinkedHashMap<>();
        if (q >= 0) {
            for (String pair : rest.substring(q + 1).split("&")) {
                if (pair.isEmpty()) {
                    continue;
                }
                int eq = pair.indexOf('=');
                if (eq <= 0) {
                    throw new IllegalArgumentException("bad shm URI option '" + pair + "' in " + uri + ": expected key=value");
                }
                options.put(pair.substring(0, eq), pair.substring(eq + 1));
            }
        }
        int eager = DEFAULT_EAGER;
        int ring = DEFAULT_RING;
        long timeout = DEFAULT_TIMEOUT_MS;
        boolean cma = true;
        int messages = DEFAULT_POLL_MESSAGES;
        for (Map.Entry<String, String> e : options.entrySet()) {
            String v = e.getValue();
            switch (e.getKey()) {
                case "eager" -> eager = number(uri, e.getKey(), v);
                case "ring" -> ring = number(uri, e.getKey(), v);
                case "timeout" -> timeout = number(uri, e.getKey(), v);
                case "messages" -> messages = number(uri, e.getKey(), v);
                case "cma" -> {
                    if (!v.equals("true") && !v.equals("false")) {
                        throw new IllegalArgumentException("cma must be true or false in " + uri + ", got '" + v + "'");
                    }
                    cma = Boolean.parseBoolean(v);
                }
                default -> throw new IllegalArgumentException("unknown shm URI option '" + e.getKey() + "' in " + uri
                        + ": the keys are eager, ring, timeout, cma, messages");
            }
        }
        return new ShmConfig(name.isEmpty() ? ShmTransport.freshName() : name, eager, ring, timeout, cma, messages);
    }

    private static int number(String uri, String key, String value) {
        try {
            return Integer.parseInt(value);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(key + " must be a whole number in " + uri + ", got '" + value + "'");
        }
    }
}
