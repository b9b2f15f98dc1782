package org.unetmm;

import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;
import org.unetmm.internal.ChannelState;
import org.unetmm.internal.CompletionSink;
import org.unetmm.internal.Engine;
import org.unetmm.internal.EndpointState;
import org.unetmm.internal.ExclusiveUse;
import org.unetmm.internal.ReceiveDescriptor;
import org.unetmm.internal.SendDescriptor;
import org.unetmm.internal.SpscRing;
import org.unetmm.pinning.NativeMemory;
import org.unetmm.pinning.UnpinnableBufferException;

/**
 * An application's handle to the network (U-Net's endpoint): a send queue, a free queue of posted
 * receive buffers and a completion queue, each a bounded single-producer ring of preallocated
 * descriptors; an optional fixed communication segment, pinned at creation; its own TLB context;
 * its channels.
 *
 * <p>Ownership: on the {@link SendPath#PINNED} path the buffers named in {@code send} belong to
 * the NIC until the send's completion; a buffer posted with {@code postReceive} belongs to the
 * NIC until its receive completion. On the {@link SendPath#FIXED_SEGMENT} path the bytes are
 * copied before {@code send} returns.
 *
 * <p>Which bytes of a {@link ByteBuffer}: explicit {@code (offset, length)} ranges are absolute
 * indices inside the buffer's <em>capacity</em>, on every path and for receives alike; the NIC
 * neither reads nor moves a buffer's position and limit (they are the application's cursors, and
 * the buffer is the NIC's until its completion). The short forms take the cursors once, at the
 * call: {@link #send(Channel, ByteBuffer, SendPath, long)} sends position..limit,
 * {@link #postReceive(ByteBuffer, long)} posts the whole capacity. A range outside the capacity
 * is refused with {@link InvalidDescriptorException} before anything is taken.
 *
 * <p>Threading: each of the three rings has one application-side thread at a time — one thread
 * sends ({@code send}, {@code sendGather}), one posts ({@code postReceive}), one polls
 * ({@code poll}, {@code await}); they may be the same thread, and a side may pass from one thread
 * to another between calls. Two threads inside one side at once are refused with
 * {@link ConcurrentEndpointUseException} before either touches the ring (one compare-and-exchange
 * per call). The NIC engine is the other side of every ring. Completion handlers run on the thread
 * that drives progress, at a point where they may send, post and close anything.
 *
 * <p>{@link #close()} completes every pending send and posted receive with
 * {@link CompletionStatus#CLOSED} (still pollable after close) and releases every pin the
 * endpoint held: its TLB context and its segment.
 */
public final class Endpoint implements AutoCloseable {
    private final Nic nic;
    private final Engine engine;
    private final Upcalls upcalls;
    private final EndpointConfig config;
    /** The engine's side of this endpoint: its send and free queues, segment, channels and counters. */
    final EndpointState state;
    private final SpscRing<SendDescriptor> sendQueue;
    private final SpscRing<ReceiveDescriptor> freeQueue;
    private final SpscRing<Completion> completionQueue;
    /** Checks and writes send descriptors (the send side's one thread, inside {@link #sender}). */
    private final SendWriter writer;
    /**
     * Completions that found the completion queue full: the NIC pauses this endpoint's sends and
     * drops arriving messages while the queue is full, but what it cannot hold back still completes
     * (sends the wire held and releases later, close), and none may be lost. Counted in
     * {@link EndpointStats#completionsOverflowed()}. Lock-free; an empty poll reads only
     * {@link #overflowAdded}, never the queue or a monitor.
     */
    private final ConcurrentLinkedQueue<Completion> overflow = new ConcurrentLinkedQueue<>();
    /** How many completions went to {@link #overflow}: counted after each add, so seeing it means the add. */
    private final AtomicLong overflowAdded = new AtomicLong();
    /** How many the poller took from {@link #overflow} (the poller's own count, inside {@link #poller}). */
    private long overflowTaken;
    /** Allocation order of segment space (application thread). */
    private volatile CompletionHandler handler;
    /** The application side of each ring: one thread at a time (see the class comment). */
    private final ExclusiveUse sender = new ExclusiveUse("send queue (send, sendGather)");
    private final ExclusiveUse poster = new ExclusiveUse("free queue (postReceive)");
    private final ExclusiveUse poller = new ExclusiveUse("completion queue (poll, await)");
    /** How {@link #await} waits between empty polls (the poller's side: one thread at a time). */
    private final IdleStrategy awaitIdle = IdleStrategy.backoff();

