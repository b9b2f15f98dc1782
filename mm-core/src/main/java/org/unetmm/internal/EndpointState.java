package org.unetmm.internal;

import java.util.ArrayList;
import java.util.List;
import org.unetmm.EndpointConfig;
import org.unetmm.SegmentPinException;
import org.unetmm.pinning.NativeBuffer;
import org.unetmm.pinning.PinBudgetExceededException;
import org.unetmm.pinning.PinCache;
import org.unetmm.pinning.PinHandle;
import org.unetmm.spi.Transport;

/**
 * What the engine knows of one endpoint: its three descriptor rings (the engine is the consumer
 * of the send and free queues), its fixed segment, its TLB context, its channels, its counters.
 * The public {@code Endpoint} is the application's side of the same rings; completions go back to
 * it through {@link #sink}.
 */
public final class EndpointState {
    public final EndpointConfig config;
    public final int context;
    public final SpscRing<SendDescriptor> sendQueue;
    public final SpscRing<ReceiveDescriptor> freeQueue;
    /** Free-queue position (in descriptors ever taken) up to which the engine has prefetched posted buffers. Engine only. */
    public long prefetchedUpTo;
    /** How deep into their buffers this endpoint's messages reach ({@link ReceivePrefetch}). Engine only. */
    final ArrivalDepth arrivalDepth = new ArrivalDepth();
    public final List<ChannelState> channels = new ArrayList<>();
    /** The fixed segment (null when the endpoint has none), pinned for the endpoint's life. */
    public final NativeBuffer segment;
    public final PinHandle segmentPin;
    public final SegmentAllocator segmentSpace;
    /** Frees segment space in allocation order when (reliable) sends complete out of order. */
    public final SegmentReleaseOrder segmentReleases;
    public final CompletionSink sink;
    /** Set when close begins: new operations are refused. */
    public volatile boolean closed;
    /** Set when close has finished: completions issued, pins released. */
    public volatile boolean released;

    public static final int SENDS_ACCEPTED = 0;
    public static final int SENDS_COMPLETED = 1;
    public static final int SENDS_FAILED = 2;
    public static final int RECEIVES_POSTED = 3;
    public static final int RECEIVES_COMPLETED = 4;
    public static final int RECEIVES_FAILED = 5;
    public static final int BYTES_SENT = 6;
    public static final int BYTES_RECEIVED = 7;
    /** SENDS_ACCEPTED and RECEIVES_POSTED are written by the application thread, the rest by the engine. */
    public final Counters counters = new Counters(8);

    /**
     * The state of a new endpoint in TLB {@code context}; its fixed segment, if it has one, is
     * allocated from {@code wire} ({@link Transport#segmentMemory}) and pinned now
     * ({@link SegmentPinException} naming the fix when the budget has no room).
     */
    public static EndpointState open(EndpointConfig config, int context, CompletionSink sink, PinCache pinCache, Transport wire) {
        int bytes = config.segmentBytes();
        if (bytes == 0) {
            return new EndpointState(config, context, null, null, sink);
        }
        NativeBuffer memory = wire.segmentMemory(bytes);
        try {
            return new EndpointState(config, context, memory, pinCache.acquire(memory, 0, bytes), sink);
        } catch (PinBudgetExceededException e) {
            memory.close();
            throw new SegmentPinException("cannot pin this endpoint's fixed segment of " + bytes + " bytes: "
                    + e.getMessage() + ". Make it smaller (EndpointConfig.builder().segmentBytes(n); 0 = no segment,"
                    + " PINNED path only), close other endpoints, or raise RLIMIT_MEMLOCK (ulimit -l)", e);
        } catch (RuntimeException e) {
            memory.close();
            throw e;
        }
    }

    private EndpointState(EndpointConfig config, int context, NativeBuffer segment, PinHandle segmentPin, CompletionSink sink) {
        this.config = config;
        this.context = context;
        this.sink = sink;
        this.sendQueue = new SpscRing<>(config.sendQueue(), () -> new SendDescriptor(config.maxScatter()));
        this.freeQueue = new SpscRing<>(config.freeQueue(), ReceiveDescriptor::new);
        this.segment = segment;
        this.segmentPin = segmentPin;
        if (segment != null) {
            this.segmentSpace = new SegmentAllocator(config.segmentBytes());
            this.segmentReleases = new SegmentReleaseOrder(segmentSpace);
        } else {
            this.segmentSpace = null;
            this.segmentReleases = null;
        }
    }
}
