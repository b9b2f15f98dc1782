package org.unetmm.rpc;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.locks.LockSupport;
import org.unetmm.Channel;
import org.unetmm.ChannelAddress;
import org.unetmm.ClosedException;
import org.unetmm.Completion;
import org.unetmm.CompletionStatus;
import org.unetmm.Endpoint;
import org.unetmm.EndpointConfig;
import org.unetmm.Nic;
import org.unetmm.ProgressMode;
import org.unetmm.SendPath;
import org.unetmm.SendStatus;
import org.unetmm.internal.Counters;
import org.unetmm.rpc.internal.BufferSlab;
import org.unetmm.rpc.internal.RpcWire;
import org.unetmm.rpc.internal.SendWindow;

/**
 * Serves RPCs on one endpoint of a {@link Nic}: handlers registered by method id, a reliable
 * channel per client, zero copies of request or reply bytes in Java.
 *
 * <p><b>The path of a request.</b> The server posts twice {@code requestBuffers} receive buffers
 * at start (below). A request (16-byte header, then payload; see {@link RpcWire}) lands in one of them,
 * written there by the NIC; its handler gets an {@link RpcRequest} view of it, no copy. The handler
 * replies from the buffer the server lends it or from a direct buffer of its own, and the reply
 * (header gathered in front) leaves on the pinned path: the NIC reads the handler's bytes as it
 * transmits. The request buffer stays lent to the handler until its reply has been acknowledged
 * by the client (so a reply may be sent straight out of it), then it is posted again. The
 * acknowledgement rides on the client's next call, which arrives while the buffer it frees is
 * still lent: with only {@code requestBuffers} posted, a client keeping that many calls in flight
 * found none for every next call, was refused (receiver not ready) and resent all it had in flight,
 * about a thousand calls a second. Twice as many posted, clients with {@code requestBuffers} calls
 * in flight between them are never refused: at most that many requests held, and at most that many
 * buffers lent to replies whose acknowledgement is still on its way.
 *
 * <p><b>Threading.</b> Everything runs in the endpoint's completion upcalls, on the NIC's
 * progress thread: no thread of its own, no lock. Handlers run there too, one at a time, and
 * replies leave in request order. {@link #register} may be called from any thread at any time.
 *
 * <p><b>Clients</b> connect through the listening channel whose address {@link #address()} gives
 * (HELLO/WELCOME, see {@link RpcWire}); each gets a reliable channel of its own. A client whose
 * channel fails (closed, or PEER_UNREACHABLE) is forgotten; its requests in progress get no reply.
 */
public final class RpcServer implements AutoCloseable {
    /** Send cookies at and above this are WELCOME messages, not replies. */
    private static final long WELCOME_COOKIE = 1L << 40;

    private final Nic nic;
    private final RpcServerConfig config;
    private final Endpoint endpoint;
    private final Channel listening;
    private final Reply[] replies;
    private volatile RpcHandler[] handlers;
    private final Map<ChannelAddress, Client> clients = new HashMap<>();
    private final Map<Long, Client> welcomes = new HashMap<>();
    private final RpcRequest request = new RpcRequest();
    private final RpcResponse response;
    private final ByteBuffer[] gather = new ByteBuffer[2];
    private final int[] gatherOffsets = new int[2];
    private final int[] gatherLengths = new int[2];
    private long welcomeCookies = WELCOME_COOKIE;
    private volatile boolean closing;

    // counters: written in the completion upcalls (one at a time, on the NIC's progress thread), read anywhere
    private static final int SERVED = 0;
    private static final int FAILED = 1;
    private static final int MALFORMED = 2;
    private final Counters counters = new Counters(3);

    /** A request buffer and what its reply needs: header, lent buffer. */
    private static final class Reply {
        final ByteBuffer request;
        final ByteBuffer header = ByteBuffer.allocateDirect(RpcWire.HEADER_LENGTH).order(ByteOrder.LITTLE_ENDIAN);
        ByteBuffer lent;

        Reply(ByteBuffer request) {
            this.request = request;
        }
    }