    Endpoint(Nic nic, Engine engine, Upcalls upcalls, EndpointConfig config) {
        this.nic = nic;
        this.engine = engine;
        this.upcalls = upcalls;
        this.config = config;
        this.completionQueue = new SpscRing<>(config.completionQueue(), Completion::new);
        this.state = engine.openEndpoint(config, new Sink());
        this.sendQueue = state.sendQueue;
        this.freeQueue = state.freeQueue;
        this.writer = new SendWriter(this, engine, config, nic.config().reuseCheck());
    }

    /** Where the engine reports this endpoint's completions: an upcall, or the completion queue. */
    private final class Sink implements CompletionSink {
        @Override
        public boolean canComplete() {
            return handler != null || completionQueue.hasRoom();
        }

        @Override
        public void complete(boolean send, CompletionStatus status, long cookie, ChannelState channel, ByteBuffer buffer,
                             int offset, int length, String detail) {
            Completion.Kind kind = send ? Completion.Kind.SEND : Completion.Kind.RECEIVE;
            Channel handle = Nic.handle(channel);
            CompletionHandler h = handler;
            if (h != null) {
                upcalls.add(h, kind, status, cookie, handle, buffer, offset, length, detail); // run at the next safe point
                return;
            }
            Completion c = completionQueue.claim();
            if (c == null) {
                Completion late = new Completion();
                late.set(kind, status, cookie, handle, buffer, offset, length, detail);
                overflow.add(late);
                overflowAdded.incrementAndGet();
                return;
            }
            c.set(kind, status, cookie, handle, buffer, offset, length, detail);
            completionQueue.publish();
        }
    }

    /** {@return the NIC this endpoint belongs to} */
    public Nic nic() {
        return nic;
    }

    /** {@return the shape it was opened with} */
    public EndpointConfig config() {
        return config;
    }

    /** {@return this endpoint's TLB context id} */
    public int context() {
        return state.context;
    }

    /**
     * Whether {@link #close()} has finished: every pending operation has its CLOSED completion and
     * every pin the endpoint held is released. (New operations are refused from the moment close
     * begins.)
     *
     * @return whether close has finished
     */
    public boolean isClosed() {
        return state.released;
    }

    /**
     * Opens an unconnected channel with a fresh local tag, unreliable.
     *
     * @return the channel, listening until it is connected
     * @throws ClosedException if the endpoint is closed
     */
    public Channel openChannel() {
        return openChannel(ChannelConfig.unreliable());
    }

    /**
     * Opens an unreliable channel and connects it to {@code peer}.
     *
     * @param peer the peer channel's address, as its {@link Channel#address()} wrote it
     * @return the connected channel
     * @throws ClosedException if the endpoint is closed
     */
    public Channel connect(ChannelAddress peer) {
        return openChannel().connect(peer);
    }

    /**
     * Opens an unconnected channel with a fresh local tag, reliable or not as {@code options} say
     * ({@link ChannelConfig#reliable()}: sends complete on the peer's acknowledgement).
     *
     * @param options reliable or not, and the protocol's timers; not null
     * @return the channel, listening until it is connected
     * @throws IllegalArgumentException if {@code options} is null
     * @throws ClosedException if the endpoint is closed
     */
    public Channel openChannel(ChannelConfig options) {
        if (options == null) {
            throw new IllegalArgumentException("channel options are required: ChannelConfig.unreliable() or reliable()");
        }
        return new Channel(this, engine, engine.openChannel(state, options));
    }

