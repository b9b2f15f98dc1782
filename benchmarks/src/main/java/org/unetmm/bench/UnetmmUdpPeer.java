package org.unetmm.bench;

import java.nio.ByteBuffer;
import java.util.concurrent.atomic.AtomicLong;
import org.HdrHistogram.Histogram;
import org.unetmm.Channel;
import org.unetmm.Completion;
import org.unetmm.CompletionHandler;
import org.unetmm.CompletionStatus;
import org.unetmm.Endpoint;
import org.unetmm.EndpointConfig;
import org.unetmm.Nic;
import org.unetmm.NicConfig;
import org.unetmm.ProgressMode;
import org.unetmm.SendPath;
import org.unetmm.SendStatus;
import org.unetmm.pinning.NativeBuffer;
import org.unetmm.pinning.NativeMemory;
import org.unetmm.pinning.PinBudget;
import org.unetmm.pinning.PinStats;
import org.unetmm.tlb.ReplacementPolicy;
import org.unetmm.tlb.TlbConfig;
import org.unetmm.tlb.TlbStats;

/**
 * unetmm over its udp wire as a peer, for messages of one size up to 4 MiB (the NIC fragments
 * them): two NICs on one local host, each driven by its own thread ({@link ProgressMode#CALLER}:
 * no NIC thread), one channel between them, both ends on one send path.
 *
 * <pre>
 *  left NIC (the calling thread)              right NIC (a {@link UdpPeer.Side} thread)
 *    client: sends pings and the stream  ───▶   server: receives into posted buffers, echoes pings
 *            receives echoes into reply  ◀───           from the buffer they arrived in
 *    acks:   receives stream acks        ◀───   acker:  sends the receive count (fixed segment, 8 B)
 * </pre>
 *
 * Acknowledgements have endpoints of their own, so their receive buffer is never taken by an echo
 * (posted buffers are per endpoint, first in first out). Every posted buffer is exactly the
 * message size, so posting translates just the pages a message fills, and a slice of one
 * {@link BufferPool} per side, as an application's pool is: 4,096 posted 64-byte buffers span 64
 * pages, not 4,096 (a page each had made every small message a TLB walk and a cache miss).
 *
 * <p><b>Working set and pin budget.</b> The stream window holds {@link Window#BYTES} (2 MiB; 256
 * messages up to 8 KiB, 2,048 of 64 B, 32 of 64 KiB, one of 4 MiB); the server posts twice the window (one buffer
 * when the window is one message: a message that lost a fragment gives its buffer to the next), the
 * client streams from at most 256 buffers and at most 1 MiB of them, queueing what the window allows
 * before each progress round (so the wire packs them into datagrams and one sendmmsg). The TLB asked for is grown (more sets) until
 * either NIC's working set fits twice over, so the hit rate measures the TLB at its working size.
 * Both NICs pin from one process: under a bounded RLIMIT_MEMLOCK each gets half of it, the fixed
 * segment is one message (pinned whole, on both NICs, for the echo) and must fit in that half
 * beside {@link #SEGMENT_MARGIN} ({@link #unavailable} says when it does not: 4 MiB under the usual
 * 8 MiB), and the buffer counts shrink to what fits beside it (the window to half the posted
 * buffers). What still does not fit (a 4 MiB message is a whole half) is pinned page by page and
 * unpinned again: slower, and the pins per message say so.
 */
final class UnetmmUdpPeer implements UdpPeer {
    private static final long PAGE = NativeMemory.pageSize();
    private static final int MAX_SOURCES = 256;
    private static final int SOURCE_BYTES = 1 << 20;
    /** Pinned room a NIC keeps beside its fixed segment under a bounded budget, for the pages it receives into. */
    private static final long SEGMENT_MARGIN = 512 << 10;
    /** Pinned room kept beside posted and send buffers under a bounded budget: acknowledgements, the ack segment. */
    private static final long BUFFER_MARGIN = 64 << 10;
    private static final long PING = -1;
    private static final long REPLY = -2;
    private static final long ACK = -3;
    private static final long DRAIN_NANOS = 10_000_000_000L;
    private static final TlbConfig DEFAULT_TLB = new TlbConfig(1024, 4, ReplacementPolicy.LRU, TlbConfig.DEFAULT_SEED);

