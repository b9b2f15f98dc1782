package org.unetmm.rpc;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import org.unetmm.Channel;
import org.unetmm.ChannelAddress;
import org.unetmm.Completion;
import org.unetmm.CompletionStatus;
import org.unetmm.Endpoint;
import org.unetmm.EndpointConfig;
import org.unetmm.Nic;
import org.unetmm.ProgressMode;
import org.unetmm.SendPath;
import org.unetmm.SendStatus;
import org.unetmm.rpc.internal.BufferSlab;
import org.unetmm.rpc.internal.RpcWire;
import org.unetmm.rpc.internal.SendWindow;

/**
 * Calls an {@link RpcServer} over a reliable channel: many calls in flight, from any number of
 * threads, each answered through its own {@link CompletableFuture}.
 *
 * <p><b>The path of a call.</b> {@code call} puts a 16-byte header and the caller's request buffer
 * in one gather send on the pinned path: the NIC reads the request where it is (zero-copy), and
 * the request buffer is the NIC's until the server has acknowledged it. The response lands in
 * one of the client's own posted receive buffers, is matched to its call by request id (so a
 * late answer to a call that timed out is recognised and dropped), and is either copied into the
 * caller's response buffer ({@link #call(int, ByteBuffer, ByteBuffer)}, one copy, so no buffer of
 * the caller stays lent past its future) or read in place by a {@link ResponseReader} (zero-copy).
 *
 * <p><b>Ownership.</b> When a call's future completes, normally or not, its response buffer is
 * the caller's again and was written by nobody else since. Its request buffer is the caller's
 * again too, except after a TIMEOUT or a cancellation: then it stays the NIC's until the request's
 * send completes — when the server acknowledges it, at the latest when the channel fails or the
 * client closes ({@link #inFlight()} counts such calls).
 *
 * <p><b>Threading.</b> {@code call} from any thread (a lock orders the endpoint's producers).
 * Futures complete on the NIC's progress thread (a response, a failure), on the client's timer
 * thread (a timeout) or in {@link #close()}: chain with the {@code ...Async} methods for heavy
 * work. In CALLER progress mode someone must keep calling {@link Nic#progress()}.
 *
 * <p><b>Failure.</b> If the server stops answering, the reliable channel fails with
 * PEER_UNREACHABLE once it was silent for {@link org.unetmm.ChannelConfig#peerTimeout()}, every
 * outstanding call fails with {@link RpcStatus#PEER_UNREACHABLE}, the endpoint closes (every pin
 * it held is released) and later calls fail at once.
 */
public final class RpcClient implements AutoCloseable {
    private static final AtomicInteger TIMERS = new AtomicInteger();
    private static final long HELLO_COOKIE = 1L << 40;
    private static final int CONNECTING = 0;
    private static final int READY = 1;
    private static final int FAILED = 2;
    private static final int CLOSED = 3;
    private static final int SLOT_BITS = 16;

    private final Nic nic;
    private final RpcClientConfig config;
    private final ChannelAddress server;
    private final Endpoint endpoint;
    private final Channel channel;
    private final Channel listening;
    private final Channel hello;
    private final ByteBuffer helloMessage = ByteBuffer.allocateDirect(RpcWire.HANDSHAKE_CAPACITY);
    private final int helloLength;
    private final long nonce = ThreadLocalRandom.current().nextLong();
    private final ByteBuffer[] pool;
    private final Call[] calls;
    private final int[] free;
    private int freeCount;
    private long sequence;
    private final ByteBuffer[] gather = new ByteBuffer[2];
    private final int[] gatherOffsets = new int[2];
    private final int[] gatherLengths = {RpcWire.HEADER_LENGTH, 0};
    private final CompletableFuture<RpcClient> connected = new CompletableFuture<>();
    private final Thread timer;
    private volatile int state = CONNECTING;
    private RpcStatus failure;
    private String failureDetail;
    private final long connectDeadline;