    /**
     * Opens a channel with {@code options} and connects it to {@code peer}.
     *
     * @param peer    the peer channel's address, as its {@link Channel#address()} wrote it
     * @param options reliable or not, and the protocol's timers; not null
     * @return the connected channel
     * @throws IllegalArgumentException if {@code options} is null
     * @throws ClosedException if the endpoint is closed
     */
    public Channel connect(ChannelAddress peer, ChannelConfig options) {
        return openChannel(options).connect(peer);
    }

    /**
     * Completions go to {@code handler} (an upcall on the progress thread) instead of the
     * completion queue; null switches back to polling.
     *
     * @param handler the upcall, or null to poll
     */
    public void onCompletion(CompletionHandler handler) {
        this.handler = handler;
    }

    /**
     * Sends {@code buffer}'s bytes from its position to its limit (read once, now; the cursors are not moved).
     * Ownership and errors as for {@link #send(Channel, ByteBuffer, int, int, SendPath, long)}.
     *
     * @param channel a connected channel of this endpoint
     * @param buffer  the message
     * @param path    FIXED_SEGMENT (copied now) or PINNED (the NIC's until the completion)
     * @param cookie  handed back in the completion
     * @return {@link SendStatus#ACCEPTED} (one completion follows) or why not, with none to follow
     */
    public SendStatus send(Channel channel, ByteBuffer buffer, SendPath path, long cookie) {
        if (buffer == null) {
            throw new InvalidDescriptorException("send buffer is null: pass the ByteBuffer to send");
        }
        return send(channel, buffer, buffer.position(), buffer.remaining(), path, cookie);
    }

    /**
     * Queues one message of {@code length} bytes of {@code buffer} from absolute {@code offset}.
     * On the PINNED path the buffer is the NIC's until the completion; on FIXED_SEGMENT it is
     * copied before this returns.
     *
     * @param channel a connected channel of this endpoint
     * @param buffer  the message's buffer; direct on the PINNED path
     * @param offset  absolute index of the first byte
     * @param length  bytes, 0 or more
     * @param path    FIXED_SEGMENT (copied now) or PINNED (the NIC's until the completion)
     * @param cookie  handed back in the completion
     * @return {@link SendStatus#ACCEPTED} (one completion follows) or why not, with none to follow
     * @throws InvalidDescriptorException for a null buffer or path, a range outside the buffer, a channel not
     *         connected or not this endpoint's, or a message larger than the fixed segment
     * @throws UnpinnableBufferException  for a heap buffer on the PINNED path
     * @throws ClosedException            if the endpoint or the channel is closed or closing
     * @throws ConcurrentEndpointUseException if another thread is sending on this endpoint at the same time
     */
    public SendStatus send(Channel channel, ByteBuffer buffer, int offset, int length, SendPath path, long cookie) {
        boolean entered = sender.enter();
        try {
            return writer.one(channel, buffer, offset, length, path, cookie);
        } finally {
            sender.exit(entered);
        }
    }

    /**
     * Queues one message gathered from {@code count} (buffer, offset, length) entries, in order.
     * Ownership as for {@link #send(Channel, ByteBuffer, int, int, SendPath, long)}.
     *
     * @param channel a connected channel of this endpoint
     * @param buffers the pieces' buffers
     * @param offsets each piece's absolute index in its buffer
     * @param lengths each piece's bytes
     * @param count   pieces, 1 to {@link EndpointConfig#maxScatter()}
     * @param path    FIXED_SEGMENT (copied now) or PINNED (the NIC's until the completion)
     * @param cookie  handed back in the completion
     * @return {@link SendStatus#ACCEPTED} (one completion follows) or why not, with none to follow
     * @throws InvalidDescriptorException for null arrays, a count that does not fit them or the endpoint, or a
     *         message longer than 2^31-1 bytes; and as {@link #send(Channel, ByteBuffer, int, int, SendPath, long)}
     */
    public SendStatus sendGather(Channel channel, ByteBuffer[] buffers, int[] offsets, int[] lengths, int count,
                                 SendPath path, long cookie) {
        boolean entered = sender.enter();
        try {
            return writer.gather(channel, buffers, offsets, lengths, count, path, cookie);
        } finally {
            sender.exit(entered);
        }
    }