    /**
     * WELCOMEs that may be on their way at once, each from a buffer of one small pool: a buffer per
     * client (pinned for its send, then left to the garbage collector) had kept about half a page
     * pinned for every client the server ever served (12 pages over 40 clients). A HELLO that finds
     * every buffer busy is answered when the client repeats it.
     */
    private static final int WELCOME_BUFFERS = 16;
    private final ByteBuffer[] welcomeBuffers = BufferSlab.carve(WELCOME_BUFFERS, RpcWire.HANDSHAKE_CAPACITY);
    private final int[] freeWelcomes = new int[WELCOME_BUFFERS];
    private int freeWelcomeCount;

    /** A connected client: the server's reliable channel to it. */
    private static final class Client {
        final Channel channel;
        /** The WELCOME buffer its answer is being sent from, or -1. */
        int welcomeBuffer = -1;
        Channel welcomeChannel;
        long nonce;

        Client(Channel channel) {
            this.channel = channel;
        }
    }

    private RpcServer(Nic nic, RpcServerConfig config) {
        this.nic = nic;
        this.config = config;
        this.handlers = new RpcHandler[config.maxMethods()];
        this.response = new RpcResponse(config.maxResponse());
        // twice the requests held: a request's buffer stays lent until its reply is acknowledged, and the
        // client's next call, which carries that acknowledgement, must find a buffer of its own
        int buffers = 2 * config.requestBuffers();
        this.endpoint = nic.openEndpoint(EndpointConfig.builder().sendQueue(buffers + 64).freeQueue(buffers)
                .completionQueue(64).segmentBytes(0).maxScatter(2).build());
        this.replies = new Reply[buffers];
        for (int i = 0; i < WELCOME_BUFFERS; i++) {
            freeWelcomes[freeWelcomeCount++] = i;
        }
        // one slab, laid out so the buffers' translations do not evict each other in the NIC's TLB
        ByteBuffer[] requests = BufferSlab.carve(buffers, RpcWire.HEADER_LENGTH
                + Math.max(config.maxRequest(), RpcWire.HANDSHAKE_CAPACITY));
        for (int i = 0; i < buffers; i++) {
            replies[i] = new Reply(requests[i]);
        }
        endpoint.onCompletion(this::onCompletion);
        this.listening = endpoint.openChannel();
        for (int i = 0; i < buffers; i++) {
            endpoint.postReceive(replies[i].request, i);
        }
    }

    /**
     * A server on a new endpoint of {@code nic}, listening at {@link #address()}.
     *
     * @param nic    the NIC to serve on; someone must drive its progress
     * @param config the server's settings
     * @return the server; the caller closes it
     */
    public static RpcServer open(Nic nic, RpcServerConfig config) {
        return new RpcServer(nic, config);
    }

    /**
     * A server with {@link RpcServerConfig#defaults()}.
     *
     * @param nic the NIC to serve on
     * @return the server; the caller closes it
     */
    public static RpcServer open(Nic nic) {
        return open(nic, RpcServerConfig.defaults());
    }

    /** {@return where clients connect: the listening channel's address (e.g. {@code udp://198.18.0.1:7000/1})} */
    public ChannelAddress address() {
        return listening.address();
    }

    /**
     * Serves {@code method} with {@code handler} from now on (replacing any before it).
     *
     * @param method  a method id, 0 to {@code maxMethods - 1}
     * @param handler serves it, on the progress thread
     * @return this server
     * @throws IllegalArgumentException if {@code method} is outside 0 to {@code maxMethods - 1}
     */
    public RpcServer register(int method, RpcHandler handler) {
        if (method < 0 || method >= config.maxMethods()) {
            throw new IllegalArgumentException("method id " + method + " is outside 0.." + (config.maxMethods() - 1)
                    + ": raise RpcServerConfig.maxMethods");
        }
        synchronized (this) {
            RpcHandler[] next = handlers.clone();
            next[method] = handler;
            handlers = next;
        }
        return this;
    }

    /** {@return the settings it was opened with} */
    public RpcServerConfig config() {
        return config;
    }

    /** {@return the endpoint it opened on its NIC, and owns} */
    public Endpoint endpoint() {
        return endpoint;
    }