    /** One call in flight: its header, where its answer goes, and what is still outstanding. */
    private static final class Call {
        final ByteBuffer header = ByteBuffer.allocateDirect(RpcWire.HEADER_LENGTH).order(ByteOrder.LITTLE_ENDIAN);
        long id;
        boolean active;
        @SuppressWarnings("rawtypes")
        CompletableFuture future;
        ByteBuffer target;
        int targetOffset;
        int targetCapacity;
        ResponseReader<?> reader;
        long deadline;
        /** The request's send completed: its buffer is the caller's again. */
        boolean sent;
        /** The response arrived and was handled (outcome below). */
        boolean answered;
        /** No answer will be waited for (timed out, cancelled, failed). */
        boolean abandoned;
        Object result;
        RpcException error;
    }

    private RpcClient(Nic nic, ChannelAddress server, RpcClientConfig config) {
        this.nic = nic;
        this.server = server;
        this.config = config;
        int slots = config.maxInFlight();
        int buffers = slots + 4;
        this.endpoint = nic.openEndpoint(EndpointConfig.builder().sendQueue(slots + 16).freeQueue(buffers)
                .completionQueue(64).segmentBytes(0).maxScatter(2).build());
        this.pool = BufferSlab.carve(buffers, RpcWire.HEADER_LENGTH + Math.max(config.maxResponse(), RpcWire.HANDSHAKE_CAPACITY));
        this.calls = new Call[slots];
        this.free = new int[slots];
        for (int i = 0; i < slots; i++) {
            calls[i] = new Call();
            free[freeCount++] = slots - 1 - i;
        }
        try {
            this.channel = endpoint.openChannel(SendWindow.covering(config.channel(), slots));
            this.listening = endpoint.openChannel();
            this.hello = endpoint.connect(server);
        } catch (RuntimeException e) {
            endpoint.close();
            throw e;
        }
        this.helloLength = RpcWire.writeHandshake(helloMessage, RpcWire.HELLO_MAGIC, nonce, channel.address(),
                listening.address());
        endpoint.onCompletion(this::onCompletion);
        for (int i = 0; i < buffers; i++) {
            endpoint.postReceive(pool[i], i);
        }
        this.connectDeadline = System.nanoTime() + config.connectTimeout().toNanos();
        this.timer = new Thread(this::runTimer, "unetmm-rpc-client-" + TIMERS.incrementAndGet());
        timer.setDaemon(true);
        timer.start();
    }

    /**
     * Starts connecting to the server listening at {@code server}; the future completes when it
     * answered (or fails with PEER_UNREACHABLE after {@code connectTimeout}). Someone must drive
     * progress of {@code nic} (and of the server's NIC) meanwhile.
     *
     * @param nic    the NIC to open the client's endpoint on
     * @param server the server's listening address ({@link RpcServer#address()})
     * @param config the client's settings
     * @return a future of the connected client, which the caller then closes
     */
    public static CompletableFuture<RpcClient> connectAsync(Nic nic, ChannelAddress server, RpcClientConfig config) {
        return new RpcClient(nic, server, config).connected;
    }

    /**
     * Connects and waits for the server's answer; in CALLER mode drives {@code nic}'s progress while waiting.
     *
     * @param nic    the NIC to open the client's endpoint on
     * @param server the server's listening address ({@link RpcServer#address()})
     * @param config the client's settings
     * @return the connected client; the caller closes it
     * @throws RpcException with {@link RpcStatus#PEER_UNREACHABLE} if the server did not answer within the
     *         connect timeout, or {@link RpcStatus#CLOSED} if the thread was interrupted
     */
    public static RpcClient connect(Nic nic, ChannelAddress server, RpcClientConfig config) {
        CompletableFuture<RpcClient> future = connectAsync(nic, server, config);
        long deadline = System.nanoTime() + config.connectTimeout().toNanos() + 1_000_000_000L;
        try {
            while (!future.isDone()) {
                if (System.nanoTime() - deadline > 0) {
                    throw new RpcException(RpcStatus.PEER_UNREACHABLE, "no answer from the RPC server at " + server);
                }
                if (nic.config().progressMode() == ProgressMode.CALLER) {
                    nic.progress();
                } else {
                    try {
                        return future.get(10, TimeUnit.MILLISECONDS);
                    } catch (TimeoutException e) {
                        continue;
                    }
                }
            }
            return future.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new RpcException(RpcStatus.CLOSED, "interrupted while connecting to " + server);
        } catch (ExecutionException e) {
            throw e.getCause() instanceof RpcException rpc ? rpc : new RpcException(RpcStatus.PEER_UNREACHABLE,
                    "could not connect to " + server + ": " + e.getCause());
        }
    }

