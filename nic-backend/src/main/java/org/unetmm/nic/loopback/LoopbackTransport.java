package org.unetmm.nic.loopback;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.unetmm.internal.Counters;
import org.unetmm.spi.FrameHeader;
import org.unetmm.spi.Inbound;
import org.unetmm.spi.TransmitListener;
import org.unetmm.spi.PayloadSource;
import org.unetmm.spi.SourceKey;
import org.unetmm.spi.Transport;

/**
 * The in-JVM wire: NICs of one JVM, named {@code loopback:<name>}. Transmitting a fragment hands
 * it straight to the receiving NIC, which pulls the payload from the sender's translated pages
 * into the posted buffer: one copy on the pinned path (two on the fixed-segment path, whose first
 * copy is into the segment). {@code loopback:} with no name picks a fresh one ({@code nic-N}).
 *
 * <p>A receiver that is busy (its engine held by another thread) pushes back; the sender retries
 * on its next progress. Frames for a NIC that has closed are lost, as on a wire with no one on it,
 * and counted.
 *
 * <p>Who sent a frame ({@link FrameHeader#source}) is the sending NIC's number, drawn once per
 * transport in this JVM and never reused, so a NIC that reopens under a closed one's name is not
 * taken for it.
 */
public final class LoopbackTransport implements Transport {
    /** Default fragment size: 1 MiB, as nothing on this wire limits it (each fragment costs ~75 ns of NIC work). */
    public static final int DEFAULT_MTU = 1024 * 1024;
    private static final ConcurrentHashMap<String, LoopbackTransport> WIRE = new ConcurrentHashMap<>();
    private static final AtomicInteger NAMES = new AtomicInteger();
    private static final AtomicLong NUMBERS = new AtomicLong();

    private final String address;
    /** This NIC's number on the wire: the source key of its frames. */
    private final long number = NUMBERS.incrementAndGet();
    private volatile Inbound inbound;
    private volatile boolean closed;
    /** Written by this NIC's thread in transmit, read by lostFrames() anywhere. */
    private final Counters counters = new Counters(1);
    private static final int LOST_FRAMES = 0;

    private record LoopbackRoute(String address, LoopbackTransport peer, SourceKey sourceKey) implements Route {
    }

    LoopbackTransport(String uri) {
        if (!uri.startsWith("loopback:")) {
            throw new IllegalArgumentException("not a loopback URI: '" + uri + "' (expected loopback: or loopback:<name>)");
        }
        String name = uri.substring("loopback:".length());
        if (name.startsWith("//")) {
            name = name.substring(2);
        }
        if (name.isEmpty()) {
            do {
                name = "nic-" + NAMES.incrementAndGet();
            } while (WIRE.containsKey("loopback:" + name));
        }
        if (!name.matches("[A-Za-z0-9._-]+")) {
            throw new IllegalArgumentException("bad loopback NIC name '" + name + "': use letters, digits, '.', '_' or '-'");
        }
        this.address = "loopback:" + name;
        if (WIRE.putIfAbsent(address, this) != null) {
            throw new IllegalArgumentException("a NIC named " + address + " is already open in this JVM: choose another name");
        }
    }

    @Override
    public String address() {
        return address;
    }

    @Override
    public int mtu() {
        return DEFAULT_MTU;
    }

    @Override
    public void start(Inbound inbound, TransmitListener transmitted) {
        this.inbound = inbound;
    }

    @Override
    public Route route(String remoteAddress) {
        LoopbackTransport peer = WIRE.get(remoteAddress);
        if (peer == null) {
            throw new IllegalArgumentException("no NIC at " + remoteAddress + " on the loopback wire of this JVM;"
                    + " open one (NicConfig transport '" + remoteAddress + "') or check the channel address");
        }
        return new LoopbackRoute(remoteAddress, peer, new SourceKey(peer.number, 0, 0));
    }

    @Override
    public boolean transmit(Route route, FrameHeader header, PayloadSource payload) {
        LoopbackTransport peer = ((LoopbackRoute) route).peer();
        Inbound target = peer.inbound;
        if (peer.closed || target == null) {
            counters.increment(LOST_FRAMES);
            return true;
        }
        header.source.set(number, 0, 0);
        return target.onFragment(header, payload);
    }

    @Override
    public int poll() {
        return 0;
    }

    /** {@return frames sent to a NIC that had closed} */
    public long lostFrames() {
        return counters.get(LOST_FRAMES);
    }

    @Override
    public void close() {
        closed = true;
        WIRE.remove(address, this);
    }
}
