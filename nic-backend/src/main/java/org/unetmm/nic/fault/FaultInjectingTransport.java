package org.unetmm.nic.fault;

import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Iterator;
import java.util.ServiceLoader;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import org.unetmm.Nic;
import org.unetmm.internal.BufferPayload;
import org.unetmm.internal.Counters;
import org.unetmm.pinning.NativeMemory;
import org.unetmm.spi.FrameHeader;
import org.unetmm.spi.Inbound;
import org.unetmm.spi.TransmitListener;
import org.unetmm.spi.PayloadSource;
import org.unetmm.spi.Transport;
import org.unetmm.spi.TransportFactory;

/**
 * A test tool: a wire that loses, duplicates, reorders, delays and corrupts frames, wrapped
 * around a real one ({@code faulty:<inner uri>#<faults>}, see {@link FaultInjectingTransportFactory}
 * and {@link FaultConfig}). Faults are drawn per transmitted frame from a seeded generator, so a
 * run replays; arriving frames pass through untouched (put the faults on one NIC and both
 * directions of its traffic — data one way, acknowledgements the other — still cross them).
 *
 * <p>A {@link PayloadSource} is valid only during {@code transmit}, so a frame held back (reordered,
 * duplicated, delayed) or corrupted is copied into a buffer of this transport's own; frames sent
 * as they are stay zero-copy. A held frame is sent after its 1..3 successors, after the delay, or
 * (at the latest) one millisecond later from {@link #poll()}, so nothing is stuck when traffic
 * stops. A corrupted frame has one bit flipped: in its payload, or, when it has none, in its ack
 * or message id; the header's geometry (offset, lengths, tags) is left alone, as a wire's own
 * header check (the udp wire's CRC) would have dropped such a frame before any NIC saw it.
 *
 * <p>A delay in progress rounds ({@code delay=3}) holds every frame for that many of the NIC's
 * rounds ({@link #poll()} calls) and keeps data fragments <em>without a copy</em>: it
 * {@linkplain PayloadSource#retain() retains} them, keeps the native pieces the NIC gathered, sends
 * them later straight from the sender's pages, and only then releases them to the NIC
 * ({@link TransmitListener}), whose send completes then. That is the SPI's deferred completion as
 * a batching wire, the shm rendezvous and {@code MSG_ZEROCOPY} use it; {@link #flush()} sends
 * everything held at once. Control frames (the NIC's own reused memory) are copied.
 *
 * <p>A blackout ({@link #blackout}) loses every frame transmitted for a while, as a pulled cable,
 * a stopped peer or a rebooting switch would: the NIC behind it falls silent while frames keep
 * arriving to it. Loss and the other faults apply again afterwards, drawn as before.
 *
 * <p>Threading: as any transport, one NIC thread at a time; {@link #blackout} from any thread.
 */
public final class FaultInjectingTransport implements Transport {
    private static final ConcurrentHashMap<String, FaultInjectingTransport> OPEN = new ConcurrentHashMap<>();
    private static final long BACKSTOP_NANOS = 1_000_000;

    private final Transport inner;
    /** Where fragments this wire delays are released (the NIC's send side). */
    private TransmitListener transmitted;
    private final FaultConfig faults;
    private final SplittableRandom random;
    private final long delayNanos;
    private final ArrayDeque<Held> held = new ArrayDeque<>();
    private final ArrayDeque<Held> spare = new ArrayDeque<>();
    // counters: written by the NIC thread that drives this wire (transmit, poll), read by stats() anywhere
    private static final int FRAMES = 0;
    private static final int DROPPED = 1;
    private static final int DUPLICATED = 2;
    private static final int REORDERED = 3;
    private static final int CORRUPTED = 4;
    private static final int DELAYED = 5;
    private static final int BLACKED_OUT = 6;
    private final Counters counters = new Counters(7);
    /** Frames transmitted before this time (System.nanoTime) are lost; 0 = no blackout. */
    private volatile long blackoutUntil;