    /**
     * Connects with {@link RpcClientConfig#defaults()}; as {@link #connect(Nic, ChannelAddress, RpcClientConfig)}.
     *
     * @param nic    the NIC to open the client's endpoint on
     * @param server the server's listening address
     * @return the connected client; the caller closes it
     */
    public static RpcClient connect(Nic nic, ChannelAddress server) {
        return connect(nic, server, RpcClientConfig.defaults());
    }

    /**
     * Calls {@code method} with the request bytes from {@code request}'s position to its limit;
     * the response is copied into {@code response} from its position, up to its limit. Neither
     * buffer's position or limit is changed. The future gives the response length.
     *
     * @param method   the method id
     * @param request  the request bytes, position to limit; the NIC's until the future completes
     * @param response where the response is copied, from its position up to its limit
     * @return the future of the response length; it fails with {@link RpcException}
     */
    public CompletableFuture<Integer> call(int method, ByteBuffer request, ByteBuffer response) {
        return call(method, request, request.position(), request.remaining(), response, response.position(),
                response.remaining());
    }

    /**
     * Calls {@code method} with {@code length} bytes of {@code request} from absolute {@code offset}; see the class
     * comment.
     *
     * @param method           the method id
     * @param request          the request's buffer; the NIC's until the future completes
     * @param offset           absolute index of the first request byte
     * @param length           request bytes
     * @param response         where the response is copied; writable
     * @param responseOffset   absolute index in {@code response} of its first byte
     * @param responseCapacity the most response bytes to take
     * @return the future of the response length; it fails with {@link RpcException}
     * @throws IllegalArgumentException if the response range is not inside a writable buffer
     */
    public CompletableFuture<Integer> call(int method, ByteBuffer request, int offset, int length, ByteBuffer response,
                                           int responseOffset, int responseCapacity) {
        if (response == null || response.isReadOnly() || responseOffset < 0 || responseCapacity < 0
                || responseOffset > response.capacity() - responseCapacity) {
            throw new IllegalArgumentException("response range (" + responseCapacity + " bytes at " + responseOffset
                    + ") must lie inside a writable buffer");
        }
        return submit(method, request, offset, length, response, responseOffset, responseCapacity, null);
    }

    /**
     * Calls {@code method}; the response is read in place, in the client's receive buffer, by {@code reader}.
     *
     * @param <T>    what the reader makes of the response
     * @param method the method id
     * @param request the request's buffer; the NIC's until the future completes
     * @param offset absolute index of the first request byte
     * @param length request bytes
     * @param reader reads the response in place, on the progress thread; not null
     * @return the future of the reader's result; it fails with {@link RpcException}
     * @throws IllegalArgumentException if {@code reader} is null
     */
    public <T> CompletableFuture<T> call(int method, ByteBuffer request, int offset, int length, ResponseReader<T> reader) {
        if (reader == null) {
            throw new IllegalArgumentException("a response reader is required");
        }
        return submit(method, request, offset, length, null, 0, 0, reader);
    }

