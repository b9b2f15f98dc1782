package org.unetmm;

/**
 * Where a channel's peer is: a transport address and a tag on that NIC, written
 * {@code <transport address>/<tag>}, e.g. {@code loopback:nic-1/3} or {@code udp://127.0.0.1:7000/5}.
 */
public record ChannelAddress(String transportAddress, int tag) {
    public ChannelAddress {
        if (transportAddress == null || transportAddress.isBlank()) {
            throw new IllegalArgumentException("channel address needs a transport address, e.g. loopback:nic-1/3");
        }
        if (tag <= 0) {
            throw new IllegalArgumentException("channel tag must be positive, got " + tag);
        }
    }

    /** Parses {@code <transport address>/<tag>}. */
    public static ChannelAddress parse(String text) {
        int slash = text == null ? -1 : text.lastIndexOf('/');
        if (slash <= 0 || slash == text.length() - 1) {
            throw new IllegalArgumentException("bad channel address '" + text
                    + "': expected <transport address>/<tag>, e.g. loopback:nic-1/3 or udp://127.0.0.1:7000/5");
        }
        try {
            return new ChannelAddress(text.substring(0, slash), Integer.parseInt(text.substring(slash + 1)));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("bad channel address '" + text + "': the tag after the last '/' must be a number");
        }
    }

    @Override
    public String toString() {
        return transportAddress + "/" + tag;
    }
}