    private final SendPath path;
    private final String transport;
    private final TlbConfig tlbAsked;
    private int size;
    private Nic left;
    private Nic right;
    private Endpoint client;
    private Endpoint acks;
    private Endpoint server;
    private Endpoint acker;
    private Channel clientOut;
    private Channel serverOut;
    private Channel ackerOut;
    private BufferPool sources;
    private BufferPool targets;
    private boolean[] posted;
    private NativeBuffer reply;
    private AckBuffers ackBuffers;
    private NativeBuffer ackOut;
    private String tlbShape = "";
    /** Stream messages in flight at most: {@link Window#forSize}, or fewer where fewer buffers could be posted. */
    private int streamWindow;
    // the client's side (calling thread)
    private long sequence = FIRST_SEQUENCE;
    private long expected;
    private long answeredAt;
    private boolean pingSent;
    private boolean replyPosted;
    private boolean pinging;
    private int[] freeSources = new int[0];
    private int freeCount;
    private Window window;
    // the server's side (its Side thread while one runs; set before it starts)
    private boolean streaming;
    private int ackEvery;
    private final AtomicLong received = new AtomicLong();

    UnetmmUdpPeer(SendPath path, String transport) {
        this(path, transport, DEFAULT_TLB);
    }

    /** {@code tlb}: the TLB asked for; it gets more sets where the working set would not fit twice over. */
    UnetmmUdpPeer(SendPath path, String transport, TlbConfig tlb) {
        this.path = path;
        this.transport = transport;
        this.tlbAsked = tlb;
    }

    @Override
    public String name() {
        return path == SendPath.PINNED ? "unetmm pinned" : "unetmm fixed";
    }

    /** Each NIC's pin budget: the process's (RLIMIT_MEMLOCK for an ordinary user) halved, as both pin from it. */
    static PinBudget nicBudget() {
        PinBudget process = PinBudget.fromProcess();
        return process.isUnlimited() ? process : PinBudget.ofBytes(process.bytes() / 2);
    }

    /**
     * The fixed segment for {@code size}-byte messages: two of them (256 KiB at least) without a pin
     * bound; one (64 KiB at least) under one, leaving room for posted buffers; -1 if that does not fit.
     */
    static int segmentBytes(int size, PinBudget budget) {
        if (budget.isUnlimited()) {
            return (int) Math.max(256L << 10, 2L * size);
        }
        long tight = Math.max(64L << 10, size);
        return tight + SEGMENT_MARGIN <= budget.bytes() ? (int) tight : -1;
    }

    /** Why this peer cannot run with {@code size}-byte messages in this process, or null when it can. */
    String unavailable(int size) {
        if (path != SendPath.FIXED_SEGMENT) {
            return null;
        }
        PinBudget budget = nicBudget();
        return segmentBytes(size, budget) >= 0 ? null : "its segment (pinned whole on both NICs) must hold a message,"
                + " and each NIC may pin half of RLIMIT_MEMLOCK (" + budget.bytes() + " B); raise ulimit -l or run with"
                + " CAP_IPC_LOCK";
    }

    /** How many buffers of what size each NIC gets, and the stream window they allow. */
    private record Plan(int segment, int sources, int targets, int window, long leftPinned, long rightPinned) {
    }

    private Plan plan(int size, PinBudget budget) {
        int segment = path == SendPath.FIXED_SEGMENT ? segmentBytes(size, budget) : 0;
        int windowMessages = Window.forSize(size).messages();
        int sources = (int) Math.max(1, Math.min(Math.min(windowMessages, MAX_SOURCES), SOURCE_BYTES / size));
        int targets = windowMessages == 1 ? 1 : 2 * windowMessages;
        long buffer = BufferPool.stride(size); // buffers are slices of one pool
        if (!budget.isUnlimited()) { // as many buffers as a NIC may keep pinned beside its segment; at least one
            long fit = (budget.bytes() - segment - BUFFER_MARGIN - PAGE) / buffer;
            targets = (int) Math.max(1, Math.min(targets, fit));
            if (path == SendPath.PINNED) {
                sources = (int) Math.max(1, Math.min(sources, fit - 1)); // and the reply buffer
            }
        }
        int window = targets == 1 ? 1 : Math.min(windowMessages, Math.max(1, targets / 2));
        long reply = BufferPool.pinnedBytes(size, 1);
        long left = segment + (path == SendPath.PINNED ? BufferPool.pinnedBytes(size, sources) : 0) + reply + PAGE; // + the acks' page
        long right = segment + BufferPool.pinnedBytes(size, targets) + PAGE; // + the ack segment
        return new Plan(segment, sources, targets, window, left, right);
    }

