package org.unetmm.internal;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.unetmm.ChannelAddress;
import org.unetmm.DropReason;
import org.unetmm.spi.FrameHeader;

/**
 * The NIC's channels by local tag, and the one check every arriving header passes before any
 * protocol sees it: well formed, a live channel's tag, from the channel's peer as it connected
 * ({@link ChannelState#admit}), of the channel's kind (reliable or not). A frame that fails is
 * dropped and counted here, by reason. Tags are small and reused (a closed channel's tag goes to
 * the next one opened): who may send is decided by the connection ids, not the tag. Engine only.
 */
public final class ChannelTable {
    private ChannelState[] tags = new ChannelState[64];
    private final ArrayDeque<Integer> freeTags = new ArrayDeque<>();
    private int nextTag = 1;
    private final DropCounters drops;

    public ChannelTable(DropCounters drops) {
        this.drops = drops;
    }

    /** A fresh tag (a freed one first). */
    public int allocate() {
        if (!freeTags.isEmpty()) {
            return freeTags.poll();
        }
        int tag = nextTag++;
        if (tag >= tags.length) {
            tags = Arrays.copyOf(tags, tags.length * 2);
        }
        return tag;
    }

    public void bind(ChannelState channel) {
        tags[channel.localTag] = channel;
    }

    /** Frees the channel's tag, if it still holds it. */
    public void remove(ChannelState channel) {
        if (tags[channel.localTag] == channel) {
            tags[channel.localTag] = null;
            freeTags.add(channel.localTag);
        }
    }

    /** The open channels connected to a peer at {@code transportAddress}. */
    public List<ChannelState> connectedTo(String transportAddress) {
        List<ChannelState> found = new ArrayList<>();
        for (ChannelState channel : tags) {
            ChannelAddress remote = channel == null || channel.closed ? null : channel.remote;
            if (remote != null && remote.transportAddress().equals(transportAddress)) {
                found.add(channel);
            }
        }
        return found;
    }

    /** The channel an arriving frame is for, or null when it is dropped (counted by reason). */
    public ChannelState target(FrameHeader h) {
        boolean reliable = (h.flags & FrameHeader.FLAG_RELIABLE) != 0;
        if (!h.isWellFormed() || (!reliable && h.type != FrameHeader.TYPE_DATA)) {
            drops.drop(DropReason.MALFORMED);
            return null;
        }
        ChannelState channel = h.destinationTag > 0 && h.destinationTag < tags.length ? tags[h.destinationTag] : null;
        if (channel == null || channel.closed) {
            drops.drop(DropReason.UNKNOWN_TAG);
            return null;
        }
        if (reliable && channel.route == null) {
            drops.drop(DropReason.WRONG_SOURCE); // a reliable channel talks to its connected peer only
            return null;
        }
        DropReason refused = channel.admit(h); // the peer, from its address, as it connected; or, listening, anyone
        if (refused != null) {
            drops.drop(refused);
            return null;
        }
        if (channel.protocol.isReliable() != reliable) {
            drops.drop(DropReason.NOT_RELIABLE); // a frame of the other kind of channel
            return null;
        }
        return channel;
    }
}