    /** A frame held back, with a copy of its payload, or (retained) the native pieces of the sender's. */
    private static final class Held {
        final FrameHeader header = new FrameHeader();
        BufferPayload payload = new BufferPayload(4096);
        final Pieces pieces = new Pieces();
        /** The NIC's token for a retained fragment; {@link PayloadSource#NOT_RETAINABLE} when copied. */
        long token = PayloadSource.NOT_RETAINABLE;
        /** Progress rounds still to wait ({@code delay=N}); -1 = not held by rounds. */
        int rounds = -1;
        Route route;
        /** Frames still to go before this one (0 = due now, or waiting for its time). */
        int after;
        long releaseAt;
        /** Held for the delay: released by time, not by successors. */
        boolean timedOnly;
    }

    /**
     * Wraps {@code inner} in {@code faults}; the fault injector owns the inner wire and closes it.
     *
     * @param inner  the real wire
     * @param faults what to do to its frames
     */
    public FaultInjectingTransport(Transport inner, FaultConfig faults) {
        this.inner = inner;
        this.faults = faults;
        this.random = new SplittableRandom(faults.seed());
        this.delayNanos = faults.delay().toNanos();
        OPEN.put(inner.address(), this);
    }

    /** Opens the wire a {@code faulty:} URI wraps, by its scheme, as the NIC opens any wire. */
    static Transport openInner(String uri) {
        String scheme = uri.substring(0, uri.indexOf(':'));
        for (TransportFactory factory : ServiceLoader.load(TransportFactory.class)) {
            if (factory.scheme().equals(scheme) && !(factory instanceof FaultInjectingTransportFactory)) {
                return factory.open(uri);
            }
        }
        throw new IllegalArgumentException("no transport for '" + uri + "' to wrap in faults");
    }

    /**
     * The fault injector behind {@code nic}, for its statistics.
     *
     * @param nic a NIC opened on a {@code faulty:} URI
     * @return its fault injector
     * @throws IllegalArgumentException if the NIC's wire has no fault injector
     */
    public static FaultInjectingTransport of(Nic nic) {
        FaultInjectingTransport t = OPEN.get(nic.transportAddress());
        if (t == null) {
            throw new IllegalArgumentException("NIC at " + nic.transportAddress() + " has no fault injector: open it with"
                    + " NicConfig transport faulty:<uri>#<faults>");
        }
        return t;
    }

    /** {@return what this injector does to frames} */
    public FaultConfig faults() {
        return faults;
    }

    /** {@return the wire it wraps} */
    public Transport inner() {
        return inner;
    }

    @Override
    public String address() {
        return inner.address();
    }

    @Override
    public int mtu() {
        return inner.mtu();
    }

    @Override
    public void start(Inbound inbound, TransmitListener transmitted) {
        this.transmitted = transmitted;
        inner.start(inbound, transmitted);
    }

    @Override
    public Route route(String remoteAddress) {
        return inner.route(remoteAddress);
    }

    /**
     * Loses every frame transmitted during the next {@code duration} (frames already held are lost
     * too when they come due). Callable from any thread; a new call replaces the old blackout.
     *
     * @param duration how long to lose every frame, zero or more
     */
    public void blackout(Duration duration) {
        if (duration == null || duration.isNegative()) {
            throw new IllegalArgumentException("blackout duration must be >= 0, got " + duration);
        }
        blackoutUntil = duration.isZero() ? 0 : System.nanoTime() + duration.toNanos();
    }

    /** {@return whether a blackout is in force now} */
    public boolean inBlackout() {
        long until = blackoutUntil;
        return until != 0 && System.nanoTime() - until < 0;
    }

