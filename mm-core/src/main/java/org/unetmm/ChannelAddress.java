package org.unetmm;

/**
 * Where a channel's peer is: a transport address, a tag on that NIC, and the peer channel's
 * connection id, written {@code <transport address>/<tag>#<connection id in hex>}, e.g.
 * {@code udp://127.0.0.1:7000/5#3f9a0c5e1b7d2468}. The connection id is what a channel drew at
 * random when it opened (see {@link Channel}): tags are small and reused, a connection id names
 * one channel of one NIC's lifetime, so a channel connected to this address takes frames from
 * that channel only, never from a later one that reuses its tag or port.
 *
 * <p>{@code connection} 0 means "not known": the old form {@code <transport address>/<tag>} still
 * parses, and suits a well-known listening address (an echo's {@code /1}, an RPC server's), whose
 * channel may be replaced by a restart without its clients being told. A channel connected to such
 * an address learns the peer's id from its first frame (see {@link Channel}).
 *
 * @param connection the peer channel's connection id, 0 when not known
 */
public record ChannelAddress(String transportAddress, int tag, long connection) {
    /**
     * Checks the address.
     *
     * @param transportAddress the peer NIC's address on its wire, e.g. {@code udp://127.0.0.1:7000}; not blank
     * @param tag              the peer channel's tag on that NIC, positive
     * @param connection       the peer channel's connection id, 0 when not known
     * @throws IllegalArgumentException for a blank transport address or a tag not positive
     */
    public ChannelAddress {
        if (transportAddress == null || transportAddress.isBlank()) {
            throw new IllegalArgumentException("channel address needs a transport address, e.g. loopback:nic-1/3");
        }
        if (tag <= 0) {
            throw new IllegalArgumentException("channel tag must be positive, got " + tag);
        }
    }

    /**
     * An address whose channel's connection id is not known (a well-known tag).
     *
     * @param transportAddress the peer NIC's address on its wire; not blank
     * @param tag              the peer channel's tag on that NIC, positive
     */
    public ChannelAddress(String transportAddress, int tag) {
        this(transportAddress, tag, 0);
    }

    /**
     * Parses {@code <transport address>/<tag>#<connection id>} (as {@link #toString()} writes it) or
     * {@code <transport address>/<tag>} (connection not known).
     *
     * @param text the address as written
     * @return the address
     * @throws IllegalArgumentException naming what in {@code text} is malformed
     */
    public static ChannelAddress parse(String text) {
        int slash = text == null ? -1 : text.lastIndexOf('/');
        if (slash <= 0 || slash == text.length() - 1) {
            throw new IllegalArgumentException("bad channel address '" + text
                    + "': expected <transport address>/<tag>[#<connection id>], e.g. loopback:nic-1/3"
                    + " or udp://127.0.0.1:7000/5#3f9a0c5e1b7d2468");
        }
        String last = text.substring(slash + 1);
        int hash = last.indexOf('#');
        long connection = 0;
        if (hash >= 0) {
            try {
                connection = Long.parseUnsignedLong(last.substring(hash + 1), 16);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("bad channel address '" + text + "': the connection id after '#'"
                        + " must be at most 16 hex digits, as Channel.address() writes it");
            }
            last = last.substring(0, hash);
        }
        try {
            return new ChannelAddress(text.substring(0, slash), Integer.parseInt(last), connection);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("bad channel address '" + text + "': the tag after the last '/' must be a number");
        }
    }

    @Override
    public String toString() {
        return connection == 0 ? transportAddress + "/" + tag
                : transportAddress + "/" + tag + "#" + String.format("%016x", connection);
    }
}