    @SuppressWarnings("unchecked")
    private <T> CompletableFuture<T> submit(int method, ByteBuffer request, int offset, int length, ByteBuffer target,
                                            int targetOffset, int targetCapacity, ResponseReader<T> reader) {
        CompletableFuture<T> future = new CompletableFuture<>();
        synchronized (this) {
            if (state != READY) {
                future.completeExceptionally(notReady());
                return future;
            }
            if (freeCount == 0) {
                future.completeExceptionally(new RpcException(RpcStatus.TOO_MANY_CALLS, config.maxInFlight()
                        + " calls are in flight: wait for one, or raise RpcClientConfig.maxInFlight"));
                return future;
            }
            int slot = free[--freeCount];
            Call call = calls[slot];
            call.id = (++sequence << SLOT_BITS) | slot;
            call.active = true;
            call.future = future;
            call.target = target;
            call.targetOffset = targetOffset;
            call.targetCapacity = targetCapacity;
            call.reader = reader;
            call.deadline = System.nanoTime() + config.timeout().toNanos();
            call.sent = false;
            call.answered = false;
            call.abandoned = false;
            call.result = null;
            call.error = null;
            RpcWire.writeHeader(call.header, call.id, method);
            gather[0] = call.header;
            gather[1] = request;
            gatherOffsets[1] = offset;
            gatherLengths[1] = length;
            SendStatus status;
            try {
                status = endpoint.sendGather(channel, gather, gatherOffsets, gatherLengths, 2, SendPath.PINNED, slot);
            } catch (RuntimeException e) {
                release(call, slot); // misuse (a heap request buffer, a bad range) or the channel closed under us
                throw e;
            } finally {
                gather[1] = null;
            }
            if (status != SendStatus.ACCEPTED) {
                release(call, slot);
                future.completeExceptionally(new RpcException(RpcStatus.TOO_MANY_CALLS, "the send queue is full ("
                        + status + ": earlier requests are not acknowledged by the server yet): the call was not sent;"
                        + " wait for calls to finish, then call again"));
            }
        }
        return future;
    }

    private RpcException notReady() {
        return switch (state) {
            case CONNECTING -> new RpcException(RpcStatus.CLOSED, "not connected yet: wait for connectAsync's future");
            case FAILED -> new RpcException(failure, "the connection to " + server + " failed: " + failureDetail);
            default -> new RpcException(RpcStatus.CLOSED, "the client is closed");
        };
    }

    /** {@return calls whose slot is still taken (answer pending, or a request buffer still the NIC's)} */
    public synchronized int inFlight() {
        return config.maxInFlight() - freeCount;
    }

    /** {@return the reliable channel to the server} */
    public Channel channel() {
        return channel;
    }

    /** {@return the endpoint the client opened on its NIC, and owns} */
    public Endpoint endpoint() {
        return endpoint;
    }

    /** {@return whether the server has answered and the client is not closed} */
    public boolean isConnected() {
        return state == READY;
    }

    // ---- the progress thread ----------------------------------------------------------------

    private void onCompletion(Completion c) {
        if (c.kind() == Completion.Kind.SEND) {
            if (c.cookie() < HELLO_COOKIE) {
                onRequestSent((int) c.cookie(), c.status(), c.detail());
            }
            return;
        }
        int index = (int) c.cookie();
        CompletionStatus status = c.status();
        if (status != CompletionStatus.OK && status != CompletionStatus.TRUNCATED) {
            if (status == CompletionStatus.PEER_UNREACHABLE) {
                fail(RpcStatus.PEER_UNREACHABLE, c.detail());
            }
            repost(index);
            return;
        }
        if (c.channel() == listening) {
            onWelcome(c);
        } else if (c.channel() == channel) {
            onResponse(c);
        }
        repost(index);
    }

    private void repost(int index) {
        if (state <= READY && !endpoint.isClosed()) {
            endpoint.postReceive(pool[index], index);
        }
    }

    private void onWelcome(Completion c) {
        RpcWire.Handshake welcome = RpcWire.readHandshake(c.buffer(), c.offset(), c.length());
        if (welcome == null || welcome.magic() != RpcWire.WELCOME_MAGIC || welcome.nonce() != nonce) {
            return;
        }
        synchronized (this) {
            if (state != CONNECTING) {
                return;
            }
            channel.connect(welcome.first());
            state = READY;
        }
        connected.complete(this);
        LockSupport.unpark(timer);
    }