    @Override
    public boolean transmit(Route route, FrameHeader header, PayloadSource payload) {
        if (blackoutUntil != 0 && inBlackout()) {
            counters.increment(FRAMES);
            counters.increment(BLACKED_OUT);
            sent();
            return true;
        }
        double x = random.nextDouble();
        if (x < faults.drop()) {
            counters.increment(FRAMES);
            counters.increment(DROPPED);
            sent();
            return true;
        }
        x -= faults.drop();
        if (x < faults.duplicate()) {
            if (!inner.transmit(route, header, payload)) {
                return false;
            }
            counters.increment(FRAMES);
            counters.increment(DUPLICATED);
            hold(route, header, payload, 1 + random.nextInt(3), System.nanoTime() + BACKSTOP_NANOS);
            sent();
            return true;
        }
        x -= faults.duplicate();
        if (x < faults.reorder()) {
            counters.increment(FRAMES);
            counters.increment(REORDERED);
            hold(route, header, payload, 1 + random.nextInt(3), System.nanoTime() + BACKSTOP_NANOS);
            return true;
        }
        x -= faults.reorder();
        if (x < faults.corrupt()) {
            Held copy = copy(route, header, payload);
            if (copy == null) {
                return true; // the NIC could not read its own payload: it reports that itself
            }
            flipOneBit(copy);
            boolean taken = inner.transmit(route, copy.header, copy.payload);
            recycle(copy);
            if (!taken) {
                return false;
            }
            counters.increment(FRAMES);
            counters.increment(CORRUPTED);
            sent();
            return true;
        }
        if (delayNanos > 0) {
            counters.increment(FRAMES);
            counters.increment(DELAYED);
            hold(route, header, payload, 0, System.nanoTime() + delayNanos);
            return true;
        }
        if (faults.delayRounds() > 0) {
            Held h = retain(route, header, payload);
            if (h != null) {
                counters.increment(FRAMES);
                counters.increment(DELAYED);
                h.rounds = faults.delayRounds();
                held.addLast(h);
            }
            return true;
        }
        if (!inner.transmit(route, header, payload)) {
            return false;
        }
        counters.increment(FRAMES);
        sent();
        return true;
    }

    private void hold(Route route, FrameHeader header, PayloadSource payload, int after, long releaseAt) {
        Held h = copy(route, header, payload);
        if (h != null) {
            h.after = after;
            h.releaseAt = releaseAt;
            h.timedOnly = after == 0;
            held.addLast(h);
        }
    }

    /** Keeps a fragment without a copy when the NIC lets it be retained; else (its own memory) a copy. */
    private Held retain(Route route, FrameHeader header, PayloadSource payload) {
        Held h = spare.isEmpty() ? new Held() : spare.poll();
        int count = header.fragmentLength == 0 ? 0 : payload.gather(h.pieces.addresses, h.pieces.lengths,
                h.pieces.addresses.length);
        long token = count < 0 ? PayloadSource.NOT_RETAINABLE : payload.retain();
        if (token == PayloadSource.NOT_RETAINABLE) {
            recycle(h);
            return copy(route, header, payload);
        }
        h.pieces.count = count;
        h.token = token;
        h.header.copyFrom(header);
        h.route = route;
        return h;
    }

    private Held copy(Route route, FrameHeader header, PayloadSource payload) {
        Held h = spare.isEmpty() ? new Held() : spare.poll();
        int length = header.fragmentLength;
        if (h.payload.capacity() < length) {
            h.payload = new BufferPayload(Math.max(length, 2 * h.payload.capacity()));
        }
        try {
            if (length > 0) {
                payload.copyTo(0, h.payload.buffer(), 0, length);
            }
        } catch (RuntimeException e) {
            recycle(h);
            return null;
        }
        h.payload.length(length);
        h.header.copyFrom(header);
        h.route = route;
        return h;
    }

    private void recycle(Held h) {
        h.route = null;
        h.token = PayloadSource.NOT_RETAINABLE;
        h.rounds = -1;
        h.pieces.count = 0;
        spare.addLast(h);
    }

    /** A held frame goes out (or is lost to a blackout): false when the inner wire pushed back. */
    private boolean send(Held h) {
        boolean retained = h.token != PayloadSource.NOT_RETAINABLE;
        if (!inBlackout() && !inner.transmit(h.route, h.header, retained ? h.pieces : h.payload)) {
            return false;
        }
        if (inBlackout()) {
            counters.increment(BLACKED_OUT);
        }
        if (retained) {
            transmitted.released(h.token, null); // sent (or lost, as a real wire loses): the NIC may complete the send
        }
        return true;
    }