    /**
     * Posts the whole of a direct buffer for receiving; as {@link #postReceive(ByteBuffer, int, int, long)}.
     *
     * @param buffer a direct, writable buffer; the NIC's until its receive completion
     * @param cookie handed back in the completion
     * @return {@link PostStatus#POSTED} (one completion follows) or why not
     */
    public PostStatus postReceive(ByteBuffer buffer, long cookie) {
        return postReceive(buffer, 0, buffer == null ? 0 : buffer.capacity(), cookie);
    }

    /**
     * Puts {@code length} bytes of a direct buffer from absolute {@code offset} on the free queue; the
     * NIC prefetches the translations of its first pages (up to the buffer's share of the TLB) in
     * its next progress round, so an arriving message does not miss in the TLB, and the post itself
     * takes no lock. The buffer is
     * the NIC's until its receive completion. {@link PostStatus#FREE_QUEUE_FULL} when the free queue is full.
     *
     * @param buffer a direct, writable buffer
     * @param offset absolute index of the first byte the NIC may write
     * @param length bytes the NIC may write
     * @param cookie handed back in the completion
     * @return {@link PostStatus#POSTED} (one completion follows) or why not, with none to follow
     * @throws InvalidDescriptorException for a null or read-only buffer or a range outside it
     * @throws UnpinnableBufferException  for a heap buffer
     * @throws ClosedException            if the endpoint is closed
     */
    public PostStatus postReceive(ByteBuffer buffer, int offset, int length, long cookie) {
        boolean entered = poster.enter();
        try {
            return post(buffer, offset, length, cookie);
        } finally {
            poster.exit(entered);
        }
    }

    private PostStatus post(ByteBuffer buffer, int offset, int length, long cookie) {
        if (state.closed) {
            throw new ClosedException("endpoint is closed: open a new endpoint to receive");
        }
        if (buffer == null) {
            throw new InvalidDescriptorException("receive buffer is null");
        }
        if (!buffer.isDirect()) {
            throw new UnpinnableBufferException("cannot post a heap ByteBuffer for receive: the NIC writes straight"
                    + " into posted buffers, which must be direct (ByteBuffer.allocateDirect or NativeMemory.allocate)");
        }
        if (buffer.isReadOnly()) {
            throw new InvalidDescriptorException("cannot post a read-only buffer for receive: the NIC writes into it");
        }
        if (length <= 0 || offset < 0 || offset > buffer.capacity() - length) {
            throw new InvalidDescriptorException("receive range (" + length + " bytes at offset " + offset
                    + ") must be non-empty and inside the buffer of capacity " + buffer.capacity());
        }
        ReceiveDescriptor r = freeQueue.claim();
        if (r == null) {
            return PostStatus.FREE_QUEUE_FULL;
        }
        r.buffer = buffer;
        r.address = NativeMemory.address(buffer);
        r.offset = offset;
        r.length = length;
        r.cookie = cookie;
        freeQueue.publish(); // the NIC prefetches its translations in its next round, before that round's sends
        state.counters.increment(EndpointState.RECEIVES_POSTED);
        return PostStatus.POSTED;
    }

    /**
     * {@return the oldest completion (a copy), or null when none is ready} In CALLER mode, drive
     * {@link Nic#progress()}.
     */
    public Completion poll() {
        boolean entered = poller.enter();
        try {
            return next();
        } finally {
            poller.exit(entered);
        }
    }