    /** {@return requests answered (successfully or with an error status)} */
    public long served() {
        return counters.get(SERVED);
    }

    /** {@return requests answered with an error status} */
    public long failed() {
        return counters.get(FAILED);
    }

    /** {@return messages that were not a request (too short) and were dropped} */
    public long malformed() {
        return counters.get(MALFORMED);
    }

    /** {@return clients whose channel is open} */
    public synchronized int clients() {
        int open = 0;
        for (Client c : clients.values()) {
            if (!c.channel.isClosed()) {
                open++;
            }
        }
        return open;
    }

    // ---- the progress thread ----------------------------------------------------------------

    private void onCompletion(Completion c) {
        if (c.kind() == Completion.Kind.SEND) {
            onSent(c);
        } else {
            onReceived(c);
        }
    }

    private void onSent(Completion c) {
        long cookie = c.cookie();
        if (cookie >= WELCOME_COOKIE) {
            welcomeDone(cookie);
            return;
        }
        // the reply is acknowledged (or its channel failed): the request buffer is ours again
        repost((int) cookie);
    }

    private void repost(int slot) {
        if (!closing && !endpoint.isClosed()) {
            endpoint.postReceive(replies[slot].request, slot);
        }
    }

    private void onReceived(Completion c) {
        int slot = (int) c.cookie();
        CompletionStatus status = c.status();
        if (status == CompletionStatus.CLOSED && (closing || endpoint.isClosed())) {
            return;
        }
        if (status != CompletionStatus.OK && status != CompletionStatus.TRUNCATED) {
            repost(slot); // the message was lost with its channel (PEER_UNREACHABLE, CLOSED, PIN_FAILED)
            return;
        }
        if (c.channel() == listening) {
            hello(c);
            repost(slot);
            return;
        }
        serve(slot, c);
    }

    private void serve(int slot, Completion c) {
        if (c.length() < RpcWire.HEADER_LENGTH) {
            counters.increment(MALFORMED);
            repost(slot);
            return;
        }
        Reply reply = replies[slot];
        ByteBuffer buffer = c.buffer();
        long id = RpcWire.id(buffer, c.offset());
        int method = RpcWire.word(buffer, c.offset());
        int status = 0;
        response.reset(lent(reply));
        if (c.status() == CompletionStatus.TRUNCATED) {
            status = RpcStatus.REQUEST_TOO_LARGE.wire();
        } else {
            RpcHandler[] table = handlers;
            RpcHandler handler = method >= 0 && method < table.length ? table[method] : null;
            if (handler == null) {
                status = RpcStatus.NO_SUCH_METHOD.wire();
            } else {
                request.buffer = buffer;
                request.offset = c.offset() + RpcWire.HEADER_LENGTH;
                request.length = c.length() - RpcWire.HEADER_LENGTH;
                request.method = method;
                request.id = id;
                try {
                    handler.handle(request, response);
                    if (!response.isSent()) {
                        status = RpcStatus.NO_REPLY.wire();
                    } else if (response.kind == RpcResponse.FAILED) {
                        status = response.code;
                    }
                } catch (RuntimeException | Error e) {
                    status = RpcStatus.HANDLER_FAILED.wire();
                } finally {
                    request.buffer = null;
                }
            }
        }
        RpcWire.writeHeader(reply.header, id, status);
        gather[0] = reply.header;
        gatherOffsets[0] = 0;
        gatherLengths[0] = RpcWire.HEADER_LENGTH;
        int count = 1;
        if (status == 0) {
            if (response.kind == RpcResponse.LENT) {
                gather[1] = reply.lent;
                gatherOffsets[1] = 0;
            } else {
                gather[1] = response.own;
                gatherOffsets[1] = response.offset;
            }
            gatherLengths[1] = response.length;
            count = 2;
        } else {
            counters.increment(FAILED);
        }
        response.reset(null);
        SendStatus sent;
        try {
            sent = endpoint.sendGather(c.channel(), gather, gatherOffsets, gatherLengths, count, SendPath.PINNED, slot);
        } catch (ClosedException e) {
            sent = null; // the client's channel closed meanwhile: no one to answer
        } finally {
            gather[0] = null;
            gather[1] = null;
        }
        if (sent != SendStatus.ACCEPTED) {
            repost(slot); // the send queue holds requestBuffers + 64 replies, so only a closed channel lands here
            return;
        }
        counters.increment(SERVED);
    }