    private void onRequestSent(int slot, CompletionStatus status, String detail) {
        synchronized (this) {
            Call call = calls[slot];
            if (!call.active) {
                return;
            }
            call.sent = true;
            if (status != CompletionStatus.OK) {
                RpcStatus why = switch (status) {
                    case PEER_UNREACHABLE -> RpcStatus.PEER_UNREACHABLE;
                    case CLOSED -> RpcStatus.CLOSED;
                    default -> RpcStatus.SEND_FAILED;
                };
                finish(call, null, new RpcException(why, "request not delivered: " + status + (detail == null ? "" : " (" + detail + ")")));
                if (why == RpcStatus.PEER_UNREACHABLE) {
                    fail(why, detail);
                }
            } else if (call.answered) {
                finish(call, call.result, call.error);
            }
            maybeRelease(call, slot);
        }
    }

    private void onResponse(Completion c) {
        ByteBuffer buffer = c.buffer();
        if (c.length() < RpcWire.HEADER_LENGTH) {
            return;
        }
        long id = RpcWire.id(buffer, c.offset());
        int word = RpcWire.word(buffer, c.offset());
        int slot = (int) (id & ((1 << SLOT_BITS) - 1));
        if (slot >= calls.length) {
            return;
        }
        synchronized (this) {
            Call call = calls[slot];
            if (!call.active || call.id != id || call.answered) {
                return; // the answer to a call that timed out or was cancelled: dropped
            }
            call.answered = true;
            if (call.abandoned) {
                maybeRelease(call, slot);
                return;
            }
            int length = c.length() - RpcWire.HEADER_LENGTH;
            int from = c.offset() + RpcWire.HEADER_LENGTH;
            if (word != 0) {
                RpcStatus status = RpcStatus.ofWire(word);
                call.error = new RpcException(status, word > 0 ? word : 0, "server answered " + status
                        + (word > 0 ? " code " + word : ""));
            } else if (c.status() == CompletionStatus.TRUNCATED) {
                call.error = new RpcException(RpcStatus.RESPONSE_TOO_LARGE, "response longer than the client's receive"
                        + " buffers of " + config.maxResponse() + " bytes: raise RpcClientConfig.maxResponse");
            } else if (call.reader != null) {
                try {
                    call.result = call.reader.read(buffer, from, length);
                } catch (RuntimeException e) {
                    call.error = new RpcException(RpcStatus.APPLICATION, "the response reader threw: " + e);
                    call.error.initCause(e);
                }
            } else if (length > call.targetCapacity) {
                call.error = new RpcException(RpcStatus.RESPONSE_TOO_LARGE, "response of " + length + " bytes does not fit"
                        + " the response buffer of " + call.targetCapacity + " bytes");
            } else {
                call.target.put(call.targetOffset, buffer, from, length);
                call.result = length;
            }
            if (call.sent) {
                finish(call, call.result, call.error);
            }
            maybeRelease(call, slot);
        }
    }

    @SuppressWarnings("unchecked")
    private static void finish(Call call, Object result, RpcException error) {
        if (call.future == null) {
            return;
        }
        if (error != null) {
            call.future.completeExceptionally(error);
        } else {
            call.future.complete(result);
        }
        call.abandoned = true;
    }

    private void maybeRelease(Call call, int slot) {
        if (call.active && call.sent && (call.answered || call.abandoned)) {
            release(call, slot);
        }
    }

    private void release(Call call, int slot) {
        call.active = false;
        call.future = null;
        call.target = null;
        call.reader = null;
        call.result = null;
        call.error = null;
        free[freeCount++] = slot;
    }

    /** The connection is lost: every outstanding call fails; the timer thread closes the endpoint. */
    private void fail(RpcStatus why, String detail) {
        synchronized (this) {
            if (state == FAILED || state == CLOSED) {
                return;
            }
            state = FAILED;
            failure = why;
            failureDetail = detail;
            for (int slot = 0; slot < calls.length; slot++) {
                Call call = calls[slot];
                if (call.active && !call.abandoned) {
                    finish(call, null, new RpcException(why, "the connection to " + server + " failed: " + detail));
                }
                maybeRelease(call, slot);
            }
        }
        connected.completeExceptionally(new RpcException(why, "could not connect to " + server + ": " + detail));
        LockSupport.unpark(timer);
    }

    // ---- the timer thread ---------------------------------------------------------------------

