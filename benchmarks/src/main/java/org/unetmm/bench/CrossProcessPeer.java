package org.unetmm.bench;

import java.nio.ByteBuffer;
import java.time.Duration;
import org.HdrHistogram.Histogram;
import org.unetmm.Channel;
import org.unetmm.ChannelAddress;
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
import org.unetmm.tlb.TlbConfig;
import org.unetmm.tlb.TlbStats;

/**
 * unetmm between two processes as a peer of the cross-process compare: this JVM's NIC on
 * {@code wire} sends, a NIC in the {@link ChildJvm} ({@link CrossProcessChild}, on
 * {@code childWire}) receives, both driven by their callers ({@link ProgressMode#CALLER}).
 *
 * <pre>
 *  this JVM (the calling thread)                  the receiving JVM (its main thread)
 *    client: pings and the stream, on path  ───▶    server: posted buffers of the message size;
 *            echoes into {@code reply}      ◀───            echoes a ping from where it arrived
 *    acks:   the stream's count (8 B)       ◀───    acker:  the count every {@code every} messages
 * </pre>
 *
 * Throughput is the count the receiver acknowledged while the stream was measured: what was
 * delivered, not what was sent. Over udp the window is the udp compare's ({@link UdpPeer.Window});
 * over shm it is planned against both processes' pin budgets ({@link ShmStreamPlan}, the budgets
 * the receiving JVM and this one report), sending from as many sources as messages may be in
 * flight and the receiver posting as many buffers. The TLB and pin figures are the sending NIC's. A receiving JVM that dies fails the
 * measurement within {@link ChildJvm#CHECK_NANOS} (every wait here looks at it).
 */
final class CrossProcessPeer implements UdpPeer {
    private static final int MAX_SOURCES = 256;
    private static final int SOURCE_BYTES = 1 << 20;
    private static final long PING = -1;
    private static final long REPLY = -2;
    private static final long DRAIN_NANOS = 10_000_000_000L;
    private static final Duration ANSWER = Duration.ofSeconds(30);

    private final String label;
    private final SendPath path;
    private final String wire;
    private final String childWire;
    private final TlbConfig tlb;
    private final ChildJvm child;
    private int size;
    private Nic nic;
    private Endpoint client;
    private Endpoint acks;
    private Channel clientOut;
    private BufferPool sources;
    private int[] freeSources = new int[0];
    private int freeCount;
    private NativeBuffer reply;
    private AckBuffers ackBuffers;
    private boolean replyPosted;
    private boolean pingSent;
    private long answeredAt;
    private long sequence = FIRST_SEQUENCE;
    private long expected;
    private long acked;
    private Window window;
    private ShmStreamPlan plan;
    private final java.util.Set<String> planNotes = new java.util.LinkedHashSet<>();
    private final CompletionHandler clientSide = this::onClient;
    private final CompletionHandler ackSide = this::onAck;

    /** {@code wire}: this NIC's transport URI; {@code childWire}: the receiving NIC's. */
    CrossProcessPeer(String label, SendPath path, String wire, String childWire, TlbConfig tlb, ChildJvm child) {
        this.label = label;
        this.path = path;
        this.wire = wire;
        this.childWire = childWire;
        this.tlb = tlb;
        this.child = child;
    }

    @Override
    public String name() {
        return label;
    }