    /**
     * Says when a NIC's buffers at {@code size} are more than it may keep pinned (a bounded budget
     * only), or null: such a run pins and unpins pages as they are used.
     */
    String overBudget(int size) {
        PinBudget budget = nicBudget();
        if (budget.isUnlimited() || unavailable(size) != null) {
            return null;
        }
        Plan plan = plan(size, budget);
        long most = Math.max(plan.leftPinned(), plan.rightPinned());
        return most <= budget.bytes() ? null : "a NIC's buffers (" + most + " B) are more than it may keep pinned (half of"
                + " RLIMIT_MEMLOCK, " + budget.bytes() + " B): pages are pinned and unpinned as they are used, which is slow,"
                + " and a message the NIC cannot reassemble within its reassembly timeout is lost; raise ulimit -l or run"
                + " with CAP_IPC_LOCK";
    }

    /** The TLB each NIC got, sets × ways. */
    String tlbShape() {
        return tlbShape;
    }

    @Override
    public void open(int messageSize) {
        if (messageSize < 1) {
            throw new IllegalArgumentException("message size must be at least 1 byte, got " + messageSize);
        }
        String why = unavailable(messageSize);
        if (why != null) {
            throw new IllegalStateException(name() + " cannot run with " + messageSize + " B messages: " + why);
        }
        size = messageSize;
        PinBudget budget = nicBudget();
        Plan plan = plan(size, budget);
        int segment = plan.segment();
        int sourceCount = plan.sources();
        int targetCount = plan.targets();
        streamWindow = plan.window();
        long workingPages = Math.max(BufferPool.pinnedBytes(size, sourceCount) + BufferPool.pinnedBytes(size, 1),
                BufferPool.pinnedBytes(size, targetCount)) / PAGE + 1;
        int sets = tlbAsked.sets();
        while ((long) sets * tlbAsked.ways() < 2 * workingPages) {
            sets <<= 1;
        }
        tlbShape = sets + "×" + tlbAsked.ways();
        NicConfig.Builder nic = NicConfig.builder().tlb(sets, tlbAsked.ways(), tlbAsked.policy()).seed(tlbAsked.seed())
                .progressMode(ProgressMode.CALLER).pinBudget(budget)
                // a 4 MiB message under a tight pin budget re-pins every page as it arrives: give it time to finish
                .reassemblyTimeout(java.time.Duration.ofSeconds(2));
        try {
            left = Nic.open(nic.transport(transport).build());
            right = Nic.open(nic.transport(UdpWire.secondNic(transport)).build());
            client = left.openEndpoint(EndpointConfig.builder().segmentBytes(segment).build());
            acks = left.openEndpoint(EndpointConfig.builder().segmentBytes(0).build());
            // every posted buffer comes back as a completion: room for all of them (a full queue drops what arrives)
            server = right.openEndpoint(EndpointConfig.builder().segmentBytes(segment)
                    .freeQueue(Math.max(256, 2 * targetCount)).completionQueue(Math.max(1024, targetCount + 64)).build());
            acker = right.openEndpoint(EndpointConfig.builder().segmentBytes((int) PAGE).build());
            clientOut = client.openChannel();
            serverOut = server.openChannel();
            clientOut.connect(serverOut.address());
            serverOut.connect(clientOut.address());
            Channel ackInChannel = acks.openChannel();
            ackerOut = acker.openChannel();
            ackerOut.connect(ackInChannel.address());
            ackInChannel.connect(ackerOut.address());
            sources = BufferPool.filled(size, sourceCount);
            freeSources = new int[sourceCount];
            for (int i = 0; i < sourceCount; i++) {
                freeSources[i] = i;
            }
            freeCount = sourceCount;
            targets = new BufferPool(size, targetCount);
            posted = new boolean[targetCount];
            reply = NativeMemory.allocate(size);
            ackBuffers = new AckBuffers(acks);
            ackOut = NativeMemory.allocate(8);
            replyPosted = false;
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    private void postTargets() {
        for (int i = 0; i < targets.count(); i++) {
            if (!posted[i]) {
                repost(i);
            }
        }
    }

    private void repost(int i) {
        if (!server.postReceive(targets.get(i), 0, size, i).isPosted()) {
            throw new IllegalStateException("the server's free queue is full: " + targets.count() + " buffers were posted");
        }
        posted[i] = true;
    }

    /** The right NIC's completions: echo a ping from the buffer it arrived in, or count a streamed message. */
    private final CompletionHandler serverSide = this::onServerCompletion;

    private void onServerCompletion(Completion c) {
        int i = (int) c.cookie();
        if (c.status() == CompletionStatus.CLOSED) {
            return;
        }
        if (c.kind() == Completion.Kind.SEND) {
            if (!posted[i]) {
                repost(i); // a pinned echo has left its buffer
            }
            return;
        }
        posted[i] = false;
        if (!c.isSuccess()) {
            repost(i);
        } else if (streaming) {
            repost(i);
            long count = received.get() + 1;
            received.lazySet(count);
            if (count % ackEvery == 0) {
                ackOut.buffer().putLong(0, count);
                acker.send(ackerOut, ackOut.buffer(), 0, 8, SendPath.FIXED_SEGMENT, ACK);
            }
        } else {
            SendStatus echo = server.send(serverOut, c.buffer(), c.offset(), c.length(), path, i);
            if (!echo.isAccepted() || path == SendPath.FIXED_SEGMENT) {
                repost(i); // copied into the segment already, or lost: the client will time out
            }
        }
    }

    private static final CompletionHandler IGNORE = c -> { };

    private UdpPeer.Side startServer(String name) {
        return new Side(name, () -> {
            right.progress();
            server.poll(serverSide, 64);
            acker.poll(IGNORE, 64);
        });
    }

    /** The left NIC's completions on the client endpoint: send buffers coming back, echoes arriving. */
    private final CompletionHandler clientSide = this::onClientCompletion;

    private void onClientCompletion(Completion c) {
        if (c.kind() == Completion.Kind.SEND) {
            if (c.cookie() == PING) {
                pingSent = true;
            } else if (c.cookie() >= 0) {
                freeSources[freeCount++] = (int) c.cookie();
            }
            return;
        }
        replyPosted = false;
        if (c.isSuccess() && (size < 8 || c.buffer().getLong(c.offset()) == expected)) {
            answeredAt = System.nanoTime();
        } else if (pinging && c.status() != CompletionStatus.CLOSED) {
            postReply(); // a late answer to an earlier ping, or what was left of a stream
        }
    }

    private void postReply() {
        client.postReceive(reply.buffer(), 0, size, REPLY);
        replyPosted = true;
    }

    private final CompletionHandler ackSide = this::onAck;

    private void onAck(Completion c) {
        long count = ackBuffers.taken(c);
        if (count >= 0 && window != null) {
            window.acknowledged(count);
        }
    }

    @Override
    public long pingPong(Span warmup, Span measure, Histogram rtt) throws Exception {
        postTargets();
        streaming = false;
        pinging = true;
        try (Side side = startServer("unetmm-echo")) {
            return UdpPeer.roundTrips(warmup, measure, rtt, () -> roundTrip(side));
        } finally {
            pinging = false;
        }
    }

    private long roundTrip(Side side) {
        long ping = ++sequence;
        ByteBuffer out = sources.get(0);
        if (size >= 8) {
            out.putLong(0, ping);
        }
        expected = ping;
        answeredAt = 0;
        pingSent = false;
        if (!replyPosted) {
            postReply();
        }
        long start = System.nanoTime();
        SendStatus status = client.send(clientOut, out, 0, size, path, PING);
        if (!status.isAccepted()) {
            throw new IllegalStateException("a ping was not accepted with nothing else in flight: " + status);
        }
        while (answeredAt == 0 || !pingSent) {
            left.progress();
            client.poll(clientSide, 16);
            side.check();
            long waited = System.nanoTime() - start;
            if (answeredAt == 0 && waited > UdpPeer.lossTimeoutNanos(size)) {
                awaitSends(() -> pingSent);
                return -1;
            }
        }
        return answeredAt - start;
    }

    /** Progresses the left NIC until {@code done}; its sends complete when handed to the wire, so this is short. */
    private void awaitSends(java.util.function.BooleanSupplier done) {
        long start = System.nanoTime();
        while (!done.getAsBoolean()) {
            left.progress();
            client.poll(clientSide, 64);
            acks.poll(ackSide, 64);
            if (System.nanoTime() - start > DRAIN_NANOS) {
                throw new IllegalStateException("sends did not complete in 10 s: the udp wire is stuck");
            }
        }
    }

    @Override
    public StreamResult stream(long warmupMillis, long millis) {
        postTargets();
        window = Window.forSize(size, streamWindow);
        ackEvery = window.ackEvery();
        streaming = true;
        received.set(0);
        ackBuffers.postAll();
        try (Side side = startServer("unetmm-receiver")) {
            long start = System.nanoTime() + warmupMillis * 1_000_000L;
            long end = start + millis * 1_000_000L;
            long atStart = -1;
            long startedAt = start;
            TlbStats[] tlbBefore = null;
            PinStats[] pinsBefore = null;
            long now;
            while ((now = System.nanoTime()) - end < 0) {
                if (atStart < 0 && now - start >= 0) {
                    tlbBefore = new TlbStats[] {left.stats().tlb(), right.stats().tlb()};
                    pinsBefore = new PinStats[] {left.stats().pins(), right.stats().pins()};
                    atStart = received.get();
                    startedAt = System.nanoTime();
                }
                // queue what the window allows, then one progress round: the wire packs them into
                // datagrams and sends them with one sendmmsg, as an application streaming would
                while (freeCount > 0 && window.mayPush()) {
                    int buffer = freeSources[--freeCount];
                    if (client.send(clientOut, sources.get(buffer), 0, size, path, buffer).isAccepted()) {
                        window.pushed();
                    } else {
                        freeSources[freeCount++] = buffer; // the segment or the send queue is full: try again
                        break;
                    }
                }
                left.progress();
                client.poll(clientSide, 64);
                acks.poll(ackSide, 64);
                side.check();
            }
            long delivered = atStart < 0 ? 0 : received.get() - atStart;
            double seconds = (System.nanoTime() - startedAt) / 1e9;
            if (tlbBefore == null) {
                return new StreamResult(0, millis / 1e3, window.stalls, Double.NaN, Double.NaN);
            }
            TlbStats leftTlb = left.stats().tlb();
            TlbStats rightTlb = right.stats().tlb();
            PinStats leftPins = left.stats().pins();
            PinStats rightPins = right.stats().pins();
            long hits = leftTlb.hits() + rightTlb.hits() - tlbBefore[0].hits() - tlbBefore[1].hits();
            long lookups = hits + leftTlb.misses() + rightTlb.misses() - tlbBefore[0].misses() - tlbBefore[1].misses();
            long pins = leftPins.lockCalls() + rightPins.lockCalls() - pinsBefore[0].lockCalls() - pinsBefore[1].lockCalls();
            awaitSends(() -> freeCount == sources.count());
            return new StreamResult(delivered, seconds, window.stalls, lookups == 0 ? 1.0 : (double) hits / lookups,
                    (double) pins / Math.max(1, delivered));
        } finally {
            streaming = false;
            window = null;
        }
    }

    @Override
    public void close() {
        try {
            if (left != null) {
                left.close(); // completes what is still posted: the buffers are ours again
            }
            if (right != null) {
                right.close();
            }
        } finally {
            left = null;
            right = null;
            for (BufferPool pool : new BufferPool[] {sources, targets}) {
                if (pool != null) {
                    pool.close();
                }
            }
            for (NativeBuffer b : new NativeBuffer[] {reply, ackOut}) {
                if (b != null) {
                    b.close();
                }
            }
            sources = null;
            targets = null;
            reply = null;
            if (ackBuffers != null) {
                ackBuffers.close();
            }
            ackBuffers = null;
            ackOut = null;
        }
    }
}