    private void runTimer() {
        long tick = Math.max(1_000_000L, Math.min(config.timeout().toNanos() / 8, 10_000_000L));
        long nextHello = 0;
        while (true) {
            int s = state;
            long now = System.nanoTime();
            if (s == CONNECTING) {
                if (now - connectDeadline > 0) {
                    fail(RpcStatus.PEER_UNREACHABLE, "no WELCOME within " + config.connectTimeout()
                            + ": is an RpcServer listening at " + server + "?" + (server.connection() == 0 ? ""
                            : " (the connection id after '#' names one run of the server: after a restart give the"
                            + " address it prints now, or this one without '#...')"));
                    continue;
                }
                if (now - nextHello >= 0) {
                    sendHello();
                    nextHello = now + config.helloInterval().toNanos();
                }
                LockSupport.parkNanos(Math.min(tick, config.helloInterval().toNanos()));
                continue;
            }
            if (s == READY) {
                if (nic.isClosed()) {
                    fail(RpcStatus.CLOSED, "the client's NIC was closed");
                    continue;
                }
                closeHandshakeChannels();
                expire(now);
                if (channel.isClosed()) {
                    CompletionStatus why = channel.closeStatus();
                    fail(why == CompletionStatus.PEER_UNREACHABLE ? RpcStatus.PEER_UNREACHABLE : RpcStatus.CLOSED,
                            "channel to the server closed: " + why + " (" + channel.closeDetail() + ")");
                    continue;
                }
                LockSupport.parkNanos(tick);
                continue;
            }
            if (s == FAILED && !endpoint.isClosed()) {
                endpoint.close(); // pending sends and posted buffers complete CLOSED; pins released
            }
            return;
        }
    }

    private synchronized void sendHello() {
        if (state == CONNECTING && !hello.isClosed()) {
            endpoint.send(hello, helloMessage, 0, helloLength, SendPath.PINNED, HELLO_COOKIE);
        }
    }

    /** Timer thread, holding no monitor: closing takes the NIC's engine lock, which upcalls hold before ours. */
    private void closeHandshakeChannels() {
        if (!hello.isClosed()) {
            hello.close();
        }
        if (!listening.isClosed()) {
            listening.close();
        }
    }

    private synchronized void expire(long now) {
        for (int slot = 0; slot < calls.length; slot++) {
            Call call = calls[slot];
            if (!call.active || call.abandoned) {
                continue;
            }
            if (call.future.isCancelled()) {
                call.abandoned = true;
            } else if (now - call.deadline > 0) {
                finish(call, null, new RpcException(RpcStatus.TIMEOUT, "no response within " + config.timeout()));
            }
            maybeRelease(call, slot);
        }
    }

    /**
     * Fails the calls still waiting with CLOSED, closes the channel in order (requests in flight
     * are delivered first; up to a second), then the endpoint: every pin it held is released.
     */
    @Override
    public void close() {
        boolean wasReady;
        synchronized (this) {
            if (state == CLOSED) {
                return;
            }
            wasReady = state == READY;
            state = CLOSED;
            for (int slot = 0; slot < calls.length; slot++) {
                Call call = calls[slot];
                if (call.active && !call.abandoned) {
                    finish(call, null, new RpcException(RpcStatus.CLOSED, "the client was closed"));
                }
            }
        }
        if (wasReady && !channel.isClosed() && !nic.isClosed()) {
            channel.close(); // outside our monitor: it takes the engine lock (lock order: engine, then this)
        }
        connected.completeExceptionally(new RpcException(RpcStatus.CLOSED, "the client was closed"));
        long deadline = System.nanoTime() + Duration.ofSeconds(1).toNanos();
        while (!channel.isClosed() && channel.isConnected() && !nic.isClosed() && System.nanoTime() - deadline < 0) {
            if (nic.config().progressMode() == ProgressMode.CALLER) {
                nic.progress();
            } else {
                LockSupport.parkNanos(100_000);
            }
        }
        LockSupport.unpark(timer);
        endpoint.close();
        try {
            timer.join(1000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public String toString() {
        return "RpcClient[" + channel + " state=" + state + " inFlight=" + inFlight() + "]";
    }
}