    private ByteBuffer lent(Reply reply) {
        if (reply.lent == null) {
            reply.lent = ByteBuffer.allocateDirect(Math.max(1, config.maxResponse()));
        }
        return reply.lent;
    }

    /** A client's HELLO: connect a reliable channel to it (once per client channel) and answer WELCOME. */
    private void hello(Completion c) {
        RpcWire.Handshake hello = RpcWire.readHandshake(c.buffer(), c.offset(), c.length());
        if (hello == null || hello.magic() != RpcWire.HELLO_MAGIC || closing) {
            counters.increment(MALFORMED);
            return;
        }
        Client client;
        long cookie;
        synchronized (this) {
            client = clients.get(hello.first());
            if (client != null && client.channel.isClosed()) {
                clients.remove(hello.first());
                client = null;
            }
            if (client == null) {
                Channel channel = endpoint.openChannel(SendWindow.covering(config.channel(), replies.length));
                try {
                    channel.connect(hello.first());
                } catch (IllegalArgumentException e) {
                    channel.close();
                    counters.increment(MALFORMED);
                    return;
                }
                client = new Client(channel);
                clients.put(hello.first(), client);
            }
            if (client.welcomeBuffer >= 0 || freeWelcomeCount == 0) {
                return; // a WELCOME is on its way, or every buffer is: the client repeats HELLO until one arrives
            }
            client.welcomeBuffer = freeWelcomes[--freeWelcomeCount];
            client.nonce = hello.nonce();
            cookie = welcomeCookies++;
            welcomes.put(cookie, client);
        }
        ByteBuffer welcome = welcomeBuffers[client.welcomeBuffer];
        int length = RpcWire.writeHandshake(welcome, RpcWire.WELCOME_MAGIC, hello.nonce(), client.channel.address(), null);
        try {
            client.welcomeChannel = endpoint.connect(hello.second());
            if (!endpoint.send(client.welcomeChannel, welcome, 0, length, SendPath.PINNED, cookie).isAccepted()) {
                welcomeDone(cookie); // the send queue is full: the client's next HELLO tries again
            }
        } catch (IllegalArgumentException e) {
            counters.increment(MALFORMED);
            welcomeDone(cookie);
        }
    }

    /** A WELCOME was sent, or could not be: its buffer is free again and its one-shot channel closed. */
    private void welcomeDone(long cookie) {
        Client client;
        synchronized (this) {
            client = welcomes.remove(cookie);
            if (client == null) {
                return;
            }
            freeWelcomes[freeWelcomeCount++] = client.welcomeBuffer;
            client.welcomeBuffer = -1;
        }
        if (client.welcomeChannel != null && !closing) {
            client.welcomeChannel.close();
        }
        client.welcomeChannel = null;
    }

    /**
     * Closes the client channels in order (their replies in flight are delivered first), waits up
     * to {@code closeTimeout} for them, then closes the endpoint: pending operations complete
     * CLOSED and every pin it held is released.
     */
    @Override
    public void close() {
        if (closing) {
            return;
        }
        List<Channel> open = new ArrayList<>();
        synchronized (this) {
            for (Client c : clients.values()) {
                if (!c.channel.isClosed()) {
                    open.add(c.channel);
                }
            }
        }
        for (Channel channel : open) {
            try {
                channel.close();
            } catch (RuntimeException e) {
                // the NIC closed under us: nothing to drain
            }
        }
        long deadline = System.nanoTime() + config.closeTimeout().toNanos();
        while (System.nanoTime() - deadline < 0 && open.stream().anyMatch(ch -> !ch.isClosed()) && !nic.isClosed()) {
            if (nic.config().progressMode() == ProgressMode.CALLER) {
                nic.progress();
            } else {
                LockSupport.parkNanos(100_000);
            }
        }
        closing = true;
        endpoint.close();
    }
}
