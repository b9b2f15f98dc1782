package org.unetmm.nic.udp;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * How a {@link UdpTransport} binds and drives its socket, validated when built. Written as the
 * query of the transport URI, e.g. {@code udp://127.0.0.1:7000?rcvbuf=4194304&batch=32}:
 *
 * <table>
 *   <caption>URI query keys</caption>
 *   <tr><th>key</th><th>meaning</th><th>default</th></tr>
 *   <tr><td>{@code rcvbuf}</td><td>SO_RCVBUF bytes asked for (the kernel doubles it, and caps it at
 *       {@code net.core.rmem_max} unless the process may force it: CAP_NET_ADMIN)</td><td>4 MiB</td></tr>
 *   <tr><td>{@code sndbuf}</td><td>SO_SNDBUF bytes, likewise capped at {@code net.core.wmem_max}</td><td>4 MiB</td></tr>
 *   <tr><td>{@code batch}</td><td>most datagrams one {@code poll()} takes before the NIC turns to its sends;
 *       a poll also ends after the last fragment of a message, so its completion is seen without waiting for
 *       one more system call</td><td>32</td></tr>
 *   <tr><td>{@code messages}</td><td>most messages one {@code poll()} completes before the NIC turns to its sends,
 *       also inside one datagram of coalesced frames: the rest wait in the receive area for the next round. A
 *       burst of small requests (an RPC client's calls in flight, coalesced into one datagram) is answered in
 *       parts, so the first answers leave, and the peer works on them, while the rest are still being served;
 *       answering the whole burst at once leaves each side idle while the other works. Measured on loopback with
 *       16 calls of 64 B in flight: 4 → 0.69–0.83 M calls/s, 8 → 1.04–1.09 M, 12 → 0.85 M, unbounded → 0.73–0.75 M.
 *       A one-way stream gains too, its sink's reports leaving sooner: 64 B, 256 messages a round, sink at 8 →
 *       5.1–5.3 M msgs/s, at 256 → 3.2–3.5 M</td><td>8</td></tr>
 *   <tr><td>{@code wait}</td><td>µs an idle {@code poll()} blocks in {@code ppoll(2)} for the socket to become
 *       readable; 0 = pure busy-polling (lowest latency, one core per NIC). While it waits, queued sends
 *       wait too.</td><td>0</td></tr>
 *   <tr><td>{@code copybreak}</td><td>fragments of at most this many payload bytes are received with one
 *       {@code recvmsg} into a scratch buffer, checked, and copied into the posted buffer: for small frames a
 *       copy is cheaper than the second system call that direct placement needs (as a NIC driver's
 *       {@code rx_copybreak}). Larger fragments are placed straight into the posted buffer. 0 = place every
 *       fragment directly.</td><td>4096</td></tr>
 *   <tr><td>{@code sendcopy}</td><td>payloads of at most this many bytes are copied into the send batch's
 *       staging area; larger ones leave zero-copy from the sender's pinned pages, and their sends complete when
 *       the batch's {@code sendmmsg} has taken them (see {@code SendBatch}). 0 = every payload zero-copy.</td><td>512</td></tr>
 *   <tr><td>{@code busypoll}</td><td>SO_BUSY_POLL µs: the kernel spins on the device queue for a
 *       blocking receive (NAPI devices only, not loopback or veth); 0 = off</td><td>0</td></tr>
 *   <tr><td>{@code gso}</td><td>UDP GSO ({@code UDP_SEGMENT}): a run of fragments for one peer, all as long as the
 *       first but the last (the fragments of a large message toward an MTU-limited path), leaves as one
 *       super-datagram of at most 64 segments and 65,507 bytes that the kernel cuts into datagrams, each a whole wire
 *       frame, so receivers without GRO read them unchanged. Used where the kernel takes it
 *       ({@code UdpTransport.features()})</td><td>true</td></tr>
 *   <tr><td>{@code gro}</td><td>UDP GRO ({@code UDP_GRO}): the receive queue keeps such runs whole (one
 *       {@code recvmmsg} slot each) and the wire cuts them by the segment size the kernel reports, checking each
 *       segment as a datagram of its own. Used where the kernel takes it</td><td>true</td></tr>
 *   <tr><td>{@code zerocopy}</td><td>{@code MSG_ZEROCOPY} from this many payload bytes: a fragment at least this
 *       long that leaves from the sender's own pages (longer than {@code sendcopy}) is sent with
 *       {@code MSG_ZEROCOPY}, and its send completes only when the kernel's error-queue notification covers it
 *       (see {@code ZeroCopyNotifications}); {@code SO_ZEROCOPY} is set when the wire opens, and a kernel that
 *       refuses it fails the open. Worth it for large fragments toward a real NIC; on loopback and veth the kernel
 *       copies anyway (each notice says {@code COPIED}). 0 = off</td><td>0</td></tr>
 * </table>
 *
 * Defaults hold up with 4 MiB messages sent one at a time over loopback: the receive buffer holds
 * a whole message's datagrams even if the receiver is descheduled for a while.
 *
 * @param bind               where to bind; port 0 = an ephemeral port
 * @param receiveBufferBytes SO_RCVBUF asked for
 * @param sendBufferBytes    SO_SNDBUF asked for
 * @param receiveBatch       datagrams per poll
 * @param pollMessages       messages per poll
 * @param waitMicros         idle blocking wait per poll
 * @param busyPollMicros     SO_BUSY_POLL
 * @param copyBreak          largest fragment payload received by copy rather than placed directly
 * @param sendCopy           largest payload copied into the send batch rather than sent from the sender's pages
 * @param gso                send runs of equal fragments as UDP GSO super-datagrams where the kernel can
 * @param gro                receive with UDP GRO where the kernel can
 * @param zeroCopy           smallest fragment payload sent with {@code MSG_ZEROCOPY}; 0 = never
 */
public record UdpConfig(UdpAddress bind, int receiveBufferBytes, int sendBufferBytes, int receiveBatch,
                        int pollMessages, int waitMicros, int busyPollMicros, int copyBreak, int sendCopy, boolean gso,
                        boolean gro, int zeroCopy) {
    /** SO_RCVBUF and SO_SNDBUF bytes asked for by default (4 MiB): a whole 4 MiB message's datagrams. */
    public static final int DEFAULT_BUFFER_BYTES = 4 << 20;
    /** Datagrams one poll takes at most by default. */
    public static final int DEFAULT_BATCH = 32;
    /** Messages one poll completes at most by default. */
    public static final int DEFAULT_POLL_MESSAGES = 8;
    /** Payload bytes up to which a fragment is received by copy by default. */
    public static final int DEFAULT_COPY_BREAK = 4096;
    /** Payload bytes up to which a send is copied into the batch's staging area by default. */
    public static final int DEFAULT_SEND_COPY = 512;
    private static final int MAX_SEND_COPY = 4096;
    private static final int MIN_BUFFER = 4096;
    private static final int MAX_BUFFER = 1 << 30;

    /**
     * Checks every component against the ranges in the table above, so a bad value fails when built.
     *
     * @param bind               not null
     * @param receiveBufferBytes 4096 to 2^30 bytes
     * @param sendBufferBytes    4096 to 2^30 bytes
     * @param receiveBatch       1 to 4096 datagrams
     * @param pollMessages       1 to 65536 messages
     * @param waitMicros         0 to 1000000 µs
     * @param busyPollMicros     0 to 1000000 µs
     * @param copyBreak          0 to {@link WireFrame#MAX_FRAGMENT} bytes
     * @param sendCopy           0 to 4096 bytes
     * @param gso                true to use UDP GSO where the kernel takes it
     * @param gro                true to use UDP GRO where the kernel takes it
     * @param zeroCopy           0 to {@link WireFrame#MAX_FRAGMENT} bytes
     * @throws IllegalArgumentException if {@code bind} is null or a value is out of range; the message names
     *         the key and its range
     */
    public UdpConfig {
        if (bind == null) {
            throw new IllegalArgumentException("a udp transport needs an address to bind, e.g. udp://127.0.0.1:0");
        }
        checkBuffer("rcvbuf", receiveBufferBytes);
        checkBuffer("sndbuf", sendBufferBytes);
        if (receiveBatch < 1 || receiveBatch > 4096) {
            throw new IllegalArgumentException("batch (datagrams per poll) must be in 1..4096, got " + receiveBatch);
        }
        if (pollMessages < 1 || pollMessages > 65536) {
            throw new IllegalArgumentException("messages (messages one poll completes) must be in 1..65536, got "
                    + pollMessages);
        }
        if (waitMicros < 0 || waitMicros > 1_000_000) {
            throw new IllegalArgumentException("wait (µs an idle poll blocks) must be in 0..1000000, got " + waitMicros
                    + "; 0 busy-polls");
        }
        if (busyPollMicros < 0 || busyPollMicros > 1_000_000) {
            throw new IllegalArgumentException("busypoll (SO_BUSY_POLL µs) must be in 0..1000000, got " + busyPollMicros);
        }
        if (copyBreak < 0 || copyBreak > WireFrame.MAX_FRAGMENT) {
            throw new IllegalArgumentException("copybreak must be in 0.." + WireFrame.MAX_FRAGMENT + " bytes, got "
                    + copyBreak + "; 0 places every fragment directly");
        }
        if (sendCopy < 0 || sendCopy > MAX_SEND_COPY) {
            throw new IllegalArgumentException("sendcopy must be in 0.." + MAX_SEND_COPY + " bytes, got " + sendCopy
                    + "; 0 sends every payload zero-copy from the sender's pages");
        }
        if (zeroCopy < 0 || zeroCopy > WireFrame.MAX_FRAGMENT) {
            throw new IllegalArgumentException("zerocopy (the smallest fragment sent with MSG_ZEROCOPY) must be in 1.."
                    + WireFrame.MAX_FRAGMENT + " bytes, got " + zeroCopy + "; e.g. zerocopy=16384, or drop the key"
                    + " (or zerocopy=0) to send without MSG_ZEROCOPY");
        }
    }

    private static void checkBuffer(String key, int bytes) {
        if (bytes < MIN_BUFFER || bytes > MAX_BUFFER) {
            throw new IllegalArgumentException(key + " must be in " + MIN_BUFFER + ".." + MAX_BUFFER + " bytes, got "
                    + bytes + "; the default is " + DEFAULT_BUFFER_BYTES);
        }
    }

    /**
     * Parses a transport URI {@code udp://host:port[?key=value&...]}; unknown keys are errors.
     *
     * @param uri the transport URI, e.g. {@code udp://127.0.0.1:0?batch=64}; port 0 binds an ephemeral port
     * @return the validated configuration, keys left out taking their defaults
     * @throws IllegalArgumentException if the URI is null, not {@code udp://}, names an unknown key, has a value
     *         of the wrong kind, or fails validation; the message names the fix
     */
    public static UdpConfig parse(String uri) {
        if (uri == null || !uri.startsWith(UdpAddress.SCHEME)) {
            throw new IllegalArgumentException("not a udp transport URI: '" + uri + "'; expected udp://host:port, e.g."
                    + " udp://127.0.0.1:0 (ephemeral port) or udp://127.0.0.1:7000?rcvbuf=4194304&batch=32");
        }
        int question = uri.indexOf('?');
        Builder builder = builder().bind(UdpAddress.parse(question < 0 ? uri : uri.substring(0, question), true));
        if (question >= 0) {
            for (String pair : uri.substring(question + 1).split("&")) {
                if (pair.isEmpty()) {
                    continue;
                }
                int eq = pair.indexOf('=');
                String key = eq < 0 ? pair : pair.substring(0, eq);
                String value = eq < 0 ? "" : pair.substring(eq + 1);
                switch (key) {
                    case "rcvbuf" -> builder.receiveBufferBytes(number(uri, key, value));
                    case "sndbuf" -> builder.sendBufferBytes(number(uri, key, value));
                    case "batch" -> builder.receiveBatch(number(uri, key, value));
                    case "messages" -> builder.pollMessages(number(uri, key, value));
                    case "wait" -> builder.waitMicros(number(uri, key, value));
                    case "busypoll" -> builder.busyPollMicros(number(uri, key, value));
                    case "copybreak" -> builder.copyBreak(number(uri, key, value));
                    case "sendcopy" -> builder.sendCopy(number(uri, key, value));
                    case "gso" -> builder.gso(bool(uri, key, value));
                    case "gro" -> builder.gro(bool(uri, key, value));
                    case "zerocopy" -> builder.zeroCopy(number(uri, key, value));
                    default -> throw new IllegalArgumentException("unknown key '" + key + "' in '" + uri
                            + "': known keys are rcvbuf, sndbuf, batch, messages, wait, busypoll, copybreak, sendcopy, gso, gro,"
                            + " zerocopy");
                }
            }
        }
        return builder.build();
    }

    private static int number(String uri, String key, String value) {
        try {
            return Integer.parseInt(value);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("'" + key + "=" + value + "' in '" + uri + "': the value must be a whole number");
        }
    }

    private static boolean bool(String uri, String key, String value) {
        return switch (value) {
            case "true" -> true;
            case "false" -> false;
            default -> throw new IllegalArgumentException("'" + key + "=" + value + "' in '" + uri
                    + "': the value must be true or false");
        };
    }

    /**
     * The URI that parses back to this configuration.
     *
     * @return the bind address followed by the non-default keys only, never null
     */
    public String toUri() {
        Map<String, Object> keys = new LinkedHashMap<>();
        if (receiveBufferBytes != DEFAULT_BUFFER_BYTES) {
            keys.put("rcvbuf", receiveBufferBytes);
        }
        if (sendBufferBytes != DEFAULT_BUFFER_BYTES) {
            keys.put("sndbuf", sendBufferBytes);
        }
        if (receiveBatch != DEFAULT_BATCH) {
            keys.put("batch", receiveBatch);
        }
        if (pollMessages != DEFAULT_POLL_MESSAGES) {
            keys.put("messages", pollMessages);
        }
        if (waitMicros != 0) {
            keys.put("wait", waitMicros);
        }
        if (busyPollMicros != 0) {
            keys.put("busypoll", busyPollMicros);
        }
        if (copyBreak != DEFAULT_COPY_BREAK) {
            keys.put("copybreak", copyBreak);
        }
        if (sendCopy != DEFAULT_SEND_COPY) {
            keys.put("sendcopy", sendCopy);
        }
        if (!gso) {
            keys.put("gso", false);
        }
        if (!gro) {
            keys.put("gro", false);
        }
        if (zeroCopy != 0) {
            keys.put("zerocopy", zeroCopy);
        }
        StringBuilder uri = new StringBuilder(bind.toString());
        char separator = '?';
        for (Map.Entry<String, Object> e : keys.entrySet()) {
            uri.append(separator).append(e.getKey()).append('=').append(e.getValue());
            separator = '&';
        }
        return uri.toString();
    }

    /**
     * A builder holding the defaults; {@link Builder#bind(UdpAddress)} must be set before {@link Builder#build()}.
     *
     * @return a fresh builder
     */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * A builder holding this configuration's values, to change some of them.
     *
     * @return a fresh builder; this configuration is unchanged
     */
    public Builder toBuilder() {
        return new Builder().bind(bind).receiveBufferBytes(receiveBufferBytes).sendBufferBytes(sendBufferBytes)
                .receiveBatch(receiveBatch).pollMessages(pollMessages).waitMicros(waitMicros).busyPollMicros(busyPollMicros)
                .copyBreak(copyBreak).sendCopy(sendCopy).gso(gso).gro(gro).zeroCopy(zeroCopy);
    }

    /** Collects a {@link UdpConfig}'s values; nothing is checked until {@link #build()}. Not thread-safe. */
    public static final class Builder {
        private UdpAddress bind;
        private int receiveBufferBytes = DEFAULT_BUFFER_BYTES;
        private int sendBufferBytes = DEFAULT_BUFFER_BYTES;
        private int receiveBatch = DEFAULT_BATCH;
        private int pollMessages = DEFAULT_POLL_MESSAGES;
        private int waitMicros;
        private int busyPollMicros;
        private int copyBreak = DEFAULT_COPY_BREAK;
        private int sendCopy = DEFAULT_SEND_COPY;
        private boolean gso = true;
        private boolean gro = true;
        private int zeroCopy;

        private Builder() {
        }

        /**
         * Where to bind; port 0 asks the kernel for an ephemeral port.
         *
         * @param address the local address, required
         * @return this builder
         */
        public Builder bind(UdpAddress address) {
            this.bind = address;
            return this;
        }

        /**
         * Where to bind, as {@code udp://host:port}; port 0 asks the kernel for an ephemeral port.
         *
         * @param address the local address, parsed here
         * @return this builder
         * @throws IllegalArgumentException if the address does not parse (see {@link UdpAddress#parse})
         */
        public Builder bind(String address) {
            return bind(UdpAddress.parse(address, true));
        }

        /**
         * SO_RCVBUF to ask for (URI key {@code rcvbuf}).
         *
         * @param bytes 4096..2^30; the kernel doubles it and may cap it at {@code net.core.rmem_max}
         * @return this builder
         */
        public Builder receiveBufferBytes(int bytes) {
            this.receiveBufferBytes = bytes;
            return this;
        }

        /**
         * SO_SNDBUF to ask for (URI key {@code sndbuf}).
         *
         * @param bytes 4096..2^30; the kernel doubles it and may cap it at {@code net.core.wmem_max}
         * @return this builder
         */
        public Builder sendBufferBytes(int bytes) {
            this.sendBufferBytes = bytes;
            return this;
        }

        /**
         * Most datagrams one poll takes before the NIC turns to its sends (URI key {@code batch}).
         *
         * @param datagrams 1..4096
         * @return this builder
         */
        public Builder receiveBatch(int datagrams) {
            this.receiveBatch = datagrams;
            return this;
        }

        /**
         * Most messages one poll completes before the NIC turns to its sends, also within one datagram of
         * coalesced frames (URI key {@code messages}).
         *
         * @param messages 1..65536
         * @return this builder
         */
        public Builder pollMessages(int messages) {
            this.pollMessages = messages;
            return this;
        }

        /**
         * How long an idle poll blocks in {@code ppoll(2)} (URI key {@code wait}).
         *
         * @param micros 0..1000000 µs; 0 busy-polls
         * @return this builder
         */
        public Builder waitMicros(int micros) {
            this.waitMicros = micros;
            return this;
        }

        /**
         * SO_BUSY_POLL for blocking receives, on NAPI devices only (URI key {@code busypoll}).
         *
         * @param micros 0..1000000 µs; 0 leaves it off
         * @return this builder
         */
        public Builder busyPollMicros(int micros) {
            this.busyPollMicros = micros;
            return this;
        }

        /**
         * Largest fragment payload received by copy rather than placed directly (URI key {@code copybreak}).
         *
         * @param bytes 0..{@link WireFrame#MAX_FRAGMENT}; 0 places every fragment directly
         * @return this builder
         */
        public Builder copyBreak(int bytes) {
            this.copyBreak = bytes;
            return this;
        }

        /**
         * Largest payload copied into the send batch rather than sent from the sender's pages (URI key {@code sendcopy}).
         *
         * @param bytes 0..4096; 0 sends every payload from the sender's pages
         * @return this builder
         */
        public Builder sendCopy(int bytes) {
            this.sendCopy = bytes;
            return this;
        }

        /**
         * Whether to send runs of equal fragments as UDP GSO super-datagrams where the kernel can (URI key {@code gso}).
         *
         * @param on true (the default) to use GSO
         * @return this builder
         */
        public Builder gso(boolean on) {
            this.gso = on;
            return this;
        }

        /**
         * Whether to receive with UDP GRO where the kernel can (URI key {@code gro}).
         *
         * @param on true (the default) to use GRO
         * @return this builder
         */
        public Builder gro(boolean on) {
            this.gro = on;
            return this;
        }

        /**
         * Sends fragments of at least {@code bytes} with MSG_ZEROCOPY; 0 = never (the default).
         *
         * @param bytes 0..{@link WireFrame#MAX_FRAGMENT} payload bytes (URI key {@code zerocopy})
         * @return this builder
         */
        public Builder zeroCopy(int bytes) {
            this.zeroCopy = bytes;
            return this;
        }

        /**
         * Validates the values collected so far.
         *
         * @return a new immutable configuration
         * @throws IllegalArgumentException if the bind address is unset or a value is out of range
         */
        public UdpConfig build() {
            return new UdpConfig(bind, receiveBufferBytes, sendBufferBytes, receiveBatch, pollMessages, waitMicros, busyPollMicros,
                    copyBreak, sendCopy, gso, gro, zeroCopy);
        }
    }
}