    private Completion next() {
        Completion c = completionQueue.peek();
        if (c != null) {
            Completion copy = c.copy();
            c.clear();
            completionQueue.release();
            return copy;
        }
        return takeOverflow();
    }

    /** The next completion that overflowed, or null: the queue is read only when one is known to wait. */
    private Completion takeOverflow() {
        if (overflowTaken == overflowAdded.get()) {
            return null;
        }
        Completion c = overflow.poll(); // not null: the add came before its count
        overflowTaken++;
        return c;
    }

    /**
     * Hands up to {@code limit} completions to {@code handler}, a reused view each: no allocation.
     *
     * @param handler told of each completion; not null
     * @param limit   the most completions to hand over
     * @return how many were handed over
     * @throws IllegalArgumentException if {@code handler} is null
     */
    public int poll(CompletionHandler handler, int limit) {
        if (handler == null) {
            throw new IllegalArgumentException("completion handler is required");
        }
        boolean entered = poller.enter();
        try {
            return drain(handler, limit);
        } finally {
            poller.exit(entered);
        }
    }

    /** A handler that throws gets its exception back; the completion it saw counts as taken (never seen twice). */
    private int drain(CompletionHandler handler, int limit) {
        int done = 0;
        Completion c;
        while (done < limit && (c = completionQueue.peek()) != null) {
            done++;
            try {
                handler.onCompletion(c);
            } finally {
                c.clear();
                completionQueue.release();
            }
        }
        while (done < limit) {
            Completion closing = takeOverflow();
            if (closing == null) {
                break;
            }
            done++;
            handler.onCompletion(closing);
        }
        return done;
    }

    /**
     * Waits up to {@code timeout} for the next completion; drives progress itself in CALLER mode.
     * Returns null when none arrived in time.
     *
     * @param timeout how long to wait, zero or more
     * @return the completion (a copy), or null
     * @throws IllegalArgumentException for a negative timeout
     */
    public Completion await(Duration timeout) {
        if (timeout == null || timeout.isNegative()) {
            throw new IllegalArgumentException("timeout must be zero or positive, got " + timeout);
        }
        long waitNanos = timeout.compareTo(FOREVER) >= 0 ? Long.MAX_VALUE : timeout.toNanos();
        long start = System.nanoTime();
        awaitIdle.reset();
        while (true) {
            Completion c = poll();
            if (c != null) {
                return c;
            }
            if (System.nanoTime() - start >= waitNanos) {
                return null;
            }
            int work = nic.config().progressMode() == ProgressMode.CALLER ? engine.progress() : 0;
            awaitIdle.idle(work);
        }
    }

    /** Longer than this is "wait for ever" (Long.MAX_VALUE nanoseconds, about 292 years). */
    private static final Duration FOREVER = Duration.ofNanos(Long.MAX_VALUE);

    /** {@return a snapshot of this endpoint's counters} Any thread. */
    public EndpointStats stats() {
        var counters = state.counters;
        return new EndpointStats(counters.get(EndpointState.SENDS_ACCEPTED), counters.get(EndpointState.SENDS_COMPLETED),
                counters.get(EndpointState.SENDS_FAILED), counters.get(EndpointState.RECEIVES_POSTED),
                counters.get(EndpointState.RECEIVES_COMPLETED), counters.get(EndpointState.RECEIVES_FAILED),
                counters.get(EndpointState.BYTES_SENT), counters.get(EndpointState.BYTES_RECEIVED), sendQueue.highWaterMark(),
                freeQueue.highWaterMark(), completionQueue.highWaterMark(), overflowAdded.get());
    }

    /** {@return the fixed segment's buffer, or null (for tests and tools)} */
    public ByteBuffer segment() {
        return state.segment == null ? null : state.segment.buffer();
    }

    @Override
    public void close() {
        engine.closeEndpoint(state);
    }
}