    @Override
    public void open(int messageSize) {
        size = messageSize;
        try {
            int targets = 2 * Window.forSize(size).messages();
            int sourceCount = (int) Math.max(1, Math.min(MAX_SOURCES, SOURCE_BYTES / Math.max(1L, size)));
            int segment = path == SendPath.FIXED_SEGMENT ? (int) Math.max(256L << 10, 2L * size) : 0;
            plan = null;
            if (wire.startsWith(ShmCompareRun.SCHEME)) {
                long childBudget = Long.parseLong(child.request("budget", "budget ", ANSWER).split(" ")[1]);
                plan = ShmStreamPlan.plan(path, size, PinBudget.fromProcess().bytes(), childBudget);
                if (plan.note() != null) {
                    planNotes.add(size + " B: " + plan.note());
                }
                targets = plan.receiveBuffers();
                sourceCount = plan.messages();
                segment = plan.senderSegment();
            }
            nic = Nic.open(NicConfig.builder().transport(wire).tlb(tlb.sets(), tlb.ways(), tlb.policy()).seed(tlb.seed())
                    .progressMode(ProgressMode.CALLER).build());
            // every source in flight comes back as a send completion: room for all of them, or the rest overflow
            client = nic.openEndpoint(EndpointConfig.builder().segmentBytes(segment)
                    .completionQueue(Math.max(1024, sourceCount + 64)).build());
            acks = nic.openEndpoint(EndpointConfig.builder().segmentBytes(0).build());
            clientOut = client.openChannel();
            Channel ackChannel = acks.openChannel();
            sources = BufferPool.filled(size, sourceCount);
            freeSources = new int[sourceCount];
            for (int i = 0; i < sourceCount; i++) {
                freeSources[i] = i;
            }
            freeCount = sourceCount;
            reply = NativeMemory.allocate(Math.max(1, size));
            ackBuffers = new AckBuffers(acks);
            replyPosted = false;
            String[] ready = child.request(String.join(" ", "unetmm", childWire, path.name(), Integer.toString(size),
                    Integer.toString(targets), clientOut.address().toString(), ackChannel.address().toString()), "ready ", ANSWER)
                    .split(" ");
            clientOut.connect(ChannelAddress.parse(ready[1]));
            ackChannel.connect(ChannelAddress.parse(ready[2]));
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    /** The shm stream's plan for the size {@link #open} was given; null over udp or before open. */
    ShmStreamPlan plan() {
        return plan;
    }

    /** What the pin budgets did to the shm stream's plans so far, one line per size they shaped. */
    java.util.Set<String> planNotes() {
        return planNotes;
    }

    private void onClient(Completion c) {
        if (c.kind() == Completion.Kind.SEND) {
            if (!c.isSuccess() && c.status() != CompletionStatus.CLOSED) {
                throw new IllegalStateException(label + ": a send to the receiving JVM failed: " + c.status() + " " + c.detail());
            }
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
        } else if (c.status() != CompletionStatus.CLOSED) {
            postReply(); // a late answer to an earlier ping
        }
    }

    private void postReply() {
        client.postReceive(reply.buffer(), 0, size, REPLY);
        replyPosted = true;
    }

    private void onAck(Completion c) {
        long count = ackBuffers.taken(c);
        if (count >= 0) {
            acked = Math.max(acked, count);
            if (window != null) {
                window.acknowledged(count);
            }
        }
    }

    /** One turn of this side: progress, completions of both endpoints, a look at the receiving JVM. */
    private int turn() {
        int work = nic.progress();
        work += client.poll(clientSide, 64);
        work += acks.poll(ackSide, 64);
        child.check();
        return work;
    }

    @Override
    public long pingPong(Span warmup, Span measure, Histogram rtt) throws Exception {
        child.request("echo", "ok", ANSWER);
        return UdpPeer.roundTrips(warmup, measure, rtt, this::roundTrip);
    }

    private long roundTrip() {
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
            throw new IllegalStateException(label + ": a ping was not accepted with nothing else in flight: " + status);
        }
        IdleTurns idle = new IdleTurns();
        while (answeredAt == 0 || !pingSent) {
            idle.after(turn());
            if (answeredAt == 0 && System.nanoTime() - start > UdpPeer.lossTimeoutNanos(size)) {
                awaitSends(() -> pingSent);
                return -1;
            }
        }
        return answeredAt - start;
    }

    private void awaitSends(java.util.function.BooleanSupplier done) {
        long start = System.nanoTime();
        while (!done.getAsBoolean()) {
            turn();
            if (System.nanoTime() - start > DRAIN_NANOS) {
                throw new IllegalStateException(label + ": sends to the receiving JVM did not complete in 10 s");
            }
        }
    }

    @Override
    public StreamResult stream(long warmupMillis, long millis) {
        window = plan != null ? plan.window() : Window.forSize(size);
        acked = 0;
        ackBuffers.postAll();
        child.request("sink " + window.ackEvery(), "ok", ANSWER);
        try {
            long start = System.nanoTime() + warmupMillis * 1_000_000L;
            long end = start + millis * 1_000_000L;
            long atStart = -1;
            long startedAt = start;
            TlbStats tlbBefore = null;
            PinStats pinsBefore = null;
            long now;
            IdleTurns idle = new IdleTurns();
            while ((now = System.nanoTime()) - end < 0) {
                if (atStart < 0 && now - start >= 0) {
                    tlbBefore = nic.stats().tlb();
                    pinsBefore = nic.stats().pins();
                    atStart = acked;
                    startedAt = System.nanoTime();
                }
                int work = 0;
                while (freeCount > 0 && window.mayPush()) { // what the window allows, then one progress round
                    int buffer = freeSources[--freeCount];
                    if (client.send(clientOut, sources.get(buffer), 0, size, path, buffer).isAccepted()) {
                        window.pushed();
                        work++;
                    } else {
                        freeSources[freeCount++] = buffer; // the segment or the send queue is full: try again
                        break;
                    }
                }
                idle.after(work + turn());
            }
            long delivered = atStart < 0 ? 0 : acked - atStart;
            double seconds = (System.nanoTime() - startedAt) / 1e9;
            if (tlbBefore == null) {
                return new StreamResult(0, millis / 1e3, window.stalls, Double.NaN, Double.NaN);
            }
            TlbStats tlbAfter = nic.stats().tlb();
            long hits = tlbAfter.hits() - tlbBefore.hits();
            long lookups = hits + tlbAfter.misses() - tlbBefore.misses();
            long pins = nic.stats().pins().lockCalls() - pinsBefore.lockCalls();
            awaitSends(() -> freeCount == sources.count());
            return new StreamResult(delivered, seconds, window.stalls, lookups == 0 ? 1.0 : (double) hits / lookups,
                    (double) pins / Math.max(1, delivered));
        } finally {
            window = null;
        }
    }

    @Override
    public void close() {
        try {
            if (nic != null && child.isAlive()) {
                child.request("close", "closed", ANSWER); // the receiver first: its NIC leaves the pair region cleanly
            }
        } finally {
            if (nic != null) {
                nic.close();
            }
            nic = null;
            for (BufferPool pool : new BufferPool[] {sources}) {
                if (pool != null) {
                    pool.close();
                }
            }
            if (reply != null) {
                reply.close();
            }
            sources = null;
            reply = null;
            if (ackBuffers != null) {
                ackBuffers.close();
            }
            ackBuffers = null;
        }
    }
}