    private void flipOneBit(Held h) {
        int length = h.header.fragmentLength;
        if (length > 0) {
            int at = random.nextInt(length);
            h.payload.buffer().put(at, (byte) (h.payload.buffer().get(at) ^ (1 << random.nextInt(8))));
        } else if ((h.header.flags & FrameHeader.FLAG_ACK) != 0 && random.nextBoolean()) {
            h.header.ack ^= 1L << random.nextInt(64);
        } else {
            h.header.messageId ^= 1L << random.nextInt(64);
        }
    }

    /** One frame went out: held frames waiting for successors move up, and those due go. */
    private void sent() {
        if (held.isEmpty()) {
            return;
        }
        for (Held h : held) {
            if (h.after > 0) {
                h.after--;
            }
        }
        release(false);
    }

    /** Sends held frames that are due, in the order they were held; a pushed-back one waits for the next poll. */
    private int release(boolean timed) {
        int done = 0;
        long now = timed ? System.nanoTime() : 0;
        Iterator<Held> it = held.iterator();
        while (it.hasNext()) {
            Held h = it.next();
            // reordered and duplicated frames wait for successors, with a time backstop in case traffic
            // stops; delayed frames wait for their time only
            boolean due = h.rounds >= 0 ? h.rounds == 0
                    : (h.after == 0 && !h.timedOnly) || (timed && now - h.releaseAt >= 0);
            if (!due) {
                continue;
            }
            if (!send(h)) {
                break;
            }
            it.remove();
            recycle(h);
            done++;
        }
        return done;
    }

    @Override
    public int poll() {
        int work = 0;
        if (!held.isEmpty()) {
            for (Held h : held) {
                if (h.rounds > 0) {
                    h.rounds--; // one more progress round has passed
                }
            }
            work = release(true);
        }
        return work + inner.poll();
    }

    /** Sends everything held now (the NIC is closing an endpoint): nothing retained stays behind. */
    @Override
    public void flush() {
        for (Held h; (h = held.peekFirst()) != null; ) {
            if (!send(h) && h.token != PayloadSource.NOT_RETAINABLE) {
                transmitted.released(h.token, "the wire was flushed while back-pressured");
            }
            held.pollFirst();
            recycle(h);
        }
        inner.flush();
    }

    /** {@return a snapshot of the frames seen and what was done to them} Any thread. */
    public FaultStats stats() {
        return new FaultStats(counters.get(FRAMES), counters.get(DROPPED), counters.get(DUPLICATED), counters.get(REORDERED),
                counters.get(CORRUPTED), counters.get(DELAYED), held.size(), counters.get(BLACKED_OUT));
    }

    @Override
    public void close() {
        OPEN.remove(inner.address(), this);
        held.clear();
        spare.clear();
        inner.close();
    }

    @Override
    public String toString() {
        return "FaultInjectingTransport[" + faults.spec() + " over " + inner + "]";
    }

    /** The native pieces of a retained fragment, as the NIC gathered them: read straight from the sender's pinned pages. */
    private static final class Pieces implements PayloadSource {
        final long[] addresses = new long[16];
        final int[] lengths = new int[16];
        int count;

        @Override
        public void copyTo(int offset, ByteBuffer destination, int destinationIndex, int length) {
            int at = 0;
            for (int i = 0; i < count && length > 0; i++) {
                int end = at + lengths[i];
                if (offset < end) {
                    int from = offset - at;
                    int chunk = Math.min(length, lengths[i] - from);
                    NativeMemory.copyFromAddress(addresses[i] + from, destination, destinationIndex, chunk);
                    offset += chunk;
                    destinationIndex += chunk;
                    length -= chunk;
                }
                at = end;
            }
        }

        @Override
        public int gather(long[] into, int[] intoLengths, int max) {
            if (count > max) {
                return -1;
            }
            System.arraycopy(addresses, 0, into, 0, count);
            System.arraycopy(lengths, 0, intoLengths, 0, count);
            return count;
        }

        @Override
        public long retain() {
            return NOT_RETAINABLE; // already retained by this wire
        }
    }
}
