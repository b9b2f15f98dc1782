package org.unetmm;

import java.nio.ByteBuffer;
import org.unetmm.internal.ChannelState;
import org.unetmm.internal.Engine;
import org.unetmm.internal.EndpointState;
import org.unetmm.internal.SendDescriptor;
import org.unetmm.internal.SpscRing;
import org.unetmm.pinning.NativeMemory;
import org.unetmm.pinning.UnpinnableBufferException;

/**
 * The send side of an {@link Endpoint}: checks a send as the application gave it (the channel,
 * the path, every range), claims the send queue's next descriptor, fills it (copying into the
 * fixed segment on that path, so the caller's buffer is free at once) and publishes it. Runs on
 * the endpoint's one sending thread ({@code Endpoint}'s send-side check holds it); every refusal
 * leaves the queue as it was.
 */
final class SendWriter {
    private final Endpoint endpoint;
    private final Engine engine;
    private final EndpointConfig config;
    private final boolean reuseCheck;
    private final EndpointState state;
    private final SpscRing<SendDescriptor> sendQueue;
    private long segmentTickets;

    SendWriter(Endpoint endpoint, Engine engine, EndpointConfig config, boolean reuseCheck) {
        this.endpoint = endpoint;
        this.engine = engine;
        this.config = config;
        this.reuseCheck = reuseCheck;
        this.state = endpoint.state;
        this.sendQueue = state.sendQueue;
    }

    /** One message of {@code length} bytes of {@code buffer} from absolute {@code offset}. */
    SendStatus one(Channel channel, ByteBuffer buffer, int offset, int length, SendPath path, long cookie) {
        SendDescriptor d = claimSend(channel, path, 1);
        if (d == null) {
            return SendStatus.SEND_QUEUE_FULL;
        }
        addSegment(d, 0, buffer, offset, length, path);
        d.count = 1;
        d.length = length;
        return submit(d, channel, path, cookie);
    }

    SendStatus gather(Channel channel, ByteBuffer[] buffers, int[] offsets, int[] lengths, int count,
                              SendPath path, long cookie) {
        if (buffers == null || offsets == null || lengths == null) {
            throw new InvalidDescriptorException("scatter list arrays must not be null");
        }
        if (count < 1 || count > buffers.length || count > offsets.length || count > lengths.length) {
            throw new InvalidDescriptorException("scatter list count " + count + " does not fit arrays of "
                    + buffers.length + "/" + offsets.length + "/" + lengths.length + " entries");
        }
        if (count > config.maxScatter()) {
            throw new InvalidDescriptorException("scatter list of " + count + " entries is longer than this endpoint's"
                    + " maximum of " + config.maxScatter() + "; raise EndpointConfig.maxScatter or coalesce buffers");
        }
        SendDescriptor d = claimSend(channel, path, count);
        if (d == null) {
            return SendStatus.SEND_QUEUE_FULL;
        }
        long total = 0;
        for (int i = 0; i < count; i++) {
            addSegment(d, i, buffers[i], offsets[i], lengths[i], path);
            total += lengths[i];
        }
        if (total > Integer.MAX_VALUE) {
            clearSegments(d, count);
            throw new InvalidDescriptorException("message of " + total + " bytes is longer than 2^31-1 bytes");
        }
        d.count = count;
        d.length = (int) total;
        return submit(d, channel, path, cookie);
    }

    private SendDescriptor claimSend(Channel channel, SendPath path, int count) {
        if (state.closed) {
            throw new ClosedException("endpoint is closed: open a new endpoint to send");
        }
        if (path == null) {
            throw new InvalidDescriptorException("send path is required: FIXED_SEGMENT or PINNED");
        }
        if (channel == null || channel.endpoint() != endpoint) {
            throw new InvalidDescriptorException("channel " + channel + " does not belong to this endpoint:"
                    + " send on a channel opened by this endpoint");
        }
        ChannelState c = channel.state;
        if (c.closed) {
            throw new ClosedException("channel " + c.localTag + " is closed: open and connect a new channel");
        }
        if (c.protocol.isClosing()) {
            throw new ClosedException("channel " + c.localTag + " is closing (close() was called): open and"
                    + " connect a new channel");
        }
        if (!channel.isConnected()) {
            throw new InvalidDescriptorException("channel " + c.localTag + " is not connected: call connect(peer) first");
        }
        if (path == SendPath.FIXED_SEGMENT && state.segment == null) {
            throw new InvalidDescriptorException("this endpoint has no fixed segment (segmentBytes = 0):"
                    + " use the PINNED path or create the endpoint with a segment");
        }
        return sendQueue.claim();
    }

    private void addSegment(SendDescriptor d, int i, ByteBuffer buffer, int offset, int length, SendPath path) {
        if (buffer == null) {
            clearSegments(d, i);
            throw new InvalidDescriptorException("send buffer " + i + " is null");
        }
        if (length < 0 || offset < 0 || offset > buffer.capacity() - length) {
            clearSegments(d, i);
            throw new InvalidDescriptorException("send range " + i + " (" + length + " bytes at offset " + offset
                    + ") is outside its buffer of capacity " + buffer.capacity());
        }
        if (path == SendPath.PINNED) {
            if (!buffer.isDirect()) {
                clearSegments(d, i);
                throw new UnpinnableBufferException("cannot send a heap ByteBuffer on the PINNED path (the garbage"
                        + " collector moves it): use a direct buffer, or the FIXED_SEGMENT path, which copies");
            }
            d.addresses[i] = NativeMemory.address(buffer);
        }
        d.buffers[i] = buffer;
        d.offsets[i] = offset;
        d.lengths[i] = length;
    }

    private static void clearSegments(SendDescriptor d, int upTo) {
        for (int i = 0; i < upTo; i++) {
            d.buffers[i] = null;
        }
    }

    private SendStatus submit(SendDescriptor d, Channel channel, SendPath path, long cookie) {
        if (path == SendPath.FIXED_SEGMENT) {
            if (d.length > state.segmentSpace.size()) {
                clearSegments(d, d.count);
                throw new InvalidDescriptorException("message of " + d.length + " bytes is larger than the fixed segment ("
                        + state.segmentSpace.size() + " bytes): use the PINNED path or a larger EndpointConfig.segmentBytes");
            }
            int at = state.segmentSpace.allocate(d.length);
            if (at < 0) {
                clearSegments(d, d.count);
                return SendStatus.SEGMENT_FULL;
            }
            d.segmentOffset = at;
            d.segmentConsumed = state.segmentSpace.consumed();
            d.segmentTicket = segmentTickets++;
            ByteBuffer seg = state.segment.buffer();
            int position = at;
            for (int i = 0; i < d.count; i++) {
                NativeMemory.copy(d.buffers[i], d.offsets[i], seg, position, d.lengths[i]);
                position += d.lengths[i];
            }
            clearSegments(d, d.count); // copied: the caller's buffers are theirs again
        } else if (reuseCheck) {
            d.checksum = d.contentChecksum();
        }
        d.channel = channel.state;
        d.path = path;
        d.cookie = cookie;
        d.sent = 0;
        d.messageId = SendDescriptor.UNNUMBERED;
        sendQueue.publish();
        state.counters.increment(EndpointState.SENDS_ACCEPTED);
        engine.wake();
        return SendStatus.ACCEPTED;
    }
}
